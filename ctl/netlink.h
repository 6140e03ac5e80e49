/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Talking to the kfw module over generic netlink. Every function but
 * fwnl_open() leaves the decision of what to tell the user to its caller:
 * failures come back in a struct fwnl_error, and fwnl_report() prints the
 * generic form of one when the caller has nothing more specific to say.
 */
#ifndef FWCTL_NETLINK_H
#define FWCTL_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "restore.h"
#include "rule.h"

struct fwnl;

/*
 * The rules a failed replace is about, as indexes into restore.rules: one
 * rule when the kernel's extended ack points into it, else the whole chunk
 * that was refused. first is SIZE_MAX when no rule is to blame.
 */
struct fwnl_blame {
	size_t first;
	size_t last;
};

struct fwnl_error {
	int err;		/* positive errno */
	bool local;		/* failed here, not refused by the kernel */
	bool has_offset;	/* the kernel named the attribute it refused */
	uint32_t offset;	/* NLMSGERR_ATTR_OFFS, from the message start */
	char msg[256];		/* the kernel's extack text, or a local detail */
};

struct fwnl_hook_stats {
	uint64_t seen;
	uint64_t accepted;
	uint64_t dropped;
};

struct fwnl_info {
	uint8_t policy[KFW_DIR_MAX + 1];
	uint32_t rule_count;
	uint32_t rule_limit;
	uint32_t generation;
	uint64_t log_suppressed;	/* 0 if the kernel does not send it */
	uint32_t confirm_left_ms;	/* 0 unless a restore is on trial */
	struct fwnl_hook_stats hook[KFW_DIR_MAX + 1][KFW_FAMILY_MAX + 1];
};

struct fwnl *fwnl_open(void);
void fwnl_close(struct fwnl *nl);
void fwnl_report(const struct fwnl_error *e, const char *doing);

int fwnl_get_info(struct fwnl *nl, struct fwnl_info *info, struct fwnl_error *e);
int fwnl_get_rules(struct fwnl *nl, struct rule **rules, size_t *count,
		   struct fwnl_error *e);
int fwnl_add_rule(struct fwnl *nl, const struct rule *r, uint32_t position,
		  uint64_t *handle, struct fwnl_error *e);
int fwnl_del_rule(struct fwnl *nl, uint64_t handle, struct fwnl_error *e);
int fwnl_flush(struct fwnl *nl, struct fwnl_error *e);
int fwnl_set_policy(struct fwnl *nl, uint8_t dir, uint8_t verdict,
		    struct fwnl_error *e);
int fwnl_zero(struct fwnl *nl, struct fwnl_error *e);
int fwnl_confirm(struct fwnl *nl, struct fwnl_error *e);
/* What KFW_CMD_TEST answered: the verdict and the rule that gave it. */
struct fwnl_test_result {
	bool answered;		/* the kernel sent a reply message */
	uint8_t verdict;	/* enum kfw_verdict */
	bool matched;		/* false: the direction's policy decided */
	struct rule rule;	/* the matching rule, with handle and counters */
};

int fwnl_test(struct fwnl *nl, const struct rule_packet *p,
	      struct fwnl_test_result *res, struct fwnl_error *e);
/* How a restore is committed; all zero is a plain restore. */
struct fwnl_replace_how {
	bool check;			/* build the table, install nothing */
	uint32_t confirm_seconds;	/* install on trial for this long */
	bool zero;			/* unchanged rules lose their counts */
};

int fwnl_replace(struct fwnl *nl, const struct restore *rs,
		 const struct fwnl_replace_how *how, struct fwnl_blame *blame,
		 struct fwnl_error *e);

#endif /* FWCTL_NETLINK_H */
