// SPDX-License-Identifier: GPL-2.0
/*
 * fwctl: the command-line tool of the kfw firewall.
 *
 * Every command parses and checks all of its arguments before it opens a
 * netlink socket, so a typo never reaches the kernel. Errors are one line
 * on stderr naming the bad token, printed by print_error(); a missing
 * argument adds the command's usage, since there is no token to name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "restore.h"
#include "rule.h"
#include "shadow.h"
#include "show.h"
#include "version.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The stdout buffer of list and save. */
#define OUTPUT_BUF_SIZE	(256 << 10)

/* Set by -j: list, stats and test print JSON. */
static bool json;

struct command {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *description;
};

/* Room for any error line: a restore error, or a rule error and a usage. */
#define ERROR_LINE_MAX	(RESTORE_ERR_MAX + 256)

static void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Every error line that may quote the user's tokens goes out here, the
 * tokens' control bytes escaped (see rule_escape()).
 */
static void print_error(const char *fmt, ...)
{
	char line[ERROR_LINE_MAX];
	char shown[4 * ERROR_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rule_escape(shown, sizeof(shown), line);
	fprintf(stderr, "fwctl: %s\n", shown);
}

/* A missing argument has no token to name, so the error shows the usage. */
static int missing(const char *what, const char *synopsis)
{
	print_error("missing %s (usage: fwctl %s)", what, synopsis);
	return 1;
}

/* An argument error, with the usage when the argument was missing. */
static int arg_error(const char *err, bool missing_arg, const char *synopsis)
{
	if (missing_arg)
		print_error("%s (usage: fwctl %s)", err, synopsis);
	else
		print_error("%s", err);
	return 1;
}

static int unexpected(const char *arg)
{
	print_error("unexpected argument '%s'", arg);
	return 1;
}

/* Commands without arguments share this check. */
static int no_arguments(int argc, char *argv[])
{
	return argc > 1 ? unexpected(argv[1]) : 0;
}

/* Parses "DIR ACTION [MATCH...]" and prints the error itself. */
static int parse_rule_args(struct rule *r, int argc, char *argv[],
			   const char *synopsis)
{
	char err[RULE_ERR_MAX];

	if (!rule_parse(r, argc, argv, err, sizeof(err)))
		return 0;
	return arg_error(err, argc < 2, synopsis);
}

/* Writing to a closed pipe or a full disk must not look like success. */
static int finish_output(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	print_error("writing the output: %s", strerror(errno));
	return 1;
}

/* Names rules by position and handle, for a table read from the kernel. */
static void warn_shadowed_rule(size_t rule, size_t by, void *data)
{
	const struct rule *rules = data;

	print_error("warning: rule %zu (handle %" PRIu64 ") can never match: "
		    "rule %zu (handle %" PRIu64 ") covers it", rule + 1,
		    rules[rule].handle, by + 1, rules[by].handle);
}

/*
 * After an add or insert: is the new rule shadowed, or does it shadow a
 * later one? The table is read back after the change, so positions and
 * handles are those of a table that existed; the new rule is found by its
 * handle. The rule is in, whatever happens here: a failure only warns.
 */
static void warn_shadowed_after_add(struct fwnl *nl, uint64_t handle)
{
	struct rule *rules = NULL;
	struct fwnl_error e;
	size_t count = 0, pos;

	if (fwnl_get_rules(nl, &rules, &count, &e)) {
		fwnl_report(&e, "warning: reading the rules back to look for shadowed ones");
		return;
	}
	for (pos = 0; pos < count; pos++)
		if (rules[pos].handle == handle)
			break;
	if (pos < count &&
	    shadow_check_one(rules, count, pos, warn_shadowed_rule, rules) < 0)
		print_error("warning: looking for shadowed rules: out of memory");
	rule_release_all(rules, count);
	free(rules);
}

static int cmd_add(int argc, char *argv[])
{
	const char *synopsis = "add DIR ACTION [MATCH...]";
	struct fwnl_error e;
	struct fwnl *nl;
	uint64_t handle;
	struct rule r;
	int ret = 0;

	if (parse_rule_args(&r, argc - 1, argv + 1, synopsis))
		return 1;
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_add_rule(nl, &r, 0, &handle, &e)) {
		fwnl_report(&e, "adding the rule");
		ret = 1;
	} else {
		warn_shadowed_after_add(nl, handle);
	}
	fwnl_close(nl);
	return ret;
}

/*
 * The kernel refuses a position past the end without saying where the end
 * is, so we ask for the rule count. Whatever errno the kernel chose, a
 * position past count + 1 explains the refusal best.
 */
static void report_insert_error(struct fwnl *nl, const struct fwnl_error *e,
				const char *pos_arg, uint32_t pos)
{
	struct fwnl_error info_e;
	struct fwnl_info info;

	if (e->err != EPERM && !fwnl_get_info(nl, &info, &info_e) &&
	    (uint64_t)pos > (uint64_t)info.rule_count + 1) {
		print_error("invalid position '%s': the table has %" PRIu32 " rules",
			    pos_arg, info.rule_count);
		return;
	}
	fwnl_report(e, "inserting the rule");
}

static int cmd_insert(int argc, char *argv[])
{
	const char *synopsis = "insert POS DIR ACTION [MATCH...]";
	char err[RULE_ERR_MAX];
	struct fwnl_error e;
	struct fwnl *nl;
	uint64_t handle;
	struct rule r;
	uint32_t pos;
	int ret = 0;

	if (argc < 2)
		return missing("position", synopsis);
	if (rule_parse_position(argv[1], &pos, err, sizeof(err))) {
		print_error("%s", err);
		return 1;
	}
	if (parse_rule_args(&r, argc - 2, argv + 2, synopsis))
		return 1;
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_add_rule(nl, &r, pos, &handle, &e)) {
		report_insert_error(nl, &e, argv[1], pos);
		ret = 1;
	} else {
		warn_shadowed_after_add(nl, handle);
	}
	fwnl_close(nl);
	return ret;
}

static int cmd_del(int argc, char *argv[])
{
	char err[RULE_ERR_MAX];
	struct fwnl_error e;
	struct fwnl *nl;
	uint64_t handle;
	int ret = 0;

	if (argc < 2)
		return missing("handle", "del HANDLE");
	if (rule_parse_handle(argv[1], &handle, err, sizeof(err))) {
		print_error("%s", err);
		return 1;
	}
	if (argc > 2)
		return unexpected(argv[2]);
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_del_rule(nl, handle, &e)) {
		if (!e.local && e.err == ENOENT)
			print_error("no rule with handle %" PRIu64, handle);
		else
			fwnl_report(&e, "deleting the rule");
		ret = 1;
	}
	fwnl_close(nl);
	return ret;
}

/*
 * The per-rule printers below write each rule with one fwrite() of text
 * that the formatter left in place, rather than printf(): with 100 000
 * rules, parsing the format string again for every line cost as much as
 * formatting the rule. A formatter's -1 leaves "" and so an empty line, as
 * printf() of its output did; with these buffer sizes it cannot happen.
 */
static void print_rules_text(const struct fwnl_info *info,
			     const struct rule *rules, size_t count)
{
	char line[RULE_LINE_MAX + 1];	/* the line and its newline */
	size_t i;

	if (info->confirm_left_ms)
		printf("confirm within %" PRIu32 " s, or the previous rules come back\n",
		       (info->confirm_left_ms + 999) / 1000);
	printf("policy in %s\n", rule_verdict_name(info->policy[KFW_DIR_IN]));
	printf("policy out %s\n", rule_verdict_name(info->policy[KFW_DIR_OUT]));
	printf("handle dir action packets bytes match\n");
	for (i = 0; i < count; i++) {
		int len = rule_format_line(&rules[i], line, RULE_LINE_MAX);

		if (len < 0)
			len = 0;
		line[len++] = '\n';
		fwrite(line, 1, (size_t)len, stdout);
	}
}

static void print_rules_json(const struct fwnl_info *info,
			     const struct rule *rules, size_t count)
{
	char obj[RULE_JSON_MAX];
	size_t i;

	printf("{\"policy\":{\"in\":\"%s\",\"out\":\"%s\"},",
	       rule_verdict_name(info->policy[KFW_DIR_IN]),
	       rule_verdict_name(info->policy[KFW_DIR_OUT]));
	if (info->confirm_left_ms)
		printf("\"confirm_left_ms\":%" PRIu32 ",", info->confirm_left_ms);
	printf("\"rules\":[");
	for (i = 0; i < count; i++) {
		int len = rule_format_json(&rules[i], obj, sizeof(obj));

		if (i)
			putc(',', stdout);
		fwrite(obj, 1, len < 0 ? 0 : (size_t)len, stdout);
	}
	printf("]}\n");
}

static void print_save(const struct fwnl_info *info,
		       const struct rule *rules, size_t count)
{
	/* "add ", the rule's text formatted in place after it, a newline. */
	char line[4 + RULE_TEXT_MAX + 1] = "add ";
	size_t i;

	printf("policy in %s\n", rule_verdict_name(info->policy[KFW_DIR_IN]));
	printf("policy out %s\n", rule_verdict_name(info->policy[KFW_DIR_OUT]));
	for (i = 0; i < count; i++) {
		int len = rule_format(&rules[i], line + 4, RULE_TEXT_MAX);

		if (len < 0)
			len = 0;
		line[4 + len] = '\n';
		fwrite(line, 1, 4 + (size_t)len + 1, stdout);
	}
}

/* list and save read the same data and differ only in how they print it. */
static int show_table(void (*print)(const struct fwnl_info *info,
				    const struct rule *rules, size_t count))
{
	static char outbuf[OUTPUT_BUF_SIZE];
	struct rule *rules = NULL;
	struct fwnl_info info;
	struct fwnl_error e;
	struct fwnl *nl;
	size_t count = 0;
	int ret = 1;

	/*
	 * A large table is megabytes of text: with a bigger buffer than the
	 * 4 KiB stdio picks for pipes and files it takes 64 times fewer
	 * write()s. Nothing has been written to stdout yet, as setvbuf() needs.
	 * (glibc ignores the size unless we pass the buffer.)
	 */
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_get_info(nl, &info, &e)) {
		fwnl_report(&e, "reading the policies");
		goto out;
	}
	if (fwnl_get_rules(nl, &rules, &count, &e)) {
		fwnl_report(&e, "reading the rules");
		goto out;
	}
	print(&info, rules, count);
	ret = finish_output();
out:
	rule_release_all(rules, count);
	free(rules);
	fwnl_close(nl);
	return ret;
}

static int cmd_list(int argc, char *argv[])
{
	if (no_arguments(argc, argv))
		return 1;
	return show_table(json ? print_rules_json : print_rules_text);
}

static int cmd_save(int argc, char *argv[])
{
	if (no_arguments(argc, argv))
		return 1;
	return show_table(print_save);
}

/* Prints a shadowed rule of the loaded table, whose rules data holds. */
static void print_shadowed_rule(size_t rule, size_t by, void *data)
{
	const struct rule *rules = data;

	printf("rule %zu (handle %" PRIu64 ") can never match: rule %zu (handle %"
	       PRIu64 ") covers it\n", rule + 1, rules[rule].handle, by + 1,
	       rules[by].handle);
}

/* Lists the loaded table's shadowed rules; 1 if there is any, as for errors. */
static int cmd_check(int argc, char *argv[])
{
	struct rule *rules = NULL;
	struct fwnl_error e;
	struct fwnl *nl;
	size_t count = 0;
	int ret = 1, found;

	if (no_arguments(argc, argv))
		return 1;
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_get_rules(nl, &rules, &count, &e)) {
		fwnl_report(&e, "reading the rules");
		goto out;
	}
	found = shadow_check(rules, count, print_shadowed_rule, rules);
	if (found < 0)
		print_error("looking for shadowed rules: out of memory");
	else if (finish_output() == 0)
		ret = found > 0;
out:
	rule_release_all(rules, count);
	free(rules);
	fwnl_close(nl);
	return ret;
}

/* For the commands that send one argument-less request. */
static int simple(int argc, char *argv[],
		  int (*fn)(struct fwnl *nl, struct fwnl_error *e),
		  const char *doing)
{
	struct fwnl_error e;
	struct fwnl *nl;
	int ret = 0;

	if (no_arguments(argc, argv))
		return 1;
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fn(nl, &e)) {
		fwnl_report(&e, doing);
		ret = 1;
	}
	fwnl_close(nl);
	return ret;
}

static int cmd_flush(int argc, char *argv[])
{
	return simple(argc, argv, fwnl_flush, "flushing the rules");
}

static int cmd_zero(int argc, char *argv[])
{
	return simple(argc, argv, fwnl_zero, "zeroing the counters");
}

static int cmd_policy(int argc, char *argv[])
{
	const char *synopsis = "policy DIR accept|drop";
	char err[RULE_ERR_MAX];
	uint8_t dir, verdict;
	struct fwnl_error e;
	struct fwnl *nl;
	int ret = 0;

	if (rule_parse_policy(argc - 1, argv + 1, &dir, &verdict, err, sizeof(err))) {
		return arg_error(err, argc < 3, synopsis);
	}
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_set_policy(nl, dir, verdict, &e)) {
		fwnl_report(&e, "setting the policy");
		ret = 1;
	}
	fwnl_close(nl);
	return ret;
}

/*
 * Only a refused rule has a line: a full table (ENOSPC) or a lost
 * transaction is nobody's line. Without an attribute offset in the kernel's
 * answer we only know which chunk it refused, so we name the chunk's lines
 * rather than guess one.
 */
static void report_restore_error(const struct restore *rs,
				 const struct fwnl_error *e,
				 const struct fwnl_blame *blame)
{
	unsigned int first, last;

	if (blame->first >= rs->count || e->err == EPERM ||
	    (e->err != EINVAL && !e->has_offset)) {
		fwnl_report(e, "replacing the rules");
		return;
	}
	first = rs->lines[blame->first];
	last = blame->last < rs->count ? rs->lines[blame->last] : first;
	if (e->msg[0] && first == last)
		print_error("line %u: %s", first, e->msg);
	else if (e->msg[0])
		print_error("line %u: %s (a rule of lines %u-%u)", first, e->msg,
			    first, last);
	else if (first == last)
		print_error("line %u: the kernel refused the rule: %s", first,
			    strerror(e->err));
	else
		print_error("line %u: the kernel refused a rule of lines %u-%u: %s",
			    first, first, last, strerror(e->err));
}

/*
 * The rule limit of the loaded module, 0 if unknown (not loaded yet). The
 * module parameter gives it without a netlink request, so that a bad file
 * is still refused before anything talks to the kernel.
 */
static size_t module_rule_limit(void)
{
	FILE *f = fopen("/sys/module/kfw/parameters/max_rules", "r");
	unsigned long limit;

	if (!f)
		return 0;
	if (fscanf(f, "%lu", &limit) != 1)
		limit = 0;
	fclose(f);
	return limit;
}

#define RESTORE_SYNOPSIS "restore [--check | --confirm SECONDS] [--zero] [FILE]"

/* The options of restore, which come before FILE; the index of FILE, or -1. */
static int parse_restore_options(int argc, char *argv[],
				 struct fwnl_replace_how *how)
{
	char err[RULE_ERR_MAX];
	int arg;

	memset(how, 0, sizeof(*how));
	for (arg = 1; arg < argc && argv[arg][0] == '-' && argv[arg][1]; arg++) {
		if (!strcmp(argv[arg], "--check")) {
			how->check = true;
		} else if (!strcmp(argv[arg], "--zero")) {
			how->zero = true;
		} else if (!strcmp(argv[arg], "--confirm")) {
			if (++arg == argc) {
				arg_error("--confirm needs a number of seconds",
					  true, RESTORE_SYNOPSIS);
				return -1;
			}
			if (rule_parse_confirm(argv[arg], &how->confirm_seconds,
					       err, sizeof(err))) {
				arg_error(err, false, RESTORE_SYNOPSIS);
				return -1;
			}
		} else {
			print_error("unknown option '%s'", argv[arg]);
			return -1;
		}
	}
	if (how->check && how->confirm_seconds) {
		print_error("--check installs nothing to confirm: use one of --check and --confirm");
		return -1;
	}
	if (argc - arg > 1) {
		unexpected(argv[arg + 1]);
		return -1;
	}
	return arg;
}

/* Names rules by their position in the new table and their line. */
static void warn_shadowed_line(size_t rule, size_t by, void *data)
{
	const struct restore *rs = data;

	print_error("warning: rule %zu (line %u) can never match: rule %zu (line %u) covers it",
		    rule + 1, rs->lines[rule], by + 1, rs->lines[by]);
}

static int cmd_restore(int argc, char *argv[])
{
	char err[RESTORE_ERR_MAX];
	char name[256] = "standard input";
	struct fwnl_replace_how how;
	const char *path = "-";
	struct fwnl_error e;
	struct restore rs;
	struct fwnl *nl;
	struct fwnl_blame blame;
	FILE *in = stdin;
	int ret = 1, arg;

	arg = parse_restore_options(argc, argv, &how);
	if (arg < 0)
		return 1;
	if (arg < argc)
		path = argv[arg];
	if (strcmp(path, "-")) {
		in = fopen(path, "r");
		if (!in) {
			print_error("opening '%s': %s", path, strerror(errno));
			return 1;
		}
		snprintf(name, sizeof(name), "'%s'", path);
	}
	if (restore_parse(&rs, in, name, module_rule_limit(), err, sizeof(err))) {
		print_error("%s", err);
		goto out;
	}

	nl = fwnl_open();
	if (!nl)
		goto out;
	if (fwnl_replace(nl, &rs, &how, &blame, &e)) {
		report_restore_error(&rs, &e, &blame);
	} else {
		ret = 0;
		if (shadow_check(rs.rules, rs.count, warn_shadowed_line, &rs) < 0)
			print_error("warning: looking for shadowed rules: out of memory");
		if (how.confirm_seconds)
			printf("the new rules revert in %" PRIu32 " s unless 'fwctl confirm' runs\n",
			       how.confirm_seconds);
		else if (how.check)
			printf("%s: the kernel would take %zu rule%s\n", name, rs.count,
			       rs.count == 1 ? "" : "s");
	}
	fwnl_close(nl);
out:
	restore_free(&rs);
	if (in != stdin)
		fclose(in);
	return ret;
}

/* The kernel's refusal names the problem: "no restore awaits confirmation". */
static int cmd_confirm(int argc, char *argv[])
{
	return simple(argc, argv, fwnl_confirm, "confirming the restore");
}

static int cmd_stats(int argc, char *argv[])
{
	bool prometheus = argc > 1 && !strcmp(argv[1], "--prometheus");
	struct rule *rules = NULL;
	struct fwnl_info info;
	struct fwnl_error e;
	struct fwnl *nl;
	size_t count = 0;
	int ret = 1;

	if (no_arguments(argc - prometheus, argv + prometheus))
		return 1;
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_get_info(nl, &info, &e)) {
		fwnl_report(&e, "reading the counters");
	} else if (prometheus && fwnl_get_rules(nl, &rules, &count, &e)) {
		fwnl_report(&e, "reading the rules");
	} else {
		if (prometheus)
			show_stats_prometheus(stdout, &info, rules, count);
		else if (json)
			show_stats_json(stdout, &info);
		else
			show_stats_text(stdout, &info);
		ret = finish_output();
	}
	rule_release_all(rules, count);
	free(rules);
	fwnl_close(nl);
	return ret;
}

#define TEST_SYNOPSIS \
	"test DIR [proto P] [src ADDR] [dst ADDR] [sport N] [dport N] " \
	"[iface NAME] [state S] [icmp-type T] [icmp-code C]"

static int cmd_test(int argc, char *argv[])
{
	struct fwnl_test_result res;
	char err[RULE_ERR_MAX];
	struct rule_packet p;
	struct fwnl_error e;
	struct fwnl *nl;
	int ret = 1;

	if (rule_parse_packet(&p, argc - 1, argv + 1, err, sizeof(err)))
		return arg_error(err, argc < 2, TEST_SYNOPSIS);
	nl = fwnl_open();
	if (!nl)
		return 1;
	if (fwnl_test(nl, &p, &res, &e)) {
		fwnl_report(&e, "testing the packet");
	} else {
		if (json)
			show_test_json(stdout, p.dir, &res);
		else
			show_test_text(stdout, p.dir, &res);
		ret = finish_output();
	}
	fwnl_close(nl);
	return ret;
}

static int cmd_help(int argc, char *argv[]);
static int cmd_version(int argc, char *argv[]);

static const struct command commands[] = {
	{ "add",	cmd_add,	"append a rule" },
	{ "insert",	cmd_insert,	"insert a rule at position POS (1 = first)" },
	{ "del",	cmd_del,	"delete the rule with that handle" },
	{ "list",	cmd_list,	"rules in evaluation order, with handles and counters" },
	{ "flush",	cmd_flush,	"delete all rules (policies stay)" },
	{ "policy",	cmd_policy,	"default verdict of a direction" },
	{ "zero",	cmd_zero,	"reset all counters" },
	{ "save",	cmd_save,	"print policies and rules as restore input" },
	{ "restore",	cmd_restore,	"replace policies and rules from FILE or stdin, atomically" },
	{ "confirm",	cmd_confirm,	"keep the rules of a restore --confirm" },
	{ "check",	cmd_check,	"list the rules that can never match (exit 1 if any)" },
	{ "stats",	cmd_stats,	"per-direction counters (--prometheus: and per rule, for Prometheus)" },
	{ "test",	cmd_test,	"which rule a packet would hit, and its verdict" },
	{ "help",	cmd_help,	"show this help" },
	{ "version",	cmd_version,	"show the version of fwctl" },
	{ NULL, NULL, NULL }
};

static void print_help(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: fwctl [-j] COMMAND [ARGS...]\n\nCommands:\n");
	for (i = 0; commands[i].name; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].description);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -j       print list, stats and test as JSON\n"
		"\n"
		"Arguments:\n"
		"  add DIR ACTION [MATCH...]\n"
		"  insert POS DIR ACTION [MATCH...]\n"
		"  del HANDLE\n"
		"  policy DIR accept|drop\n"
		"  " RESTORE_SYNOPSIS "\n"
		"  stats [--prometheus]\n"
		"  " TEST_SYNOPSIS "\n"
		"\n"
		"DIR     in | out\n"
		"ACTION  accept | drop | reject\n"
		"MATCH   proto tcp|udp|icmp|icmpv6|NUMBER\n"
		"        src ADDR[/LEN]   dst ADDR[/LEN]\n"
		"        sport PORT[-PORT]   dport PORT[-PORT]   (with proto tcp or udp)\n"
		"        icmp-type NAME|NUMBER   (with proto icmp or icmpv6)\n"
		"        icmp-code NUMBER        (with icmp-type)\n"
		"        iface NAME\n"
		"        state STATE[,STATE...]  (new, established, related, invalid)\n"
		"        payload TEXT | payload-hex HEX   payload-within N\n"
		"        over N/s|N/m|N/h   burst N   per-src\n"
		"        log   log-rate N/s|N/m   log-burst N\n"
		"        timeout N[s|m|h|d]      (deleted by the kernel after that)\n"
		"        comment TEXT\n");
}

static int cmd_help(int argc, char *argv[])
{
	if (no_arguments(argc, argv))
		return 1;
	print_help(stdout);
	return finish_output();
}

static int cmd_version(int argc, char *argv[])
{
	if (no_arguments(argc, argv))
		return 1;
	printf("fwctl %s\n", FWCTL_VERSION);
	return finish_output();
}

static const struct {
	const char *alias;
	const char *name;
} aliases[] = {
	{ "--help",	"help" },
	{ "-h",		"help" },
	{ "--version",	"version" },
};

int main(int argc, char *argv[])
{
	const char *name;
	size_t i;
	int arg = 1;

	/* Options come before the command; -j is the only real one. */
	while (arg < argc && !strcmp(argv[arg], "-j")) {
		json = true;
		arg++;
	}
	if (arg >= argc) {
		print_help(stderr);
		return 1;
	}

	name = argv[arg];
	for (i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(name, aliases[i].alias))
			name = aliases[i].name;
	for (i = 0; commands[i].name; i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].run(argc - arg, argv + arg);

	if (name[0] == '-')
		print_error("unknown option '%s'", name);
	else
		print_error("unknown command '%s'", name);
	return 1;
}
