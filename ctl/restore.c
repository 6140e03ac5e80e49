// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a restore file:
 *
 *	# comment
 *	policy in accept
 *	add in drop proto tcp dport 22	# trailing comment
 *
 * Tokens are separated by blanks. A '#' starts a comment only at the start
 * of a token, so an interface called "eth#1" still parses. A token that
 * starts with '"' is quoted: it runs to the next '"' that ends a word
 * (followed by a blank or the end of the line), and is taken without the
 * quotes, blanks and '#' included:
 *
 *	add in drop proto tcp payload "GET /admin" comment "no # admin"
 *
 * There are no escapes; payload and comment text cannot hold '"' or '\'
 * anyway. Errors carry the line number because restore files are written
 * by hand as often as by `fwctl save`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "restore.h"

/*
 * A valid line has at most 32 tokens ("add", DIR, ACTION, the flag "log"
 * and fourteen keyword/value pairs), so a longer one is refused by the rule
 * parser before it runs out of room.
 */
#define TOKENS_MAX	48

static int fail(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(err, errlen, "line %u: ", line);
	n = strlen(err);
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The C locale's isspace(), one load per character of a 100k-line file. */
static const bool blank_char[256] = {
	[' '] = true, ['\t'] = true, ['\r'] = true, ['\n'] = true,
	['\v'] = true, ['\f'] = true,
};

static bool is_blank(char c)
{
	return blank_char[(unsigned char)c];
}

/*
 * Splits @line in place; returns the token count, which may exceed @max, or
 * -1 with *@bad at the opening quote of a quoted token that never ends.
 */
static int tokenize(char *line, char *tokens[], int max, char **bad)
{
	int n = 0;

	for (;;) {
		char *start;

		while (is_blank(*line))
			line++;
		if (!*line || *line == '#')
			return n;
		start = line;
		if (*line == '"') {
			start = ++line;
			while (*line && !(*line == '"' &&
					  (!line[1] || is_blank(line[1]))))
				line++;
			if (!*line) {
				*bad = start - 1;
				return -1;
			}
		} else {
			while (*line && !is_blank(*line))
				line++;
		}
		if (n < max)
			tokens[n] = start;
		n++;
		if (!*line)
			return n;
		*line++ = '\0';
	}
}

static int add_rule(struct restore *rs, const struct rule *r, unsigned int line)
{
	if (rs->count == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct rule *rules = reallocarray(rs->rules, cap, sizeof(*rules));
		unsigned int *lines;

		if (!rules)
			return -1;
		rs->rules = rules;
		lines = reallocarray(rs->lines, cap, sizeof(*lines));
		if (!lines)
			return -1;
		rs->lines = lines;
		rs->cap = cap;
	}
	rs->rules[rs->count] = *r;
	rs->lines[rs->count] = line;
	rs->count++;
	return 0;
}

static int parse_line(struct restore *rs, char *text, unsigned int line,
		      char *err, size_t errlen)
{
	char msg[RULE_ERR_MAX];
	char *tok[TOKENS_MAX];
	char *bad = NULL;
	int n = tokenize(text, tok, TOKENS_MAX, &bad);
	int argc = n < TOKENS_MAX ? n : TOKENS_MAX;
	uint8_t dir, verdict;
	struct rule r;

	if (n < 0) {
		size_t len = strlen(bad);

		while (len && is_blank(bad[len - 1]))
			len--;
		if (len > RULE_TOKEN_SHOWN)
			return fail(err, errlen, line, "missing closing quote in '%.*s...'",
				    RULE_TOKEN_SHOWN, bad);
		return fail(err, errlen, line, "missing closing quote in '%.*s'",
			    (int)len, bad);
	}
	if (n == 0)
		return 0;

	if (!strcmp(tok[0], "policy")) {
		if (rule_parse_policy(argc - 1, tok + 1, &dir, &verdict,
				      msg, sizeof(msg)))
			return fail(err, errlen, line, "%s", msg);
		if (rs->has_policy[dir])
			return fail(err, errlen, line, "duplicate policy for '%s'",
				    tok[1]);
		rs->has_policy[dir] = true;
		rs->policy[dir] = verdict;
		return 0;
	}

	if (!strcmp(tok[0], "add")) {
		if (rs->max_rules && rs->count == rs->max_rules)
			return fail(err, errlen, line,
				    "more rules than the kfw module's limit of %zu (max_rules)",
				    rs->max_rules);
		if (rule_parse(&r, argc - 1, tok + 1, msg, sizeof(msg)))
			return fail(err, errlen, line, "%s", msg);
		if (n > TOKENS_MAX)
			return fail(err, errlen, line, "too many arguments");
		if (add_rule(rs, &r, line))
			return fail(err, errlen, line, "out of memory");
		return 0;
	}

	return fail(err, errlen, line, "unknown command '%s'", tok[0]);
}

/**
 * restore_parse() - read a whole restore file
 * @rs: filled with the policies and rules; free with restore_free(), also
 *      after an error
 * @in: the file
 * @name: the file as read errors should name it, e.g. "'rules.txt'"
 * @max_rules: the most rules the kernel takes, 0 if unknown
 * @err: where to put the error message, "line N: ..." for a bad line
 * @errlen: size of @err; RESTORE_ERR_MAX always suffices
 *
 * Stops at the first bad line: the file is applied all or nothing, so there
 * is no point in reading past it. A NUL byte anywhere makes its line bad,
 * and so does the rule after @max_rules: the kernel would refuse the table
 * anyway, and only after a huge file had been parsed and sent whole.
 * A file without any add or policy line is an error too.
 *
 * Return: 0, or -1 with the message in @err.
 */
int restore_parse(struct restore *rs, FILE *in, const char *name,
		  size_t max_rules, char *err, size_t errlen)
{
	unsigned int line = 0;
	size_t size = 0;
	char *text = NULL;
	ssize_t len;
	int ret = 0;

	memset(rs, 0, sizeof(*rs));
	rs->max_rules = max_rules;
	while ((len = getline(&text, &size, in)) >= 0) {
		line++;
		/*
		 * The tokenizer stops at a NUL, so "add in drop\0proto tcp"
		 * would silently become a rule that drops everything.
		 */
		if (strlen(text) != (size_t)len) {
			ret = fail(err, errlen, line, "NUL byte in input");
			break;
		}
		ret = parse_line(rs, text, line, err, errlen);
		if (ret)
			break;
	}
	if (!ret && ferror(in)) {
		snprintf(err, errlen, "reading %s: %s", name, strerror(errno));
		ret = -1;
	}
	/*
	 * Empty input is far more often a redirection gone wrong than a wish
	 * to delete every rule; iptables-restore and nft -f change nothing on
	 * it either. Policy lines alone are a table: the save of an empty one.
	 */
	if (!ret && !rs->count && !rs->has_policy[KFW_DIR_IN] &&
	    !rs->has_policy[KFW_DIR_OUT]) {
		snprintf(err, errlen,
			 "restore: no rules or policies in %s; use 'fwctl flush' to empty the table",
			 name);
		ret = -1;
	}
	free(text);
	return ret;
}

/**
 * restore_free() - release what restore_parse() allocated
 * @rs: the parsed file
 */
void restore_free(struct restore *rs)
{
	rule_release_all(rs->rules, rs->count);
	free(rs->rules);
	free(rs->lines);
	memset(rs, 0, sizeof(*rs));
}
