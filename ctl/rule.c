// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing a rule from command-line tokens and printing it back.
 *
 * The text printed here is the canonical form that `list`, `save` and the
 * kernel's /proc/net/kfw/rules all use, and it makes save | restore | save
 * stable: matches always come in the same order, addresses always carry
 * their prefix length and ports collapse to one number when the range is a
 * single port. Every parse error names the offending token, because the same
 * messages end up prefixed with a line number in restore files.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "rule.h"

/* The match fields, in the order of the canonical text form. */
enum field {
	FIELD_PROTO,
	FIELD_SRC,
	FIELD_DST,
	FIELD_SPORT,
	FIELD_DPORT,
	FIELD_IFACE,
	FIELD_COUNT
};

static const char *const field_names[FIELD_COUNT] = {
	[FIELD_PROTO]	= "proto",
	[FIELD_SRC]	= "src",
	[FIELD_DST]	= "dst",
	[FIELD_SPORT]	= "sport",
	[FIELD_DPORT]	= "dport",
	[FIELD_IFACE]	= "iface",
};

static const struct {
	const char *name;
	uint8_t number;
} proto_names[] = {
	{ "tcp",	IPPROTO_TCP },
	{ "udp",	IPPROTO_UDP },
	{ "icmp",	IPPROTO_ICMP },
	{ "icmpv6",	IPPROTO_ICMPV6 },
};

static const char *const dir_names[] = {
	[KFW_DIR_IN]	= "in",
	[KFW_DIR_OUT]	= "out",
};

static const char *const verdict_names[] = {
	[KFW_VERDICT_ACCEPT]	= "accept",
	[KFW_VERDICT_DROP]	= "drop",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Strict decimal: strtoul() would take signs, spaces and hex prefixes, and
 * "fwctl add in drop dport ' 22'" should be refused, not silently fixed.
 */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned int digit = (unsigned int)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (max - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

const char *rule_dir_name(uint8_t dir)
{
	return dir < ARRAY_SIZE(dir_names) ? dir_names[dir] : "?";
}

const char *rule_verdict_name(uint8_t verdict)
{
	return verdict < ARRAY_SIZE(verdict_names) ? verdict_names[verdict] : "?";
}

/**
 * rule_parse_dir() - parse a direction name
 * @s: "in" or "out"
 * @dir: where to store the enum kfw_dir value
 *
 * Return: 0, or -1 if @s is not a direction.
 */
int rule_parse_dir(const char *s, uint8_t *dir)
{
	uint8_t i;

	for (i = 0; i < ARRAY_SIZE(dir_names); i++) {
		if (!strcmp(s, dir_names[i])) {
			*dir = i;
			return 0;
		}
	}
	return -1;
}

/**
 * rule_parse_verdict() - parse a verdict name
 * @s: "accept" or "drop"
 * @verdict: where to store the enum kfw_verdict value
 *
 * Return: 0, or -1 if @s is not a verdict.
 */
int rule_parse_verdict(const char *s, uint8_t *verdict)
{
	uint8_t i;

	for (i = 0; i < ARRAY_SIZE(verdict_names); i++) {
		if (!strcmp(s, verdict_names[i])) {
			*verdict = i;
			return 0;
		}
	}
	return -1;
}

/**
 * rule_parse_policy() - parse the "DIR accept|drop" of a policy command
 * @argc: number of tokens
 * @argv: the tokens after "policy"
 * @dir: where to store the enum kfw_dir value
 * @verdict: where to store the enum kfw_verdict value
 * @err: where to put the error message, without any "fwctl: " prefix
 * @errlen: size of @err
 *
 * Return: 0, or -1 with a message naming the bad token in @err.
 */
int rule_parse_policy(int argc, char *const argv[], uint8_t *dir,
		      uint8_t *verdict, char *err, size_t errlen)
{
	if (argc < 1)
		return fail(err, errlen, "missing direction");
	if (rule_parse_dir(argv[0], dir))
		return fail(err, errlen, "invalid direction '%s'", argv[0]);
	/* A policy is the action of the rule that every list ends with. */
	if (argc < 2)
		return fail(err, errlen, "missing action");
	if (rule_parse_verdict(argv[1], verdict))
		return fail(err, errlen, "invalid action '%s'", argv[1]);
	if (argc > 2)
		return fail(err, errlen, "unexpected argument '%s'", argv[2]);
	return 0;
}

/**
 * rule_parse_handle() - parse a rule handle as `del` takes it
 * @s: decimal digits
 * @handle: where to store it
 * @err: where to put the error message
 * @errlen: size of @err
 *
 * Return: 0, or -1 with a message naming @s in @err.
 */
int rule_parse_handle(const char *s, uint64_t *handle, char *err, size_t errlen)
{
	if (!parse_uint(s, strlen(s), UINT64_MAX, handle))
		return fail(err, errlen, "invalid handle '%s'", s);
	return 0;
}

/**
 * rule_parse_position() - parse a 1-based list position as `insert` takes it
 * @s: decimal digits, 1 or more
 * @pos: where to store it
 * @err: where to put the error message
 * @errlen: size of @err
 *
 * Whether the position lies inside the table only the kernel knows.
 *
 * Return: 0, or -1 with a message naming @s in @err.
 */
int rule_parse_position(const char *s, uint32_t *pos, char *err, size_t errlen)
{
	uint64_t v;

	if (!parse_uint(s, strlen(s), UINT32_MAX, &v) || v == 0)
		return fail(err, errlen, "invalid position '%s'", s);
	*pos = (uint32_t)v;
	return 0;
}

static int parse_proto(struct rule *r, const char *val, char *err, size_t errlen)
{
	uint64_t n;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(proto_names); i++) {
		if (!strcmp(val, proto_names[i].name)) {
			r->proto = proto_names[i].number;
			r->has_proto = true;
			return 0;
		}
	}
	if (!parse_uint(val, strlen(val), 255, &n))
		return fail(err, errlen, "invalid protocol '%s'", val);
	r->proto = (uint8_t)n;
	r->has_proto = true;
	return 0;
}

/* The kernel wants host bits zero; we clear them as iptables does. */
static void mask_addr(struct rule_addr *a)
{
	unsigned int len = a->family == AF_INET ? 4 : 16;
	unsigned int i;

	for (i = 0; i < len; i++) {
		int bits = (int)a->prefix - 8 * (int)i;

		if (bits >= 8)
			continue;
		a->raw[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

static int parse_addr(struct rule_addr *a, const char *val,
		      char *err, size_t errlen)
{
	const char *slash = strchr(val, '/');
	size_t alen = slash ? (size_t)(slash - val) : strlen(val);
	char text[INET6_ADDRSTRLEN];
	uint64_t prefix, max;

	if (alen >= sizeof(text))
		goto bad_addr;
	memcpy(text, val, alen);
	text[alen] = '\0';

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, &a->v4) == 1) {
		a->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, &a->v6) == 1) {
		a->family = AF_INET6;
		max = 128;
	} else {
		goto bad_addr;
	}

	prefix = max;
	if (slash && !parse_uint(slash + 1, strlen(slash + 1), max, &prefix))
		return fail(err, errlen, "invalid prefix length '%s' in '%s'",
			    slash + 1, val);
	a->prefix = (uint8_t)prefix;
	mask_addr(a);
	return 0;

bad_addr:
	return fail(err, errlen, "invalid address '%.*s'", (int)alen, val);
}

static int parse_ports(struct rule_ports *p, const char *val,
		       char *err, size_t errlen)
{
	const char *dash = strchr(val, '-');
	const char *last = dash ? dash + 1 : val;
	size_t first_len = dash ? (size_t)(dash - val) : strlen(val);
	uint64_t first_port, last_port;

	/* An empty half has nothing to quote, so the whole value is named. */
	if (!parse_uint(val, first_len, 65535, &first_port))
		return first_len ?
			fail(err, errlen, "invalid port '%.*s'", (int)first_len, val) :
			fail(err, errlen, "invalid port '%s'", val);
	if (!parse_uint(last, strlen(last), 65535, &last_port))
		return *last ?
			fail(err, errlen, "invalid port '%s'", last) :
			fail(err, errlen, "invalid port '%s'", val);
	if (first_port > last_port)
		return fail(err, errlen, "invalid port range '%s'", val);

	p->set = true;
	p->first = (uint16_t)first_port;
	p->last = (uint16_t)last_port;
	return 0;
}

/* The same test as the kernel's dev_valid_name(), so we refuse early. */
static int parse_iface(struct rule *r, const char *val, char *err, size_t errlen)
{
	size_t len = strlen(val);
	size_t i;

	if (len == 0 || len >= IFNAMSIZ || !strcmp(val, ".") || !strcmp(val, ".."))
		goto bad;
	for (i = 0; i < len; i++) {
		if (val[i] == '/' || val[i] == ':' || isspace((unsigned char)val[i]))
			goto bad;
	}
	memcpy(r->iface, val, len + 1);
	return 0;

bad:
	return fail(err, errlen, "invalid interface name '%s'", val);
}

static int parse_field(struct rule *r, enum field f, const char *val,
		       char *err, size_t errlen)
{
	switch (f) {
	case FIELD_PROTO:
		return parse_proto(r, val, err, errlen);
	case FIELD_SRC:
		return parse_addr(&r->src, val, err, errlen);
	case FIELD_DST:
		return parse_addr(&r->dst, val, err, errlen);
	case FIELD_SPORT:
		return parse_ports(&r->sport, val, err, errlen);
	case FIELD_DPORT:
		return parse_ports(&r->dport, val, err, errlen);
	case FIELD_IFACE:
		return parse_iface(r, val, err, errlen);
	case FIELD_COUNT:
		break;
	}
	return fail(err, errlen, "internal error: field %d", (int)f);
}

static int lookup_field(const char *name)
{
	int f;

	for (f = 0; f < FIELD_COUNT; f++)
		if (!strcmp(name, field_names[f]))
			return f;
	return -1;
}

/**
 * rule_parse() - build a rule from "DIR ACTION [MATCH...]" tokens
 * @r: the rule to fill in; cleared first
 * @argc: number of tokens
 * @argv: the tokens, e.g. { "in", "drop", "proto", "tcp", "dport", "22" }
 * @err: where to put the error message, without any "fwctl: " prefix
 * @errlen: size of @err; RULE_ERR_MAX holds any message with a sane token
 *
 * Matches may come in any order, each at most once. Host bits beyond an
 * address's prefix are cleared. The checks that need the whole rule (ports
 * need tcp or udp, src and dst of one family) run after every token is read,
 * so the order of matches never changes the verdict.
 *
 * Return: 0, or -1 with a message naming the bad token in @err.
 */
int rule_parse(struct rule *r, int argc, char *const argv[],
	       char *err, size_t errlen)
{
	const char *first_port_kw = NULL;
	unsigned int seen = 0;
	int i;

	memset(r, 0, sizeof(*r));

	if (argc < 1)
		return fail(err, errlen, "missing direction");
	if (rule_parse_dir(argv[0], &r->dir))
		return fail(err, errlen, "invalid direction '%s'", argv[0]);
	if (argc < 2)
		return fail(err, errlen, "missing action");
	if (rule_parse_verdict(argv[1], &r->action))
		return fail(err, errlen, "invalid action '%s'", argv[1]);

	for (i = 2; i < argc; i += 2) {
		int f = lookup_field(argv[i]);

		if (f < 0)
			return fail(err, errlen, "unknown keyword '%s'", argv[i]);
		if (seen & (1u << f))
			return fail(err, errlen, "duplicate keyword '%s'", argv[i]);
		if (i + 1 >= argc)
			return fail(err, errlen, "missing value for '%s'", argv[i]);
		if (parse_field(r, (enum field)f, argv[i + 1], err, errlen))
			return -1;
		seen |= 1u << f;
		if ((f == FIELD_SPORT || f == FIELD_DPORT) && !first_port_kw)
			first_port_kw = field_names[f];
	}

	if (first_port_kw && !(r->has_proto &&
			       (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP)))
		return fail(err, errlen, "'%s' needs proto tcp or udp", first_port_kw);
	if (r->src.family && r->dst.family && r->src.family != r->dst.family)
		return fail(err, errlen, "src and dst are of different families");
	return 0;
}

/* A bounded string builder: formatting never writes past the end. */
struct sbuf {
	char *buf;
	size_t len;
	size_t pos;
	bool overflow;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	size_t room = sb->pos < sb->len ? sb->len - sb->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sb->buf + (sb->pos < sb->len ? sb->pos : 0),
		      room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		sb->overflow = true;
		sb->pos = sb->len;
		return;
	}
	sb->pos += (size_t)n;
}

static int sb_finish(struct sbuf *sb)
{
	if (sb->overflow || sb->len == 0) {
		if (sb->len)
			sb->buf[0] = '\0';
		return -1;
	}
	return (int)sb->pos;
}

static void format_addr(struct sbuf *sb, const struct rule_addr *a)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->raw, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	sb_printf(sb, "%s/%u", text, a->prefix);
}

static void format_ports(struct sbuf *sb, const struct rule_ports *p)
{
	if (p->first == p->last)
		sb_printf(sb, "%u", p->first);
	else
		sb_printf(sb, "%u-%u", p->first, p->last);
}

static void format_proto(struct sbuf *sb, uint8_t proto)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(proto_names); i++) {
		if (proto_names[i].number == proto) {
			sb_printf(sb, "%s", proto_names[i].name);
			return;
		}
	}
	sb_printf(sb, "%u", proto);
}

/*
 * The value of one match field as the canonical text shows it, or false if
 * the rule does not match on that field. Text and JSON both go through here
 * so the two can never disagree.
 */
static bool field_value(const struct rule *r, enum field f, char *buf, size_t len)
{
	struct sbuf sb = { .buf = buf, .len = len };

	switch (f) {
	case FIELD_PROTO:
		if (!r->has_proto)
			return false;
		format_proto(&sb, r->proto);
		break;
	case FIELD_SRC:
		if (!r->src.family)
			return false;
		format_addr(&sb, &r->src);
		break;
	case FIELD_DST:
		if (!r->dst.family)
			return false;
		format_addr(&sb, &r->dst);
		break;
	case FIELD_SPORT:
		if (!r->sport.set)
			return false;
		format_ports(&sb, &r->sport);
		break;
	case FIELD_DPORT:
		if (!r->dport.set)
			return false;
		format_ports(&sb, &r->dport);
		break;
	case FIELD_IFACE:
		if (!r->iface[0])
			return false;
		sb_printf(&sb, "%.*s", IFNAMSIZ - 1, r->iface);
		break;
	case FIELD_COUNT:
		return false;
	}
	return sb_finish(&sb) >= 0;
}

/* Big enough for the longest field value: an IPv6 address with /128. */
#define FIELD_VALUE_MAX	(INET6_ADDRSTRLEN + 8)

static void format_match(struct sbuf *sb, const struct rule *r)
{
	char value[FIELD_VALUE_MAX];
	const char *sep = "";
	int f;

	for (f = 0; f < FIELD_COUNT; f++) {
		if (!field_value(r, (enum field)f, value, sizeof(value)))
			continue;
		sb_printf(sb, "%s%s %s", sep, field_names[f], value);
		sep = " ";
	}
}

/**
 * rule_format_match() - the canonical text of a rule's matches
 * @r: the rule
 * @buf: output, e.g. "proto tcp src 192.0.2.1/32 dport 22"; "" for no matches
 * @len: size of @buf; RULE_TEXT_MAX always suffices
 *
 * Return: the length of the text, or -1 (and "" in @buf) if @buf is too small.
 */
int rule_format_match(const struct rule *r, char *buf, size_t len)
{
	struct sbuf sb = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	format_match(&sb, r);
	return sb_finish(&sb);
}

/**
 * rule_format() - the canonical text of a whole rule, as `add` takes it
 * @r: the rule
 * @buf: output, e.g. "in drop proto tcp dport 22"
 * @len: size of @buf; RULE_TEXT_MAX always suffices
 *
 * Return: the length of the text, or -1 (and "" in @buf) if @buf is too small.
 */
int rule_format(const struct rule *r, char *buf, size_t len)
{
	struct sbuf sb = { .buf = buf, .len = len };
	char match[RULE_TEXT_MAX];

	if (rule_format_match(r, match, sizeof(match)) < 0)
		sb.overflow = true;
	sb_printf(&sb, "%s %s%s%s", rule_dir_name(r->dir),
		  rule_verdict_name(r->action), match[0] ? " " : "", match);
	return sb_finish(&sb);
}

static void json_string(struct sbuf *sb, const char *s)
{
	const unsigned char *p;

	sb_printf(sb, "\"");
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(sb, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(sb, "\\u%04x", *p);
		else
			sb_printf(sb, "%c", *p);
	}
	sb_printf(sb, "\"");
}

/**
 * rule_json_string() - quote a string for JSON
 * @buf: output, the string with its quotes
 * @len: size of @buf
 * @s: the string; interface names may hold quotes and backslashes
 *
 * Return: the length written, or -1 (and "" in @buf) if @buf is too small.
 */
int rule_json_string(char *buf, size_t len, const char *s)
{
	struct sbuf sb = { .buf = buf, .len = len };

	json_string(&sb, s);
	return sb_finish(&sb);
}

/**
 * rule_format_json() - a rule as one JSON object, as `fwctl -j list` prints it
 * @r: the rule, with handle and counters
 * @buf: output, e.g. {"handle":7,"dir":"in",...,"dport":"22"}
 * @len: size of @buf; RULE_JSON_MAX always suffices
 *
 * Match fields appear only when present, each as a string holding exactly
 * the canonical text of its value.
 *
 * Return: the length written, or -1 (and "" in @buf) if @buf is too small.
 */
int rule_format_json(const struct rule *r, char *buf, size_t len)
{
	struct sbuf sb = { .buf = buf, .len = len };
	char value[FIELD_VALUE_MAX];
	int f;

	sb_printf(&sb, "{\"handle\":%" PRIu64 ",\"dir\":\"%s\",\"action\":\"%s\","
		  "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64,
		  r->handle, rule_dir_name(r->dir), rule_verdict_name(r->action),
		  r->packets, r->bytes);
	for (f = 0; f < FIELD_COUNT; f++) {
		if (!field_value(r, (enum field)f, value, sizeof(value)))
			continue;
		sb_printf(&sb, ",\"%s\":", field_names[f]);
		json_string(&sb, value);
	}
	sb_printf(&sb, "}");
	return sb_finish(&sb);
}
