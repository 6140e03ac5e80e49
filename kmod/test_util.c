// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of kfw's KUnit suites, and the module parameters that turn the
 * randomized tests into a soak: e.g.
 *
 *	modprobe kfw_test seed=42 rounds=1000 rules=500 packets=2000 ops=100000
 */

#include <linux/inet.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>

#include "expire.h"
#include "replace.h"
#include "table.h"
#include "test_util.h"

unsigned long kfw_test_seed = 20261125;
module_param_named(seed, kfw_test_seed, ulong, 0444);
MODULE_PARM_DESC(seed, "Seed of the randomized tests (each logs the seed it used)");

unsigned int kfw_test_rounds = 100;
module_param_named(rounds, kfw_test_rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Random tables the differential matcher test builds");

unsigned int kfw_test_rules = 48;
module_param_named(rules, kfw_test_rules, uint, 0444);
MODULE_PARM_DESC(rules, "Rules in each random table");

unsigned int kfw_test_packets = 500;
module_param_named(packets, kfw_test_packets, uint, 0444);
MODULE_PARM_DESC(packets, "Random packets classified against each random table");

unsigned int kfw_test_ops = 1500;
module_param_named(ops, kfw_test_ops, uint, 0444);
MODULE_PARM_DESC(ops, "Table changes the concurrency test makes while readers run");

/*
 * KUnit runs a module's suites as the module comes in, before its init
 * function: suites that build tables set up the table module state
 * themselves, and tear it down before kfw's own init runs.
 */
int kfw_test_suite_init(struct kunit_suite *suite)
{
	return kfw_table_module_init();
}

void kfw_test_suite_exit(struct kunit_suite *suite)
{
	kfw_table_module_exit();
}

/**
 * kfw_test_net_new() - a namespace's table state, attached to no namespace
 * @test: the test, failed if memory runs out
 *
 * Return: state with an empty table, for kfw_test_net_free().
 */
struct kfw_net *kfw_test_net_new(struct kunit *test)
{
	struct kfw_net *kn;

	kn = kzalloc(sizeof(*kn), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kn);
	/* Tables with state matches make the namespace track connections. */
	kn->net = &init_net;
	mutex_init(&kn->lock);
	kfw_replace_init(kn);
	kfw_expire_init(kn);
	kn->next_handle = 1;
	if (kfw_counters_init(&kn->counters, 1)) {
		kfree(kn);
		KUNIT_ASSERT_FAILURE(test, "no memory for counters");
	}
	if (kfw_table_init(kn)) {
		kfw_counters_destroy(&kn->counters);
		kfree(kn);
		KUNIT_ASSERT_FAILURE(test, "no memory for a table");
	}
	return kn;
}

/* Frees the state, its table, rules and any open transaction. */
void kfw_test_net_free(struct kfw_net *kn)
{
	if (!kn)
		return;
	kfw_replace_exit(kn);
	kfw_expire_exit(kn);
	kfw_table_destroy(kn);
	if (kn->conntrack)
		nf_ct_netns_put(kn->net, NFPROTO_INET);
	/* Replaced tables give their counter slots back first. */
	kfw_table_drain();
	kfw_counters_destroy(&kn->counters);
	mutex_destroy(&kn->lock);
	kfree(kn);
}

/**
 * kfw_test_rule_alloc() - a rule of a match, as netlink would make it
 * @kn: the namespace, locked
 * @dir: enum kfw_dir
 * @action: enum kfw_verdict
 * @match: the match; a payload in it moves to the rule
 *
 * Return: the rule, or NULL.
 */
struct kfw_rule *kfw_test_rule_alloc(struct kfw_net *kn, u8 dir, u8 action,
				     const struct kfw_match *match)
{
	struct kfw_rule_spec spec = {
		.dir = dir,
		.action = action,
		.log_rate = KFW_LOG_RATE_DEFAULT,
		.log_burst = KFW_LOG_BURST_DEFAULT,
		.match = *match,
	};

	return kfw_rule_alloc(kn, &spec);
}

/**
 * kfw_test_replace() - kfw_table_replace() of an array of rules
 * @kn: the namespace, locked
 * @rules: the rules, in list order; the table's on success, still the
 *	caller's on error
 * @nr: how many
 * @policy: the new policies
 * @flags: KFW_REPLACE_* bits
 *
 * Return: what kfw_table_replace() returns.
 */
int kfw_test_replace(struct kfw_net *kn, struct kfw_rule **rules,
		     unsigned int nr, const u8 *policy, unsigned int flags)
{
	LIST_HEAD(list);
	unsigned int i;

	for (i = 0; i < nr; i++)
		list_add_tail(&rules[i]->list, &list);
	return kfw_table_replace(kn, &list, nr, policy, flags);
}

/*
 * Linux 6.1 runs a module's suites as it comes in, before it parses the
 * module's parameters: the tests read theirs from its argument string.
 */
static void kfw_test_read_params(struct kunit *test)
{
	char *args, *next, *word, *value;
	int err;

	if (!THIS_MODULE || !THIS_MODULE->args || !*THIS_MODULE->args)
		return;
	args = kstrdup(THIS_MODULE->args, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, args);
	next = args;
	while ((word = strsep(&next, " \t\n"))) {
		value = strchr(word, '=');
		if (!value)
			continue;
		*value++ = '\0';
		if (!strcmp(word, "seed"))
			err = kstrtoul(value, 0, &kfw_test_seed);
		else if (!strcmp(word, "rounds"))
			err = kstrtouint(value, 0, &kfw_test_rounds);
		else if (!strcmp(word, "rules"))
			err = kstrtouint(value, 0, &kfw_test_rules);
		else if (!strcmp(word, "packets"))
			err = kstrtouint(value, 0, &kfw_test_packets);
		else if (!strcmp(word, "ops"))
			err = kstrtouint(value, 0, &kfw_test_ops);
		else
			err = 0;
		KUNIT_EXPECT_EQ_MSG(test, err, 0, "bad value for parameter %s", word);
	}
	kfree(args);
}

/*
 * Seeds @rnd from the seed parameter and @salt, and logs how to repeat the
 * run; the other parameters of the randomized tests are read then too.
 */
void kfw_test_rnd_init(struct kunit *test, struct rnd_state *rnd, u32 salt)
{
	kfw_test_read_params(test);
	kunit_info(test, "seed=%lu (tests/kernel/kunit.sh seed=%lu repeats this run)\n",
		   kfw_test_seed, kfw_test_seed);
	prandom_seed_state(rnd, kfw_test_seed ^ ((u64)salt << 32));
}

/**
 * kfw_test_addr() - an IPv4 or IPv6 address from its text
 * @test: failed if @text is not an address
 * @text: "192.0.2.1" or "2001:db8::1"
 * @addr: result, network order
 *
 * Return: NFPROTO_IPV4 or NFPROTO_IPV6.
 */
u8 kfw_test_addr(struct kunit *test, const char *text,
		 union nf_inet_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	if (in4_pton(text, -1, (u8 *)&addr->ip, -1, NULL))
		return NFPROTO_IPV4;
	KUNIT_ASSERT_TRUE_MSG(test, in6_pton(text, -1, addr->in6.s6_addr, -1, NULL),
			      "bad address '%s' in a test", text);
	return NFPROTO_IPV6;
}

/**
 * kfw_test_prefix() - a network from "address/prefix"
 * @test: failed if @text does not parse
 * @text: "10.0.0.0/8", "2001:db8::/32"; without "/N" the full length
 * @addr: result, network order
 * @prefix: result
 *
 * Return: NFPROTO_IPV4 or NFPROTO_IPV6.
 */
u8 kfw_test_prefix(struct kunit *test, const char *text,
		   union nf_inet_addr *addr, u8 *prefix)
{
	const char *slash = strchr(text, '/');
	char buf[INET6_ADDRSTRLEN + 1];
	u8 family;

	if (!slash) {
		family = kfw_test_addr(test, text, addr);
		*prefix = family == NFPROTO_IPV4 ? 32 : 128;
		return family;
	}
	KUNIT_ASSERT_LT(test, slash - text, (long)sizeof(buf));
	memcpy(buf, text, slash - text);
	buf[slash - text] = '\0';
	family = kfw_test_addr(test, buf, addr);
	KUNIT_ASSERT_EQ_MSG(test, kstrtou8(slash + 1, 10, prefix), 0,
			    "bad prefix in '%s'", text);
	return family;
}

/*
 * The netmask of a prefix, bit by bit: written apart from
 * kfw_match_prefix_mask() so that the tests do not inherit its mistakes.
 */
void kfw_test_mask(union nf_inet_addr *mask, u8 family, u8 prefix)
{
	u8 *bytes = (u8 *)mask->all;
	unsigned int bit;

	memset(mask, 0, sizeof(*mask));
	for (bit = 0; bit < prefix && bit < (family == NFPROTO_IPV4 ? 32 : 128); bit++)
		bytes[bit / 8] |= 0x80 >> (bit % 8);
}

/* A port or a range of ports, "N" or "N-M". */
void kfw_test_ports(struct kunit *test, const char *text,
		    struct kfw_port_range *range)
{
	char buf[16];
	char *dash;

	KUNIT_ASSERT_LT(test, strlen(text), sizeof(buf));
	strscpy(buf, text, sizeof(buf));
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	KUNIT_ASSERT_EQ(test, kstrtou16(buf, 10, &range->first), 0);
	range->last = range->first;
	if (dash)
		KUNIT_ASSERT_EQ(test, kstrtou16(dash, 10, &range->last), 0);
}
