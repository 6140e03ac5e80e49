// SPDX-License-Identifier: GPL-2.0
/*
 * show: the arguments of `fwctl test` and what test and stats print, in
 * text and JSON, from replies built by hand as the kernel would send them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "show.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int parse_packet(struct rule_packet *p, const char *line, char *err)
{
	struct unit_tokens t;

	unit_split(&t, line);
	err[0] = '\0';
	return rule_parse_packet(p, t.argc, t.argv, err, RULE_ERR_MAX);
}

static void test_packet_fields(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule_packet p;

	(void)state;
	assert_int_equal(parse_packet(&p, "in", err), 0);
	assert_int_equal(p.dir, KFW_DIR_IN);
	assert_false(p.has_proto);
	assert_int_equal(p.src.family, 0);
	assert_int_equal(p.dst.family, 0);
	assert_false(p.has_sport);
	assert_false(p.has_dport);
	assert_string_equal(p.iface, "");
	assert_int_equal(p.state, 0);
	assert_false(p.has_icmp_type);
	assert_false(p.has_icmp_code);

	assert_int_equal(parse_packet(&p, "out iface veth0 state established dport 22 "
				      "sport 40000 dst 198.51.100.2 src 192.0.2.1 proto tcp",
				      err), 0);
	assert_int_equal(p.dir, KFW_DIR_OUT);
	assert_true(p.has_proto);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.src.family, AF_INET);
	assert_int_equal(p.src.prefix, 32);
	assert_memory_equal(p.src.raw, "\xc0\x00\x02\x01", 4);
	assert_int_equal(p.dst.family, AF_INET);
	assert_memory_equal(p.dst.raw, "\xc6\x33\x64\x02", 4);
	assert_true(p.has_sport);
	assert_int_equal(p.sport, 40000);
	assert_true(p.has_dport);
	assert_int_equal(p.dport, 22);
	assert_string_equal(p.iface, "veth0");
	assert_int_equal(p.state, KFW_STATE_ESTABLISHED);

	assert_int_equal(parse_packet(&p, "in src 2001:db8::1 proto udp dport 53", err), 0);
	assert_int_equal(p.src.family, AF_INET6);
	assert_int_equal(p.src.prefix, 128);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 53);

	assert_int_equal(parse_packet(&p, "in proto icmp icmp-type echo-request icmp-code 0",
				      err), 0);
	assert_true(p.has_icmp_type);
	assert_int_equal(p.icmp_type, 8);
	assert_true(p.has_icmp_code);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(parse_packet(&p, "in icmp-type echo-request proto icmpv6", err), 0);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(parse_packet(&p, "in proto 58 icmp-type 135", err), 0);
	assert_int_equal(p.icmp_type, 135);

	/*
	 * A field left out stays unset, so fwctl sends no attribute for it,
	 * not a 0: a TCP packet without ports must not hit dport 0-1023.
	 */
	assert_int_equal(parse_packet(&p, "in proto tcp src 192.0.2.1", err), 0);
	assert_false(p.has_sport);
	assert_false(p.has_dport);
	assert_int_equal(parse_packet(&p, "in proto udp dport 53", err), 0);
	assert_false(p.has_sport);
	assert_true(p.has_dport);
	assert_int_equal(parse_packet(&p, "in proto icmp icmp-type echo-request", err), 0);
	assert_true(p.has_icmp_type);
	assert_false(p.has_icmp_code);

	assert_int_equal(parse_packet(&p, "in state new", err), 0);
	assert_int_equal(p.state, KFW_STATE_NEW);
	assert_int_equal(parse_packet(&p, "in state related", err), 0);
	assert_int_equal(p.state, KFW_STATE_RELATED);
	assert_int_equal(parse_packet(&p, "in state invalid", err), 0);
	assert_int_equal(p.state, KFW_STATE_INVALID);
	assert_int_equal(parse_packet(&p, "in proto 47", err), 0);
	assert_int_equal(p.proto, 47);
}

static void test_packet_errors(void **state)
{
	static const struct {
		const char *line;
		const char *err;
	} cases[] = {
		{ "",			"missing direction" },
		{ "sideways",		"invalid direction 'sideways'" },
		{ "in drop",		"unknown keyword 'drop'" },
		{ "in src 192.0.2.0/24", "invalid address '192.0.2.0/24'" },
		{ "in dst 2001:db8::/64", "invalid address '2001:db8::/64'" },
		{ "in src 192.0.2.1/32", "invalid address '192.0.2.1/32'" },
		{ "in src 300.1.2.3",	"invalid address '300.1.2.3'" },
		{ "in src 192.0.2.1 dst 2001:db8::1",
		  "src and dst are of different families" },
		{ "in dport 22",	"'dport' needs proto tcp or udp" },
		{ "in proto icmp sport 1", "'sport' needs proto tcp or udp" },
		{ "in proto tcp dport 1-2", "invalid port '1-2'" },
		{ "in proto tcp dport 65536", "invalid port '65536'" },
		{ "in proto tcp sport x", "invalid port 'x'" },
		{ "in state new,established", "invalid state 'new,established'" },
		{ "in state bogus",	"invalid state 'bogus'" },
		{ "in icmp-type echo-request", "'icmp-type' needs proto icmp or icmpv6" },
		{ "in proto tcp icmp-type 8", "'icmp-type' needs proto icmp or icmpv6" },
		{ "in proto icmp icmp-type ping", "invalid icmp type 'ping'" },
		{ "in proto icmp icmp-type neighbour-solicitation",
		  "invalid icmp type 'neighbour-solicitation'" },
		{ "in proto icmp icmp-code 0", "'icmp-code' needs icmp-type" },
		{ "in proto icmp icmp-type 3 icmp-code 256", "invalid icmp code '256'" },
		{ "in proto foo",	"invalid protocol 'foo'" },
		{ "in iface a/b",	"invalid interface name 'a/b'" },
		{ "in src ::ffff:192.0.2.1",
		  "IPv4-mapped address '::ffff:192.0.2.1' matches no IPv4 packet; write 192.0.2.1" },
		{ "in iface a\"b",	"invalid interface name 'a\"b'" },
		{ "in proto tcp proto udp", "duplicate keyword 'proto'" },
		{ "in proto",		"missing value for 'proto'" },
		/* Only what describes one packet. */
		{ "in payload x",	"unknown keyword 'payload'" },
		{ "in payload-hex 00",	"unknown keyword 'payload-hex'" },
		{ "in payload-within 1", "unknown keyword 'payload-within'" },
		{ "in log",		"unknown keyword 'log'" },
		{ "in log-rate 1/s",	"unknown keyword 'log-rate'" },
		{ "in log-burst 1",	"unknown keyword 'log-burst'" },
		{ "in comment x",	"unknown keyword 'comment'" },
	};
	char err[RULE_ERR_MAX];
	struct rule_packet p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (parse_packet(&p, cases[i].line, err) != -1)
			fail_msg("'%s' parsed, want error \"%s\"", cases[i].line, cases[i].err);
		if (strcmp(err, cases[i].err))
			fail_msg("'%s': error \"%s\", want \"%s\"", cases[i].line, err,
				 cases[i].err);
	}
}

/* Runs @show on @res and compares all it wrote with @want. */
static void expect_test_output(void (*show)(FILE *out, uint8_t dir,
					    const struct fwnl_test_result *res),
			       uint8_t dir, const struct fwnl_test_result *res,
			       const char *want)
{
	size_t len = 0;
	char *out;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	show(f, dir, res);
	fclose(f);
	assert_string_equal(out, want);
	free(out);
}

static void make_result(struct fwnl_test_result *res, const char *rule_line)
{
	char err[RULE_ERR_MAX];

	memset(res, 0, sizeof(*res));
	res->answered = true;
	if (!rule_line)
		return;
	assert_int_equal(unit_parse(&res->rule, rule_line, err), 0);
	res->matched = true;
	res->verdict = res->rule.action;
	res->rule.handle = 7;
	res->rule.packets = 12;
	res->rule.bytes = 720;
}

static void test_test_text(void **state)
{
	struct fwnl_test_result res;

	(void)state;
	make_result(&res, "in drop proto tcp src 192.0.2.1 dport 22");
	expect_test_output(show_test_text, KFW_DIR_IN, &res,
			   "7 in drop 12 720 proto tcp src 192.0.2.1/32 dport 22\n"
			   "drop\n");
	make_result(&res, "in reject proto tcp dport 23 log comment telnet");
	expect_test_output(show_test_text, KFW_DIR_IN, &res,
			   "7 in reject 12 720 proto tcp dport 23 log comment \"telnet\"\n"
			   "reject\n");
	make_result(&res, "out accept");
	expect_test_output(show_test_text, KFW_DIR_OUT, &res,
			   "7 out accept 12 720\naccept\n");

	make_result(&res, NULL);
	res.verdict = KFW_VERDICT_ACCEPT;
	expect_test_output(show_test_text, KFW_DIR_IN, &res, "policy in accept\naccept\n");
	res.verdict = KFW_VERDICT_DROP;
	expect_test_output(show_test_text, KFW_DIR_OUT, &res, "policy out drop\ndrop\n");
}

static void test_test_json(void **state)
{
	struct fwnl_test_result res;

	(void)state;
	make_result(&res, "in drop proto tcp dport 22");
	expect_test_output(show_test_json, KFW_DIR_IN, &res,
			   "{\"rule\":{\"handle\":7,\"dir\":\"in\",\"action\":\"drop\","
			   "\"packets\":12,\"bytes\":720,\"proto\":\"tcp\",\"dport\":\"22\"},"
			   "\"verdict\":\"drop\"}\n");
	make_result(&res, "in reject log");
	res.rule.log_rate = KFW_LOG_RATE_DEFAULT;
	res.rule.log_burst = KFW_LOG_BURST_DEFAULT;
	expect_test_output(show_test_json, KFW_DIR_IN, &res,
			   "{\"rule\":{\"handle\":7,\"dir\":\"in\",\"action\":\"reject\","
			   "\"packets\":12,\"bytes\":720,\"log\":true,\"log-rate\":\"5/s\","
			   "\"log-burst\":\"10\"},\"verdict\":\"reject\"}\n");

	make_result(&res, NULL);
	res.verdict = KFW_VERDICT_ACCEPT;
	expect_test_output(show_test_json, KFW_DIR_IN, &res,
			   "{\"rule\":null,\"policy\":\"in\",\"verdict\":\"accept\"}\n");
	res.verdict = KFW_VERDICT_DROP;
	expect_test_output(show_test_json, KFW_DIR_OUT, &res,
			   "{\"rule\":null,\"policy\":\"out\",\"verdict\":\"drop\"}\n");
}

static char *stats_output(void (*show)(FILE *out, const struct fwnl_info *info),
			  const struct fwnl_info *info)
{
	size_t len = 0;
	char *out;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	show(f, info);
	fclose(f);
	return out;
}

static void fill_info(struct fwnl_info *info)
{
	uint8_t dir, fam;
	uint64_t n = 1;

	memset(info, 0, sizeof(*info));
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		for (fam = 0; fam <= KFW_FAMILY_MAX; fam++) {
			info->hook[dir][fam].seen = n++;
			info->hook[dir][fam].accepted = n++;
			info->hook[dir][fam].dropped = n++;
		}
	}
	info->rule_count = 3;
	info->rule_limit = 10000;
	info->log_suppressed = 42;
}

static void test_stats_text(void **state)
{
	struct fwnl_info info;
	char *out;

	(void)state;
	fill_info(&info);
	out = stats_output(show_stats_text, &info);
	assert_string_equal(out,
		"in_ipv4_seen 1\n"
		"in_ipv4_accepted 2\n"
		"in_ipv4_dropped 3\n"
		"in_ipv6_seen 4\n"
		"in_ipv6_accepted 5\n"
		"in_ipv6_dropped 6\n"
		"out_ipv4_seen 7\n"
		"out_ipv4_accepted 8\n"
		"out_ipv4_dropped 9\n"
		"out_ipv6_seen 10\n"
		"out_ipv6_accepted 11\n"
		"out_ipv6_dropped 12\n"
		"rules 3\n"
		"rule_limit 10000\n"
		"log_suppressed 42\n");
	free(out);

	/* A kernel that does not send KFW_A_LOG_SUPPRESSED leaves it 0. */
	info.log_suppressed = 0;
	out = stats_output(show_stats_text, &info);
	assert_non_null(strstr(out, "\nrule_limit 10000\nlog_suppressed 0\n"));
	free(out);
	info.log_suppressed = UINT64_MAX;
	out = stats_output(show_stats_text, &info);
	assert_non_null(strstr(out, "\nlog_suppressed 18446744073709551615\n"));
	free(out);
}

static void test_stats_json(void **state)
{
	struct fwnl_info info;
	char *out;

	(void)state;
	fill_info(&info);
	out = stats_output(show_stats_json, &info);
	assert_string_equal(out,
		"{\"in\":{\"ipv4\":{\"seen\":1,\"accepted\":2,\"dropped\":3},"
		"\"ipv6\":{\"seen\":4,\"accepted\":5,\"dropped\":6}},"
		"\"out\":{\"ipv4\":{\"seen\":7,\"accepted\":8,\"dropped\":9},"
		"\"ipv6\":{\"seen\":10,\"accepted\":11,\"dropped\":12}},"
		"\"rules\":3,\"rule_limit\":10000,\"log_suppressed\":42}\n");
	free(out);
}

static void test_stats_prometheus(void **state)
{
	struct rule rules[2];
	struct fwnl_info info;
	size_t len = 0;
	char *out;
	FILE *f;

	(void)state;
	fill_info(&info);
	info.confirm_left_ms = 41005;
	memset(rules, 0, sizeof(rules));
	rules[0].handle = 7;
	rules[0].dir = KFW_DIR_IN;
	rules[0].action = KFW_VERDICT_DROP;
	rules[0].packets = 12;
	rules[0].bytes = 960;
	strcpy(rules[0].comment, "ssh \"from\" c:\\");
	rules[1].handle = 9;
	rules[1].dir = KFW_DIR_OUT;
	rules[1].action = KFW_VERDICT_REJECT;
	rules[1].packets = UINT64_MAX;
	f = open_memstream(&out, &len);
	assert_non_null(f);
	show_stats_prometheus(f, &info, rules, 2);
	fclose(f);
	assert_string_equal(out,
		"# HELP kfw_rule_packets_total Packets that matched each kfw rule.\n"
		"# TYPE kfw_rule_packets_total counter\n"
		"kfw_rule_packets_total{handle=\"7\",dir=\"in\",action=\"drop\",comment=\"ssh \\\"from\\\" c:\\\\\"} 12\n"
		"kfw_rule_packets_total{handle=\"9\",dir=\"out\",action=\"reject\",comment=\"\"} 18446744073709551615\n"
		"# HELP kfw_rule_bytes_total Bytes of the packets that matched each kfw rule.\n"
		"# TYPE kfw_rule_bytes_total counter\n"
		"kfw_rule_bytes_total{handle=\"7\",dir=\"in\",action=\"drop\",comment=\"ssh \\\"from\\\" c:\\\\\"} 960\n"
		"kfw_rule_bytes_total{handle=\"9\",dir=\"out\",action=\"reject\",comment=\"\"} 0\n"
		"# HELP kfw_hook_seen_packets_total Packets that reached kfw's hooks.\n"
		"# TYPE kfw_hook_seen_packets_total counter\n"
		"kfw_hook_seen_packets_total{dir=\"in\",family=\"ipv4\"} 1\n"
		"kfw_hook_seen_packets_total{dir=\"in\",family=\"ipv6\"} 4\n"
		"kfw_hook_seen_packets_total{dir=\"out\",family=\"ipv4\"} 7\n"
		"kfw_hook_seen_packets_total{dir=\"out\",family=\"ipv6\"} 10\n"
		"# HELP kfw_hook_accepted_packets_total Packets kfw's hooks accepted.\n"
		"# TYPE kfw_hook_accepted_packets_total counter\n"
		"kfw_hook_accepted_packets_total{dir=\"in\",family=\"ipv4\"} 2\n"
		"kfw_hook_accepted_packets_total{dir=\"in\",family=\"ipv6\"} 5\n"
		"kfw_hook_accepted_packets_total{dir=\"out\",family=\"ipv4\"} 8\n"
		"kfw_hook_accepted_packets_total{dir=\"out\",family=\"ipv6\"} 11\n"
		"# HELP kfw_hook_dropped_packets_total Packets kfw's hooks dropped.\n"
		"# TYPE kfw_hook_dropped_packets_total counter\n"
		"kfw_hook_dropped_packets_total{dir=\"in\",family=\"ipv4\"} 3\n"
		"kfw_hook_dropped_packets_total{dir=\"in\",family=\"ipv6\"} 6\n"
		"kfw_hook_dropped_packets_total{dir=\"out\",family=\"ipv4\"} 9\n"
		"kfw_hook_dropped_packets_total{dir=\"out\",family=\"ipv6\"} 12\n"
		"# HELP kfw_rules Rules in the table.\n"
		"# TYPE kfw_rules gauge\n"
		"kfw_rules 3\n"
		"# HELP kfw_rule_limit Rules a table may hold (the max_rules module parameter).\n"
		"# TYPE kfw_rule_limit gauge\n"
		"kfw_rule_limit 10000\n"
		"# HELP kfw_log_suppressed_total Log lines not written because of a rule's log rate.\n"
		"# TYPE kfw_log_suppressed_total counter\n"
		"kfw_log_suppressed_total 42\n"
		"# HELP kfw_confirm_seconds_left Seconds left to confirm a restore on trial, 0 if none is.\n"
		"# TYPE kfw_confirm_seconds_left gauge\n"
		"kfw_confirm_seconds_left 41.005\n");
	free(out);
}

int show_test_run(int *total)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_fields),
		cmocka_unit_test(test_packet_errors),
		cmocka_unit_test(test_test_text),
		cmocka_unit_test(test_test_json),
		cmocka_unit_test(test_stats_text),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_stats_prometheus),
	};

	*total += (int)ARRAY_SIZE(tests);
	return cmocka_run_group_tests_name("show", tests, NULL, NULL);
}
