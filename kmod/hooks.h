/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_HOOKS_H
#define _KFW_HOOKS_H

#include "netns.h"

void kfw_hooks_init(struct kfw_net *kn);
int kfw_hooks_want(struct kfw_net *kn, u8 dir);
void kfw_hooks_drop(struct kfw_net *kn, u8 dir);
int kfw_hooks_logger_get(void);
void kfw_hooks_logger_put(void);

#endif /* _KFW_HOOKS_H */
