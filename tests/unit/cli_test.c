// SPDX-License-Identifier: GPL-2.0
/*
 * cli: the fwctl binary itself, for everything that must fail or succeed
 * before any netlink socket is opened. Each bad input must give exactly one
 * line on stderr (with the usage when an argument is missing), nothing
 * on stdout and exit status 1. On a host without the kfw module a command
 * that reached the kernel would say "the kfw module is not loaded" instead,
 * so these tests also show that parse errors never get that far.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"
#include "version.h"

#ifndef FWCTL_PATH
#error "FWCTL_PATH must name the fwctl binary under test"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ARGS_MAX 32

struct result {
	int status;
	char out[8192];
	char err[8192];
};

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs fwctl with @line split on spaces; an empty @line runs it bare. */
static void run(struct result *res, const char *line)
{
	char copy[1024], *argv[ARGS_MAX + 2], *tok;
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 0, status;
	pid_t pid;

	assert_non_null(out);
	assert_non_null(err);
	snprintf(copy, sizeof(copy), "%s", line);
	argv[argc++] = FWCTL_PATH;
	for (tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
		assert_true(argc <= ARGS_MAX);
		argv[argc++] = tok;
	}
	argv[argc] = NULL;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fileno(out), STDOUT_FILENO);
		dup2(fileno(err), STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	slurp(out, res->out, sizeof(res->out));
	slurp(err, res->err, sizeof(res->err));
}

static void expect_failure(const char *line, const char *want_err)
{
	struct result res;

	run(&res, line);
	if (strcmp(res.err, want_err))
		fail_msg("fwctl %s: stderr \"%s\", want \"%s\"", line, res.err, want_err);
	if (res.status != 1)
		fail_msg("fwctl %s: exit status %d, want 1", line, res.status);
	if (res.out[0])
		fail_msg("fwctl %s: unexpected stdout \"%s\"", line, res.out);
}

/* A new temporary file holding @len bytes of @bytes; its name goes to @path. */
static void write_temp(char *path, const char *bytes, size_t len)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/fwctl-unit-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* fwctl restore of a file holding @len bytes of @bytes fails with @want_err. */
static void expect_restore_failure(const char *bytes, size_t len, const char *want_err)
{
	char path[32], line[64];

	write_temp(path, bytes, len);
	snprintf(line, sizeof(line), "restore %s", path);
	expect_failure(line, want_err);
	unlink(path);
}

static void test_bad_tokens(void **state)
{
	static const struct {
		const char *line;
		const char *err;
	} cases[] = {
		{ "frob", "fwctl: unknown command 'frob'\n" },
		{ "-x list", "fwctl: unknown option '-x'\n" },
		{ "add sideways drop", "fwctl: invalid direction 'sideways'\n" },
		{ "add in refuse", "fwctl: invalid action 'refuse'\n" },
		{ "add in drop port 22", "fwctl: unknown keyword 'port'\n" },
		{ "add in drop proto tcp dport", "fwctl: missing value for 'dport'\n" },
		{ "add in drop src 192.0.2.1 src 192.0.2.2",
		  "fwctl: duplicate keyword 'src'\n" },
		{ "add in drop proto foo", "fwctl: invalid protocol 'foo'\n" },
		{ "add in drop src 300.1.2.3", "fwctl: invalid address '300.1.2.3'\n" },
		{ "add in drop src 192.0.2.0/33",
		  "fwctl: invalid prefix length '33' in '192.0.2.0/33'\n" },
		{ "add in drop proto tcp dport 70000", "fwctl: invalid port '70000'\n" },
		{ "add in drop proto tcp dport 90-80",
		  "fwctl: invalid port range '90-80'\n" },
		{ "add in drop dport 22", "fwctl: 'dport' needs proto tcp or udp\n" },
		{ "add in drop src 192.0.2.1 dst 2001:db8::1",
		  "fwctl: src and dst are of different families\n" },
		{ "add in drop iface aaaaaaaaaaaaaaaaaaaa",
		  "fwctl: invalid interface name 'aaaaaaaaaaaaaaaaaaaa'\n" },
		{ "add in drop iface a\"b", "fwctl: invalid interface name 'a\"b'\n" },
		{ "add in drop iface a'b", "fwctl: invalid interface name 'a'b'\n" },
		{ "add in drop iface #eth0", "fwctl: invalid interface name '#eth0'\n" },
		{ "add in drop src 203.0.113.7 timeout 0s", "fwctl: invalid timeout '0s'\n" },
		{ "add in drop timeout 400d",
		  "fwctl: timeout too long '400d' (at most 365d)\n" },
		{ "test in iface ..", "fwctl: invalid interface name '..'\n" },
		{ "insert 2 out drop src 300.1.2.3", "fwctl: invalid address '300.1.2.3'\n" },
		{ "add in drop src ::ffff:192.0.2.1", "fwctl: IPv4-mapped address "
		  "'::ffff:192.0.2.1' matches no IPv4 packet; write 192.0.2.1\n" },
		{ "del x", "fwctl: invalid handle 'x'\n" },
		{ "del 1 2", "fwctl: unexpected argument '2'\n" },
		{ "insert 0 in drop", "fwctl: invalid position '0'\n" },
		{ "insert x in drop", "fwctl: invalid position 'x'\n" },
		{ "policy in reject", "fwctl: invalid policy 'reject'\n" },
		{ "policy in refuse", "fwctl: invalid policy 'refuse'\n" },
		{ "policy sideways drop", "fwctl: invalid direction 'sideways'\n" },
		{ "policy in drop now", "fwctl: unexpected argument 'now'\n" },
		{ "list extra", "fwctl: unexpected argument 'extra'\n" },
		{ "save extra", "fwctl: unexpected argument 'extra'\n" },
		{ "flush extra", "fwctl: unexpected argument 'extra'\n" },
		{ "zero extra", "fwctl: unexpected argument 'extra'\n" },
		{ "stats extra", "fwctl: unexpected argument 'extra'\n" },
		{ "restore a b", "fwctl: unexpected argument 'b'\n" },
		{ "-j add in drop proto tcp dport 0-65536", "fwctl: invalid port '65536'\n" },
		{ "add in drop state bogus", "fwctl: invalid state 'bogus'\n" },
		{ "add in drop state new,bogus", "fwctl: invalid state 'bogus'\n" },
		{ "add in drop proto icmp icmp-type ping", "fwctl: invalid icmp type 'ping'\n" },
		{ "add in drop proto icmp icmp-type echo-request icmp-code 256",
		  "fwctl: invalid icmp code '256'\n" },
		{ "add in drop payload-hex xyz", "fwctl: invalid hex 'xyz'\n" },
		{ "add in drop payload a\"b", "fwctl: invalid payload 'a\"b'\n" },
		{ "add in drop payload x payload-within 0",
		  "fwctl: invalid payload-within '0'\n" },
		{ "add in drop log log-rate 5/h", "fwctl: invalid log rate '5/h'\n" },
		{ "add in drop log log-burst 0", "fwctl: invalid log burst '0'\n" },
		{ "add in drop comment a\"b", "fwctl: invalid comment 'a\"b'\n" },
		{ "add in drop log-rate 5/s", "fwctl: 'log-rate' needs log\n" },
		{ "add in drop log-burst 5", "fwctl: 'log-burst' needs log\n" },
		{ "add in drop proto tcp dport 22 over 6/d", "fwctl: invalid rate '6/d'\n" },
		{ "add in drop over 6/m burst 0", "fwctl: invalid burst '0'\n" },
		{ "add in drop burst 6", "fwctl: 'burst' needs over\n" },
		{ "add in drop per-src", "fwctl: 'per-src' needs over\n" },
		{ "test in over 6/m", "fwctl: unknown keyword 'over'\n" },
		{ "add in drop payload-within 10", "fwctl: 'payload-within' needs payload\n" },
		{ "add in drop proto icmp icmp-code 0", "fwctl: 'icmp-code' needs icmp-type\n" },
		{ "add in drop icmp-type 8", "fwctl: 'icmp-type' needs proto icmp or icmpv6\n" },
		{ "add in drop payload a payload-hex 61",
		  "fwctl: payload and payload-hex are exclusive\n" },
		{ "insert 1 in reject log log", "fwctl: duplicate keyword 'log'\n" },
		{ "test sideways", "fwctl: invalid direction 'sideways'\n" },
		{ "test in src 192.0.2.0/24", "fwctl: invalid address '192.0.2.0/24'\n" },
		{ "test in src 192.0.2.1 dst 2001:db8::1",
		  "fwctl: src and dst are of different families\n" },
		{ "test in dport 22", "fwctl: 'dport' needs proto tcp or udp\n" },
		{ "test in proto tcp dport 1-2", "fwctl: invalid port '1-2'\n" },
		{ "test in state new,established",
		  "fwctl: invalid state 'new,established'\n" },
		{ "-j test in icmp-type echo-request",
		  "fwctl: 'icmp-type' needs proto icmp or icmpv6\n" },
		{ "test in log", "fwctl: unknown keyword 'log'\n" },
		{ "test in drop", "fwctl: unknown keyword 'drop'\n" },
		/* A token's control bytes never reach the terminal as themselves. */
		{ "frob\x1b[2J", "fwctl: unknown command 'frob\\x1b[2J'\n" },
		{ "add in drop src 192.0.2.1\nfwctl:",
		  "fwctl: invalid address '192.0.2.1\\nfwctl:'\n" },
		{ "add in drop proto t\tcp\r", "fwctl: invalid protocol 't\\tcp\\r'\n" },
		{ "add in drop comment caf\xc3\xa9",
		  "fwctl: invalid comment 'caf\\xc3\\xa9'\n" },
		{ "-j add in drop payload a\x7f", "fwctl: invalid payload 'a\\x7f'\n" },
		{ "del 1\x08", "fwctl: invalid handle '1\\x08'\n" },
		{ "insert \x01 in drop", "fwctl: invalid position '\\x01'\n" },
		{ "list \x07", "fwctl: unexpected argument '\\x07'\n" },
		{ "test in state new\x1b", "fwctl: invalid state 'new\\x1b'\n" },
		{ "add in drop iface eth\x1b[0m", "fwctl: invalid interface name 'eth\\x1b[0m'\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_failure(cases[i].line, cases[i].err);
}

static void test_missing_arguments(void **state)
{
	(void)state;
	expect_failure("add", "fwctl: missing direction (usage: fwctl add DIR ACTION [MATCH...])\n");
	expect_failure("add in", "fwctl: missing action (usage: fwctl add DIR ACTION [MATCH...])\n");
	expect_failure("insert", "fwctl: missing position (usage: fwctl insert POS DIR ACTION [MATCH...])\n");
	expect_failure("insert 1", "fwctl: missing direction (usage: fwctl insert POS DIR ACTION [MATCH...])\n");
	expect_failure("del", "fwctl: missing handle (usage: fwctl del HANDLE)\n");
	expect_failure("policy", "fwctl: missing direction (usage: fwctl policy DIR accept|drop)\n");
	expect_failure("policy out", "fwctl: missing action (usage: fwctl policy DIR accept|drop)\n");
	expect_failure("test", "fwctl: missing direction (usage: fwctl test DIR [proto P] "
		       "[src ADDR] [dst ADDR] [sport N] [dport N] [iface NAME] [state S] "
		       "[icmp-type T] [icmp-code C])\n");
	expect_failure("-j test", "fwctl: missing direction (usage: fwctl test DIR [proto P] "
		       "[src ADDR] [dst ADDR] [sport N] [dport N] [iface NAME] [state S] "
		       "[icmp-type T] [icmp-code C])\n");
}

static void test_restore_file_errors(void **state)
{
	static const char nul[] = "policy in accept\nadd in drop\0proto tcp dport 22\n";
	static const char bad_protocol[] = "add in drop proto \x01tcp\n";
	const char *bad = "policy in accept\n# comment\nadd in drop src 300.1.2.3\n";
	char path[32], line[128], want[256];
	struct result res;

	(void)state;
	write_temp(path, bad, strlen(bad));
	snprintf(line, sizeof(line), "restore %s", path);
	expect_failure(line, "fwctl: line 3: invalid address '300.1.2.3'\n");
	unlink(path);

	run(&res, line);
	snprintf(want, sizeof(want),
		 "fwctl: opening '%s': No such file or directory\n", path);
	assert_string_equal(res.err, want);
	assert_int_equal(res.status, 1);

	expect_failure("restore /", "fwctl: reading '/': Is a directory\n");
	expect_restore_failure(nul, sizeof(nul) - 1, "fwctl: line 2: NUL byte in input\n");
	expect_restore_failure(bad_protocol, sizeof(bad_protocol) - 1,
			       "fwctl: line 1: invalid protocol '\\x01tcp'\n");
}

/* Nothing to restore is refused before the kernel is asked. */
static void test_restore_empty(void **state)
{
	const char *comments = "# nothing here\n\n";
	char path[32], line[64], want[160];

	(void)state;
	expect_failure("restore /dev/null", "fwctl: restore: no rules or policies in "
		       "'/dev/null'; use 'fwctl flush' to empty the table\n");
	write_temp(path, comments, strlen(comments));
	snprintf(line, sizeof(line), "restore %s", path);
	snprintf(want, sizeof(want), "fwctl: restore: no rules or policies in '%s'; "
		 "use 'fwctl flush' to empty the table\n", path);
	expect_failure(line, want);
	unlink(path);
}

static void test_help_version(void **state)
{
	static const char *const names[] = {
		"add", "insert", "del", "list", "flush", "policy", "zero",
		"save", "restore", "stats", "test", "help", "version",
	};
	static const char *const help[] = { "help", "--help", "-h" };
	struct result res;
	char want[32];
	size_t i, j;

	(void)state;
	run(&res, "version");
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "fwctl " FWCTL_VERSION "\n");
	assert_string_equal(res.err, "");
	run(&res, "--version");
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "fwctl " FWCTL_VERSION "\n");

	for (i = 0; i < ARRAY_SIZE(help); i++) {
		run(&res, help[i]);
		assert_int_equal(res.status, 0);
		assert_string_equal(res.err, "");
		assert_true(!strncmp(res.out, "Usage: fwctl", 12));
		for (j = 0; j < ARRAY_SIZE(names); j++) {
			snprintf(want, sizeof(want), "\n  %s ", names[j]);
			if (!strstr(res.out, want))
				fail_msg("fwctl %s does not list '%s'", help[i], names[j]);
		}
	}

	/* The usage of test, and the new grammar, are in the help. */
	run(&res, "help");
	assert_non_null(strstr(res.out, "\n  test DIR [proto P] [src ADDR] [dst ADDR] "
			       "[sport N] [dport N] [iface NAME] [state S] "
			       "[icmp-type T] [icmp-code C]\n"));
	assert_non_null(strstr(res.out, "ACTION  accept | drop | reject\n"));
	assert_non_null(strstr(res.out, " state STATE[,STATE...]"));
	assert_non_null(strstr(res.out, " payload-hex HEX"));
	assert_non_null(strstr(res.out, " log-rate N/s|N/m"));
	assert_non_null(strstr(res.out, " over N/s|N/m|N/h   burst N   per-src"));
	assert_non_null(strstr(res.out, " comment TEXT"));

	/* No command at all is a mistake: help, but on stderr and failing. */
	run(&res, "");
	assert_int_equal(res.status, 1);
	assert_string_equal(res.out, "");
	assert_true(!strncmp(res.err, "Usage: fwctl", 12));
}

int cli_test_run(int *total)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_missing_arguments),
		cmocka_unit_test(test_restore_file_errors),
		cmocka_unit_test(test_restore_empty),
		cmocka_unit_test(test_help_version),
	};

	*total += (int)ARRAY_SIZE(tests);
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
