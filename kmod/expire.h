/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_EXPIRE_H
#define _KFW_EXPIRE_H

#include "netns.h"

void kfw_expire_init(struct kfw_net *kn);
void kfw_expire_exit(struct kfw_net *kn);
void kfw_expire_arm(struct kfw_net *kn);
void kfw_expire_run(struct kfw_net *kn);

#endif /* _KFW_EXPIRE_H */
