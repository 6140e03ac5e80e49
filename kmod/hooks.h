/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_HOOKS_H
#define _KFW_HOOKS_H

#include "netns.h"

int kfw_hooks_register(struct net *net, struct kfw_net *kn);
void kfw_hooks_unregister(struct net *net, struct kfw_net *kn);
int kfw_hooks_logger_get(void);
void kfw_hooks_logger_put(void);

#endif /* _KFW_HOOKS_H */
