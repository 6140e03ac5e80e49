/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_PROC_H
#define _KFW_PROC_H

#include <net/net_namespace.h>

int kfw_proc_init(struct net *net);
void kfw_proc_exit(struct net *net);

#endif /* _KFW_PROC_H */
