/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rules that can never match: a rule is shadowed when one earlier rule of
 * its direction matches every packet it could match. Pure, like rule.c:
 * the caller reads the rules (a restore file or a dump), so the unit tests
 * run it on the host.
 */
#ifndef FWCTL_SHADOW_H
#define FWCTL_SHADOW_H

#include <stdbool.h>
#include <stddef.h>

#include "rule.h"

/* No rule: what shadow_index_find() answers when nothing covers. */
#define SHADOW_NONE	((size_t)-1)

struct shadow_index;

bool shadow_understood(const struct rule *r);
bool shadow_covers(const struct rule *j, const struct rule *i);

struct shadow_index *shadow_index_new(void);
void shadow_index_free(struct shadow_index *idx);
int shadow_index_add(struct shadow_index *idx, const struct rule *r, size_t pos);
size_t shadow_index_find(struct shadow_index *idx, const struct rule *r);

/*
 * Called once per shadowed rule, in list order: rules[@rule] can never
 * match, and rules[@by] is the earliest rule that covers it.
 */
typedef void (*shadow_report_fn)(size_t rule, size_t by, void *data);

int shadow_check(const struct rule *rules, size_t count,
		 shadow_report_fn report, void *data);
int shadow_check_one(const struct rule *rules, size_t count, size_t pos,
		     shadow_report_fn report, void *data);

#endif /* FWCTL_SHADOW_H */
