// SPDX-License-Identifier: GPL-2.0
/*
 * rule: parsing "DIR ACTION [MATCH...]" and printing rules back, in text and
 * JSON. Table-driven: each case is the tokens as a user would type them and
 * the exact text fwctl must produce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "rule.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
static void test_spec_errors(void **state)
{
	static const struct {
		const char *line;
		const char *err;
	} cases[] = {
		{ "",		"missing direction" },
		{ "in",		"missing action" },
		{ "sideways drop", "invalid direction 'sideways'" },
		{ "in refuse",	"invalid action 'refuse'" },
		{ "in drop port 22", "unknown keyword 'port'" },
		{ "in drop proto tcp dport", "missing value for 'dport'" },
		{ "in drop src 192.0.2.1 src 192.0.2.2", "duplicate keyword 'src'" },
		{ "in drop proto foo", "invalid protocol 'foo'" },
		{ "in drop src 300.1.2.3", "invalid address '300.1.2.3'" },
		{ "in drop src 192.0.2.0/33",
		  "invalid prefix length '33' in '192.0.2.0/33'" },
		{ "in drop proto tcp dport 70000", "invalid port '70000'" },
		{ "in drop proto tcp dport 90-80", "invalid port range '90-80'" },
		{ "in drop dport 22", "'dport' needs proto tcp or udp" },
		{ "in drop src 192.0.2.1 dst 2001:db8::1",
		  "src and dst are of different families" },
		{ "in drop iface aaaaaaaaaaaaaaaaaaaa",
		  "invalid interface name 'aaaaaaaaaaaaaaaaaaaa'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		unit_expect_error(cases[i].line, cases[i].err);
}

static void test_dir_action(void **state)
{
	(void)state;
	unit_expect_text("in accept", "in accept");
	unit_expect_text("in drop", "in drop");
	unit_expect_text("out accept", "out accept");
	unit_expect_text("out drop", "out drop");
	unit_expect_error("IN drop", "invalid direction 'IN'");
	unit_expect_error("in DROP", "invalid action 'DROP'");
	unit_expect_error("drop in", "invalid direction 'drop'");
}

static void test_fields(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "out accept proto udp src 192.0.2.1 "
			       "dst 198.51.100.0/24 sport 53 dport 1024-65535 "
			       "iface veth0", err), 0);
	assert_int_equal(r.dir, KFW_DIR_OUT);
	assert_int_equal(r.action, KFW_VERDICT_ACCEPT);
	assert_true(r.has_proto);
	assert_int_equal(r.proto, 17);
	assert_int_equal(r.src.family, AF_INET);
	assert_int_equal(r.src.prefix, 32);
	assert_memory_equal(r.src.raw, "\xc0\x00\x02\x01", 4);
	assert_int_equal(r.dst.family, AF_INET);
	assert_int_equal(r.dst.prefix, 24);
	assert_memory_equal(r.dst.raw, "\xc6\x33\x64\x00", 4);
	assert_true(r.sport.set);
	assert_int_equal(r.sport.first, 53);
	assert_int_equal(r.sport.last, 53);
	assert_true(r.dport.set);
	assert_int_equal(r.dport.first, 1024);
	assert_int_equal(r.dport.last, 65535);
	assert_string_equal(r.iface, "veth0");

	assert_int_equal(unit_parse(&r, "in drop", err), 0);
	assert_false(r.has_proto);
	assert_int_equal(r.src.family, 0);
	assert_int_equal(r.dst.family, 0);
	assert_false(r.sport.set);
	assert_false(r.dport.set);
	assert_string_equal(r.iface, "");
}

static void test_proto(void **state)
{
	(void)state;
	unit_expect_text("in drop proto tcp", "in drop proto tcp");
	unit_expect_text("in drop proto udp", "in drop proto udp");
	unit_expect_text("in drop proto icmp", "in drop proto icmp");
	unit_expect_text("in drop proto icmpv6", "in drop proto icmpv6");
	/* Numbers with a name print as the name. */
	unit_expect_text("in drop proto 6", "in drop proto tcp");
	unit_expect_text("in drop proto 17", "in drop proto udp");
	unit_expect_text("in drop proto 1", "in drop proto icmp");
	unit_expect_text("in drop proto 58", "in drop proto icmpv6");
	unit_expect_text("in drop proto 0", "in drop proto 0");
	unit_expect_text("in drop proto 47", "in drop proto 47");
	unit_expect_text("in drop proto 255", "in drop proto 255");
	unit_expect_text("in drop proto 006", "in drop proto tcp");
	unit_expect_error("in drop proto 256", "invalid protocol '256'");
	unit_expect_error("in drop proto -1", "invalid protocol '-1'");
	unit_expect_error("in drop proto +6", "invalid protocol '+6'");
	unit_expect_error("in drop proto 0x6", "invalid protocol '0x6'");
	unit_expect_error("in drop proto TCP", "invalid protocol 'TCP'");
	unit_expect_error("in drop proto sctp", "invalid protocol 'sctp'");
}

static void test_addresses(void **state)
{
	(void)state;
	unit_expect_text("in drop src 192.0.2.1", "in drop src 192.0.2.1/32");
	unit_expect_text("in drop dst 203.0.113.9/32", "in drop dst 203.0.113.9/32");
	unit_expect_text("in drop src 2001:db8::1", "in drop src 2001:db8::1/128");
	unit_expect_text("in drop src 2001:0db8:0000:0000:0000:0000:0000:0001/128",
		    "in drop src 2001:db8::1/128");
	unit_expect_text("in drop dst 2001:db8:0:0:1:0:0:1",
		    "in drop dst 2001:db8::1:0:0:1/128");
	unit_expect_text("in drop src 192.0.2.0/0 dst 198.51.100.0/0",
		    "in drop src 0.0.0.0/0 dst 0.0.0.0/0");
	unit_expect_text("in drop src ::/0", "in drop src ::/0");
	unit_expect_text("in drop src 2001:db8::/32 dst 2001:db8:1::/48",
		    "in drop src 2001:db8::/32 dst 2001:db8:1::/48");

	unit_expect_error("in drop src 192.0.2", "invalid address '192.0.2'");
	unit_expect_error("in drop src 192.0.2.1.5", "invalid address '192.0.2.1.5'");
	unit_expect_error("in drop src 2001:db8:::1", "invalid address '2001:db8:::1'");
	unit_expect_error("in drop src host.example", "invalid address 'host.example'");
	unit_expect_error("in drop src 300.1.2.3/24", "invalid address '300.1.2.3'");
	unit_expect_error("in drop src /24", "invalid address ''");
	unit_expect_error("in drop dst 2001:db8::/129",
		     "invalid prefix length '129' in '2001:db8::/129'");
	unit_expect_error("in drop src 192.0.2.0/", "invalid prefix length '' in '192.0.2.0/'");
	unit_expect_error("in drop src 192.0.2.0/-1",
		     "invalid prefix length '-1' in '192.0.2.0/-1'");
	unit_expect_error("in drop src 192.0.2.0/x",
		     "invalid prefix length 'x' in '192.0.2.0/x'");
	unit_expect_error("in drop src 192.0.2.0/24/1",
		     "invalid prefix length '24/1' in '192.0.2.0/24/1'");
	unit_expect_error("in drop src 2001:db8::1 dst 192.0.2.1",
		     "src and dst are of different families");
	unit_expect_text("in drop src 2001:db8::1 dst 2001:db8::2",
		    "in drop src 2001:db8::1/128 dst 2001:db8::2/128");
}

/*
 * IPv4 addresses in the usual form skip inet_pton(): whatever the text,
 * a rule must take exactly the address inet_pton() reads, or refuse what
 * inet_pton() refuses.
 */
static void test_ipv4_as_inet_pton(void **state)
{
	static const char *const texts[] = {
		"0.0.0.0", "192.0.2.1", "255.255.255.255", "198.51.100.09",
		"203.0.113.256", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.",
		".1.2.3.4", "1..2.3", "1.2.3.-4", "1.2.3.4x",
		"1000.2.3.4", "0x1.2.3.4", "1.2.3.0004", "00.0.0.0", "1.2.3.+4",
	};
	char line[64], err[RULE_ERR_MAX];
	struct in_addr want;
	struct rule r;
	size_t i;
	int ok;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(line, sizeof(line), "in drop src %s", texts[i]);
		ok = inet_pton(AF_INET, texts[i], &want) == 1;
		if (ok) {
			assert_int_equal(unit_parse(&r, line, err), 0);
			assert_memory_equal(&r.src.v4, &want, sizeof(want));
		} else if (!unit_parse(&r, line, err)) {
			fail_msg("'%s' parsed, but inet_pton() refuses it", texts[i]);
		}
	}
}

/* Host bits beyond the prefix are cleared, iptables-style. */
static void test_prefix_masking(void **state)
{
	(void)state;
	unit_expect_text("in drop src 192.0.2.7/24", "in drop src 192.0.2.0/24");
	unit_expect_text("in drop src 192.0.2.255/25", "in drop src 192.0.2.128/25");
	unit_expect_text("in drop src 192.0.2.255/31", "in drop src 192.0.2.254/31");
	unit_expect_text("in drop src 203.0.113.77/32", "in drop src 203.0.113.77/32");
	unit_expect_text("in drop src 198.51.100.200/1", "in drop src 128.0.0.0/1");
	unit_expect_text("in drop dst 203.0.113.77/0", "in drop dst 0.0.0.0/0");
	unit_expect_text("in drop src 2001:db8::ffff/112", "in drop src 2001:db8::/112");
	unit_expect_text("in drop src 2001:db8:1234:5678::1/36",
		    "in drop src 2001:db8:1000::/36");
	unit_expect_text("in drop src 2001:db8::1/127", "in drop src 2001:db8::/127");
	unit_expect_text("in drop src 2001:db8::3/128", "in drop src 2001:db8::3/128");
	unit_expect_text("in drop src 2001:db8::3/0", "in drop src ::/0");
	unit_expect_text("in drop src 2001:db8:ffff:ffff::/33",
		    "in drop src 2001:db8:8000::/33");
}

static void test_ports(void **state)
{
	(void)state;
	unit_expect_text("in drop proto tcp dport 0", "in drop proto tcp dport 0");
	unit_expect_text("in drop proto tcp dport 65535", "in drop proto tcp dport 65535");
	unit_expect_text("in drop proto tcp dport 0-65535", "in drop proto tcp dport 0-65535");
	unit_expect_text("in drop proto udp sport 80-80", "in drop proto udp sport 80");
	unit_expect_text("in drop proto udp sport 1000-2000",
		    "in drop proto udp sport 1000-2000");
	unit_expect_text("in drop proto 6 dport 22", "in drop proto tcp dport 22");
	unit_expect_text("in drop proto 17 sport 53", "in drop proto udp sport 53");
	unit_expect_text("in drop proto tcp dport 022", "in drop proto tcp dport 22");

	unit_expect_error("in drop proto tcp dport 65536", "invalid port '65536'");
	unit_expect_error("in drop proto tcp dport 0-65536", "invalid port '65536'");
	unit_expect_error("in drop proto tcp dport 99999999999999999999",
		     "invalid port '99999999999999999999'");
	unit_expect_error("in drop proto tcp dport ssh", "invalid port 'ssh'");
	unit_expect_error("in drop proto tcp dport -5", "invalid port '-5'");
	unit_expect_error("in drop proto tcp dport 5-", "invalid port '5-'");
	unit_expect_error("in drop proto tcp dport -", "invalid port '-'");
	unit_expect_error("in drop proto tcp dport 1-2-3", "invalid port '2-3'");
	unit_expect_error("in drop proto tcp dport +5", "invalid port '+5'");
	unit_expect_error("in drop proto tcp sport 2-1", "invalid port range '2-1'");
	unit_expect_error("in drop proto tcp sport 65535-0", "invalid port range '65535-0'");

	unit_expect_error("in drop sport 22", "'sport' needs proto tcp or udp");
	unit_expect_error("in drop proto icmp dport 22", "'dport' needs proto tcp or udp");
	unit_expect_error("in drop proto 47 sport 22", "'sport' needs proto tcp or udp");
	/* The keyword named is the first port keyword the user wrote. */
	unit_expect_error("in drop dport 22 sport 1", "'dport' needs proto tcp or udp");
	unit_expect_error("in drop sport 1 dport 22", "'sport' needs proto tcp or udp");
	/* proto may come after the ports. */
	unit_expect_text("in drop dport 22 proto tcp", "in drop proto tcp dport 22");
}

/* ::ffff:a.b.c.d is how IPv6 sockets write IPv4, but no IPv4 packet matches it. */
static void test_mapped_addresses(void **state)
{
	(void)state;
	unit_expect_error("in drop src ::ffff:1.2.3.4",
			  "IPv4-mapped address '::ffff:1.2.3.4' matches no IPv4 packet; "
			  "write 1.2.3.4");
	unit_expect_error("in drop dst ::ffff:c000:207",
			  "IPv4-mapped address '::ffff:c000:207' matches no IPv4 packet; "
			  "write 192.0.2.7");
	unit_expect_error("out drop dst 0:0:0:0:0:FFFF:198.51.100.9/128",
			  "IPv4-mapped address '0:0:0:0:0:FFFF:198.51.100.9/128' matches no "
			  "IPv4 packet; write 198.51.100.9/32");
	unit_expect_error("in drop src ::ffff:192.0.2.7/120",
			  "IPv4-mapped address '::ffff:192.0.2.7/120' matches no IPv4 packet; "
			  "write 192.0.2.0/24");
	unit_expect_error("in drop src ::ffff:0:0/96",
			  "IPv4-mapped address '::ffff:0:0/96' matches no IPv4 packet; "
			  "write 0.0.0.0/0");
	/* Prefixes that hold more than mapped addresses, and their neighbours. */
	unit_expect_text("in drop src ::ffff:0:0/95", "in drop src ::fffe:0:0/95");
	unit_expect_text("in drop src ::ffff:1.2.3.4/64", "in drop src ::/64");
	unit_expect_text("in drop src ::1.2.3.4", "in drop src ::1.2.3.4/128");
	unit_expect_text("in drop src ::fffe:1.2.3.4", "in drop src ::fffe:102:304/128");
	unit_expect_text("in drop src 1::ffff:1.2.3.4", "in drop src 1::ffff:102:304/128");
}

static void test_iface(void **state)
{
	(void)state;
	unit_expect_text("in drop iface veth0", "in drop iface veth0");
	unit_expect_text("in drop iface eth#1", "in drop iface eth#1");
	unit_expect_text("in drop iface aaaaaaaaaaaaaaa", "in drop iface aaaaaaaaaaaaaaa");
	unit_expect_error("in drop iface aaaaaaaaaaaaaaaa",
		     "invalid interface name 'aaaaaaaaaaaaaaaa'");
	unit_expect_error("in drop iface .", "invalid interface name '.'");
	unit_expect_error("in drop iface ..", "invalid interface name '..'");
	unit_expect_error("in drop iface a/b", "invalid interface name 'a/b'");
	unit_expect_error("in drop iface a:b", "invalid interface name 'a:b'");
}

/*
 * `save` prints the name bare: whatever restore would read back otherwise,
 * or a terminal would act on, is refused.
 */
static void test_iface_round_trip(void **state)
{
	static const char *const bad[] = {
		"a\"b", "\"eth0\"", "a'b", "#eth0", "a\x01", "\x7f", "eth\xc3\xa9",
		"a\x1b[2J", "a\vb", "a\fb",
	};
	char want[RULE_ERR_MAX];
	char line[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(line, sizeof(line), "in drop iface %s", bad[i]);
		snprintf(want, sizeof(want), "invalid interface name '%s'", bad[i]);
		unit_expect_error(line, want);
	}
	/* '#' only starts a comment at the start of a word; '\\' is no escape. */
	unit_expect_text("in drop iface eth#1", "in drop iface eth#1");
	unit_expect_text("in drop iface a\\b", "in drop iface a\\b");
	unit_expect_text("in drop iface ~!$%&()*+,-.;<=", "in drop iface ~!$%&()*+,-.;<=");
	unit_expect_text("in drop iface >?@[]^_`{|}", "in drop iface >?@[]^_`{|}");
}

static void test_iface_empty_and_blank(void **state)
{
	char *argv[] = { "in", "drop", "iface", "", NULL };
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(rule_parse(&r, 4, argv, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid interface name ''");
	argv[3] = "a b";
	assert_int_equal(rule_parse(&r, 4, argv, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid interface name 'a b'");
}

static void test_duplicates(void **state)
{
	(void)state;
	unit_expect_error("in drop proto tcp proto udp", "duplicate keyword 'proto'");
	unit_expect_error("in drop proto tcp proto", "duplicate keyword 'proto'");
	unit_expect_error("in drop src 192.0.2.1 src 192.0.2.1", "duplicate keyword 'src'");
	unit_expect_error("in drop dst 192.0.2.1 dst 192.0.2.2", "duplicate keyword 'dst'");
	unit_expect_error("in drop proto tcp sport 1 sport 2", "duplicate keyword 'sport'");
	unit_expect_error("in drop proto tcp dport 1 dport 2", "duplicate keyword 'dport'");
	unit_expect_error("in drop iface a iface b", "duplicate keyword 'iface'");
}

static void test_keywords(void **state)
{
	(void)state;
	unit_expect_error("in drop port 22", "unknown keyword 'port'");
	unit_expect_error("in drop Proto tcp", "unknown keyword 'Proto'");
	unit_expect_error("in drop tcp", "unknown keyword 'tcp'");
	unit_expect_error("in drop proto tcp 22", "unknown keyword '22'");
	unit_expect_error("in drop src", "missing value for 'src'");
	unit_expect_error("in drop proto", "missing value for 'proto'");
	unit_expect_error("in drop iface", "missing value for 'iface'");
	/* A keyword is not a value: it is refused as one. */
	unit_expect_error("in drop src dst 192.0.2.1", "invalid address 'dst'");
	/* The first bad token wins. */
	unit_expect_error("in drop proto foo port 1", "invalid protocol 'foo'");
}

/* Input order does not matter; output order is fixed. */
static void test_canonical_order(void **state)
{
	(void)state;
	unit_expect_text("out drop iface lo dport 443 sport 1024-65535 dst 198.51.100.1 "
		    "src 192.0.2.0/24 proto tcp",
		    "out drop proto tcp src 192.0.2.0/24 dst 198.51.100.1/32 "
		    "sport 1024-65535 dport 443 iface lo");
	unit_expect_text("in accept iface veth1 src 2001:db8::/64",
		    "in accept src 2001:db8::/64 iface veth1");
}

static void test_format_match(void **state)
{
	char err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop proto tcp src 192.0.2.1 dport 22", err), 0);
	assert_int_equal(rule_format_match(&r, text, sizeof(text)), 35);
	assert_string_equal(text, "proto tcp src 192.0.2.1/32 dport 22");
	assert_int_equal(unit_parse(&r, "out drop", err), 0);
	assert_int_equal(rule_format_match(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "");
	/* Too small a buffer is an error, never a cut-off rule. */
	assert_int_equal(unit_parse(&r, "in drop proto tcp src 192.0.2.1 dport 22", err), 0);
	assert_int_equal(rule_format_match(&r, text, 10), -1);
	assert_string_equal(text, "");
	assert_int_equal(rule_format(&r, text, 10), -1);
	assert_string_equal(text, "");
}

/* The longest rule there is still fits the advertised buffer sizes. */
static void test_format_longest(void **state)
{
	char err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX];
	char json[RULE_JSON_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "out accept proto tcp "
			       "src ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128 "
			       "dst ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128 "
			       "sport 65534-65535 dport 65534-65535 "
			       "iface \\\\\\\\\\\\\\\\\\\\\\\\\\\\\\", err), 0);
	r.handle = UINT64_MAX;
	r.packets = UINT64_MAX;
	r.bytes = UINT64_MAX;
	assert_true(rule_format(&r, text, sizeof(text)) > 0);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, "\"handle\":18446744073709551615,"));
	/* Fifteen backslashes, each escaped. */
	assert_non_null(strstr(json, "\"iface\":\""
			       "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"
			       "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"}"));
}

static void test_lists(void **state)
{
	(void)state;
	unit_expect_text("in drop proto tcp,udp dport 22,80,8000-8100",
			 "in drop proto tcp,udp dport 22,80,8000-8100");
	unit_expect_text("in drop src 192.0.2.1,198.51.100.9/24",
			 "in drop src 192.0.2.1/32,198.51.100.0/24");
	unit_expect_text("in drop dst 2001:db8::1,2001:db8:1::/48",
			 "in drop dst 2001:db8::1/128,2001:db8:1::/48");
	unit_expect_text("in drop proto 6,17,icmp", "in drop proto tcp,udp,icmp");
	unit_expect_text("out accept proto tcp sport 1,1-2,65535",
			 "out accept proto tcp sport 1,1-2,65535");
	/* Element 0 answers for the field where one value is enough. */
	unit_expect_text("in drop proto udp,tcp sport 53", "in drop proto udp,tcp sport 53");
}

static void test_list_errors(void **state)
{
	static const struct {
		const char *line;
		const char *err;
	} cases[] = {
		{ "in drop proto tcp dport 22,,80", "empty element in '22,,80'" },
		{ "in drop proto tcp dport 22,", "empty element in '22,'" },
		{ "in drop proto tcp dport ,22", "empty element in ',22'" },
		{ "in drop proto tcp dport 22,70000", "invalid port '70000'" },
		{ "in drop proto tcp dport 22,90-80", "invalid port range '90-80'" },
		{ "in drop src 192.0.2.1,300.0.0.1", "invalid address '300.0.0.1'" },
		{ "in drop src 192.0.2.1,2001:db8::1",
		  "addresses of different families in '192.0.2.1,2001:db8::1'" },
		{ "in drop src 192.0.2.1,192.0.2.2 dst 2001:db8::1",
		  "src and dst are of different families" },
		{ "in drop proto tcp,icmp dport 22", "'dport' needs proto tcp or udp" },
		{ "in drop proto icmp,udp icmp-type echo-request",
		  "'icmp-type' needs proto icmp or icmpv6" },
		{ "in drop proto tcp,foo", "invalid protocol 'foo'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		unit_expect_error(cases[i].line, cases[i].err);
}

/* 64 elements fit, the 65th is refused; the longest rule still formats. */
static void test_list_longest(void **state)
{
	char line[RULE_TEXT_MAX], err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX], json[RULE_JSON_MAX];
	size_t pos;
	struct rule r;
	int i;

	(void)state;
	pos = (size_t)snprintf(line, sizeof(line), "out accept src ");
	for (i = 0; i < KFW_LIST_MAX; i++)
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "%sffff:ffff:ffff:ffff:ffff:ffff:ffff:%x",
					i ? "," : "", 0xff00 + i);
	pos += (size_t)snprintf(line + pos, sizeof(line) - pos, " dst ");
	for (i = 0; i < KFW_LIST_MAX; i++)
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "%sfffe:ffff:ffff:ffff:ffff:ffff:ffff:%x",
					i ? "," : "", 0xff00 + i);
	snprintf(line + pos, sizeof(line) - pos, " proto tcp");
	assert_int_equal(unit_parse(&r, line, err), 0);
	assert_int_equal(r.lists->len[RULE_LIST_SRC], KFW_LIST_MAX);
	assert_int_equal(r.lists->len[RULE_LIST_DST], KFW_LIST_MAX);
	r.handle = UINT64_MAX;
	assert_true(rule_format(&r, text, sizeof(text)) > 0);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff3f/128 dst"));
	rule_release(&r);

	strcpy(line, "in drop proto tcp dport 1");
	for (i = 2; i <= KFW_LIST_MAX + 1; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), ",%d", i);
	unit_expect_error(line, "more than 64 elements in '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,1...'");
}

static void test_negation(void **state)
{
	char err[RULE_ERR_MAX], json[RULE_JSON_MAX];
	struct rule r;

	(void)state;
	unit_expect_text("in drop src != 192.0.2.0/24", "in drop src != 192.0.2.0/24");
	unit_expect_text("in drop proto tcp dport != 22,80 sport != 1024-65535",
			 "in drop proto tcp sport != 1024-65535 dport != 22,80");
	unit_expect_text("in accept iface != lo dst != 2001:db8::/32,2001:db8:1::1",
			 "in accept dst != 2001:db8::/32,2001:db8:1::1/128 iface != lo");
	unit_expect_error("in drop proto != tcp", "'!=' cannot negate 'proto'");
	unit_expect_error("in drop state != new", "'!=' cannot negate 'state'");
	unit_expect_error("in drop src !=", "missing value for 'src'");
	unit_expect_error("in drop dport != 22", "'dport' needs proto tcp or udp");

	assert_int_equal(unit_parse(&r, "in drop proto tcp src != 192.0.2.1 dport != 22", err), 0);
	assert_int_equal(r.negate, KFW_NEGATE_SRC | KFW_NEGATE_DPORT);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, "\"src\":\"!= 192.0.2.1/32\",\"dport\":\"!= 22\"}"));
}

static void test_owner(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	unit_expect_text("out drop uid 1000", "out drop uid 1000");
	unit_expect_text("out drop gid 100-199 uid 0-999", "out drop uid 0-999 gid 100-199");
	unit_expect_text("out drop uid root gid root", "out drop uid 0 gid 0");
	unit_expect_error("in drop uid 1000", "'uid' matches only on out");
	unit_expect_error("in drop gid 1000", "'gid' matches only on out");
	unit_expect_error("out drop uid 2000-1000", "invalid user range '2000-1000'");
	unit_expect_error("out drop uid 4294967295", "unknown user '4294967295'");
	unit_expect_error("out drop uid no-such-user-here", "unknown user 'no-such-user-here'");
	unit_expect_error("out drop gid no-such-group-here", "unknown group 'no-such-group-here'");
	assert_int_equal(unit_parse(&r, "out drop uid 4294967294", err), 0);
	assert_int_equal(r.uid_first, 4294967294u);
}

static void test_json(void **state)
{
	char err[RULE_ERR_MAX];
	char json[RULE_JSON_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop dport 22 src 192.0.2.1 proto tcp", err), 0);
	r.handle = 7;
	r.packets = 12;
	r.bytes = 720;
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_string_equal(json,
		"{\"handle\":7,\"dir\":\"in\",\"action\":\"drop\",\"packets\":12,"
		"\"bytes\":720,\"proto\":\"tcp\",\"src\":\"192.0.2.1/32\",\"dport\":\"22\"}");

	assert_int_equal(unit_parse(&r, "out accept", err), 0);
	r.handle = 8;
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_string_equal(json,
		"{\"handle\":8,\"dir\":\"out\",\"action\":\"accept\",\"packets\":0,\"bytes\":0}");

	assert_int_equal(unit_parse(&r, "out drop proto 47 dst 2001:db8::/64 iface veth0", err), 0);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_string_equal(json,
		"{\"handle\":0,\"dir\":\"out\",\"action\":\"drop\",\"packets\":0,"
		"\"bytes\":0,\"proto\":\"47\",\"dst\":\"2001:db8::/64\",\"iface\":\"veth0\"}");

	assert_int_equal(unit_parse(&r, "in accept proto udp sport 1000-2000 dport 53", err), 0);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, ",\"proto\":\"udp\",\"sport\":\"1000-2000\",\"dport\":\"53\"}"));
}

/*
 * Addresses are formatted by hand, for speed; the text must stay what
 * inet_ntop() gives, which is what fwctl printed before and what saved
 * files hold. Table cases for the edges of zero-run compression, then
 * random addresses, mostly zero groups so that runs of every length and
 * place come up, against inet_ntop() itself (fixed seed).
 */
static void expect_addr(const struct rule *r)
{
	char text[INET6_ADDRSTRLEN];
	char want[RULE_TEXT_MAX];
	char got[RULE_TEXT_MAX];

	assert_non_null(inet_ntop(r->src.family, r->src.raw, text, sizeof(text)));
	snprintf(want, sizeof(want), "src %s/%u", text, r->src.prefix);
	assert_int_equal(rule_format_match(r, got, sizeof(got)), strlen(want));
	assert_string_equal(got, want);
}

static void test_format_addresses(void **state)
{
	static const char *const cases[] = {
		"::", "::1", "1::", "1::1", "::ffff:1.2.3.4/64", "::1.2.3.4",
		"::ffff:0:1.2.3.4", "::fffe:1.2.3.4", "0:0:1::", "1:0:0:2::3",
		"1:0:0:2:0:0:3:4", "1:0:2:3:4:5:6:7", "1:2:3:4:5:6:7:0",
		"2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"0.0.0.0", "255.255.255.255", "10.0.100.9",
	};
	static const uint16_t groups[] = { 0, 1, 0xf, 0x10, 0xff, 0x100, 0xfff,
					   0x1000, 0xffff, 0xabcd };
	uint32_t seed = 20240601;
	char err[RULE_ERR_MAX];
	char line[64];
	struct rule r;
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(line, sizeof(line), "in drop src %s", cases[i]);
		assert_int_equal(unit_parse(&r, line, err), 0);
		expect_addr(&r);
	}
	/* The parser refuses mapped addresses; the kernel could still hold one. */
	memset(&r, 0, sizeof(r));
	r.src.family = AF_INET6;
	r.src.prefix = 128;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:1.2.3.4", r.src.raw), 1);
	expect_addr(&r);
	for (i = 0; i < 200000; i++) {
		r.src.family = i % 4 ? AF_INET6 : AF_INET;
		for (j = 0; j < 8; j++) {
			uint16_t g;

			seed = seed * 1103515245 + 12345;
			g = (seed >> 16) % 3 ? 0 : groups[(seed >> 8) % ARRAY_SIZE(groups)];
			if (j == 5 && (seed >> 4) % 4 == 0)
				g = 0xffff;
			if (j >= 6 || r.src.family == AF_INET)
				g = (uint16_t)(seed >> 12);
			r.src.raw[2 * j] = (uint8_t)(g >> 8);
			r.src.raw[2 * j + 1] = (uint8_t)g;
		}
		r.src.prefix = (uint8_t)(seed % (r.src.family == AF_INET ? 33 : 129));
		expect_addr(&r);
	}
}

static void test_json_escape(void **state)
{
	char err[RULE_ERR_MAX];
	char json[RULE_JSON_MAX];
	char buf[64];
	struct rule r;

	(void)state;
	assert_int_equal(rule_json_string(buf, sizeof(buf), "veth0"), 7);
	assert_string_equal(buf, "\"veth0\"");
	assert_true(rule_json_string(buf, sizeof(buf), "a\"b\\c") > 0);
	assert_string_equal(buf, "\"a\\\"b\\\\c\"");
	assert_true(rule_json_string(buf, sizeof(buf), "\x01\t\x1f\x7f") > 0);
	assert_string_equal(buf, "\"\\u0001\\u0009\\u001f\\u007f\"");
	assert_int_equal(rule_json_string(buf, 4, "veth0"), -1);
	assert_string_equal(buf, "");

	assert_int_equal(unit_parse(&r, "in drop iface we\\i\\rd", err), 0);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, ",\"iface\":\"we\\\\i\\\\rd\"}"));
}

/* Error messages show every byte outside printable ASCII as a C escape. */
static void test_escape(void **state)
{
	static const struct {
		const char *text;
		const char *shown;
	} cases[] = {
		{ "invalid address 'x'", "invalid address 'x'" },
		{ "a\nb\rc\td", "a\\nb\\rc\\td" },
		{ "\x01\x1b[2J\x7f\x80\xff", "\\x01\\x1b[2J\\x7f\\x80\\xff" },
		/* Printable bytes stay as typed, the backslash too. */
		{ " ~\"'\\n", " ~\"'\\n" },
		{ "", "" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(rule_escape(buf, sizeof(buf), cases[i].text),
				 strlen(cases[i].shown));
		assert_string_equal(buf, cases[i].shown);
	}
	assert_int_equal(rule_escape(buf, 8, "\x01\x02"), -1);
	assert_string_equal(buf, "");
}

static void assert_rules_equal(const struct rule *a, const struct rule *b)
{
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->action, b->action);
	assert_int_equal(a->has_proto, b->has_proto);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->src.family, b->src.family);
	assert_int_equal(a->src.prefix, b->src.prefix);
	assert_memory_equal(a->src.raw, b->src.raw, 16);
	assert_int_equal(a->dst.family, b->dst.family);
	assert_int_equal(a->dst.prefix, b->dst.prefix);
	assert_memory_equal(a->dst.raw, b->dst.raw, 16);
	assert_memory_equal(&a->sport, &b->sport, sizeof(a->sport));
	assert_memory_equal(&a->dport, &b->dport, sizeof(a->dport));
	assert_string_equal(a->iface, b->iface);
}

/* parse -> format -> parse gives the same rule and the same text. */
static void test_round_trip(void **state)
{
	static const char *const lines[] = {
		"in drop",
		"out accept proto tcp src 192.0.2.7/24 dport 22",
		"in drop proto udp dst 2001:db8::ffff/112 sport 0-65535 dport 53-53",
		"out drop proto 132 iface eth#0",
		"in accept proto icmpv6 src 2001:db8::1 dst ::/0 iface veth0",
		"in drop iface lo proto 6 dport 1000-2000 sport 7 dst 203.0.113.0/31 "
		"src 198.51.100.9/30",
	};
	char err[RULE_ERR_MAX];
	char text1[RULE_TEXT_MAX], text2[RULE_TEXT_MAX];
	struct rule r1, r2;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		if (unit_parse(&r1, lines[i], err))
			fail_msg("'%s': %s", lines[i], err);
		assert_true(rule_format(&r1, text1, sizeof(text1)) > 0);
		if (unit_parse(&r2, text1, err))
			fail_msg("'%s' (from '%s'): %s", text1, lines[i], err);
		assert_true(rule_format(&r2, text2, sizeof(text2)) > 0);
		assert_string_equal(text1, text2);
		assert_rules_equal(&r1, &r2);
	}
}

/* Every prefix length of both families masks and prints back to itself. */
static void test_round_trip_prefixes(void **state)
{
	char err[RULE_ERR_MAX];
	char line[128], text[RULE_TEXT_MAX], again[RULE_TEXT_MAX];
	struct rule r;
	int len;

	(void)state;
	for (len = 0; len <= 128; len++) {
		if (len <= 32) {
			snprintf(line, sizeof(line), "in drop src 203.0.113.255/%d", len);
			assert_int_equal(unit_parse(&r, line, err), 0);
			assert_int_equal(r.src.prefix, len);
			assert_true(rule_format(&r, text, sizeof(text)) > 0);
			assert_int_equal(unit_parse(&r, text, err), 0);
			assert_true(rule_format(&r, again, sizeof(again)) > 0);
			assert_string_equal(text, again);
		}
		snprintf(line, sizeof(line),
			 "in drop dst 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/%d", len);
		assert_int_equal(unit_parse(&r, line, err), 0);
		assert_int_equal(r.dst.prefix, len);
		assert_true(rule_format(&r, text, sizeof(text)) > 0);
		assert_int_equal(unit_parse(&r, text, err), 0);
		assert_true(rule_format(&r, again, sizeof(again)) > 0);
		assert_string_equal(text, again);
	}
}

static void test_policy(void **state)
{
	char *ok[] = { "out", "drop" };
	char *bad_dir[] = { "up", "drop" };
	char *bad_verdict[] = { "in", "reject" };
	char *extra[] = { "in", "accept", "now" };
	char err[RULE_ERR_MAX];
	uint8_t dir = 9, verdict = 9;

	(void)state;
	assert_int_equal(rule_parse_policy(2, ok, &dir, &verdict, err, sizeof(err)), 0);
	assert_int_equal(dir, KFW_DIR_OUT);
	assert_int_equal(verdict, KFW_VERDICT_DROP);
	assert_int_equal(rule_parse_policy(0, ok, &dir, &verdict, err, sizeof(err)), -1);
	assert_string_equal(err, "missing direction");
	assert_int_equal(rule_parse_policy(1, ok, &dir, &verdict, err, sizeof(err)), -1);
	assert_string_equal(err, "missing action");
	assert_int_equal(rule_parse_policy(2, bad_dir, &dir, &verdict, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid direction 'up'");
	assert_int_equal(rule_parse_policy(2, bad_verdict, &dir, &verdict, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid policy 'reject'");
	assert_int_equal(rule_parse_policy(3, extra, &dir, &verdict, err, sizeof(err)), -1);
	assert_string_equal(err, "unexpected argument 'now'");
}

static void test_handle_position(void **state)
{
	char err[RULE_ERR_MAX];
	uint64_t handle = 0;
	uint32_t pos = 0;

	(void)state;
	assert_int_equal(rule_parse_handle("99", &handle, err, sizeof(err)), 0);
	assert_int_equal(handle, 99);
	assert_int_equal(rule_parse_handle("0", &handle, err, sizeof(err)), 0);
	assert_int_equal(handle, 0);
	assert_int_equal(rule_parse_handle("18446744073709551615", &handle, err,
					   sizeof(err)), 0);
	assert_true(handle == UINT64_MAX);
	assert_int_equal(rule_parse_handle("x", &handle, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid handle 'x'");
	assert_int_equal(rule_parse_handle("18446744073709551616", &handle, err,
					   sizeof(err)), -1);
	assert_string_equal(err, "invalid handle '18446744073709551616'");
	assert_int_equal(rule_parse_handle("", &handle, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid handle ''");
	assert_int_equal(rule_parse_handle("-1", &handle, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid handle '-1'");

	assert_int_equal(rule_parse_position("1", &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 1);
	assert_int_equal(rule_parse_position("4294967295", &pos, err, sizeof(err)), 0);
	assert_true(pos == UINT32_MAX);
	assert_int_equal(rule_parse_position("0", &pos, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid position '0'");
	assert_int_equal(rule_parse_position("4294967296", &pos, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid position '4294967296'");
	assert_int_equal(rule_parse_position("first", &pos, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid position 'first'");
}

static void test_names(void **state)
{
	uint8_t v;

	(void)state;
	assert_string_equal(rule_dir_name(KFW_DIR_IN), "in");
	assert_string_equal(rule_dir_name(KFW_DIR_OUT), "out");
	assert_string_equal(rule_verdict_name(KFW_VERDICT_ACCEPT), "accept");
	assert_string_equal(rule_verdict_name(KFW_VERDICT_DROP), "drop");
	assert_int_equal(rule_parse_dir("out", &v), 0);
	assert_int_equal(v, KFW_DIR_OUT);
	assert_int_equal(rule_parse_dir("", &v), -1);
	assert_int_equal(rule_parse_verdict("accept", &v), 0);
	assert_int_equal(v, KFW_VERDICT_ACCEPT);
	assert_int_equal(rule_parse_verdict("reject", &v), 0);
	assert_int_equal(v, KFW_VERDICT_REJECT);
	assert_string_equal(rule_verdict_name(KFW_VERDICT_REJECT), "reject");
	assert_int_equal(rule_parse_verdict("refuse", &v), -1);
}

int rule_test_run(int *total)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_dir_action),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_ipv4_as_inet_pton),
		cmocka_unit_test(test_prefix_masking),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_mapped_addresses),
		cmocka_unit_test(test_iface),
		cmocka_unit_test(test_iface_round_trip),
		cmocka_unit_test(test_iface_empty_and_blank),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_canonical_order),
		cmocka_unit_test(test_format_match),
		cmocka_unit_test(test_format_longest),
		cmocka_unit_test(test_format_addresses),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_prefixes),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_handle_position),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_list_longest),
		cmocka_unit_test(test_negation),
		cmocka_unit_test(test_owner),
	};

	*total += (int)ARRAY_SIZE(tests);
	return cmocka_run_group_tests_name("rule", tests, NULL, NULL);
}
