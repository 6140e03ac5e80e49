/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_CARRY_H
#define _KFW_CARRY_H

#include "netns.h"
#include "table.h"

int kfw_carry_counters(struct kfw_net *kn, const struct list_head *from,
		       unsigned int nr, struct list_head *to);

#endif /* _KFW_CARRY_H */
