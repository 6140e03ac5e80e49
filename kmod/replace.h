/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_REPLACE_H
#define _KFW_REPLACE_H

#include <linux/netlink.h>

#include "netns.h"
#include "table.h"

extern unsigned long kfw_replace_idle;

void kfw_replace_init(struct kfw_net *kn);
void kfw_replace_exit(struct kfw_net *kn);
int kfw_replace_begin(struct kfw_net *kn, u64 owner, u32 portid,
		      const u8 *policy, struct netlink_ext_ack *extack);
int kfw_replace_append(struct kfw_net *kn, u64 owner, struct kfw_rule *rule,
		       struct netlink_ext_ack *extack);
int kfw_replace_commit(struct kfw_net *kn, u64 owner, unsigned int flags,
		       unsigned int confirm, struct netlink_ext_ack *extack);
int kfw_replace_confirm(struct kfw_net *kn, struct netlink_ext_ack *extack);
unsigned int kfw_replace_confirm_left(const struct kfw_net *kn);
int kfw_replace_abort(struct kfw_net *kn, u64 owner,
		      struct netlink_ext_ack *extack);
void kfw_replace_drop(struct kfw_net *kn, u64 owner);
void kfw_replace_released(struct kfw_net *kn, u32 portid);
void kfw_replace_release(struct kfw_net *kn);

#endif /* _KFW_REPLACE_H */
