// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers the rule suites share: a rule given as one line of
 * space-separated tokens, parsed and checked against an error or a text.
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

/* Splits on single spaces, as the shell would for these simple cases. */
void unit_split(struct unit_tokens *t, const char *line)
{
	char *p;

	assert_true(strlen(line) < sizeof(t->buf));
	snprintf(t->buf, sizeof(t->buf), "%s", line);
	t->argc = 0;
	for (p = strtok(t->buf, " "); p; p = strtok(NULL, " ")) {
		assert_true(t->argc < UNIT_TOKENS_MAX);
		t->argv[t->argc++] = p;
	}
}

int unit_parse(struct rule *r, const char *line, char *err)
{
	struct unit_tokens t;

	unit_split(&t, line);
	err[0] = '\0';
	return rule_parse(r, t.argc, t.argv, err, RULE_ERR_MAX);
}

void unit_expect_error(const char *line, const char *want)
{
	char err[RULE_ERR_MAX];
	struct rule r;

	if (unit_parse(&r, line, err) != -1)
		fail_msg("'%s' parsed, want error \"%s\"", line, want);
	rule_release(&r);
	if (strcmp(err, want))
		fail_msg("'%s': error \"%s\", want \"%s\"", line, err, want);
}

/* Parses @line and checks that its canonical text is @want. */
void unit_expect_text(const char *line, const char *want)
{
	char err[RULE_ERR_MAX];
	char text[RULE_TEXT_MAX];
	struct rule r;
	int len;

	if (unit_parse(&r, line, err))
		fail_msg("'%s': unexpected error \"%s\"", line, err);
	len = rule_format(&r, text, sizeof(text));
	rule_release(&r);
	assert_int_equal(len, strlen(text));
	if (strcmp(text, want))
		fail_msg("'%s': text \"%s\", want \"%s\"", line, text, want);
}
