// SPDX-License-Identifier: GPL-2.0
/*
 * match: the stateful and deep matches (reject, state, icmp-type and
 * icmp-code, payload, log, comment): parsing, every error message, the
 * canonical text and JSON, and round trips through the text form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rule.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* For values with blanks, which unit_split() cannot express. */
static int parse_argv(struct rule *r, char *const argv[], char *err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	err[0] = '\0';
	return rule_parse(r, argc, argv, err, RULE_ERR_MAX);
}

static void format(const struct rule *r, char *text)
{
	int len = rule_format(r, text, RULE_TEXT_MAX);

	assert_true(len > 0);
	assert_int_equal(len, strlen(text));
}

static void json_of(const char *line, char *json)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	if (unit_parse(&r, line, err))
		fail_msg("'%s': unexpected error \"%s\"", line, err);
	assert_true(rule_format_json(&r, json, RULE_JSON_MAX) > 0);
}

/* @n copies of @c, NUL-terminated, in @buf. */
static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_reject(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	unit_expect_text("in reject", "in reject");
	unit_expect_text("out reject proto tcp dport 22", "out reject proto tcp dport 22");
	assert_int_equal(unit_parse(&r, "in reject proto udp", err), 0);
	assert_int_equal(r.action, KFW_VERDICT_REJECT);
	unit_expect_error("in REJECT", "invalid action 'REJECT'");
	unit_expect_error("in refuse", "invalid action 'refuse'");
}

static void test_state(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in accept state established,related", err), 0);
	assert_int_equal(r.state, KFW_STATE_ESTABLISHED | KFW_STATE_RELATED);
	assert_int_equal(unit_parse(&r, "in accept state new,established,related,invalid",
				    err), 0);
	assert_int_equal(r.state, __KFW_STATE_ALL);
	assert_int_equal(unit_parse(&r, "in accept", err), 0);
	assert_int_equal(r.state, 0);

	unit_expect_text("in accept state new", "in accept state new");
	unit_expect_text("in drop state invalid", "in drop state invalid");
	/* Printed in bit order, whatever the input order. */
	unit_expect_text("in accept state related,established",
			 "in accept state established,related");
	unit_expect_text("in accept state invalid,related,established,new",
			 "in accept state new,established,related,invalid");

	unit_expect_error("in drop state bogus", "invalid state 'bogus'");
	unit_expect_error("in drop state new,bogus", "invalid state 'bogus'");
	unit_expect_error("in drop state NEW", "invalid state 'NEW'");
	unit_expect_error("in drop state new,", "invalid state 'new,'");
	unit_expect_error("in drop state ,new", "invalid state ',new'");
	unit_expect_error("in drop state new,,related", "invalid state 'new,,related'");
	unit_expect_error("in drop state new,new", "duplicate state 'new'");
	unit_expect_error("in drop state", "missing value for 'state'");
	unit_expect_error("in drop state new state related", "duplicate keyword 'state'");
}

static void test_icmp_type(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	unit_expect_text("in drop proto icmp icmp-type echo-reply",
			 "in drop proto icmp icmp-type echo-reply");
	unit_expect_text("in drop proto icmp icmp-type destination-unreachable",
			 "in drop proto icmp icmp-type destination-unreachable");
	unit_expect_text("in drop proto icmp icmp-type echo-request",
			 "in drop proto icmp icmp-type echo-request");
	unit_expect_text("in drop proto icmp icmp-type time-exceeded",
			 "in drop proto icmp icmp-type time-exceeded");
	unit_expect_text("in drop proto icmpv6 icmp-type destination-unreachable",
			 "in drop proto icmpv6 icmp-type destination-unreachable");
	unit_expect_text("in drop proto icmpv6 icmp-type time-exceeded",
			 "in drop proto icmpv6 icmp-type time-exceeded");
	unit_expect_text("in drop proto icmpv6 icmp-type echo-request",
			 "in drop proto icmpv6 icmp-type echo-request");
	unit_expect_text("in drop proto icmpv6 icmp-type echo-reply",
			 "in drop proto icmpv6 icmp-type echo-reply");
	unit_expect_text("in drop proto icmpv6 icmp-type neighbour-solicitation",
			 "in drop proto icmpv6 icmp-type neighbour-solicitation");
	unit_expect_text("in drop proto icmpv6 icmp-type neighbour-advertisement",
			 "in drop proto icmpv6 icmp-type neighbour-advertisement");
	/* The US spellings are read, the first one listed is printed. */
	unit_expect_text("in drop proto icmpv6 icmp-type neighbor-solicitation",
			 "in drop proto icmpv6 icmp-type neighbour-solicitation");
	unit_expect_text("in drop proto icmpv6 icmp-type neighbor-advertisement",
			 "in drop proto icmpv6 icmp-type neighbour-advertisement");

	/* The same name is a different number for each protocol. */
	assert_int_equal(unit_parse(&r, "in drop proto icmp icmp-type echo-request", err), 0);
	assert_true(r.has_icmp_type);
	assert_int_equal(r.icmp_type, 8);
	assert_int_equal(unit_parse(&r, "in drop icmp-type echo-request proto icmpv6", err), 0);
	assert_int_equal(r.icmp_type, 128);
	assert_int_equal(unit_parse(&r, "in drop icmp-type destination-unreachable proto icmp",
				    err), 0);
	assert_int_equal(r.icmp_type, 3);
	assert_int_equal(unit_parse(&r, "in drop proto icmpv6 icmp-type neighbor-advertisement",
				    err), 0);
	assert_int_equal(r.icmp_type, 136);
	assert_int_equal(unit_parse(&r, "in drop proto icmp", err), 0);
	assert_false(r.has_icmp_type);

	/* Numbers print as the name that protocol has for them, if any. */
	unit_expect_text("in drop proto icmp icmp-type 8", "in drop proto icmp icmp-type echo-request");
	unit_expect_text("in drop proto icmpv6 icmp-type 135",
			 "in drop proto icmpv6 icmp-type neighbour-solicitation");
	unit_expect_text("in drop proto icmpv6 icmp-type 8", "in drop proto icmpv6 icmp-type 8");
	unit_expect_text("in drop proto icmp icmp-type 128", "in drop proto icmp icmp-type 128");
	unit_expect_text("in drop proto icmp icmp-type 0", "in drop proto icmp icmp-type echo-reply");
	unit_expect_text("in drop proto icmp icmp-type 255", "in drop proto icmp icmp-type 255");
	unit_expect_text("in drop proto 58 icmp-type 1",
			 "in drop proto icmpv6 icmp-type destination-unreachable");
	unit_expect_text("in drop icmp-type 5 proto icmp", "in drop proto icmp icmp-type 5");

	unit_expect_error("in drop proto icmp icmp-type ping", "invalid icmp type 'ping'");
	unit_expect_error("in drop proto icmp icmp-type neighbour-solicitation",
			  "invalid icmp type 'neighbour-solicitation'");
	unit_expect_error("in drop proto icmp icmp-type neighbor-advertisement",
			  "invalid icmp type 'neighbor-advertisement'");
	unit_expect_error("in drop proto icmp icmp-type 256", "invalid icmp type '256'");
	unit_expect_error("in drop proto icmp icmp-type -1", "invalid icmp type '-1'");
	unit_expect_error("in drop proto icmp icmp-type Echo-Request",
			  "invalid icmp type 'Echo-Request'");
	unit_expect_error("in drop proto icmp icmp-type", "missing value for 'icmp-type'");
	unit_expect_error("in drop icmp-type echo-request",
			  "'icmp-type' needs proto icmp or icmpv6");
	unit_expect_error("in drop proto tcp icmp-type 8",
			  "'icmp-type' needs proto icmp or icmpv6");
	unit_expect_error("in drop proto 47 icmp-type 8",
			  "'icmp-type' needs proto icmp or icmpv6");
	/* A name no protocol has is refused at once, as the first bad token. */
	unit_expect_error("in drop icmp-type ping proto foo", "invalid icmp type 'ping'");
	unit_expect_error("in drop proto icmp icmp-type 8 icmp-type 0",
			  "duplicate keyword 'icmp-type'");
}

static void test_icmp_code(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	unit_expect_text("in drop proto icmp icmp-type destination-unreachable icmp-code 3",
			 "in drop proto icmp icmp-type destination-unreachable icmp-code 3");
	unit_expect_text("in drop icmp-code 0 icmp-type 11 proto icmp",
			 "in drop proto icmp icmp-type time-exceeded icmp-code 0");
	unit_expect_text("in drop proto icmpv6 icmp-type 1 icmp-code 255",
			 "in drop proto icmpv6 icmp-type destination-unreachable icmp-code 255");
	assert_int_equal(unit_parse(&r, "in drop proto icmp icmp-type 3 icmp-code 13", err), 0);
	assert_true(r.has_icmp_code);
	assert_int_equal(r.icmp_code, 13);

	unit_expect_error("in drop proto icmp icmp-code 3", "'icmp-code' needs icmp-type");
	unit_expect_error("in drop icmp-code 3", "'icmp-code' needs icmp-type");
	unit_expect_error("in drop proto icmp icmp-type 3 icmp-code 256",
			  "invalid icmp code '256'");
	unit_expect_error("in drop proto icmp icmp-type 3 icmp-code x", "invalid icmp code 'x'");
	unit_expect_error("in drop proto icmp icmp-type 3 icmp-code", "missing value for 'icmp-code'");
}

static void test_payload(void **state)
{
	char *spaces[] = { "in", "drop", "proto", "tcp", "payload", "GET /x", NULL };
	char *quote[] = { "in", "drop", "payload", "a\"b", NULL };
	char *backslash[] = { "in", "drop", "payload", "a\\b", NULL };
	char *tab[] = { "in", "drop", "payload", "a\tb", NULL };
	char *empty[] = { "in", "drop", "payload", "", NULL };
	char *blank[] = { "in", "drop", "payload", " ", NULL };
	char err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop payload GET", err), 0);
	assert_int_equal(r.payload_len, 3);
	assert_memory_equal(r.payload, "GET", 3);
	unit_expect_text("in drop payload GET", "in drop payload \"GET\"");

	assert_int_equal(parse_argv(&r, spaces, err), 0);
	format(&r, text);
	assert_string_equal(text, "in drop proto tcp payload \"GET /x\"");
	assert_int_equal(parse_argv(&r, blank, err), 0);
	format(&r, text);
	assert_string_equal(text, "in drop payload \" \"");

	/* '#' and other printable bytes are text. */
	unit_expect_text("in drop payload a#b~{}'", "in drop payload \"a#b~{}'\"");

	assert_int_equal(parse_argv(&r, quote, err), -1);
	assert_string_equal(err, "invalid payload 'a\"b'");
	assert_int_equal(parse_argv(&r, backslash, err), -1);
	assert_string_equal(err, "invalid payload 'a\\b'");
	assert_int_equal(parse_argv(&r, tab, err), -1);
	assert_string_equal(err, "invalid payload 'a\tb'");
	assert_int_equal(parse_argv(&r, empty, err), -1);
	assert_string_equal(err, "invalid payload ''");
	unit_expect_error("in drop payload", "missing value for 'payload'");
	unit_expect_error("in drop payload a payload b", "duplicate keyword 'payload'");
}

static void test_payload_hex(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop payload-hex 00ff7F", err), 0);
	assert_int_equal(r.payload_len, 3);
	assert_memory_equal(r.payload, "\x00\xff\x7f", 3);

	/* Printed as text when every byte can be, else as lowercase hex. */
	unit_expect_text("in drop payload-hex 474554", "in drop payload \"GET\"");
	unit_expect_text("in drop payload-hex 20", "in drop payload \" \"");
	unit_expect_text("in drop payload-hex 7e", "in drop payload \"~\"");
	unit_expect_text("in drop payload-hex 00FF", "in drop payload-hex 00ff");
	unit_expect_text("in drop payload-hex 4745540d0a", "in drop payload-hex 4745540d0a");
	unit_expect_text("in drop payload-hex 2261", "in drop payload-hex 2261");	/* '"' */
	unit_expect_text("in drop payload-hex 5c61", "in drop payload-hex 5c61");	/* '\' */
	unit_expect_text("in drop payload-hex 1f", "in drop payload-hex 1f");
	unit_expect_text("in drop payload-hex 7f", "in drop payload-hex 7f");
	unit_expect_text("in drop payload-hex 80", "in drop payload-hex 80");
	unit_expect_text("in drop payload-hex 41ff", "in drop payload-hex 41ff");

	unit_expect_error("in drop payload-hex xyz", "invalid hex 'xyz'");
	unit_expect_error("in drop payload-hex abc", "invalid hex 'abc'");
	unit_expect_error("in drop payload-hex 0x41", "invalid hex '0x41'");
	unit_expect_error("in drop payload-hex 41g1", "invalid hex '41g1'");
	unit_expect_error("in drop payload-hex -41", "invalid hex '-41'");
	unit_expect_error("in drop payload-hex", "missing value for 'payload-hex'");

	unit_expect_error("in drop payload a payload-hex 61",
			  "payload and payload-hex are exclusive");
	unit_expect_error("in drop payload-hex 61 payload a",
			  "payload and payload-hex are exclusive");
	unit_expect_error("in drop payload-hex 61 payload-hex 62",
			  "duplicate keyword 'payload-hex'");
}

static void test_payload_length(void **state)
{
	char line[1024], want[1024], value[600];
	char *argv[] = { "in", "drop", "payload-hex", "", NULL };
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	/* 128 bytes is the most, as text and as hex. */
	snprintf(line, sizeof(line), "in drop payload %s", repeat(value, 'A', 128));
	snprintf(want, sizeof(want), "in drop payload \"%s\"", value);
	unit_expect_text(line, want);
	snprintf(line, sizeof(line), "in drop payload-hex %s", repeat(value, 'f', 256));
	snprintf(want, sizeof(want), "in drop payload-hex %s", value);
	unit_expect_text(line, want);
	assert_int_equal(unit_parse(&r, line, err), 0);
	assert_int_equal(r.payload_len, 128);

	/* One more is too long; the message cuts the token short. */
	snprintf(line, sizeof(line), "in drop payload %s", repeat(value, 'A', 129));
	unit_expect_error(line, "payload too long "
			  "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...'");
	snprintf(line, sizeof(line), "in drop payload-hex %s", repeat(value, 'f', 258));
	unit_expect_error(line, "payload too long "
			  "'ffffffffffffffffffffffffffffffffffffffff...'");
	/* A token of RULE_TOKEN_SHOWN bytes is still shown whole. */
	snprintf(line, sizeof(line), "in drop payload-hex %s", repeat(value, 'x', 40));
	snprintf(want, sizeof(want), "invalid hex '%s'", value);
	unit_expect_error(line, want);
	snprintf(line, sizeof(line), "in drop payload-hex %s", repeat(value, 'x', 41));
	unit_expect_error(line, "invalid hex 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");

	argv[3] = "";
	assert_int_equal(parse_argv(&r, argv, err), -1);
	assert_string_equal(err, "invalid hex ''");
}

static void test_payload_within(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop payload x payload-within 100", err), 0);
	assert_int_equal(r.payload_within, 100);
	assert_int_equal(unit_parse(&r, "in drop payload x", err), 0);
	assert_int_equal(r.payload_within, 0);
	unit_expect_text("in drop payload-within 1 payload x",
			 "in drop payload \"x\" payload-within 1");
	unit_expect_text("in drop payload-hex 00 payload-within 65535",
			 "in drop payload-hex 00 payload-within 65535");

	unit_expect_error("in drop payload-within 100", "'payload-within' needs payload");
	unit_expect_error("in drop payload x payload-within 0", "invalid payload-within '0'");
	unit_expect_error("in drop payload x payload-within 65536",
			  "invalid payload-within '65536'");
	unit_expect_error("in drop payload x payload-within -1", "invalid payload-within '-1'");
	unit_expect_error("in drop payload x payload-within many",
			  "invalid payload-within 'many'");
	unit_expect_error("in drop payload x payload-within", "missing value for 'payload-within'");
}

static void test_log(void **state)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop log", err), 0);
	assert_true(r.log);
	/* Not given: 0, and nothing is sent; the kernel has the defaults. */
	assert_int_equal(r.log_rate, 0);
	assert_int_equal(r.log_burst, 0);
	assert_int_equal(unit_parse(&r, "in drop log log-rate 20/s log-burst 5", err), 0);
	assert_int_equal(r.log_rate, 1200);
	assert_int_equal(r.log_burst, 5);
	assert_int_equal(unit_parse(&r, "in drop log-rate 7/m log", err), 0);
	assert_int_equal(r.log_rate, 7);
	/* Given, even as the default, it is sent. */
	assert_int_equal(unit_parse(&r, "in drop log log-rate 5/s log-burst 10", err), 0);
	assert_int_equal(r.log_rate, 300);
	assert_int_equal(r.log_burst, 10);
	assert_int_equal(unit_parse(&r, "in drop", err), 0);
	assert_false(r.log);

	unit_expect_text("in drop log", "in drop log");
	unit_expect_text("in drop log proto tcp", "in drop proto tcp log");
	/* The defaults are not printed. */
	unit_expect_text("in drop log log-rate 5/s", "in drop log");
	unit_expect_text("in drop log log-rate 300/m", "in drop log");
	unit_expect_text("in drop log log-burst 10", "in drop log");
	/* Per second when the per-minute value allows, else per minute. */
	unit_expect_text("in drop log log-rate 20/s", "in drop log log-rate 20/s");
	unit_expect_text("in drop log log-rate 120/m", "in drop log log-rate 2/s");
	unit_expect_text("in drop log log-rate 60/m", "in drop log log-rate 1/s");
	unit_expect_text("in drop log log-rate 7/m", "in drop log log-rate 7/m");
	unit_expect_text("in drop log log-rate 1/m", "in drop log log-rate 1/m");
	unit_expect_text("in drop log log-rate 301/m", "in drop log log-rate 301/m");
	unit_expect_text("in drop log log-rate 10000/s", "in drop log log-rate 10000/s");
	unit_expect_text("in drop log log-rate 600000/m", "in drop log log-rate 10000/s");
	unit_expect_text("in drop log log-rate 599999/m", "in drop log log-rate 599999/m");
	unit_expect_text("in drop log log-rate 005/s", "in drop log");
	unit_expect_text("in drop log-burst 1 log", "in drop log log-burst 1");
	unit_expect_text("in drop log log-burst 10000", "in drop log log-burst 10000");
	unit_expect_text("in drop log-burst 20 log-rate 1/s log",
			 "in drop log log-rate 1/s log-burst 20");

	unit_expect_error("in drop log log-rate 5/h", "invalid log rate '5/h'");
	unit_expect_error("in drop log log-rate 5", "invalid log rate '5'");
	unit_expect_error("in drop log log-rate 0/s", "invalid log rate '0/s'");
	unit_expect_error("in drop log log-rate 0/m", "invalid log rate '0/m'");
	unit_expect_error("in drop log log-rate 10001/s", "invalid log rate '10001/s'");
	unit_expect_error("in drop log log-rate 600001/m", "invalid log rate '600001/m'");
	unit_expect_error("in drop log log-rate /s", "invalid log rate '/s'");
	unit_expect_error("in drop log log-rate 5/", "invalid log rate '5/'");
	unit_expect_error("in drop log log-rate 5/S", "invalid log rate '5/S'");
	unit_expect_error("in drop log log-rate 5/sec", "invalid log rate '5/sec'");
	unit_expect_error("in drop log log-rate -5/s", "invalid log rate '-5/s'");
	unit_expect_error("in drop log log-rate 99999999999999999999/m",
			  "invalid log rate '99999999999999999999/m'");
	unit_expect_error("in drop log log-burst 0", "invalid log burst '0'");
	unit_expect_error("in drop log log-burst 10001", "invalid log burst '10001'");
	unit_expect_error("in drop log log-burst x", "invalid log burst 'x'");
	unit_expect_error("in drop log-rate 5/s", "'log-rate' needs log");
	unit_expect_error("in drop log-burst 5", "'log-burst' needs log");
	unit_expect_error("in drop log-rate 5/s log-burst 5", "'log-rate' needs log");
	unit_expect_error("in drop log log", "duplicate keyword 'log'");
	unit_expect_error("in drop log log-rate", "missing value for 'log-rate'");
	unit_expect_error("in drop log log-burst", "missing value for 'log-burst'");
	/* log takes no value: what follows it is the next keyword. */
	unit_expect_error("in drop log yes", "unknown keyword 'yes'");
}

/* Rules as the kernel returns them carry the rate and burst it applied. */
static void test_log_from_kernel(void **state)
{
	char err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop log", err), 0);
	r.log_rate = KFW_LOG_RATE_DEFAULT;
	r.log_burst = KFW_LOG_BURST_DEFAULT;
	format(&r, text);
	assert_string_equal(text, "in drop log");
	r.log_rate = 1200;
	format(&r, text);
	assert_string_equal(text, "in drop log log-rate 20/s");
	r.log_rate = 90;
	r.log_burst = 3;
	format(&r, text);
	assert_string_equal(text, "in drop log log-rate 90/m log-burst 3");
}

static void test_comment(void **state)
{
	char *spaces[] = { "in", "accept", "proto", "tcp", "dport", "22",
			   "comment", "allow ssh", NULL };
	char *quote[] = { "in", "drop", "comment", "a\"b", NULL };
	char *backslash[] = { "in", "drop", "comment", "a\\b", NULL };
	char *tab[] = { "in", "drop", "comment", "a\tb", NULL };
	char *nonascii[] = { "in", "drop", "comment", "caf\xc3\xa9", NULL };
	char *empty[] = { "in", "drop", "comment", "", NULL };
	char line[512], want[512], value[200];
	char err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(parse_argv(&r, spaces, err), 0);
	assert_string_equal(r.comment, "allow ssh");
	format(&r, text);
	assert_string_equal(text, "in accept proto tcp dport 22 comment \"allow ssh\"");
	unit_expect_text("in drop comment x#y", "in drop comment \"x#y\"");
	unit_expect_text("in drop comment 'quoted'", "in drop comment \"'quoted'\"");

	assert_int_equal(parse_argv(&r, quote, err), -1);
	assert_string_equal(err, "invalid comment 'a\"b'");
	assert_int_equal(parse_argv(&r, backslash, err), -1);
	assert_string_equal(err, "invalid comment 'a\\b'");
	assert_int_equal(parse_argv(&r, tab, err), -1);
	assert_string_equal(err, "invalid comment 'a\tb'");
	assert_int_equal(parse_argv(&r, nonascii, err), -1);
	assert_string_equal(err, "invalid comment 'caf\xc3\xa9'");
	assert_int_equal(parse_argv(&r, empty, err), -1);
	assert_string_equal(err, "invalid comment ''");
	unit_expect_error("in drop comment", "missing value for 'comment'");
	unit_expect_error("in drop comment a comment b", "duplicate keyword 'comment'");

	/* 127 bytes and the NUL fill KFW_COMMENT_MAX. */
	snprintf(line, sizeof(line), "in drop comment %s", repeat(value, 'c', 127));
	snprintf(want, sizeof(want), "in drop comment \"%s\"", value);
	unit_expect_text(line, want);
	snprintf(line, sizeof(line), "in drop comment %s", repeat(value, 'c', 128));
	unit_expect_error(line, "comment too long 'cccccccccccccccccccccccccccccccccccccccc...'");
}

/* Input order does not matter; output order is the spec's. */
static void test_order(void **state)
{
	char *argv[] = {
		"out", "reject", "comment", "all of it", "log-burst", "20",
		"log-rate", "1/s", "log", "payload-within", "64",
		"payload", "HELO x", "state", "established,new",
		"iface", "veth0", "icmp-code", "0", "icmp-type", "echo-request",
		"dst", "2001:db8::1", "src", "2001:db8::/32", "proto", "icmpv6",
		NULL
	};
	char err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(parse_argv(&r, argv, err), 0);
	format(&r, text);
	assert_string_equal(text,
		"out reject proto icmpv6 src 2001:db8::/32 dst 2001:db8::1/128 "
		"icmp-type echo-request icmp-code 0 iface veth0 state new,established "
		"payload \"HELO x\" payload-within 64 log log-rate 1/s log-burst 20 "
		"comment \"all of it\"");
	unit_expect_text("in drop log comment c payload-hex 00 state new proto tcp "
			 "dport 22 sport 1",
			 "in drop proto tcp sport 1 dport 22 state new payload-hex 00 "
			 "log comment \"c\"");
}

/* The first failing check is the same whatever the token order. */
static void test_check_order(void **state)
{
	(void)state;
	unit_expect_error("in drop log-rate 1/s dport 22", "'dport' needs proto tcp or udp");
	unit_expect_error("in drop log-rate 1/s icmp-code 0", "'icmp-code' needs icmp-type");
	unit_expect_error("in drop icmp-code 0 log-rate 1/s", "'icmp-code' needs icmp-type");
	unit_expect_error("in drop payload-within 5 payload-hex 00 payload x",
			  "payload and payload-hex are exclusive");
	unit_expect_error("in drop payload-within 5 log-burst 1",
			  "'payload-within' needs payload");
	/* A bad value still wins over a missing partner. */
	unit_expect_error("in drop log-rate 5/h", "invalid log rate '5/h'");
	unit_expect_error("in drop icmp-code 300", "invalid icmp code '300'");
}

static void test_over(void **state)
{
	char line[RULE_LINE_MAX];
	char json[RULE_JSON_MAX];
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop proto tcp dport 22 state new over 6/m burst 6 per-src",
				    err), 0);
	assert_int_equal(r.over_rate, 6);
	assert_int_equal(r.over_period, 60);
	assert_int_equal(r.over_burst, 6);
	assert_true(r.over_per_src);
	/* Not given: 0, and nothing is sent; the kernel's default is the rate. */
	assert_int_equal(unit_parse(&r, "in drop over 10/s", err), 0);
	assert_int_equal(r.over_rate, 10);
	assert_int_equal(r.over_period, 1);
	assert_int_equal(r.over_burst, 0);
	assert_false(r.over_per_src);
	assert_int_equal(unit_parse(&r, "in drop per-src over 100/h", err), 0);
	assert_int_equal(r.over_period, 3600);
	assert_true(r.over_per_src);
	assert_int_equal(unit_parse(&r, "in drop", err), 0);
	assert_int_equal(r.over_rate, 0);

	/* The burst only when it is not the rate; units as given. */
	unit_expect_text("in drop proto tcp dport 22 state new over 6/m burst 6 per-src",
			 "in drop proto tcp dport 22 state new over 6/m per-src");
	unit_expect_text("in drop per-src burst 3 over 6/m log comment x",
			 "in drop over 6/m burst 3 per-src log comment \"x\"");
	unit_expect_text("in drop over 60/m", "in drop over 60/m");
	unit_expect_text("in drop over 1/s", "in drop over 1/s");
	unit_expect_text("in drop over 007/h burst 01", "in drop over 7/h burst 1");
	unit_expect_text("in drop over 1000000/s burst 1000000",
			 "in drop over 1000000/s");
	unit_expect_text("in drop over 1/h burst 1000000", "in drop over 1/h burst 1000000");

	unit_expect_error("in drop over 6", "invalid rate '6'");
	unit_expect_error("in drop over 6/d", "invalid rate '6/d'");
	unit_expect_error("in drop over 6/M", "invalid rate '6/M'");
	unit_expect_error("in drop over 6/min", "invalid rate '6/min'");
	unit_expect_error("in drop over 0/s", "invalid rate '0/s'");
	unit_expect_error("in drop over /s", "invalid rate '/s'");
	unit_expect_error("in drop over -1/s", "invalid rate '-1/s'");
	unit_expect_error("in drop over 1000001/s", "invalid rate '1000001/s'");
	unit_expect_error("in drop over 99999999999999999999/h",
			  "invalid rate '99999999999999999999/h'");
	unit_expect_error("in drop over 5/s burst 0", "invalid burst '0'");
	unit_expect_error("in drop over 5/s burst 1000001", "invalid burst '1000001'");
	unit_expect_error("in drop over 5/s burst x", "invalid burst 'x'");
	unit_expect_error("in drop burst 5", "'burst' needs over");
	unit_expect_error("in drop per-src", "'per-src' needs over");
	unit_expect_error("in drop per-src burst 2", "'burst' needs over");
	unit_expect_error("in drop over 5/s over 6/s", "duplicate keyword 'over'");
	unit_expect_error("in drop over 5/s per-src per-src", "duplicate keyword 'per-src'");
	unit_expect_error("in drop over", "missing value for 'over'");
	unit_expect_error("in drop over 5/s burst", "missing value for 'burst'");
	/* per-src takes no value. */
	unit_expect_error("in drop over 5/s per-src 1", "unknown keyword '1'");

	/* list and -j show the sources a per-src rule tracks; save does not. */
	assert_int_equal(unit_parse(&r, "in drop proto tcp dport 22 over 6/m per-src", err), 0);
	r.handle = 3;
	r.over_sources = 2;
	assert_true(rule_format_line(&r, line, sizeof(line)) > 0);
	assert_string_equal(line, "3 in drop 0 0 proto tcp dport 22 over 6/m per-src sources 2");
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, ",\"over\":\"6/m\",\"burst\":\"6\","
			       "\"per-src\":true,\"sources\":2}"));
	r.over_per_src = false;
	assert_true(rule_format_line(&r, line, sizeof(line)) > 0);
	assert_string_equal(line, "3 in drop 0 0 proto tcp dport 22 over 6/m");
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, ",\"over\":\"6/m\",\"burst\":\"6\"}"));
}

static void test_json_matches(void **state)
{
	char *argv[] = { "in", "accept", "proto", "tcp", "payload", "GET /x",
			 "comment", "web", NULL };
	char json[RULE_JSON_MAX];
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	json_of("in reject state new,established", json);
	assert_string_equal(json,
		"{\"handle\":0,\"dir\":\"in\",\"action\":\"reject\",\"packets\":0,"
		"\"bytes\":0,\"state\":\"new,established\"}");

	json_of("in drop proto icmp icmp-type 8 icmp-code 0", json);
	assert_non_null(strstr(json, ",\"proto\":\"icmp\",\"icmp-type\":\"echo-request\","
			       "\"icmp-code\":\"0\"}"));
	json_of("in drop proto icmpv6 icmp-type 200", json);
	assert_non_null(strstr(json, ",\"icmp-type\":\"200\"}"));

	/* A log rule always shows rate and burst, the defaults too. */
	json_of("in drop log", json);
	assert_non_null(strstr(json, ",\"log\":true,\"log-rate\":\"5/s\",\"log-burst\":\"10\"}"));
	json_of("in drop log log-rate 20/s log-burst 3", json);
	assert_non_null(strstr(json, ",\"log\":true,\"log-rate\":\"20/s\",\"log-burst\":\"3\"}"));
	json_of("in drop log log-rate 7/m", json);
	assert_non_null(strstr(json, ",\"log-rate\":\"7/m\","));
	json_of("in drop", json);
	assert_null(strstr(json, "log"));

	json_of("in drop payload-hex 6869 payload-within 100", json);
	assert_non_null(strstr(json, ",\"payload\":\"hi\",\"payload-within\":\"100\"}"));
	json_of("in drop payload-hex 00ff", json);
	assert_non_null(strstr(json, ",\"payload-hex\":\"00ff\"}"));
	assert_null(strstr(json, "\"payload\""));

	assert_int_equal(parse_argv(&r, argv, err), 0);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_string_equal(json,
		"{\"handle\":0,\"dir\":\"in\",\"action\":\"accept\",\"packets\":0,"
		"\"bytes\":0,\"proto\":\"tcp\",\"payload\":\"GET /x\",\"comment\":\"web\"}");
}

static void test_format_line(void **state)
{
	char line[RULE_LINE_MAX];
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop proto tcp src 192.0.2.1 dport 22", err), 0);
	r.handle = 7;
	r.packets = 12;
	r.bytes = 720;
	assert_int_equal(rule_format_line(&r, line, sizeof(line)), 52);
	assert_string_equal(line, "7 in drop 12 720 proto tcp src 192.0.2.1/32 dport 22");
	assert_int_equal(unit_parse(&r, "out reject", err), 0);
	r.handle = 8;
	assert_true(rule_format_line(&r, line, sizeof(line)) > 0);
	assert_string_equal(line, "8 out reject 0 0");
	assert_int_equal(rule_format_line(&r, line, 5), -1);
	assert_string_equal(line, "");
}

/* The longest rule there is still fits the advertised buffer sizes. */
static void test_longest(void **state)
{
	char payload[300], comment[200];
	char *argv[] = {
		"out", "reject", "proto", "icmpv6",
		"src", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128",
		"dst", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128",
		"icmp-type", "neighbour-advertisement", "icmp-code", "255",
		"iface", "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\",
		"state", "new,established,related,invalid",
		"payload-hex", repeat(payload, '0', 256),
		"payload-within", "65535", "log", "log-rate", "599999/m",
		"log-burst", "10000", "comment", repeat(comment, 'c', 127),
		"over", "1000000/h", "burst", "999999", "per-src", NULL
	};
	char text[RULE_TEXT_MAX];
	char line[RULE_LINE_MAX];
	char json[RULE_JSON_MAX];
	char err[RULE_ERR_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(parse_argv(&r, argv, err), 0);
	r.handle = UINT64_MAX;
	r.packets = UINT64_MAX;
	r.bytes = UINT64_MAX;
	r.over_sources = UINT32_MAX;
	assert_true(rule_format(&r, text, sizeof(text)) > 0);
	assert_true(rule_format_line(&r, line, sizeof(line)) > 0);
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, ",\"comment\":\"ccc"));
}

/* The quotes are the restore tokenizer's business; the shell drops them too. */
static void strip_quotes(char *out, const char *text)
{
	for (; *text; text++)
		if (*text != '"')
			*out++ = *text;
	*out = '\0';
}

/* parse -> format -> parse gives the same text, for every new match. */
static void test_round_trip(void **state)
{
	static const char *const lines[] = {
		"in reject proto tcp dport 22",
		"in accept state established,related",
		"in drop proto icmp icmp-type 8 icmp-code 0",
		"in drop proto icmpv6 icmp-type neighbor-solicitation",
		"in drop proto icmp icmp-type 42",
		"in drop payload-hex 00ff payload-within 10",
		"in drop payload-hex 474554",
		"in drop payload x#y",
		"in drop log log-rate 7/m log-burst 99",
		"in drop log log-rate 120/m",
		"in drop log log-rate 5/s log-burst 10",
		"out accept comment hello",
		"in drop proto tcp dport 22 state new over 6/m burst 6 per-src",
		"in drop over 10/s burst 20",
		"out reject over 3/h per-src",
	};
	char text1[RULE_TEXT_MAX], text2[RULE_TEXT_MAX], stripped[RULE_TEXT_MAX];
	char err[RULE_ERR_MAX];
	struct rule r1, r2;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		if (unit_parse(&r1, lines[i], err))
			fail_msg("'%s': %s", lines[i], err);
		format(&r1, text1);
		strip_quotes(stripped, text1);
		if (unit_parse(&r2, stripped, err))
			fail_msg("'%s' (from '%s'): %s", stripped, lines[i], err);
		format(&r2, text2);
		assert_string_equal(text1, text2);
		assert_memory_equal(r1.payload, r2.payload, sizeof(r1.payload));
		assert_int_equal(r1.payload_len, r2.payload_len);
		assert_int_equal(r1.state, r2.state);
		assert_int_equal(r1.icmp_type, r2.icmp_type);
		assert_int_equal(r1.action, r2.action);
		assert_int_equal(r1.over_rate, r2.over_rate);
		assert_int_equal(r1.over_period, r2.over_period);
		assert_int_equal(r1.over_per_src, r2.over_per_src);
	}
}

int match_test_run(int *total)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_icmp_type),
		cmocka_unit_test(test_icmp_code),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_payload_hex),
		cmocka_unit_test(test_payload_length),
		cmocka_unit_test(test_payload_within),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_log_from_kernel),
		cmocka_unit_test(test_over),
		cmocka_unit_test(test_comment),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_json_matches),
		cmocka_unit_test(test_format_line),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_round_trip),
	};

	*total += (int)ARRAY_SIZE(tests);
	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
