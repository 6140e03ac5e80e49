/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_TIMED_H
#define _KFW_TIMED_H

#include <linux/list.h>
#include <linux/types.h>

struct kfw_rule;

u64 kfw_timed_now(void);
u64 kfw_timed_deadline(u64 ms);
u64 kfw_timed_left_ms(u64 expires);
void kfw_timed_add(struct list_head *timed, struct kfw_rule *rule);
void kfw_timed_sort(struct list_head *timed);
struct kfw_rule *kfw_timed_first(struct list_head *timed);

#endif /* _KFW_TIMED_H */
