// SPDX-License-Identifier: GPL-2.0
/*
 * shadow: which rules can never match. Table-driven cases for every field
 * and edge, then the indexed check against a plain scan of all earlier
 * rules on random tables, with every reported pair tried on random packets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "shadow.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void parse_or_fail(struct rule *r, const char *line)
{
	char err[RULE_ERR_MAX];

	if (unit_parse(r, line, err))
		fail_msg("'%s': %s", line, err);
}

/* One pair: does the earlier rule cover the later one? */
static const struct {
	const char *earlier;
	const char *later;
	bool covers;
} pairs[] = {
	/* The same rule twice, and rules without any match. */
	{ "in drop", "in drop", true },
	{ "in drop", "in accept proto tcp dport 22", true },
	{ "in accept", "in drop src 2001:db8::1", true },
	{ "in drop proto tcp", "in drop", false },
	/* Directions. */
	{ "in drop", "out drop", false },
	{ "out drop proto udp", "out accept proto udp dport 53", true },
	{ "out drop proto udp", "in drop proto udp dport 53", false },
	/* Action, log and comment change nothing. */
	{ "in accept log log-rate 1/s comment x", "in reject proto tcp", true },
	/* Lists: each element of the later rule in one of the earlier one's. */
	{ "in drop proto tcp dport 22,80", "in drop proto tcp dport 80", true },
	{ "in drop proto tcp dport 22,80", "in drop proto tcp dport 80,22", true },
	{ "in drop proto tcp dport 22,80", "in drop proto tcp dport 22,443", false },
	{ "in drop proto tcp dport 1-100", "in drop proto tcp dport 22,80", true },
	{ "in drop proto tcp dport 22", "in drop proto tcp dport 22,22", true },
	{ "in drop proto tcp,udp", "in drop proto udp dport 53", true },
	{ "in drop proto tcp,udp dport 53", "in drop proto udp,tcp dport 53", true },
	{ "in drop proto tcp,udp dport 53", "in drop proto udp,icmp", false },
	{ "in drop src 192.0.2.0/24,198.51.100.0/24", "in drop src 198.51.100.7,192.0.2.1", true },
	{ "in drop src 192.0.2.0/24,198.51.100.0/24", "in drop src 198.51.100.7,203.0.113.1",
	  false },
	{ "in drop src 192.0.2.0/24,198.51.100.0/24 proto tcp dport 22,80",
	  "in drop src 192.0.2.9 proto tcp dport 80", true },
	/* Negations and owners: silent, whatever covers them. */
	{ "in drop", "in drop src != 192.0.2.1", false },
	{ "in drop src != 192.0.2.1", "in drop src 198.51.100.1", false },
	{ "in drop proto tcp", "in drop proto tcp dport != 22", false },
	{ "out drop", "out drop uid 1000", false },
	{ "out drop uid 0-65535", "out drop uid 1000", false },
	/* More than 64 combinations: silent. */
	{ "in drop", "in drop proto tcp,udp src 192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4 "
	  "dport 1,2,3,4,5,6,7,8,9", false },
	{ "in drop", "in drop proto tcp,udp src 192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4 "
	  "dport 1,2,3,4,5,6,7,8", true },
	/* Protocols. */
	{ "in drop proto tcp", "in drop proto tcp src 192.0.2.1", true },
	{ "in drop proto tcp", "in drop proto udp", false },
	{ "in drop proto 47", "in drop proto 47 dst 198.51.100.0/24", true },
	/* Prefixes: containment, /0, /32, /128. */
	{ "in drop src 192.0.2.0/24", "in drop src 192.0.2.128/25", true },
	{ "in drop src 192.0.0.0/8", "in drop src 192.0.2.1", true },
	{ "in drop src 192.0.0.0/8", "in drop src 198.51.100.1", false },
	{ "in drop src 128.0.0.0/1", "in drop src 192.0.2.1", true },
	{ "in drop src 128.0.0.0/1", "in drop src 0.0.0.0/1", false },
	{ "in drop dst 2001:db8::/64", "in drop dst 2001:db8::/65", true },
	{ "in drop dst 2001:db8:0:0:8000::/65", "in drop dst 2001:db8::/66", false },
	{ "in drop src 192.0.2.0/24", "in drop src 192.0.2.255", true },
	{ "in drop src 192.0.2.0/25", "in drop src 192.0.2.128/25", false },
	{ "in drop src 192.0.2.0/25", "in drop src 192.0.2.0/24", false },
	{ "in drop src 192.0.2.1", "in drop src 192.0.2.1/32", true },
	{ "in drop src 192.0.2.1", "in drop src 192.0.2.2", false },
	{ "in drop src 0.0.0.0/0", "in drop src 192.0.2.1", true },
	{ "in drop src 0.0.0.0/0", "in drop dst 192.0.2.1", true },
	{ "in drop src 0.0.0.0/0", "in drop", false },
	{ "in drop src 0.0.0.0/0", "in drop src ::/0", false },
	{ "in drop src ::/0", "in drop dst 2001:db8::/64", true },
	{ "in drop src 192.0.2.0/24", "in drop dst 192.0.2.0/24", false },
	{ "in drop src 192.0.2.0/24", "in drop src 0.0.0.0/0", false },
	{ "in drop dst 2001:db8::/32", "in drop dst 2001:db8:1::/48", true },
	{ "in drop dst 2001:db8::1", "in drop dst 2001:db8::1/128", true },
	{ "in drop dst 2001:db8::1", "in drop dst 2001:db8::", false },
	{ "in drop dst 2001:db8::/127", "in drop dst 2001:db8::1", true },
	{ "in drop dst 2001:db8::/128", "in drop dst 2001:db8::/127", false },
	{ "in drop src 192.0.2.0/24 dst 198.51.100.0/24",
	  "in drop src 192.0.2.9 dst 198.51.100.7", true },
	{ "in drop src 192.0.2.0/24 dst 198.51.100.0/24",
	  "in drop src 192.0.2.9 dst 203.0.113.7", false },
	{ "in drop src 192.0.2.0/24 dst 198.51.100.0/24",
	  "in drop src 192.0.2.9", false },
	/* Families: an address makes a rule family-specific. */
	{ "in drop proto tcp", "in drop proto tcp src 2001:db8::1", true },
	{ "in drop src 192.0.2.0/24", "in drop src 2001:db8::/64", false },
	{ "in drop src 2001:db8::/32", "in drop proto tcp", false },
	/* Ports: containment, touching and overlapping ranges. */
	{ "in drop proto tcp dport 1000-2000", "in drop proto tcp dport 1000-2000", true },
	{ "in drop proto tcp dport 1000-2000", "in drop proto tcp dport 1500", true },
	{ "in drop proto tcp dport 1000-2000", "in drop proto tcp dport 1000", true },
	{ "in drop proto tcp dport 1000-2000", "in drop proto tcp dport 2000", true },
	{ "in drop proto tcp dport 1000-2000", "in drop proto tcp dport 2001", false },
	{ "in drop proto tcp dport 1000-2000", "in drop proto tcp dport 999-1000", false },
	{ "in drop proto tcp dport 1000-2000", "in drop proto tcp dport 1500-2500", false },
	{ "in drop proto tcp dport 1000-1999", "in drop proto tcp dport 2000-2999", false },
	{ "in drop proto tcp dport 22", "in drop proto tcp dport 22-23", false },
	{ "in drop proto tcp dport 22", "in drop proto tcp dport 22", true },
	{ "in drop proto tcp dport 22", "in drop proto tcp dport 23", false },
	{ "in drop proto tcp dport 0-65535", "in drop proto tcp", false },
	{ "in drop proto tcp dport 0-65535", "in drop proto tcp dport 80", true },
	{ "in drop proto tcp dport 22", "in drop proto udp dport 22", false },
	{ "in drop proto tcp sport 1024-65535", "in drop proto tcp sport 2000 dport 80", true },
	{ "in drop proto tcp sport 1024-65535", "in drop proto tcp dport 80", false },
	{ "in drop proto udp dport 53", "in drop proto udp sport 53", false },
	/* Interfaces. */
	{ "in drop iface eth0", "in drop iface eth0 proto tcp", true },
	{ "in drop iface eth0", "in drop iface eth1", false },
	{ "in drop iface eth0", "in drop", false },
	{ "in drop", "in drop iface eth0", true },
	/* States: a subset is covered. */
	{ "in drop state new,established", "in drop state new", true },
	{ "in drop state new", "in drop state new,established", false },
	{ "in drop state new", "in drop", false },
	{ "in drop", "in drop state invalid", true },
	{ "in drop state new,established,related,invalid", "in drop", false },
	{ "in drop state established", "in drop state related", false },
	/* ICMP types and codes. */
	{ "in drop proto icmp", "in drop proto icmp icmp-type echo-request", true },
	{ "in drop proto icmp icmp-type echo-request",
	  "in drop proto icmp icmp-type echo-request icmp-code 0", true },
	{ "in drop proto icmp icmp-type echo-request icmp-code 0",
	  "in drop proto icmp icmp-type echo-request", false },
	{ "in drop proto icmp icmp-type 3 icmp-code 1",
	  "in drop proto icmp icmp-type 3 icmp-code 3", false },
	{ "in drop proto icmp icmp-type echo-request",
	  "in drop proto icmp icmp-type echo-reply", false },
	{ "in drop proto icmpv6 icmp-type echo-request",
	  "in drop proto icmpv6 icmp-type 128 src 2001:db8::1", true },
	/* Payload: a later one is covered, an earlier one never covers. */
	{ "in drop proto tcp", "in drop proto tcp payload GET", true },
	{ "in drop proto tcp payload GET", "in drop proto tcp payload GET", false },
	{ "in drop proto tcp payload GET", "in drop proto tcp", false },
	/* Timeouts: a timed rule is covered, and covers nothing: it goes. */
	{ "in drop proto tcp", "in drop proto tcp dport 22 timeout 1h", true },
	{ "in drop proto tcp timeout 1h", "in drop proto tcp dport 22", false },
	{ "in drop timeout 1h", "in drop timeout 1h", false },
};

static void test_pairs(void **state)
{
	struct rule j, i;
	size_t n;

	(void)state;
	for (n = 0; n < ARRAY_SIZE(pairs); n++) {
		parse_or_fail(&j, pairs[n].earlier);
		parse_or_fail(&i, pairs[n].later);
		if (shadow_covers(&j, &i) != pairs[n].covers)
			fail_msg("'%s' covers '%s': got %d, want %d", pairs[n].earlier,
				 pairs[n].later, !pairs[n].covers, pairs[n].covers);
		/* The index, with the earlier rule alone in it, agrees. */
		{
			struct shadow_index *idx = shadow_index_new();
			size_t want = pairs[n].covers ? 0 : SHADOW_NONE;

			assert_non_null(idx);
			assert_int_equal(shadow_index_add(idx, &j, 0), 0);
			if (shadow_index_find(idx, &i) != want)
				fail_msg("index: '%s' covers '%s': want %d", pairs[n].earlier,
					 pairs[n].later, pairs[n].covers);
			shadow_index_free(idx);
		}
	}
}

/* Collects the reports of shadow_check() as "I<J" (0-based) separated by spaces. */
struct found {
	char text[4096];
	size_t len;
};

static void collect(size_t rule, size_t by, void *data)
{
	struct found *f = data;

	f->len += (size_t)snprintf(f->text + f->len, sizeof(f->text) - f->len,
				   "%s%zu<%zu", f->len ? " " : "", rule, by);
}

static int check_lines(const char *const *lines, size_t count, struct found *f)
{
	struct rule *rules = calloc(count, sizeof(*rules));
	size_t i;
	int ret;

	assert_non_null(rules);
	for (i = 0; i < count; i++)
		parse_or_fail(&rules[i], lines[i]);
	memset(f, 0, sizeof(*f));
	ret = shadow_check(rules, count, collect, f);
	free(rules);
	return ret;
}

static void expect_tables(const char *const *lines, size_t count, const char *want)
{
	struct found f;
	int n = check_lines(lines, count, &f);

	if (strcmp(f.text, want))
		fail_msg("reports \"%s\", want \"%s\"", f.text, want);
	assert_true(n >= 0);
}

static void test_table_lists(void **state)
{
	static const char *const lines[] = {
		/* 0 */ "in drop proto tcp dport 22,80",
		/* 1 */ "in accept proto tcp dport 80",			/* by 0 */
		/* 2 */ "in accept proto tcp dport 22,80",		/* by 0 */
		/* 3 */ "in drop proto tcp dport 443",
		/* 4 */ "in accept proto tcp dport 22,443",		/* 0 and 3: not */
		/* 5 */ "in drop src 192.0.2.0/24,198.51.100.0/24",
		/* 6 */ "in drop src 198.51.100.3 proto udp,tcp",	/* by 5 */
		/* 7 */ "in drop src != 203.0.113.0/24",
		/* 8 */ "in drop src 203.0.113.1",			/* 7: not */
	};

	(void)state;
	expect_tables(lines, ARRAY_SIZE(lines), "1<0 2<0 6<5");
}

static void test_table_union_not_reported(void **state)
{
	/* 3 is covered by 1 and 2 together, by neither alone: not reported. */
	static const char *const lines[] = {
		"in drop proto tcp dport 1-100",
		"in drop proto tcp dport 101-200",
		"in drop proto tcp dport 50-150",
		"in drop src 192.0.2.0/25",
		"in drop src 192.0.2.128/25",
		"in drop src 192.0.2.0/24",
	};

	(void)state;
	expect_tables(lines, ARRAY_SIZE(lines), "");
}

static void test_table_earliest_and_mixed(void **state)
{
	static const char *const lines[] = {
		/* 0 */ "out drop proto udp",
		/* 1 */ "in accept src 192.0.2.0/24",
		/* 2 */ "in drop src 2001:db8::/32",
		/* 3 */ "in drop src 192.0.2.7 proto tcp dport 22",	/* by 1 */
		/* 4 */ "in drop src 192.0.2.0/24",			/* by 1 */
		/* 5 */ "out drop proto udp dport 53",			/* by 0 */
		/* 6 */ "in drop src 2001:db8:1::/48 proto udp",	/* by 2 */
		/* 7 */ "in drop proto udp dport 53",			/* not: family */
		/* 8 */ "in drop src 198.51.100.1",
		/* 9 */ "in drop src 198.51.100.1 iface eth0",		/* by 8 */
		/* 10 */ "in drop proto tcp payload x",
		/* 11 */ "in drop proto tcp payload x",		/* not: payload */
		/* 12 */ "in drop",
		/* 13 */ "in drop proto tcp payload x",		/* by 12 */
		/* 14 */ "out drop",
		/* 15 */ "in drop dst 203.0.113.1",			/* by 12 */
		/* 16 */ "out accept proto udp dport 53",		/* by 0 */
	};

	(void)state;
	expect_tables(lines, ARRAY_SIZE(lines),
		      "3<1 4<1 5<0 6<2 9<8 13<12 15<12 16<0");
}

/* shadow_check_one() on a table: what adding or inserting at @pos reports. */
static void expect_one(const char *const *lines, size_t count, size_t pos,
		       const char *want)
{
	struct rule *rules = calloc(count, sizeof(*rules));
	struct found f;
	size_t i;

	assert_non_null(rules);
	for (i = 0; i < count; i++)
		parse_or_fail(&rules[i], lines[i]);
	memset(&f, 0, sizeof(f));
	assert_true(shadow_check_one(rules, count, pos, collect, &f) >= 0);
	if (strcmp(f.text, want))
		fail_msg("at %zu: reports \"%s\", want \"%s\"", pos, f.text, want);
	free(rules);
}

static void test_one(void **state)
{
	static const char *const lines[] = {
		/* 0 */ "in drop src 192.0.2.0/24",
		/* 1 */ "in drop proto tcp",			/* as if inserted */
		/* 2 */ "in drop proto tcp dport 22",		/* newly by 1 */
		/* 3 */ "in drop proto tcp src 192.0.2.1",	/* already by 0 */
		/* 4 */ "out drop proto tcp",
		/* 5 */ "in drop proto tcp src 192.0.2.1",	/* already by 0 */
		/* 6 */ "in drop src 192.0.2.0/25",		/* by 0 */
	};

	(void)state;
	expect_one(lines, ARRAY_SIZE(lines), 1, "2<1");
	expect_one(lines, ARRAY_SIZE(lines), 6, "6<0");
	expect_one(lines, ARRAY_SIZE(lines), 3, "3<0");
	expect_one(lines, ARRAY_SIZE(lines), 4, "");
	expect_one(lines, ARRAY_SIZE(lines), 0, "3<0 5<0 6<0");
}

/*
 * Every byte of struct rule outside the fields the checker knows makes a
 * rule unknown: that is how a field added later keeps it silent.
 */
static void test_unknown_fields(void **state)
{
	static const struct {
		size_t offset;
		size_t size;
	} known[] = {
#define F(field) { offsetof(struct rule, field), sizeof(((struct rule *)0)->field) }
		F(dir), F(action), F(has_proto), F(proto), F(src), F(dst),
		F(sport), F(dport), F(iface), F(state), F(has_icmp_type),
		F(icmp_type), F(has_icmp_code), F(icmp_code), F(payload_len),
		F(payload), F(payload_within), F(log), F(log_rate), F(log_burst),
		F(comment), F(handle), F(packets), F(bytes), F(lists),
		F(timeout_ms),
#undef F
	};
	struct rule j, i, odd;
	size_t at, k;
	int unknown = 0;

	(void)state;
	parse_or_fail(&j, "in drop");
	parse_or_fail(&i, "in drop proto tcp");
	assert_true(shadow_understood(&j));
	assert_true(shadow_covers(&j, &i));
	for (at = 0; at < sizeof(struct rule); at++) {
		bool is_known = false;

		for (k = 0; k < ARRAY_SIZE(known); k++)
			if (at >= known[k].offset && at < known[k].offset + known[k].size)
				is_known = true;
		if (is_known)
			continue;
		odd = j;
		((unsigned char *)&odd)[at] = 1;
		if (shadow_understood(&odd))
			fail_msg("byte %zu set, still understood", at);
		assert_false(shadow_covers(&odd, &i));
		odd = i;
		((unsigned char *)&odd)[at] = 1;
		assert_false(shadow_covers(&j, &odd));
		unknown++;
	}
	/* Bad values of known fields make it silent too. */
	odd = j;
	odd.dir = KFW_DIR_MAX + 1;
	assert_false(shadow_understood(&odd));
	odd = i;
	odd.src.family = AF_INET;
	odd.src.prefix = 33;
	assert_false(shadow_understood(&odd));
	odd = i;
	odd.dport.set = true;
	odd.dport.first = 2;
	odd.dport.last = 1;
	assert_false(shadow_understood(&odd));
	/* Only padding is left in today's struct rule, but the loop ran. */
	(void)unknown;
}

/* --- Random tables against a plain scan --------------------------------- */

static uint64_t seed;

static uint32_t rnd(uint32_t n)
{
	uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) % n);
}

/* Mostly long prefixes out of a few networks, so that some nest. */
static int random_addr(char *out, size_t len, int family)
{
	static const unsigned int lens4[] = {
		16, 24, 24, 25, 26, 28, 30, 31, 32, 32, 32, 32, 32, 32, 32, 32,
		32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
	};
	static const unsigned int lens6[] = {
		48, 64, 64, 120, 127, 128, 128, 128, 128, 128, 128, 128,
		128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	};

	/* A /0 asks only for the family: much is covered, so rarely. */
	if (!rnd(300))
		return snprintf(out, len, "%s", family == 4 ? "0.0.0.0/0" : "::/0");
	if (family == 4)
		return snprintf(out, len, "%s.%u/%u", rnd(2) ? "192.0.2" : "198.51.100",
				rnd(256), lens4[rnd(ARRAY_SIZE(lens4))]);
	return snprintf(out, len, "2001:db8:%x::%x/%u", rnd(4), rnd(256),
			lens6[rnd(ARRAY_SIZE(lens6))]);
}

static void random_ports(char *out, size_t len, const char *name)
{
	unsigned int first = 20 + rnd(6);

	if (rnd(2))
		snprintf(out, len, " %s %u", name, first);
	else
		snprintf(out, len, " %s %u-%u", name, first, first + rnd(4));
}

static void random_rule(char *line, size_t len)
{
	static const char *const states[] = {
		"new", "established", "related", "invalid",
	};
	/* Rules without an address cover much: a few per table. */
	int family = rnd(1000) ? (rnd(2) ? 4 : 6) : 0;
	size_t n;
	unsigned int s;
	char buf[128];

	n = (size_t)snprintf(line, len, "%s %s", rnd(4) ? "in" : "out",
			     rnd(2) ? "drop" : "accept");
	if (family && rnd(30)) {
		random_addr(buf, sizeof(buf), family);
		n += (size_t)snprintf(line + n, len - n, " src %s", buf);
	}
	if (family && (rnd(2) || !strstr(line, "src"))) {
		random_addr(buf, sizeof(buf), family);
		n += (size_t)snprintf(line + n, len - n, " dst %s", buf);
	}
	switch (rnd(6)) {
	case 0:
	case 1:
		n += (size_t)snprintf(line + n, len - n, " proto %s", rnd(2) ? "tcp" : "udp");
		if (rnd(2)) {
			random_ports(buf, sizeof(buf), "dport");
			n += (size_t)snprintf(line + n, len - n, "%s", buf);
		}
		if (!rnd(3)) {
			random_ports(buf, sizeof(buf), "sport");
			n += (size_t)snprintf(line + n, len - n, "%s", buf);
		}
		break;
	case 2:
		n += (size_t)snprintf(line + n, len - n, " proto %s",
				      family == 6 ? "icmpv6" : "icmp");
		if (rnd(2))
			n += (size_t)snprintf(line + n, len - n, " icmp-type %u", rnd(2) * 8);
		if (rnd(2) && strstr(line, "icmp-type"))
			n += (size_t)snprintf(line + n, len - n, " icmp-code %u", rnd(2));
		break;
	default:
		break;
	}
	/* Most rules name one of many interfaces, so that few cover many. */
	if (rnd(8))
		n += (size_t)snprintf(line + n, len - n, " iface eth%u", rnd(8));
	if (!rnd(4)) {
		const char *sep = " state ";

		for (s = 0; s < 4; s++)
			if (rnd(2)) {
				n += (size_t)snprintf(line + n, len - n, "%s%s", sep, states[s]);
				sep = ",";
			}
	}
	if (!rnd(12))
		n += (size_t)snprintf(line + n, len - n, " payload ab");
	if (!rnd(10))
		n += (size_t)snprintf(line + n, len - n, " log");
}

/* A packet as kmod/match.c sees it, and its matcher, written out again. */
struct pkt {
	uint8_t dir, family, proto;
	bool has_ports, has_icmp;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code, state;
	const char *iface;
};

static bool pkt_addr_in(const uint8_t *a, const struct rule_addr *net)
{
	unsigned int b;

	for (b = 0; b < net->prefix; b++) {
		unsigned int bit = 0x80 >> (b % 8);

		if ((a[b / 8] & bit) != (net->raw[b / 8] & bit))
			return false;
	}
	return true;
}

static bool pkt_matches(const struct rule *r, const struct pkt *p)
{
	uint8_t family = r->src.family ? r->src.family : r->dst.family;

	if (r->dir != p->dir || (family && family != p->family))
		return false;
	if (r->has_proto && r->proto != p->proto)
		return false;
	if (r->src.family && !pkt_addr_in(p->src, &r->src))
		return false;
	if (r->dst.family && !pkt_addr_in(p->dst, &r->dst))
		return false;
	if ((r->sport.set || r->dport.set) && !p->has_ports)
		return false;
	if (r->sport.set && (p->sport < r->sport.first || p->sport > r->sport.last))
		return false;
	if (r->dport.set && (p->dport < r->dport.first || p->dport > r->dport.last))
		return false;
	if (r->iface[0] && strcmp(r->iface, p->iface))
		return false;
	if (r->state && !(r->state & p->state))
		return false;
	if (r->has_icmp_type && (!p->has_icmp || p->icmp_type != r->icmp_type))
		return false;
	if (r->has_icmp_code && p->icmp_code != r->icmp_code)
		return false;
	/* Payloads are left out: only a covered rule has one. */
	return true;
}

static void random_within(uint8_t *out, const struct rule_addr *a, unsigned int bytes)
{
	unsigned int b;

	for (b = 0; b < bytes; b++)
		out[b] = (uint8_t)rnd(256);
	if (a->family)
		for (b = 0; b < a->prefix; b++) {
			unsigned int bit = 0x80 >> (b % 8);

			out[b / 8] = (uint8_t)((out[b / 8] & ~bit) | (a->raw[b / 8] & bit));
		}
}

static uint16_t random_port(const struct rule_ports *p)
{
	if (!p->set)
		return (uint16_t)(18 + rnd(14));
	return (uint16_t)(p->first + rnd(p->last - p->first + 1u));
}

/* A random packet that @r matches (payload aside). */
static void random_packet_of(const struct rule *r, struct pkt *p)
{
	static const char *const ifaces[] = { "eth0", "eth1", "eth39", "lo" };
	static const uint8_t protos[] = { 6, 17, 1, 58, 47 };
	uint8_t family = r->src.family ? r->src.family : r->dst.family;

	memset(p, 0, sizeof(*p));
	p->dir = r->dir;
	p->family = family ? family : (rnd(2) ? AF_INET : AF_INET6);
	random_within(p->src, &r->src, p->family == AF_INET ? 4 : 16);
	random_within(p->dst, &r->dst, p->family == AF_INET ? 4 : 16);
	p->proto = r->has_proto ? r->proto : protos[rnd(ARRAY_SIZE(protos))];
	p->has_ports = (p->proto == 6 || p->proto == 17) &&
		       (r->sport.set || r->dport.set || rnd(4));
	p->sport = random_port(&r->sport);
	p->dport = random_port(&r->dport);
	p->has_icmp = r->has_icmp_type || ((p->proto == 1 || p->proto == 58) && rnd(4));
	p->icmp_type = r->has_icmp_type ? r->icmp_type : (uint8_t)(rnd(2) * 8);
	p->icmp_code = r->has_icmp_code ? r->icmp_code : (uint8_t)rnd(2);
	p->iface = r->iface[0] ? r->iface : ifaces[rnd(ARRAY_SIZE(ifaces))];
	if (r->state) {
		do
			p->state = (uint8_t)(1 << rnd(4));
		while (!(p->state & r->state));
	} else {
		p->state = rnd(5) ? (uint8_t)(1 << rnd(4)) : 0;
	}
}

struct reports {
	size_t *by;	/* by[i]: the coverer reported for rule i, or SHADOW_NONE */
	size_t n;
};

static void record(size_t rule, size_t by, void *data)
{
	struct reports *rep = data;

	assert_true(rule < rep->n);
	assert_int_equal(rep->by[rule], SHADOW_NONE);
	rep->by[rule] = by;
}

static void test_random(void **state)
{
	const char *env = getenv("SHADOW_SOAK");
	unsigned int rounds = env ? (unsigned int)atoi(env) : 3;
	size_t count = 3000, i, j, k;
	unsigned int round;

	(void)state;
	seed = 13;
	for (round = 0; round < rounds; round++) {
		struct rule *rules = calloc(count, sizeof(*rules));
		struct reports rep = { calloc(count, sizeof(size_t)), count };
		size_t shadowed = 0;
		char line[512];

		assert_non_null(rules);
		assert_non_null(rep.by);
		for (i = 0; i < count; i++) {
			random_rule(line, sizeof(line));
			parse_or_fail(&rules[i], line);
			rep.by[i] = SHADOW_NONE;
		}
		assert_true(shadow_check(rules, count, record, &rep) >= 0);
		for (i = 0; i < count; i++) {
			size_t want = SHADOW_NONE;

			/* The reference: the first earlier rule that covers. */
			for (j = 0; j < i && want == SHADOW_NONE; j++)
				if (shadow_covers(&rules[j], &rules[i]))
					want = j;
			if (rep.by[i] != want) {
				char a[RULE_TEXT_MAX], b[RULE_TEXT_MAX];

				rule_format(&rules[i], a, sizeof(a));
				if (want != SHADOW_NONE)
					rule_format(&rules[want], b, sizeof(b));
				fail_msg("round %u rule %zu '%s': index says %zd, scan %zd '%s'",
					 round, i, a, (ssize_t)rep.by[i], (ssize_t)want,
					 want != SHADOW_NONE ? b : "");
			}
			if (want == SHADOW_NONE)
				continue;
			shadowed++;
			if (getenv("SHADOW_VERBOSE")) {
				char a[RULE_TEXT_MAX], b[RULE_TEXT_MAX];

				rule_format(&rules[i], a, sizeof(a));
				rule_format(&rules[want], b, sizeof(b));
				printf("%zu: %s\n  by %zu: %s\n", i, a, want, b);
			}
			/* Never wrong: packets of the covered rule hit the coverer. */
			for (k = 0; k < 20; k++) {
				struct pkt p;

				random_packet_of(&rules[i], &p);
				assert_true(pkt_matches(&rules[i], &p));
				if (!pkt_matches(&rules[want], &p))
					fail_msg("rule %zu covers %zu, but a packet of the one misses the other",
						 want, i);
			}
		}
		/* shadow_check_one() agrees at a few positions. */
		for (k = 0; k < 30; k++) {
			size_t pos = rnd((uint32_t)count);
			struct found f = { "", 0 }, g = { "", 0 };

			if (shadow_check_one(rules, count, pos, collect, &f) < 0)
				fail_msg("out of memory");
			for (i = 0; i < count && g.len < sizeof(g.text) - 32; i++)
				if ((i == pos && rep.by[i] != SHADOW_NONE) ||
				    (rep.by[i] == pos))
					collect(i, rep.by[i], &g);
			if (g.len < sizeof(g.text) - 32 && strcmp(f.text, g.text))
				fail_msg("at %zu: one says \"%s\", whole table \"%s\"",
					 pos, f.text, g.text);
		}
		/* The random tables must exercise both answers. */
		if (getenv("SHADOW_VERBOSE"))
			printf("round %u: %zu of %zu rules shadowed\n", round, shadowed, count);
		assert_true(shadowed > count / 20);
		assert_true(shadowed < count - count / 20);
		free(rules);
		free(rep.by);
	}
}

int shadow_test_run(int *total)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_table_union_not_reported),
		cmocka_unit_test(test_table_lists),
		cmocka_unit_test(test_table_earliest_and_mixed),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_random),
	};

	*total += (int)ARRAY_SIZE(tests);
	return cmocka_run_group_tests_name("shadow", tests, NULL, NULL);
}
