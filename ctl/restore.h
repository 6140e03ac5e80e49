/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The restore file format, as `fwctl save` writes it and `fwctl restore`
 * reads it. Parsing is pure: the whole file becomes a struct restore before
 * anything is sent to the kernel, so a bad line changes nothing.
 */
#ifndef FWCTL_RESTORE_H
#define FWCTL_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rule.h"

/* Room for any restore error: "line N: " and a rule error. */
#define RESTORE_ERR_MAX	(RULE_ERR_MAX + 32)

struct restore {
	/* A direction without a policy line keeps its current policy. */
	bool has_policy[KFW_DIR_MAX + 1];
	uint8_t policy[KFW_DIR_MAX + 1];

	struct rule *rules;
	unsigned int *lines;	/* lines[i] is the line rules[i] came from */
	size_t count;
	size_t cap;
	size_t max_rules;	/* a rule past it is an error; 0: no limit */
};

int restore_parse(struct restore *rs, FILE *in, const char *name,
		  size_t max_rules, char *err, size_t errlen);
void restore_free(struct restore *rs);

#endif /* FWCTL_RESTORE_H */
