// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing a rule from command-line tokens and printing it back.
 *
 * The text printed here is the canonical form that `list`, `save` and the
 * kernel's /proc/net/kfw/rules all use, and it makes save | restore | save
 * stable: matches always come in the same order, addresses always carry
 * their prefix length, ports collapse to one number when the range is a
 * single port, ICMP types print by name where their protocol has one, a
 * payload prints as "TEXT" when it can and as hex otherwise, and the log
 * rate and burst, and the burst of an `over`, print only when they are not
 * the kernel's defaults. Free
 * text (payload and comment) is double-quoted, which the restore tokenizer
 * undoes; it can never hold a '"' or '\', so no escapes are needed.
 *
 * Every parse error names the offending token, because the same messages
 * end up prefixed with a line number in restore files.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "duration.h"
#include "rule.h"

/* The match fields, in the order of the canonical text form. */
enum field {
	FIELD_PROTO,
	FIELD_SRC,
	FIELD_DST,
	FIELD_SPORT,
	FIELD_DPORT,
	FIELD_ICMP_TYPE,
	FIELD_ICMP_CODE,
	FIELD_IFACE,
	FIELD_UID,
	FIELD_GID,
	FIELD_STATE,
	FIELD_PAYLOAD,
	FIELD_PAYLOAD_HEX,
	FIELD_PAYLOAD_WITHIN,
	FIELD_OVER,
	FIELD_BURST,
	FIELD_PER_SRC,
	FIELD_LOG,
	FIELD_LOG_RATE,
	FIELD_LOG_BURST,
	FIELD_TIMEOUT,
	FIELD_COMMENT,
	FIELD_COUNT
};

/*
 * How a field looks: a keyword and a value, a keyword whose value is free
 * text (double-quoted in the canonical text form), or a keyword alone.
 */
enum field_kind {
	KIND_VALUE,
	KIND_TEXT,
	KIND_FLAG,
};

static const struct {
	const char *name;
	enum field_kind kind;
} fields[FIELD_COUNT] = {
	[FIELD_PROTO]		= { "proto",		KIND_VALUE },
	[FIELD_SRC]		= { "src",		KIND_VALUE },
	[FIELD_DST]		= { "dst",		KIND_VALUE },
	[FIELD_SPORT]		= { "sport",		KIND_VALUE },
	[FIELD_DPORT]		= { "dport",		KIND_VALUE },
	[FIELD_ICMP_TYPE]	= { "icmp-type",	KIND_VALUE },
	[FIELD_ICMP_CODE]	= { "icmp-code",	KIND_VALUE },
	[FIELD_IFACE]		= { "iface",		KIND_VALUE },
	[FIELD_UID]		= { "uid",		KIND_VALUE },
	[FIELD_GID]		= { "gid",		KIND_VALUE },
	[FIELD_STATE]		= { "state",		KIND_VALUE },
	[FIELD_PAYLOAD]		= { "payload",		KIND_TEXT },
	[FIELD_PAYLOAD_HEX]	= { "payload-hex",	KIND_VALUE },
	[FIELD_PAYLOAD_WITHIN]	= { "payload-within",	KIND_VALUE },
	[FIELD_OVER]		= { "over",		KIND_VALUE },
	[FIELD_BURST]		= { "burst",		KIND_VALUE },
	[FIELD_PER_SRC]		= { "per-src",		KIND_FLAG },
	[FIELD_LOG]		= { "log",		KIND_FLAG },
	[FIELD_LOG_RATE]	= { "log-rate",		KIND_VALUE },
	[FIELD_LOG_BURST]	= { "log-burst",	KIND_VALUE },
	[FIELD_TIMEOUT]		= { "timeout",		KIND_VALUE },
	[FIELD_COMMENT]		= { "comment",		KIND_TEXT },
};

#define BIT(f)	(1u << (f))

/* What `fwctl test` takes to describe a packet. */
#define PACKET_FIELDS	(BIT(FIELD_PROTO) | BIT(FIELD_SRC) | BIT(FIELD_DST) | \
			 BIT(FIELD_SPORT) | BIT(FIELD_DPORT) | BIT(FIELD_IFACE) | \
			 BIT(FIELD_STATE) | BIT(FIELD_ICMP_TYPE) | \
			 BIT(FIELD_ICMP_CODE) | BIT(FIELD_UID) | BIT(FIELD_GID))

/* The fields that may hold a list, and their index in struct rule_lists. */
static const struct {
	enum field field;
	enum rule_list_field list;
} list_fields[] = {
	{ FIELD_PROTO,	RULE_LIST_PROTO },
	{ FIELD_SRC,	RULE_LIST_SRC },
	{ FIELD_DST,	RULE_LIST_DST },
	{ FIELD_SPORT,	RULE_LIST_SPORT },
	{ FIELD_DPORT,	RULE_LIST_DPORT },
};

/* The fields that `!=` may negate, and their KFW_NEGATE_* bit. */
static const struct {
	enum field field;
	uint8_t bit;
} negatable[] = {
	{ FIELD_SRC,	KFW_NEGATE_SRC },
	{ FIELD_DST,	KFW_NEGATE_DST },
	{ FIELD_SPORT,	KFW_NEGATE_SPORT },
	{ FIELD_DPORT,	KFW_NEGATE_DPORT },
	{ FIELD_IFACE,	KFW_NEGATE_IFACE },
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

/* ICMP types with a name; printing takes the first name of a number. */
struct icmp_name {
	const char *name;
	uint8_t type;
};

static const struct icmp_name icmp_names[] = {
	{ "echo-reply",			0 },
	{ "destination-unreachable",	3 },
	{ "echo-request",		8 },
	{ "time-exceeded",		11 },
	{ NULL, 0 }
};

static const struct icmp_name icmpv6_names[] = {
	{ "destination-unreachable",	1 },
	{ "time-exceeded",		3 },
	{ "echo-request",		128 },
	{ "echo-reply",			129 },
	{ "neighbour-solicitation",	135 },
	{ "neighbour-advertisement",	136 },
	{ "neighbor-solicitation",	135 },
	{ "neighbor-advertisement",	136 },
	{ NULL, 0 }
};

/* Connection-tracking states in bit order, which is also printing order. */
static const struct {
	const char *name;
	uint8_t bit;
} state_names[] = {
	{ "new",		KFW_STATE_NEW },
	{ "established",	KFW_STATE_ESTABLISHED },
	{ "related",		KFW_STATE_RELATED },
	{ "invalid",		KFW_STATE_INVALID },
};

static const char *const dir_names[] = {
	[KFW_DIR_IN]	= "in",
	[KFW_DIR_OUT]	= "out",
};

static const char *const verdict_names[] = {
	[KFW_VERDICT_ACCEPT]	= "accept",
	[KFW_VERDICT_DROP]	= "drop",
	[KFW_VERDICT_REJECT]	= "reject",
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
 * @s: "accept", "drop" or "reject"
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
	/*
	 * A policy is the action of the rule that every list ends with, but
	 * not reject: answering every unmatched packet is a rule's business.
	 */
	if (argc < 2)
		return fail(err, errlen, "missing action");
	if (rule_parse_verdict(argv[1], verdict) || *verdict == KFW_VERDICT_REJECT)
		return fail(err, errlen, "invalid policy '%s'", argv[1]);
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

/**
 * rule_parse_confirm() - the seconds of restore --confirm
 * @s: the argument
 * @seconds: where the number goes
 * @err: room for a message
 * @errlen: size of @err
 *
 * Return: 0, or -1 with a message naming @s in @err.
 */
int rule_parse_confirm(const char *s, uint32_t *seconds, char *err, size_t errlen)
{
	uint64_t v;

	if (!parse_uint(s, strlen(s), KFW_CONFIRM_MAX, &v) || v == 0)
		return fail(err, errlen, "invalid confirmation time '%s' (1-%u seconds)",
			    s, KFW_CONFIRM_MAX);
	*seconds = (uint32_t)v;
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

/*
 * kfw sees an IPv4 packet's addresses as IPv4, never as ::ffff:a.b.c.d, so a
 * rule on ::ffff:0:0/96 only looks as if it filtered IPv4: it matches no
 * IPv4 packet, only IPv6 packets that carry such addresses, which are
 * forged (RFC 4291 2.5.5.2 keeps them off the wire).
 */
static int refuse_mapped(const struct rule_addr *a, const char *val,
			 bool has_prefix, char *err, size_t errlen)
{
	char v4[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, a->raw + 12, v4, sizeof(v4));
	if (has_prefix)
		return fail(err, errlen, "IPv4-mapped address '%s' matches no IPv4 packet; write %s/%u",
			    val, v4, a->prefix - 96u);
	return fail(err, errlen, "IPv4-mapped address '%s' matches no IPv4 packet; write %s",
		    val, v4);
}

/*
 * A dotted quad in its usual form (no leading zeros), which is most of a
 * large restore file's addresses, without inet_pton()'s character-by-
 * character search of a digit string. Anything else is left to inet_pton():
 * what this takes, inet_pton() takes too, with the same result.
 */
static bool parse_ipv4_quick(const char *text, struct in_addr *addr)
{
	uint8_t *out = (uint8_t *)&addr->s_addr;
	unsigned int part, value, digits;

	for (part = 0; part < 4; part++) {
		value = 0;
		for (digits = 0; text[digits] >= '0' && text[digits] <= '9'; digits++)
			value = value * 10 + (unsigned int)(text[digits] - '0');
		if (!digits || digits > 3 || value > 255 ||
		    (digits > 1 && text[0] == '0'))
			return false;
		text += digits;
		if (*text != (part < 3 ? '.' : '\0'))
			return false;
		text++;
		out[part] = (uint8_t)value;
	}
	return true;
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
	if (parse_ipv4_quick(text, &a->v4) ||
	    inet_pton(AF_INET, text, &a->v4) == 1) {
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
	if (a->family == AF_INET6 && a->prefix >= 96 && IN6_IS_ADDR_V4MAPPED(&a->v6))
		return refuse_mapped(a, val, slash != NULL, err, errlen);
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

/*
 * The kernel's dev_valid_name(), so we refuse early, and more: `save`
 * prints the name bare, and restore must read it back as the same word, so
 * it is printable ASCII without quotes and does not start a comment.
 */
static int parse_iface(struct rule *r, const char *val, char *err, size_t errlen)
{
	size_t len = strlen(val);
	size_t i;

	if (len == 0 || len >= IFNAMSIZ || !strcmp(val, ".") || !strcmp(val, "..") ||
	    val[0] == '#')
		goto bad;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)val[i];

		if (c == '/' || c == ':' || isspace(c) || c < 0x20 || c > 0x7e ||
		    c == '"' || c == '\'')
			goto bad;
	}
	memcpy(r->iface, val, len + 1);
	return 0;

bad:
	return fail(err, errlen, "invalid interface name '%s'", val);
}

/*
 * A token as the new messages quote it: payloads and comments can be long,
 * so anything past RULE_TOKEN_SHOWN bytes becomes "...".
 */
static const char *shown(const char *s, char *buf, size_t len)
{
	if (strlen(s) <= RULE_TOKEN_SHOWN)
		return s;
	snprintf(buf, len, "%.*s...", RULE_TOKEN_SHOWN, s);
	return buf;
}

/* The bytes that payload and comment text may hold: they print unescaped. */
static bool is_plain(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

static int parse_state(uint8_t *state, const char *val, bool single,
		       char *err, size_t errlen)
{
	const char *p = val;
	uint8_t bits = 0;

	if (single && strchr(val, ','))
		return fail(err, errlen, "invalid state '%s'", val);
	for (;;) {
		size_t n = strcspn(p, ",");
		size_t i;

		/* An empty item has nothing to quote, so the whole value is named. */
		if (n == 0)
			return fail(err, errlen, "invalid state '%s'", val);
		for (i = 0; i < ARRAY_SIZE(state_names); i++)
			if (strlen(state_names[i].name) == n &&
			    !strncmp(p, state_names[i].name, n))
				break;
		if (i == ARRAY_SIZE(state_names))
			return fail(err, errlen, "invalid state '%.*s'", (int)n, p);
		if (bits & state_names[i].bit)
			return fail(err, errlen, "duplicate state '%.*s'", (int)n, p);
		bits |= state_names[i].bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	*state = bits;
	return 0;
}

static const struct icmp_name *icmp_table(uint8_t proto)
{
	if (proto == IPPROTO_ICMP)
		return icmp_names;
	if (proto == IPPROTO_ICMPV6)
		return icmpv6_names;
	return NULL;
}

static bool icmp_lookup(const struct icmp_name *t, const char *name, uint8_t *type)
{
	for (; t && t->name; t++) {
		if (!strcmp(t->name, name)) {
			*type = t->type;
			return true;
		}
	}
	return false;
}

/*
 * A name means a number only once the protocol is known, and proto may come
 * later, so here a name only has to exist for one of the two protocols;
 * resolve_icmp_type() looks it up once every token is read.
 */
static int parse_icmp_type(uint8_t *type, const char *val, char *err, size_t errlen)
{
	uint64_t n;

	if (parse_uint(val, strlen(val), 255, &n)) {
		*type = (uint8_t)n;
		return 0;
	}
	if (icmp_lookup(icmp_names, val, type) || icmp_lookup(icmpv6_names, val, type))
		return 0;
	return fail(err, errlen, "invalid icmp type '%s'", val);
}

static int resolve_icmp_type(uint8_t proto, uint8_t *type, const char *val,
			     char *err, size_t errlen)
{
	uint64_t n;

	if (parse_uint(val, strlen(val), 255, &n) ||
	    icmp_lookup(icmp_table(proto), val, type))
		return 0;
	return fail(err, errlen, "invalid icmp type '%s'", val);
}

static int parse_byte(uint8_t *out, const char *val, const char *what,
		      char *err, size_t errlen)
{
	uint64_t n;

	if (!parse_uint(val, strlen(val), 255, &n))
		return fail(err, errlen, "invalid %s '%s'", what, val);
	*out = (uint8_t)n;
	return 0;
}

static int parse_payload(struct rule *r, const char *val, char *err, size_t errlen)
{
	char cut[RULE_TOKEN_SHOWN + 4];
	size_t len = strlen(val);
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_plain((unsigned char)val[i]))
			break;
	if (len == 0 || i < len)
		return fail(err, errlen, "invalid payload '%s'",
			    shown(val, cut, sizeof(cut)));
	if (len > KFW_PAYLOAD_MAX)
		return fail(err, errlen, "payload too long '%s'",
			    shown(val, cut, sizeof(cut)));
	memcpy(r->payload, val, len);
	r->payload_len = (uint8_t)len;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_payload_hex(struct rule *r, const char *val,
			     char *err, size_t errlen)
{
	char cut[RULE_TOKEN_SHOWN + 4];
	size_t len = strlen(val);
	size_t i;

	for (i = 0; i < len; i++)
		if (hex_digit(val[i]) < 0)
			break;
	if (len == 0 || len % 2 || i < len)
		return fail(err, errlen, "invalid hex '%s'",
			    shown(val, cut, sizeof(cut)));
	if (len / 2 > KFW_PAYLOAD_MAX)
		return fail(err, errlen, "payload too long '%s'",
			    shown(val, cut, sizeof(cut)));
	for (i = 0; i < len / 2; i++)
		r->payload[i] = (uint8_t)(hex_digit(val[2 * i]) << 4 |
					  hex_digit(val[2 * i + 1]));
	r->payload_len = (uint8_t)(len / 2);
	return 0;
}

static int parse_within(struct rule *r, const char *val, char *err, size_t errlen)
{
	uint64_t n;

	if (!parse_uint(val, strlen(val), 65535, &n) || n == 0)
		return fail(err, errlen, "invalid payload-within '%s'", val);
	r->payload_within = (uint16_t)n;
	return 0;
}

/* N/s or N/m; the kernel counts lines per minute. */
static int parse_log_rate(struct rule *r, const char *val, char *err, size_t errlen)
{
	const char *slash = strchr(val, '/');
	uint64_t n, per_minute = 0;

	if (slash && !strcmp(slash + 1, "s") &&
	    parse_uint(val, (size_t)(slash - val), KFW_LOG_RATE_MAX / 60, &n))
		per_minute = n * 60;
	else if (slash && !strcmp(slash + 1, "m") &&
		 parse_uint(val, (size_t)(slash - val), KFW_LOG_RATE_MAX, &n))
		per_minute = n;
	if (per_minute == 0)
		return fail(err, errlen, "invalid log rate '%s'", val);
	r->log_rate = (uint32_t)per_minute;
	return 0;
}

static int parse_log_burst(struct rule *r, const char *val, char *err, size_t errlen)
{
	uint64_t n;

	if (!parse_uint(val, strlen(val), KFW_LOG_BURST_MAX, &n) || n == 0)
		return fail(err, errlen, "invalid log burst '%s'", val);
	r->log_burst = (uint32_t)n;
	return 0;
}

/* N/s, N/m or N/h: the kernel keeps the number and the period apart. */
static int parse_over(struct rule *r, const char *val, char *err, size_t errlen)
{
	static const struct {
		char unit;
		uint32_t seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 } };
	const char *slash = strchr(val, '/');
	uint64_t n;
	size_t i;

	for (i = 0; slash && i < ARRAY_SIZE(units); i++) {
		if (slash[1] != units[i].unit || slash[2] != '\0')
			continue;
		if (!parse_uint(val, (size_t)(slash - val), KFW_OVER_RATE_MAX, &n) ||
		    n == 0)
			break;
		r->over_rate = (uint32_t)n;
		r->over_period = units[i].seconds;
		return 0;
	}
	return fail(err, errlen, "invalid rate '%s'", val);
}

static int parse_burst(struct rule *r, const char *val, char *err, size_t errlen)
{
	uint64_t n;

	if (!parse_uint(val, strlen(val), KFW_OVER_BURST_MAX, &n) || n == 0)
		return fail(err, errlen, "invalid burst '%s'", val);
	r->over_burst = (uint32_t)n;
	return 0;
}

static int parse_timeout(struct rule *r, const char *val, char *err, size_t errlen)
{
	char cut[RULE_TOKEN_SHOWN + 4];
	int res = duration_parse(val, &r->timeout_ms);

	if (res == -2)
		return fail(err, errlen, "timeout too long '%s' (at most 365d)",
			    shown(val, cut, sizeof(cut)));
	if (res)
		return fail(err, errlen, "invalid timeout '%s'",
			    shown(val, cut, sizeof(cut)));
	return 0;
}

static int parse_comment(struct rule *r, const char *val, char *err, size_t errlen)
{
	char cut[RULE_TOKEN_SHOWN + 4];
	size_t len = strlen(val);
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_plain((unsigned char)val[i]))
			break;
	if (len == 0 || i < len)
		return fail(err, errlen, "invalid comment '%s'",
			    shown(val, cut, sizeof(cut)));
	if (len >= sizeof(r->comment))
		return fail(err, errlen, "comment too long '%s'",
			    shown(val, cut, sizeof(cut)));
	memcpy(r->comment, val, len + 1);
	return 0;
}

/* A test packet has one address, not a network: "/LEN" is refused whole. */
static int parse_host(struct rule_addr *a, const char *val, char *err, size_t errlen)
{
	if (strchr(val, '/'))
		return fail(err, errlen, "invalid address '%s'", val);
	return parse_addr(a, val, err, errlen);
}

/* A test packet has one port, not a range. */
static int parse_port(struct rule_ports *p, const char *val, char *err, size_t errlen)
{
	uint64_t n;

	if (!parse_uint(val, strlen(val), 65535, &n))
		return fail(err, errlen, "invalid port '%s'", val);
	p->set = true;
	p->first = (uint16_t)n;
	p->last = (uint16_t)n;
	return 0;
}

/*
 * "N", "N-M" or a name the system knows, as a user (or with @gid, a group);
 * a test packet (@single) has one owner, not a range.
 */
static int parse_owner(struct rule *r, bool gid, bool single, const char *val,
		       char *err, size_t errlen)
{
	const char *dash = strchr(val, '-');
	uint64_t first, last;

	if (parse_uint(val, strlen(val), UINT32_MAX - 1, &first)) {
		last = first;
	} else if (dash && !single &&
		   parse_uint(val, (size_t)(dash - val), UINT32_MAX - 1, &first) &&
		   parse_uint(dash + 1, strlen(dash + 1), UINT32_MAX - 1, &last)) {
		if (first > last)
			return fail(err, errlen, "invalid %s range '%s'",
				    gid ? "group" : "user", val);
	} else if (gid) {
		const struct group *g = *val ? getgrnam(val) : NULL;

		if (!g)
			return fail(err, errlen, "unknown group '%s'", val);
		first = last = g->gr_gid;
	} else {
		const struct passwd *pw = *val ? getpwnam(val) : NULL;

		if (!pw)
			return fail(err, errlen, "unknown user '%s'", val);
		first = last = pw->pw_uid;
	}
	if (gid) {
		r->has_gid = true;
		r->gid_first = (uint32_t)first;
		r->gid_last = (uint32_t)last;
	} else {
		r->has_uid = true;
		r->uid_first = (uint32_t)first;
		r->uid_last = (uint32_t)last;
	}
	return 0;
}

/**
 * rule_lists() - the lists of a rule, made on first use
 * @r: the rule
 *
 * Return: @r->lists, or NULL without memory.
 */
struct rule_lists *rule_lists(struct rule *r)
{
	if (!r->lists)
		r->lists = calloc(1, sizeof(*r->lists));
	return r->lists;
}

/**
 * rule_release() - free what a rule owns: its lists
 * @r: the rule; its fields stay readable, its lists are gone
 */
void rule_release(struct rule *r)
{
	free(r->lists);
	r->lists = NULL;
}

/**
 * rule_release_all() - rule_release() each rule of an array
 * @rules: the rules
 * @count: how many
 */
void rule_release_all(struct rule *rules, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		rule_release(&rules[i]);
}

static int parse_field(struct rule *r, enum field f, const char *val,
		       bool packet, char *err, size_t errlen);

/* The noun of a field's "invalid ..." message. */
static const char *list_noun(enum rule_list_field lf)
{
	switch (lf) {
	case RULE_LIST_SRC:
	case RULE_LIST_DST:
		return "address";
	case RULE_LIST_SPORT:
	case RULE_LIST_DPORT:
		return "port";
	default:
		return "protocol";
	}
}

/*
 * "A,B,...": each element as the field's single value would be; element 0
 * also becomes the field's single value.
 */
static int parse_list(struct rule *r, enum field f, enum rule_list_field lf,
		      const char *val, char *err, size_t errlen)
{
	struct rule_lists *lists = rule_lists(r);
	char elem[INET6_ADDRSTRLEN + 8], cut[RULE_TOKEN_SHOWN + 4];
	const char *p = val;
	unsigned int n = 0;
	struct rule one;

	if (!lists)
		return fail(err, errlen, "out of memory");
	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			return fail(err, errlen, "empty element in '%s'",
				    shown(val, cut, sizeof(cut)));
		if (n == KFW_LIST_MAX)
			return fail(err, errlen, "more than %d elements in '%s'",
				    KFW_LIST_MAX, shown(val, cut, sizeof(cut)));
		if (len >= sizeof(elem))
			return fail(err, errlen, "invalid %s '%.*s'", list_noun(lf),
				    RULE_TOKEN_SHOWN, p);
		memcpy(elem, p, len);
		elem[len] = '\0';
		memset(&one, 0, sizeof(one));
		if (parse_field(&one, f, elem, false, err, errlen))
			return -1;
		switch (lf) {
		case RULE_LIST_SRC:
		case RULE_LIST_DST:
			lists->addr[lf][n] = lf == RULE_LIST_SRC ? one.src : one.dst;
			if (lists->addr[lf][n].family != lists->addr[lf][0].family)
				return fail(err, errlen, "addresses of different families in '%s'",
					    shown(val, cut, sizeof(cut)));
			break;
		case RULE_LIST_SPORT:
			lists->port[0][n] = one.sport;
			break;
		case RULE_LIST_DPORT:
			lists->port[1][n] = one.dport;
			break;
		default:
			lists->proto[n] = one.proto;
		}
		n++;
		if (!p[len])
			break;
		p += len + 1;
	}
	lists->len[lf] = (uint8_t)n;
	/* Element 0 stands for the whole list where one value is enough. */
	n = (unsigned int)strcspn(val, ",");
	memcpy(elem, val, n);
	elem[n] = '\0';
	return parse_field(r, f, elem, false, err, errlen);
}

/*
 * Parses one value. @packet selects the `fwctl test` forms: hosts, single
 * ports and one state. An ICMP type name is only checked to exist here.
 */
static int parse_field(struct rule *r, enum field f, const char *val,
		       bool packet, char *err, size_t errlen)
{
	switch (f) {
	case FIELD_PROTO:
		return parse_proto(r, val, err, errlen);
	case FIELD_SRC:
		return packet ? parse_host(&r->src, val, err, errlen) :
				parse_addr(&r->src, val, err, errlen);
	case FIELD_DST:
		return packet ? parse_host(&r->dst, val, err, errlen) :
				parse_addr(&r->dst, val, err, errlen);
	case FIELD_SPORT:
		return packet ? parse_port(&r->sport, val, err, errlen) :
				parse_ports(&r->sport, val, err, errlen);
	case FIELD_DPORT:
		return packet ? parse_port(&r->dport, val, err, errlen) :
				parse_ports(&r->dport, val, err, errlen);
	case FIELD_ICMP_TYPE:
		r->has_icmp_type = true;
		return parse_icmp_type(&r->icmp_type, val, err, errlen);
	case FIELD_ICMP_CODE:
		r->has_icmp_code = true;
		return parse_byte(&r->icmp_code, val, "icmp code", err, errlen);
	case FIELD_IFACE:
		return parse_iface(r, val, err, errlen);
	case FIELD_UID:
		return parse_owner(r, false, packet, val, err, errlen);
	case FIELD_GID:
		return parse_owner(r, true, packet, val, err, errlen);
	case FIELD_STATE:
		return parse_state(&r->state, val, packet, err, errlen);
	case FIELD_PAYLOAD:
		return parse_payload(r, val, err, errlen);
	case FIELD_PAYLOAD_HEX:
		return parse_payload_hex(r, val, err, errlen);
	case FIELD_PAYLOAD_WITHIN:
		return parse_within(r, val, err, errlen);
	case FIELD_LOG_RATE:
		return parse_log_rate(r, val, err, errlen);
	case FIELD_LOG_BURST:
		return parse_log_burst(r, val, err, errlen);
	case FIELD_OVER:
		return parse_over(r, val, err, errlen);
	case FIELD_BURST:
		return parse_burst(r, val, err, errlen);
	case FIELD_TIMEOUT:
		return parse_timeout(r, val, err, errlen);
	case FIELD_COMMENT:
		return parse_comment(r, val, err, errlen);
	case FIELD_LOG:
	case FIELD_PER_SRC:
	case FIELD_COUNT:
		break;
	}
	return fail(err, errlen, "internal error: field %d", (int)f);
}

/* The KFW_NEGATE_* bit of a field, 0 if `!=` cannot negate it. */
static uint8_t negation_bit(enum field f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(negatable); i++)
		if (negatable[i].field == f)
			return negatable[i].bit;
	return 0;
}

/* The list index of a field, -1 if it takes no list. */
static int list_field(enum field f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(list_fields); i++)
		if (list_fields[i].field == f)
			return list_fields[i].list;
	return -1;
}

static int lookup_field(const char *name, unsigned int allowed)
{
	int f;

	for (f = 0; f < FIELD_COUNT; f++)
		if ((allowed & BIT(f)) && !strcmp(name, fields[f].name))
			return f;
	return -1;
}

/*
 * The checks that need the whole rule, in a fixed order so that the order
 * of the tokens never changes which error the user sees.
 */
/* Ports need every protocol of the rule to be TCP or UDP. */
static bool ports_allowed(const struct rule *r)
{
	unsigned int i, n = r->lists ? r->lists->len[RULE_LIST_PROTO] : 0;

	if (!r->has_proto)
		return false;
	if (n < 2)
		return r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP;
	for (i = 0; i < n; i++)
		if (r->lists->proto[i] != IPPROTO_TCP && r->lists->proto[i] != IPPROTO_UDP)
			return false;
	return true;
}

static bool has_list(const struct rule *r, enum rule_list_field lf)
{
	return r->lists && r->lists->len[lf] > 1;
}

static int check_rule(struct rule *r, unsigned int seen, const char *first_port_kw,
		      const char *icmp_type_val, char *err, size_t errlen)
{
	bool icmp = r->has_proto && !has_list(r, RULE_LIST_PROTO) &&
		    (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6);

	if (first_port_kw && !ports_allowed(r))
		return fail(err, errlen, "'%s' needs proto tcp or udp", first_port_kw);
	if (r->src.family && r->dst.family && r->src.family != r->dst.family)
		return fail(err, errlen, "src and dst are of different families");
	if ((seen & BIT(FIELD_PAYLOAD)) && (seen & BIT(FIELD_PAYLOAD_HEX)))
		return fail(err, errlen, "payload and payload-hex are exclusive");
	if (r->has_icmp_type && !icmp)
		return fail(err, errlen, "'icmp-type' needs proto icmp or icmpv6");
	if (r->has_icmp_type &&
	    resolve_icmp_type(r->proto, &r->icmp_type, icmp_type_val, err, errlen))
		return -1;
	if (r->has_icmp_code && !r->has_icmp_type)
		return fail(err, errlen, "'icmp-code' needs icmp-type");
	if (r->payload_within && !r->payload_len)
		return fail(err, errlen, "'payload-within' needs payload");
	if (r->log_rate && !r->log)
		return fail(err, errlen, "'log-rate' needs log");
	if (r->log_burst && !r->log)
		return fail(err, errlen, "'log-burst' needs log");
	if (r->over_burst && !r->over_rate)
		return fail(err, errlen, "'burst' needs over");
	if (r->over_per_src && !r->over_rate)
		return fail(err, errlen, "'per-src' needs over");
	return 0;
}

/*
 * "[MATCH...]": keyword and value pairs, and flags, each at most once.
 * With @packet, only the fields and forms that describe one test packet.
 */
static int parse_matches(struct rule *r, int argc, char *const argv[],
			 bool packet, char *err, size_t errlen)
{
	unsigned int allowed = packet ? PACKET_FIELDS : ~0u;
	const char *first_port_kw = NULL;
	const char *icmp_type_val = NULL;
	unsigned int seen = 0;
	const char *val;
	int i = 0, lf, step;

	while (i < argc) {
		int f = lookup_field(argv[i], allowed);

		if (f < 0)
			return fail(err, errlen, "unknown keyword '%s'", argv[i]);
		if (seen & BIT(f))
			return fail(err, errlen, "duplicate keyword '%s'", argv[i]);
		seen |= BIT(f);
		if (fields[f].kind == KIND_FLAG) {
			if (f == FIELD_PER_SRC)
				r->over_per_src = true;
			else
				r->log = true;
			i++;
			continue;
		}
		if (i + 1 >= argc)
			return fail(err, errlen, "missing value for '%s'", argv[i]);
		val = argv[i + 1];
		step = 2;
		if (!strcmp(val, "!=")) {
			uint8_t bit = packet ? 0 : negation_bit((enum field)f);

			if (!bit)
				return fail(err, errlen, "'!=' cannot negate '%s'", argv[i]);
			if (i + 2 >= argc)
				return fail(err, errlen, "missing value for '%s'", argv[i]);
			r->negate |= bit;
			val = argv[i + 2];
			step = 3;
		}
		lf = packet ? -1 : list_field((enum field)f);
		if (lf >= 0 && strchr(val, ',') ?
		    parse_list(r, (enum field)f, (enum rule_list_field)lf, val, err, errlen) :
		    parse_field(r, (enum field)f, val, packet, err, errlen))
			return -1;
		if ((f == FIELD_SPORT || f == FIELD_DPORT) && !first_port_kw)
			first_port_kw = fields[f].name;
		if (f == FIELD_ICMP_TYPE)
			icmp_type_val = val;
		i += step;
	}
	return check_rule(r, seen, first_port_kw, icmp_type_val, err, errlen);
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
 * need tcp or udp, src and dst of one family, ICMP type names per protocol,
 * the keywords that need another one) run after every token is read, so the
 * order of matches never changes the verdict.
 *
 * Return: 0, or -1 with a message naming the bad token in @err.
 */
int rule_parse(struct rule *r, int argc, char *const argv[],
	       char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));

	if (argc < 1)
		return fail(err, errlen, "missing direction");
	if (rule_parse_dir(argv[0], &r->dir))
		return fail(err, errlen, "invalid direction '%s'", argv[0]);
	if (argc < 2)
		return fail(err, errlen, "missing action");
	if (rule_parse_verdict(argv[1], &r->action))
		return fail(err, errlen, "invalid action '%s'", argv[1]);
	if (parse_matches(r, argc - 2, argv + 2, false, err, errlen))
		return -1;
	if ((r->has_uid || r->has_gid) && r->dir != KFW_DIR_OUT)
		return fail(err, errlen, "'%s' matches only on out",
			    r->has_uid ? "uid" : "gid");
	return 0;
}

/**
 * rule_parse_packet() - build a test packet from "DIR [FIELD VALUE...]"
 * @p: the packet to fill in; cleared first
 * @argc: number of tokens
 * @argv: the tokens, e.g. { "in", "proto", "tcp", "dport", "22" }
 * @err: where to put the error message, without any "fwctl: " prefix
 * @errlen: size of @err
 *
 * The same grammar and checks as the matches of a rule, restricted to what
 * describes one packet: proto, src, dst, sport, dport, iface, state,
 * icmp-type and icmp-code; addresses without a prefix length, single ports
 * and a single state.
 *
 * Return: 0, or -1 with a message naming the bad token in @err.
 */
int rule_parse_packet(struct rule_packet *p, int argc, char *const argv[],
		      char *err, size_t errlen)
{
	struct rule r;

	memset(p, 0, sizeof(*p));
	memset(&r, 0, sizeof(r));
	if (argc < 1)
		return fail(err, errlen, "missing direction");
	if (rule_parse_dir(argv[0], &p->dir))
		return fail(err, errlen, "invalid direction '%s'", argv[0]);
	if (parse_matches(&r, argc - 1, argv + 1, true, err, errlen))
		return -1;

	p->has_proto = r.has_proto;
	p->proto = r.proto;
	p->src = r.src;
	p->dst = r.dst;
	p->has_sport = r.sport.set;
	p->sport = r.sport.first;
	p->has_dport = r.dport.set;
	p->dport = r.dport.first;
	memcpy(p->iface, r.iface, sizeof(p->iface));
	p->state = r.state;
	p->has_icmp_type = r.has_icmp_type;
	p->icmp_type = r.icmp_type;
	p->has_icmp_code = r.has_icmp_code;
	p->icmp_code = r.icmp_code;
	p->has_uid = r.has_uid;
	p->uid = r.uid_first;
	p->has_gid = r.has_gid;
	p->gid = r.gid_first;
	return 0;
}

/*
 * A bounded string builder: formatting never writes past the end.
 *
 * `list` and `save` format every rule of the table, 100 000 and more, and a
 * printf-family call costs thousands of instructions in parsing its format
 * alone, which under emulation (our test VMs) made printing take longer than
 * the dump. So the formatters append known strings and hand-converted
 * numbers directly, and the text is NUL-terminated only by sb_finish().
 */
struct sbuf {
	char *buf;
	size_t len;
	size_t pos;
	bool overflow;
};

/*
 * Appends @n bytes, keeping room for the NUL that sb_finish() adds. Once
 * something did not fit, the text is lost and later appends do nothing.
 */
static void sb_put(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->overflow || n >= sb->len - sb->pos) {
		sb->overflow = true;
		sb->pos = sb->len;
		return;
	}
	memcpy(sb->buf + sb->pos, s, n);
	sb->pos += n;
}

/* Inlined, strlen() of a string literal costs nothing. */
static inline void sb_puts(struct sbuf *sb, const char *s)
{
	sb_put(sb, s, strlen(s));
}

static void sb_putc(struct sbuf *sb, char c)
{
	sb_put(sb, &c, 1);
}

/* What printf's %u prints. */
static void sb_put_u64(struct sbuf *sb, uint64_t v)
{
	char digits[20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_put(sb, digits + i, sizeof(digits) - i);
}

static const char hex_digits[] = "0123456789abcdef";

/* What printf's %x prints. */
static void sb_put_hex16(struct sbuf *sb, uint16_t v)
{
	char digits[4];
	size_t i = sizeof(digits);

	do {
		digits[--i] = hex_digits[v & 0xf];
		v >>= 4;
	} while (v);
	sb_put(sb, digits + i, sizeof(digits) - i);
}

/* What printf's %02x prints. */
static void sb_put_hex8(struct sbuf *sb, uint8_t v)
{
	char digits[2] = { hex_digits[v >> 4], hex_digits[v & 0xf] };

	sb_put(sb, digits, sizeof(digits));
}

/* Returns the length of the text, or -1 with "" in the buffer. */
static int sb_finish(struct sbuf *sb)
{
	if (sb->overflow || sb->len == 0) {
		if (sb->len)
			sb->buf[0] = '\0';
		return -1;
	}
	sb->buf[sb->pos] = '\0';
	return (int)sb->pos;
}

static void format_ip4(struct sbuf *sb, const uint8_t *b)
{
	sb_put_u64(sb, b[0]);
	sb_putc(sb, '.');
	sb_put_u64(sb, b[1]);
	sb_putc(sb, '.');
	sb_put_u64(sb, b[2]);
	sb_putc(sb, '.');
	sb_put_u64(sb, b[3]);
}

/*
 * The text glibc's inet_ntop() gives, which is what fwctl printed before
 * formatting by hand (and what tests and saved files hold): groups in
 * lower-case hex without leading zeros; the longest run of two or more zero
 * groups, the first one of equal runs, shortened to "::"; and the last 32
 * bits as IPv4 after ::ffff: (mapped) or a :: of six groups (compatible).
 */
static void format_ip6(struct sbuf *sb, const uint8_t *b)
{
	int best = -1, best_len = 0, run = -1, run_len = 0;
	uint16_t words[8];
	int i;

	for (i = 0; i < 8; i++) {
		words[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
		if (words[i]) {
			run = -1;
			continue;
		}
		if (run < 0) {
			run = i;
			run_len = 0;
		}
		if (++run_len > best_len) {
			best = run;
			best_len = run_len;
		}
	}
	if (best_len < 2)
		best = -1;

	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				sb_putc(sb, ':');
			continue;
		}
		if (i != 0)
			sb_putc(sb, ':');
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
			format_ip4(sb, b + 12);
			return;
		}
		sb_put_hex16(sb, words[i]);
	}
	if (best >= 0 && best + best_len == 8)
		sb_putc(sb, ':');
}

static void format_addr(struct sbuf *sb, const struct rule_addr *a)
{
	if (a->family == AF_INET)
		format_ip4(sb, a->raw);
	else if (a->family == AF_INET6)
		format_ip6(sb, a->raw);
	else
		sb_putc(sb, '?');
	sb_putc(sb, '/');
	sb_put_u64(sb, a->prefix);
}

static void format_ports(struct sbuf *sb, const struct rule_ports *p)
{
	sb_put_u64(sb, p->first);
	if (p->first != p->last) {
		sb_putc(sb, '-');
		sb_put_u64(sb, p->last);
	}
}

static void format_proto(struct sbuf *sb, uint8_t proto)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(proto_names); i++) {
		if (proto_names[i].number == proto) {
			sb_puts(sb, proto_names[i].name);
			return;
		}
	}
	sb_put_u64(sb, proto);
}

static void format_icmp_type(struct sbuf *sb, const struct rule *r)
{
	const struct icmp_name *t = r->has_proto ? icmp_table(r->proto) : NULL;

	for (; t && t->name; t++) {
		if (t->type == r->icmp_type) {
			sb_puts(sb, t->name);
			return;
		}
	}
	sb_put_u64(sb, r->icmp_type);
}

static void format_state(struct sbuf *sb, uint8_t state)
{
	const char *sep = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(state_names); i++) {
		if (state & state_names[i].bit) {
			sb_puts(sb, sep);
			sb_puts(sb, state_names[i].name);
			sep = ",";
		}
	}
}

/* Whether the payload can be shown as payload "TEXT". */
static bool payload_is_text(const struct rule *r)
{
	size_t i;

	for (i = 0; i < r->payload_len; i++)
		if (!is_plain(r->payload[i]))
			return false;
	return true;
}

static uint32_t log_rate(const struct rule *r)
{
	return r->log_rate ? r->log_rate : KFW_LOG_RATE_DEFAULT;
}

static uint32_t log_burst(const struct rule *r)
{
	return r->log_burst ? r->log_burst : KFW_LOG_BURST_DEFAULT;
}

/* The kernel's default burst of an `over` is its rate. */
static uint32_t over_burst(const struct rule *r)
{
	return r->over_burst ? r->over_burst : r->over_rate;
}

/*
 * Whether a rule matches on field @f and so shows it. Log rate and burst
 * appear in the text only when they are not the defaults, and in JSON
 * (@all) with every log rule.
 */
static bool field_present(const struct rule *r, enum field f, bool all)
{
	switch (f) {
	case FIELD_PROTO:
		return r->has_proto;
	case FIELD_SRC:
		return r->src.family;
	case FIELD_DST:
		return r->dst.family;
	case FIELD_SPORT:
		return r->sport.set;
	case FIELD_DPORT:
		return r->dport.set;
	case FIELD_ICMP_TYPE:
		return r->has_icmp_type;
	case FIELD_ICMP_CODE:
		return r->has_icmp_code;
	case FIELD_IFACE:
		return r->iface[0];
	case FIELD_UID:
		return r->has_uid;
	case FIELD_GID:
		return r->has_gid;
	case FIELD_STATE:
		return r->state;
	case FIELD_PAYLOAD:
		return r->payload_len && payload_is_text(r);
	case FIELD_PAYLOAD_HEX:
		return r->payload_len && !payload_is_text(r);
	case FIELD_PAYLOAD_WITHIN:
		return r->payload_within;
	case FIELD_OVER:
		return r->over_rate;
	case FIELD_BURST:
		return r->over_rate && (all || over_burst(r) != r->over_rate);
	case FIELD_PER_SRC:
		return r->over_rate && r->over_per_src;
	case FIELD_LOG:
		return r->log;
	case FIELD_LOG_RATE:
		return r->log && (all || log_rate(r) != KFW_LOG_RATE_DEFAULT);
	case FIELD_LOG_BURST:
		return r->log && (all || log_burst(r) != KFW_LOG_BURST_DEFAULT);
	case FIELD_TIMEOUT:
		return r->timeout_ms;
	case FIELD_COMMENT:
		return r->comment[0];
	case FIELD_COUNT:
		break;
	}
	return false;
}

static void format_range(struct sbuf *sb, uint32_t first, uint32_t last)
{
	sb_put_u64(sb, first);
	if (last != first) {
		sb_putc(sb, '-');
		sb_put_u64(sb, last);
	}
}

/* A field that may hold a list: "[!= ]ELEM[,ELEM...]". */
static void list_value(struct sbuf *sb, const struct rule *r, enum field f)
{
	int lf = list_field(f);
	unsigned int i, n = lf >= 0 && r->lists ? r->lists->len[lf] : 0;

	if (r->negate & negation_bit(f))
		sb_puts(sb, "!= ");
	for (i = 0; i < (n > 1 ? n : 1); i++) {
		const struct rule_lists *l = r->lists;

		if (i)
			sb_putc(sb, ',');
		switch (f) {
		case FIELD_PROTO:
			format_proto(sb, n > 1 ? l->proto[i] : r->proto);
			break;
		case FIELD_SRC:
			format_addr(sb, n > 1 ? &l->addr[RULE_LIST_SRC][i] : &r->src);
			break;
		case FIELD_DST:
			format_addr(sb, n > 1 ? &l->addr[RULE_LIST_DST][i] : &r->dst);
			break;
		case FIELD_SPORT:
			format_ports(sb, n > 1 ? &l->port[0][i] : &r->sport);
			break;
		case FIELD_DPORT:
			format_ports(sb, n > 1 ? &l->port[1][i] : &r->dport);
			break;
		default:
			sb_put(sb, r->iface, strnlen(r->iface, IFNAMSIZ - 1));
		}
	}
}

/*
 * Appends the value of one match field as the canonical text shows it,
 * without the quotes of KIND_TEXT fields; nothing for flags. Text and JSON
 * both go through here so the two can never disagree.
 */
static void field_value(struct sbuf *sb, const struct rule *r, enum field f)
{
	size_t i;

	switch (f) {
	case FIELD_PROTO:
	case FIELD_SRC:
	case FIELD_DST:
	case FIELD_SPORT:
	case FIELD_DPORT:
	case FIELD_IFACE:
		list_value(sb, r, f);
		break;
	case FIELD_UID:
		format_range(sb, r->uid_first, r->uid_last);
		break;
	case FIELD_GID:
		format_range(sb, r->gid_first, r->gid_last);
		break;
	case FIELD_ICMP_TYPE:
		format_icmp_type(sb, r);
		break;
	case FIELD_ICMP_CODE:
		sb_put_u64(sb, r->icmp_code);
		break;
	case FIELD_STATE:
		format_state(sb, r->state);
		break;
	case FIELD_PAYLOAD:
		/* Plain bytes only (payload_is_text()), so no NUL among them. */
		sb_put(sb, (const char *)r->payload, r->payload_len);
		break;
	case FIELD_PAYLOAD_HEX:
		for (i = 0; i < r->payload_len; i++)
			sb_put_hex8(sb, r->payload[i]);
		break;
	case FIELD_PAYLOAD_WITHIN:
		sb_put_u64(sb, r->payload_within);
		break;
	case FIELD_OVER:
		sb_put_u64(sb, r->over_rate);
		sb_puts(sb, r->over_period == 1 ? "/s" : r->over_period == 60 ? "/m" : "/h");
		break;
	case FIELD_BURST:
		sb_put_u64(sb, over_burst(r));
		break;
	case FIELD_LOG:
	case FIELD_PER_SRC:
		break;
	case FIELD_LOG_RATE:
		if (log_rate(r) % 60 == 0) {
			sb_put_u64(sb, log_rate(r) / 60);
			sb_puts(sb, "/s");
		} else {
			sb_put_u64(sb, log_rate(r));
			sb_puts(sb, "/m");
		}
		break;
	case FIELD_LOG_BURST:
		sb_put_u64(sb, log_burst(r));
		break;
	case FIELD_TIMEOUT: {
		char text[DURATION_TEXT_MAX];

		duration_format(r->timeout_ms, text, sizeof(text));
		sb_puts(sb, text);
		break;
	}
	case FIELD_COMMENT:
		sb_put(sb, r->comment, strnlen(r->comment, KFW_COMMENT_MAX - 1));
		break;
	case FIELD_COUNT:
		break;
	}
}

/* Big enough for the longest field value: a list of 64 IPv6 prefixes. */
#define FIELD_VALUE_MAX	(KFW_LIST_MAX * (INET6_ADDRSTRLEN + 5) + 8)

/*
 * The matches, each one after @sep and then after a space. With @live, as
 * `list` shows a rule of the kernel: the sources a per-src rule tracks
 * now, after per-src, which restore does not take.
 */
static void format_match(struct sbuf *sb, const struct rule *r, const char *sep,
			 bool live)
{
	int f;

	for (f = 0; f < FIELD_COUNT; f++) {
		if (!field_present(r, (enum field)f, false))
			continue;
		sb_puts(sb, sep);
		sb_puts(sb, fields[f].name);
		if (fields[f].kind == KIND_TEXT) {
			sb_puts(sb, " \"");
			field_value(sb, r, (enum field)f);
			sb_putc(sb, '"');
		} else if (fields[f].kind == KIND_VALUE) {
			sb_putc(sb, ' ');
			field_value(sb, r, (enum field)f);
		}
		if (live && f == FIELD_PER_SRC) {
			sb_puts(sb, " sources ");
			sb_put_u64(sb, r->over_sources);
		}
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

	format_match(&sb, r, "", false);
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

	sb_puts(&sb, rule_dir_name(r->dir));
	sb_putc(&sb, ' ');
	sb_puts(&sb, rule_verdict_name(r->action));
	format_match(&sb, r, " ", false);
	return sb_finish(&sb);
}

/**
 * rule_format_line() - a rule as `fwctl list` prints it, without the newline
 * @r: the rule, with handle and counters
 * @buf: output, e.g. "7 in drop 12 720 proto tcp dport 22"; a per-src rule
 *	shows the sources it tracks now after per-src: "... per-src sources 3"
 * @len: size of @buf; RULE_LINE_MAX always suffices
 *
 * Return: the length of the text, or -1 (and "" in @buf) if @buf is too small.
 */
int rule_format_line(const struct rule *r, char *buf, size_t len)
{
	struct sbuf sb = { .buf = buf, .len = len };

	sb_put_u64(&sb, r->handle);
	sb_putc(&sb, ' ');
	sb_puts(&sb, rule_dir_name(r->dir));
	sb_putc(&sb, ' ');
	sb_puts(&sb, rule_verdict_name(r->action));
	sb_putc(&sb, ' ');
	sb_put_u64(&sb, r->packets);
	sb_putc(&sb, ' ');
	sb_put_u64(&sb, r->bytes);
	format_match(&sb, r, " ", true);
	return sb_finish(&sb);
}

/* @n bytes of @s, quoted for JSON; runs that need no escape go in whole. */
static void json_string(struct sbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, plain = 0;

	sb_putc(sb, '"');
	for (i = 0; i < n; i++) {
		if (p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 && p[i] != 0x7f)
			continue;
		sb_put(sb, s + plain, i - plain);
		plain = i + 1;
		if (p[i] == '"' || p[i] == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, (char)p[i]);
		} else {
			sb_puts(sb, "\\u00");
			sb_put_hex8(sb, p[i]);
		}
	}
	sb_put(sb, s + plain, n - plain);
	sb_putc(sb, '"');
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

	json_string(&sb, s, strlen(s));
	return sb_finish(&sb);
}

/**
 * rule_escape() - text as an error message may show it
 * @buf: output
 * @len: size of @buf; 4 * strlen(@s) + 1 always suffices
 * @s: the text, e.g. a message quoting a token the user gave
 *
 * A token is whatever the command line or a restore file held, and a
 * control byte in it must not reach a terminal or a log as itself: a
 * newline would forge a second message, an escape sequence would drive the
 * terminal. So every byte outside printable ASCII becomes a C escape, \n,
 * \r, \t or \xNN; printable bytes, the backslash included, stay as typed.
 *
 * Return: the length written, or -1 (and "" in @buf) if @buf is too small.
 */
int rule_escape(char *buf, size_t len, const char *s)
{
	struct sbuf sb = { .buf = buf, .len = len };
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			sb_putc(&sb, (char)*p);
			continue;
		}
		switch (*p) {
		case '\n':
			sb_puts(&sb, "\\n");
			break;
		case '\r':
			sb_puts(&sb, "\\r");
			break;
		case '\t':
			sb_puts(&sb, "\\t");
			break;
		default:
			sb_puts(&sb, "\\x");
			sb_put_hex8(&sb, *p);
		}
	}
	return sb_finish(&sb);
}

/**
 * rule_format_json() - a rule as one JSON object, as `fwctl -j list` prints it
 * @r: the rule, with handle and counters
 * @buf: output, e.g. {"handle":7,"dir":"in",...,"dport":"22"}
 * @len: size of @buf; RULE_JSON_MAX always suffices
 *
 * Match fields appear only when present, each as a string holding exactly
 * the canonical text of its value (without the quotes of payload and
 * comment text), except "log":true and "per-src":true. A log rule always
 * shows its log-rate and log-burst, also when they are the defaults, and
 * an over rule its burst; a per-src rule has "sources":N after per-src, the
 * sources it tracks now. A timed rule shows its "timeout" as text and its
 * "timeout_ms", the milliseconds left, as a number.
 *
 * Return: the length written, or -1 (and "" in @buf) if @buf is too small.
 */
int rule_format_json(const struct rule *r, char *buf, size_t len)
{
	struct sbuf sb = { .buf = buf, .len = len };
	char value[FIELD_VALUE_MAX];
	int f;

	sb_puts(&sb, "{\"handle\":");
	sb_put_u64(&sb, r->handle);
	sb_puts(&sb, ",\"dir\":\"");
	sb_puts(&sb, rule_dir_name(r->dir));
	sb_puts(&sb, "\",\"action\":\"");
	sb_puts(&sb, rule_verdict_name(r->action));
	sb_puts(&sb, "\",\"packets\":");
	sb_put_u64(&sb, r->packets);
	sb_puts(&sb, ",\"bytes\":");
	sb_put_u64(&sb, r->bytes);
	for (f = 0; f < FIELD_COUNT; f++) {
		struct sbuf vb = { .buf = value, .len = sizeof(value) };

		if (!field_present(r, (enum field)f, true))
			continue;
		sb_puts(&sb, ",\"");
		sb_puts(&sb, fields[f].name);
		if (fields[f].kind == KIND_FLAG) {
			sb_puts(&sb, "\":true");
			if (f == FIELD_PER_SRC) {
				sb_puts(&sb, ",\"sources\":");
				sb_put_u64(&sb, r->over_sources);
			}
			continue;
		}
		sb_puts(&sb, "\":");
		field_value(&vb, r, (enum field)f);
		if (vb.overflow)
			sb.overflow = true;
		json_string(&sb, value, vb.pos);
		/* The exact time left too, for scripts that count down. */
		if (f == FIELD_TIMEOUT) {
			sb_puts(&sb, ",\"timeout_ms\":");
			sb_put_u64(&sb, r->timeout_ms);
		}
	}
	sb_putc(&sb, '}');
	return sb_finish(&sb);
}
