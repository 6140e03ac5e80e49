/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_MORE_H
#define _KFW_MORE_H

#include <net/netlink.h>

#include "match.h"
#include "uapi/kfw.h"

struct user_namespace;

/* Each element of a list: NLA_POLICY_NESTED_ARRAY validates them all. */
extern const struct nla_policy kfw_elem_policy[KFW_ELEM_A_MAX + 1];

int kfw_more_parse(struct nlattr **tb, u8 dir, struct user_namespace *ns,
		   struct kfw_match *match, struct netlink_ext_ack *extack);
int kfw_more_put(struct sk_buff *skb, struct user_namespace *ns,
		 const struct kfw_match *match);
void kfw_more_free(const struct kfw_match_more *more);
void kfw_more_set_single(struct kfw_match *match, enum kfw_list_field f,
			 unsigned int i);

#endif /* _KFW_MORE_H */
