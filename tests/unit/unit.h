/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The suites of the fwctl unit tests. Each runs its cmocka group and adds
 * its number of tests to *total; the return value is how many failed.
 */
#ifndef FWCTL_UNIT_H
#define FWCTL_UNIT_H

#include "rule.h"

int rule_test_run(int *total);
int match_test_run(int *total);
int restore_test_run(int *total);
int show_test_run(int *total);
int shadow_test_run(int *total);
int cli_test_run(int *total);
int duration_test_run(int *total);

/* rule_util.c: a rule written as one line of space-separated tokens. */
#define UNIT_TOKENS_MAX	64

struct unit_tokens {
	char buf[RULE_TEXT_MAX];
	char *argv[UNIT_TOKENS_MAX];
	int argc;
};

void unit_split(struct unit_tokens *t, const char *line);
int unit_parse(struct rule *r, const char *line, char *err);
void unit_expect_error(const char *line, const char *want);
void unit_expect_text(const char *line, const char *want);

#endif /* FWCTL_UNIT_H */
