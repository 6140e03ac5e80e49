// SPDX-License-Identifier: GPL-2.0
/*
 * duration: the DURATION of `timeout`, parsed as the user writes it and
 * printed as fwctl shows the time a rule has left; and the keyword in
 * rules, in text and JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "duration.h"
#include "rule.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse(void **state)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} cases[] = {
		{ "1s",		1000 },
		{ "30s",	30000 },
		{ "45",		45000 },	/* a bare number is seconds */
		{ "10m",	600000 },
		{ "2h",		7200000 },
		{ "1d",		86400000 },
		{ "007m",	420000 },
		{ "365d",	KFW_TIMEOUT_MAX_MS },
		{ "8760h",	KFW_TIMEOUT_MAX_MS },
		{ "525600m",	KFW_TIMEOUT_MAX_MS },
		{ "31536000s",	KFW_TIMEOUT_MAX_MS },
		{ "31536000",	KFW_TIMEOUT_MAX_MS },
	};
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ms = 0;
		if (duration_parse(cases[i].text, &ms))
			fail_msg("'%s' refused", cases[i].text);
		assert_int_equal(ms, cases[i].ms);
	}
}

static void test_parse_errors(void **state)
{
	static const char *const invalid[] = {
		"", "s", "0", "0s", "00d", "-1s", "+1s", " 1s", "1s ", "1 s",
		"1.5h", "1w", "1S", "1H", "1ms", "1hs", "h1", "0x10s", "1e3s",
		"1h30m",
	};
	static const char *const too_long[] = {
		"366d", "8761h", "525601m", "31536001s", "31536001",
		"99999999999999999999999999d", "18446744073709551616s",
	};
	uint64_t ms = 42;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(invalid); i++)
		if (duration_parse(invalid[i], &ms) != -1)
			fail_msg("'%s' not refused as invalid", invalid[i]);
	for (i = 0; i < ARRAY_SIZE(too_long); i++)
		if (duration_parse(too_long[i], &ms) != -2)
			fail_msg("'%s' not refused as too long", too_long[i]);
	/* A refused duration leaves the result alone. */
	assert_int_equal(ms, 42);
}

static void test_format(void **state)
{
	static const struct {
		uint64_t ms;
		const char *text;
	} cases[] = {
		{ 1,		"1s" },		/* never 0: it would not restore */
		{ 999,		"1s" },
		{ 1000,		"1s" },
		{ 1001,		"2s" },		/* rounded up, never shortened */
		{ 2999,		"3s" },
		{ 59999,	"1m" },
		{ 61000,	"61s" },
		{ 120000,	"2m" },
		{ 3599001,	"1h" },
		{ 3599000,	"3599s" },
		{ 3540000,	"59m" },
		{ 5400000,	"90m" },
		{ 86400000,	"1d" },
		{ 90000000,	"25h" },
		{ 86401000,	"86401s" },
		{ KFW_TIMEOUT_MAX_MS, "365d" },
		{ KFW_TIMEOUT_MAX_MS - 1, "365d" },
	};
	char buf[DURATION_TEXT_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(duration_format(cases[i].ms, buf, sizeof(buf)),
				 strlen(cases[i].text));
		assert_string_equal(buf, cases[i].text);
	}
	/* Too small a buffer: nothing but an empty string. */
	assert_int_equal(duration_format(86400000, buf, 2), -1);
	assert_string_equal(buf, "");
	assert_int_equal(duration_format(86400000, buf, 3), 2);
	assert_string_equal(buf, "1d");
}

/* Every duration prints as one that parses back to the same time. */
static void test_round_trip(void **state)
{
	static const uint64_t seconds[] = {
		1, 2, 59, 60, 61, 119, 120, 3599, 3600, 3601, 7200, 86399,
		86400, 86460, 172800, 31535999, 31536000,
	};
	char buf[DURATION_TEXT_MAX];
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(seconds); i++) {
		assert_true(duration_format(seconds[i] * 1000, buf, sizeof(buf)) > 0);
		assert_int_equal(duration_parse(buf, &ms), 0);
		assert_int_equal(ms, seconds[i] * 1000);
	}
}

static void test_rule_errors(void **state)
{
	(void)state;
	unit_expect_error("in drop timeout 0s", "invalid timeout '0s'");
	unit_expect_error("in drop timeout 0", "invalid timeout '0'");
	unit_expect_error("in drop timeout 1w", "invalid timeout '1w'");
	unit_expect_error("in drop timeout -5m", "invalid timeout '-5m'");
	unit_expect_error("in drop timeout 1h30m", "invalid timeout '1h30m'");
	unit_expect_error("in drop timeout 366d",
			  "timeout too long '366d' (at most 365d)");
	unit_expect_error("in drop timeout", "missing value for 'timeout'");
	unit_expect_error("in drop timeout 1h timeout 2h",
			  "duplicate keyword 'timeout'");
}

static void test_rule_text(void **state)
{
	(void)state;
	unit_expect_text("in drop src 203.0.113.7 timeout 1h comment ssh",
			 "in drop src 203.0.113.7/32 timeout 1h comment \"ssh\"");
	/* Before the comment, after everything else, wherever it was written. */
	unit_expect_text("in drop comment x timeout 30 log src 2001:db8::7",
			 "in drop src 2001:db8::7/128 log timeout 30s comment \"x\"");
	unit_expect_text("out reject timeout 120s proto tcp dport 80",
			 "out reject proto tcp dport 80 timeout 2m");
	unit_expect_text("in accept timeout 86400", "in accept timeout 1d");
}

static void test_rule_json(void **state)
{
	char err[RULE_ERR_MAX];
	char json[RULE_JSON_MAX];
	struct rule r;

	(void)state;
	assert_int_equal(unit_parse(&r, "in drop src 192.0.2.1 timeout 1h", err), 0);
	r.handle = 3;
	/* As read back from the kernel: a little under an hour left. */
	r.timeout_ms = 3599400;
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_string_equal(json,
		"{\"handle\":3,\"dir\":\"in\",\"action\":\"drop\",\"packets\":0,"
		"\"bytes\":0,\"src\":\"192.0.2.1/32\",\"timeout\":\"1h\","
		"\"timeout_ms\":3599400}");
	r.timeout_ms = 0;
	assert_true(rule_format_json(&r, json, sizeof(json)) > 0);
	assert_null(strstr(json, "timeout"));
}

int duration_test_run(int *total)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_rule_json),
	};

	*total += (int)ARRAY_SIZE(tests);
	return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
