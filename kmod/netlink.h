/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_NETLINK_H
#define _KFW_NETLINK_H

int kfw_netlink_init(void);
void kfw_netlink_exit(void);

#endif /* _KFW_NETLINK_H */
