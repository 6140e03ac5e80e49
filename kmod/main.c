// SPDX-License-Identifier: GPL-2.0
/*
 * kfw: a netfilter firewall with an ordered rule table per network namespace.
 * This file only loads and unloads; each subsystem lives in its own file.
 */

#include <linux/module.h>
#include <net/genetlink.h>

#include "netlink.h"
#include "netns.h"
#include "table.h"

static int __init kfw_init(void)
{
	int err;

	err = kfw_table_module_init();
	if (err)
		return err;
	err = kfw_netns_init();
	if (err)
		goto err_table;
	err = kfw_netlink_init();
	if (err)
		goto err_netns;
	pr_info("loaded, up to %u rules per namespace\n", kfw_max_rules);
	return 0;

err_netns:
	kfw_netns_exit();
err_table:
	kfw_table_module_exit();
	return err;
}

static void __exit kfw_exit(void)
{
	kfw_netlink_exit();
	kfw_netns_exit();
	kfw_table_module_exit();
}

module_init(kfw_init);
module_exit(kfw_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kfw: per-namespace ordered-rule packet filter");
MODULE_AUTHOR("kfw developers");
MODULE_ALIAS_GENL_FAMILY(KFW_GENL_NAME);
/* Payload matches search with Knuth-Morris-Pratt; log rules write through nf_log_syslog. */
MODULE_SOFTDEP("pre: ts_kmp nf_log_syslog");
