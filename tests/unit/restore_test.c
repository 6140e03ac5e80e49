// SPDX-License-Identifier: GPL-2.0
/*
 * restore: reading the save/restore text format, with comments, blank lines
 * and line numbers in errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "restore.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* @len bytes of @text, which may hold NUL bytes; @max_rules as restore_parse(). */
static int parse_bytes(struct restore *rs, const char *text, size_t len,
		       size_t max_rules, char *err)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int ret;

	/* fmemopen() refuses a zero-sized buffer; /dev/null is empty too. */
	if (!f)
		f = fopen("/dev/null", "r");
	assert_non_null(f);
	err[0] = '\0';
	ret = restore_parse(rs, f, "'test'", max_rules, err, RESTORE_ERR_MAX);
	fclose(f);
	return ret;
}

static int parse_text(struct restore *rs, const char *text, char *err)
{
	return parse_bytes(rs, text, strlen(text), 0, err);
}

static void expect_error_bytes(const char *text, size_t len, const char *want)
{
	char err[RESTORE_ERR_MAX];
	struct restore rs;
	int ret = parse_bytes(&rs, text, len, 0, err);

	restore_free(&rs);
	if (ret != -1)
		fail_msg("parsed, want error \"%s\"", want);
	if (strcmp(err, want))
		fail_msg("error \"%s\", want \"%s\"", err, want);
}

static void expect_error(const char *text, const char *want)
{
	expect_error_bytes(text, strlen(text), want);
}

static void rule_text(const struct restore *rs, size_t i, char *buf)
{
	assert_true(i < rs->count);
	assert_true(rule_format(&rs->rules[i], buf, RULE_TEXT_MAX) > 0);
}

static void test_basic(void **state)
{
	const char *text =
		"# kfw rules\n"
		"\n"
		"policy in accept\n"
		"policy out drop\n"
		"   \t\n"
		"add in drop proto tcp src 192.0.2.1/32 dport 22\n"
		"  # indented comment\n"
		"add out accept\t proto udp   dport 53   # trailing comment\n"
		"add in accept\n";
	char err[RESTORE_ERR_MAX];
	char buf[RULE_TEXT_MAX];
	struct restore rs;

	(void)state;
	assert_int_equal(parse_text(&rs, text, err), 0);
	assert_true(rs.has_policy[KFW_DIR_IN]);
	assert_int_equal(rs.policy[KFW_DIR_IN], KFW_VERDICT_ACCEPT);
	assert_true(rs.has_policy[KFW_DIR_OUT]);
	assert_int_equal(rs.policy[KFW_DIR_OUT], KFW_VERDICT_DROP);
	assert_int_equal(rs.count, 3);
	rule_text(&rs, 0, buf);
	assert_string_equal(buf, "in drop proto tcp src 192.0.2.1/32 dport 22");
	rule_text(&rs, 1, buf);
	assert_string_equal(buf, "out accept proto udp dport 53");
	rule_text(&rs, 2, buf);
	assert_string_equal(buf, "in accept");
	assert_int_equal(rs.lines[0], 6);
	assert_int_equal(rs.lines[1], 8);
	assert_int_equal(rs.lines[2], 9);
	restore_free(&rs);
	assert_null(rs.rules);
	assert_int_equal(rs.count, 0);
}

/*
 * Input without rules or policies would delete every rule: more likely a
 * mistake (an empty redirection, a truncated file) than a wish.
 */
static void test_empty(void **state)
{
	static const char *const texts[] = {
		"",
		"\n\n\n",
		"# only a comment",
		"#\n  # two\n\t\n",
		"\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(texts); i++)
		expect_error(texts[i], "restore: no rules or policies in 'test'; "
			     "use 'fwctl flush' to empty the table");
}

/* What `fwctl save` prints for a table without rules restores. */
static void test_policies_only(void **state)
{
	char err[RESTORE_ERR_MAX];
	struct restore rs;

	(void)state;
	assert_int_equal(parse_text(&rs, "policy in accept\npolicy out drop\n", err), 0);
	assert_int_equal(rs.count, 0);
	assert_true(rs.has_policy[KFW_DIR_IN]);
	assert_true(rs.has_policy[KFW_DIR_OUT]);
	restore_free(&rs);
}

/* A direction without a policy line keeps its policy: nothing is set. */
static void test_one_policy(void **state)
{
	char err[RESTORE_ERR_MAX];
	struct restore rs;

	(void)state;
	assert_int_equal(parse_text(&rs, "policy out drop\n", err), 0);
	assert_false(rs.has_policy[KFW_DIR_IN]);
	assert_true(rs.has_policy[KFW_DIR_OUT]);
	assert_int_equal(rs.policy[KFW_DIR_OUT], KFW_VERDICT_DROP);
	restore_free(&rs);
}

static void test_comments_and_blanks(void **state)
{
	const char *text =
		"add in drop iface eth#1 # the '#' in the name is not a comment\n"
		"add in drop#not-a-comment\n";
	char err[RESTORE_ERR_MAX];
	char buf[RULE_TEXT_MAX];
	struct restore rs;

	(void)state;
	/* '#' inside a token is part of it, so "drop#not-a-comment" is bad. */
	assert_int_equal(parse_text(&rs, text, err), -1);
	assert_string_equal(err, "line 2: invalid action 'drop#not-a-comment'");
	restore_free(&rs);

	assert_int_equal(parse_text(&rs, "add in drop iface eth#1 #c\r\n"
				    "add out drop\r\n", err), 0);
	assert_int_equal(rs.count, 2);
	rule_text(&rs, 0, buf);
	assert_string_equal(buf, "in drop iface eth#1");
	rule_text(&rs, 1, buf);
	assert_string_equal(buf, "out drop");
	restore_free(&rs);

	/* No newline at the end of the last line. */
	assert_int_equal(parse_text(&rs, "add in drop proto tcp dport 22", err), 0);
	assert_int_equal(rs.count, 1);
	assert_int_equal(rs.lines[0], 1);
	restore_free(&rs);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("policy in accept\n"
		     "# comment\n"
		     "add in drop src 300.1.2.3\n",
		     "line 3: invalid address '300.1.2.3'");
	expect_error("frob in drop\n", "line 1: unknown command 'frob'");
	expect_error("\n\n\ninsert 1 in drop\n", "line 4: unknown command 'insert'");
	expect_error("add\n", "line 1: missing direction");
	expect_error("add in\n", "line 1: missing action");
	expect_error("add sideways drop\n", "line 1: invalid direction 'sideways'");
	expect_error("add in refuse\n", "line 1: invalid action 'refuse'");
	expect_error("add in drop port 22\n", "line 1: unknown keyword 'port'");
	expect_error("add in drop proto tcp dport\n", "line 1: missing value for 'dport'");
	expect_error("add in drop src 192.0.2.1 src 192.0.2.1\n",
		     "line 1: duplicate keyword 'src'");
	expect_error("add in drop proto foo\n", "line 1: invalid protocol 'foo'");
	expect_error("add in drop src 192.0.2.0/33\n",
		     "line 1: invalid prefix length '33' in '192.0.2.0/33'");
	expect_error("add in drop proto tcp dport 70000\n", "line 1: invalid port '70000'");
	expect_error("add in drop proto tcp dport 90-80\n",
		     "line 1: invalid port range '90-80'");
	expect_error("add in drop dport 22\n", "line 1: 'dport' needs proto tcp or udp");
	expect_error("add in drop src 192.0.2.1 dst 2001:db8::1\n",
		     "line 1: src and dst are of different families");
	expect_error("add in drop dst ::ffff:0:0/96\n",
		     "line 1: IPv4-mapped address '::ffff:0:0/96' matches no IPv4 packet; "
		     "write 0.0.0.0/0");
	expect_error("add in drop iface aaaaaaaaaaaaaaaaaaaa\n",
		     "line 1: invalid interface name 'aaaaaaaaaaaaaaaaaaaa'");
	expect_error("policy\n", "line 1: missing direction");
	expect_error("policy in\n", "line 1: missing action");
	expect_error("policy sideways drop\n", "line 1: invalid direction 'sideways'");
	expect_error("policy in reject\n", "line 1: invalid policy 'reject'");
	expect_error("policy in drop now\n", "line 1: unexpected argument 'now'");
	expect_error("policy in drop\npolicy in accept\n",
		     "line 2: duplicate policy for 'in'");
	/* Words are case sensitive, like on the command line. */
	expect_error("ADD in drop\n", "line 1: unknown command 'ADD'");
}

/* The size of a string literal that holds NUL bytes, without its final NUL. */
#define BYTES(s)	s, sizeof(s) - 1

/*
 * Text after a NUL byte must not vanish: "add in drop\0proto tcp dport 22"
 * read as "add in drop" would drop everything.
 */
static void test_nul_byte(void **state)
{
	(void)state;
	expect_error_bytes(BYTES("policy in accept\n# comment\n"
				 "add in drop\0proto tcp dport 22\n"),
			   "line 3: NUL byte in input");
	expect_error_bytes(BYTES("\0add in drop\n"), "line 1: NUL byte in input");
	expect_error_bytes(BYTES("add in accept\n\0\n"), "line 2: NUL byte in input");
	expect_error_bytes(BYTES("add in accept\n# a \0 in a comment\n"),
			   "line 2: NUL byte in input");
	expect_error_bytes(BYTES("add in accept\nadd in drop\0"),
			   "line 2: NUL byte in input");
}

/* The first bad line is reported, not a later one. */
static void test_first_error_wins(void **state)
{
	(void)state;
	expect_error("add in drop\n"
		     "add in drop proto foo\n"
		     "add in drop src 300.1.2.3\n",
		     "line 2: invalid protocol 'foo'");
}

static void test_long_line(void **state)
{
	char text[2048] = "add in drop";
	int i;

	(void)state;
	/* More tokens than any valid line has still gives a clean error. */
	for (i = 0; i < 100; i++)
		strcat(text, " proto tcp");
	strcat(text, "\n");
	expect_error(text, "line 1: duplicate keyword 'proto'");
}

static void test_many_rules(void **state)
{
	const size_t count = 20000;
	char err[RESTORE_ERR_MAX];
	char buf[RULE_TEXT_MAX];
	struct restore rs;
	size_t len = 0, i;
	char *text;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	fprintf(f, "policy in drop\n");
	for (i = 0; i < count; i++)
		fprintf(f, "add in accept proto tcp src 198.51.100.%zu dport %zu\n",
			i % 256, i % 65536);
	fclose(f);

	assert_int_equal(parse_text(&rs, text, err), 0);
	assert_int_equal(rs.count, count);
	assert_int_equal(rs.lines[0], 2);
	assert_int_equal(rs.lines[count - 1], count + 1);
	rule_text(&rs, 12345, buf);
	assert_string_equal(buf, "in accept proto tcp src 198.51.100.57/32 dport 12345");
	restore_free(&rs);
	free(text);
}

/*
 * The rule past the module's limit stops the parse at once: the kernel
 * would refuse the table anyway, after a huge file had been read and sent.
 */
static void test_rule_limit(void **state)
{
	const char *five =
		"policy in drop\n"
		"add in drop proto tcp dport 1\n"
		"add in drop proto tcp dport 2\n"
		"add in drop proto tcp dport 3\n"
		"add in drop proto tcp dport 4\n"
		"add in drop proto tcp dport 5\n"
		"policy out drop\n";
	char err[RESTORE_ERR_MAX];
	struct restore rs;
	size_t len = 0, i;
	char *text;
	FILE *f;

	(void)state;
	assert_int_equal(parse_bytes(&rs, five, strlen(five), 5, err), 0);
	assert_int_equal(rs.count, 5);
	restore_free(&rs);

	f = open_memstream(&text, &len);
	assert_non_null(f);
	fputs(five, f);
	for (i = 0; i < 100000; i++)
		fputs("add in drop\n", f);
	fclose(f);
	assert_int_equal(parse_bytes(&rs, text, len, 5, err), -1);
	assert_string_equal(err, "line 8: more rules than the kfw module's limit of 5 (max_rules)");
	assert_int_equal(rs.count, 5);
	restore_free(&rs);

	/* 0 is no limit. */
	assert_int_equal(parse_bytes(&rs, text, len, 0, err), 0);
	assert_int_equal(rs.count, 100005);
	restore_free(&rs);
	free(text);
}

/* A file that cannot be read is an error, not an empty table. */
static void test_read_error(void **state)
{
	char err[RESTORE_ERR_MAX];
	struct restore rs;
	FILE *dir = fopen("/", "r");

	(void)state;
	assert_non_null(dir);
	assert_int_equal(restore_parse(&rs, dir, "'/'", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "reading '/': Is a directory");
	restore_free(&rs);
	fclose(dir);
}

/* What `fwctl save` prints parses back to the same text. */
static void test_save_round_trip(void **state)
{
	const char *save =
		"policy in accept\n"
		"policy out drop\n"
		"add in drop proto tcp src 192.0.2.1/32 dport 22\n"
		"add in accept src 2001:db8::/32 dst 2001:db8:1::/48\n"
		"add out drop proto udp sport 1000-2000 dport 53 iface veth0\n"
		"add out accept proto 47\n"
		"add in drop\n";
	char err[RESTORE_ERR_MAX];
	char buf[RULE_TEXT_MAX];
	struct restore rs;
	char *out;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	assert_int_equal(parse_text(&rs, save, err), 0);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	fprintf(f, "policy in %s\n", rule_verdict_name(rs.policy[KFW_DIR_IN]));
	fprintf(f, "policy out %s\n", rule_verdict_name(rs.policy[KFW_DIR_OUT]));
	for (i = 0; i < rs.count; i++) {
		rule_text(&rs, i, buf);
		fprintf(f, "add %s\n", buf);
	}
	fclose(f);
	assert_string_equal(out, save);
	free(out);
	restore_free(&rs);
}

static void test_quoted_tokens(void **state)
{
	const char *text =
		"add in drop proto tcp payload \"GET /admin\" comment \"no admin\"\n"
		"add in drop comment \"a # b\" # a real comment\n"
		"add in drop comment \"#hash\"\n"
		"add in drop payload \"  two  spaces  \"\t\r\n"
		"\"add\" \"in\" \"accept\" comment \"x\"y\"\n";
	char err[RESTORE_ERR_MAX];
	char buf[RULE_TEXT_MAX];
	struct restore rs;

	(void)state;
	/* On line 5 only the '"' before the newline ends the quoted token. */
	assert_int_equal(parse_text(&rs, text, err), -1);
	assert_string_equal(err, "line 5: invalid comment 'x\"y'");
	restore_free(&rs);

	text =
		"add in drop proto tcp payload \"GET /admin\" comment \"no admin\"\n"
		"add in drop comment \"a # b\" # a real comment\n"
		"add in drop comment \"#hash\"\n"
		"add in drop payload \"  two  spaces  \"\t\r\n"
		"\"add\" \"in\" \"accept\" comment \"x\"\n";
	assert_int_equal(parse_text(&rs, text, err), 0);
	assert_int_equal(rs.count, 5);
	rule_text(&rs, 0, buf);
	assert_string_equal(buf, "in drop proto tcp payload \"GET /admin\" comment \"no admin\"");
	assert_string_equal(rs.rules[0].comment, "no admin");
	assert_int_equal(rs.rules[0].payload_len, 10);
	rule_text(&rs, 1, buf);
	assert_string_equal(buf, "in drop comment \"a # b\"");
	rule_text(&rs, 2, buf);
	assert_string_equal(buf, "in drop comment \"#hash\"");
	rule_text(&rs, 3, buf);
	assert_string_equal(buf, "in drop payload \"  two  spaces  \"");
	rule_text(&rs, 4, buf);
	assert_string_equal(buf, "in accept comment \"x\"");
	restore_free(&rs);
}

static void test_quote_errors(void **state)
{
	(void)state;
	expect_error("add in drop comment \"allow ssh\n",
		     "line 1: missing closing quote in '\"allow ssh'");
	expect_error("add in drop comment \"allow ssh   \t\r\n",
		     "line 1: missing closing quote in '\"allow ssh'");
	expect_error("add in drop comment \"a\"b\n",
		     "line 1: missing closing quote in '\"a\"b'");
	expect_error("add in drop comment \"\n", "line 1: missing closing quote in '\"'");
	expect_error("\nadd in drop comment \"0123456789012345678901234567890123456789 more\n",
		     "line 2: missing closing quote in "
		     "'\"012345678901234567890123456789012345678...'");
	expect_error("add in drop comment \"\"\n", "line 1: invalid comment ''");
	expect_error("add in drop payload \"\"\n", "line 1: invalid payload ''");
	expect_error("add in drop comment \"a\"b\" x\n", "line 1: invalid comment 'a\"b'");
	expect_error("add in drop comment \"a\\b\"\n", "line 1: invalid comment 'a\\b'");
	/* A quoted keyword is still that keyword, and a '"' inside a word is text. */
	expect_error("add in drop \"state\" \"bogus\"\n", "line 1: invalid state 'bogus'");
	expect_error("add in drop comment a\"b\n", "line 1: invalid comment 'a\"b'");
}

static void test_new_errors(void **state)
{
	(void)state;
	expect_error("add in drop state bogus\n", "line 1: invalid state 'bogus'");
	expect_error("add in drop proto icmp icmp-type ping\n",
		     "line 1: invalid icmp type 'ping'");
	expect_error("add in drop payload-hex xyz\n", "line 1: invalid hex 'xyz'");
	expect_error("add in drop log log-rate 5/h\n", "line 1: invalid log rate '5/h'");
	expect_error("add in drop log-rate 5/s\n", "line 1: 'log-rate' needs log");
	expect_error("add in drop payload-within 5\n", "line 1: 'payload-within' needs payload");
	expect_error("add in drop proto icmp icmp-code 0\n", "line 1: 'icmp-code' needs icmp-type");
	expect_error("add in drop payload a payload-hex 61\n",
		     "line 1: payload and payload-hex are exclusive");
	expect_error("add in drop icmp-type 8\n", "line 1: 'icmp-type' needs proto icmp or icmpv6");
}

/* save | restore | save is byte-identical, text with blanks included. */
static void test_save_round_trip_matches(void **state)
{
	const char *save =
		"policy in drop\n"
		"policy out accept\n"
		"add in accept state established,related\n"
		"add in reject proto tcp dport 23 log comment \"no telnet, ever\"\n"
		"add in drop proto tcp dport 80 payload \"GET /admin\" payload-within 512 "
		"log log-rate 20/s log-burst 5 comment \"# not a comment\"\n"
		"add in drop proto udp payload-hex 00ff0d0a\n"
		"add in drop payload \" \"\n"
		"add in accept proto icmp icmp-type echo-request icmp-code 0\n"
		"add in accept proto icmpv6 src 2001:db8::/32 icmp-type neighbour-solicitation\n"
		"add out drop proto icmp icmp-type 42 log log-rate 7/m\n"
		"add out accept iface veth0 state new comment \"a  b\"\n";
	char err[RESTORE_ERR_MAX];
	char buf[RULE_TEXT_MAX];
	struct restore rs;
	char *out;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	assert_int_equal(parse_text(&rs, save, err), 0);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	fprintf(f, "policy in %s\n", rule_verdict_name(rs.policy[KFW_DIR_IN]));
	fprintf(f, "policy out %s\n", rule_verdict_name(rs.policy[KFW_DIR_OUT]));
	for (i = 0; i < rs.count; i++) {
		rule_text(&rs, i, buf);
		fprintf(f, "add %s\n", buf);
	}
	fclose(f);
	assert_string_equal(out, save);
	free(out);
	restore_free(&rs);
}

int restore_test_run(int *total)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_policies_only),
		cmocka_unit_test(test_one_policy),
		cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_rule_limit),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_save_round_trip),
		cmocka_unit_test(test_quoted_tokens),
		cmocka_unit_test(test_quote_errors),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_save_round_trip_matches),
	};

	*total += (int)ARRAY_SIZE(tests);
	return cmocka_run_group_tests_name("restore", tests, NULL, NULL);
}
