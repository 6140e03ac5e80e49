/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_HARNESS_H
#define _KFW_HARNESS_H

/*
 * What the host programs of tests/classifier/ share: printing rules and
 * packets for a mismatch report, the clock, and the differential check of
 * one packet.
 */

#include <stdio.h>

#include "classify.h"
#include "classify_gen.h"

void harness_print_match(FILE *out, const char *who,
			 const struct kfw_match *match, u64 prio);
void harness_print_packet(FILE *out, const struct kfw_packet *pkt);
u64 harness_now_ns(void);

/* The priority of @match in @set, or U64_MAX if it is not in the list. */
u64 harness_prio_of(const struct kfw_gen_set *set, const struct kfw_match *match);

/*
 * Compares kfw_cls_lookup() with the linear reference for @pkt, whose
 * answer goes to *@want, and kfw_cls_lookup_from() with it from the
 * priority after each of the first matches and from the middle of the
 * list; on a mismatch prints both rules and the packet to stderr and
 * returns false.
 */
bool harness_check(const struct kfw_cls *cls, const struct kfw_gen_set *set,
		   const struct kfw_packet *pkt, const struct kfw_match **want);

#endif /* _KFW_HARNESS_H */
