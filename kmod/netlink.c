// SPDX-License-Identifier: GPL-2.0
/*
 * The "kfw" generic netlink family: the only way to change a table.
 * Requests are validated once, here, against strict policies; see
 * uapi/kfw.h for the protocol.
 */

#include <linux/in.h>
#include <linux/netlink.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "netlink.h"
#include "netns.h"
#include "replace.h"
#include "table.h"

static const struct nla_policy kfw_rule_policy[KFW_RULE_A_MAX + 1] = {
	[KFW_RULE_A_HANDLE]	  = { .type = NLA_REJECT,
				      .reject_message = "handles are assigned by the kernel" },
	[KFW_RULE_A_DIR]	  = NLA_POLICY_MAX(NLA_U8, KFW_DIR_MAX),
	[KFW_RULE_A_ACTION]	  = NLA_POLICY_MAX(NLA_U8, KFW_VERDICT_MAX),
	[KFW_RULE_A_PROTO]	  = { .type = NLA_U8 },
	[KFW_RULE_A_SRC_IP4]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[KFW_RULE_A_SRC_IP6]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KFW_RULE_A_SRC_PREFIX]	  = NLA_POLICY_MAX(NLA_U8, 128),
	[KFW_RULE_A_DST_IP4]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[KFW_RULE_A_DST_IP6]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KFW_RULE_A_DST_PREFIX]	  = NLA_POLICY_MAX(NLA_U8, 128),
	[KFW_RULE_A_SPORT_FIRST]  = { .type = NLA_U16 },
	[KFW_RULE_A_SPORT_LAST]	  = { .type = NLA_U16 },
	[KFW_RULE_A_DPORT_FIRST]  = { .type = NLA_U16 },
	[KFW_RULE_A_DPORT_LAST]	  = { .type = NLA_U16 },
	[KFW_RULE_A_IFACE]	  = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[KFW_RULE_A_PACKETS]	  = { .type = NLA_REJECT,
				      .reject_message = "counters are read-only" },
	[KFW_RULE_A_BYTES]	  = { .type = NLA_REJECT,
				      .reject_message = "counters are read-only" },
};

static const struct nla_policy kfw_policy[KFW_A_MAX + 1] = {
	[KFW_A_RULE]		= NLA_POLICY_NESTED(kfw_rule_policy),
	/* Checked rule by rule in the doit, so a bad rule can end the transaction. */
	[KFW_A_RULES]		= { .type = NLA_NESTED },
	[KFW_A_POSITION]	= NLA_POLICY_MIN(NLA_U32, 1),
	[KFW_A_HANDLE]		= { .type = NLA_U64 },
	[KFW_A_DIR]		= NLA_POLICY_MAX(NLA_U8, KFW_DIR_MAX),
	[KFW_A_VERDICT]		= NLA_POLICY_MAX(NLA_U8, KFW_VERDICT_MAX),
	[KFW_A_POLICY_IN]	= NLA_POLICY_MAX(NLA_U8, KFW_VERDICT_MAX),
	[KFW_A_POLICY_OUT]	= NLA_POLICY_MAX(NLA_U8, KFW_VERDICT_MAX),
	[KFW_A_RULE_COUNT]	= { .type = NLA_REJECT },
	[KFW_A_RULE_LIMIT]	= { .type = NLA_REJECT },
	[KFW_A_GENERATION]	= { .type = NLA_REJECT },
	[KFW_A_STATS]		= { .type = NLA_REJECT },
	[KFW_A_HOOK]		= { .type = NLA_REJECT },
};

static struct genl_family kfw_family;

/* One address of a rule: at most one of the IPv4 and IPv6 forms, a prefix only with one. */
static int kfw_nl_parse_addr(struct nlattr **tb, int ip4, int ip6, int plen,
			     u8 *family, union nf_inet_addr *addr,
			     union nf_inet_addr *mask, u8 *prefix,
			     struct netlink_ext_ack *extack)
{
	u8 max_prefix, this_family;
	unsigned int i;

	if (tb[ip4] && tb[ip6]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ip6], "an address is either IPv4 or IPv6");
		return -EINVAL;
	}
	if (!tb[ip4] && !tb[ip6]) {
		if (tb[plen]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[plen], "prefix length without an address");
			return -EINVAL;
		}
		return 0;
	}

	memset(addr, 0, sizeof(*addr));
	if (tb[ip4]) {
		this_family = NFPROTO_IPV4;
		max_prefix = 32;
		addr->ip = nla_get_in_addr(tb[ip4]);
	} else {
		this_family = NFPROTO_IPV6;
		max_prefix = 128;
		addr->in6 = nla_get_in6_addr(tb[ip6]);
	}
	if (*family != NFPROTO_UNSPEC && *family != this_family) {
		NL_SET_ERR_MSG_ATTR(extack, tb[tb[ip4] ? ip4 : ip6],
				    "source and destination are of different families");
		return -EINVAL;
	}
	*family = this_family;

	*prefix = tb[plen] ? nla_get_u8(tb[plen]) : max_prefix;
	if (*prefix > max_prefix) {
		NL_SET_ERR_MSG_ATTR(extack, tb[plen], "prefix too long for the address family");
		return -EINVAL;
	}
	kfw_match_prefix_mask(mask, this_family, *prefix);
	for (i = 0; i < ARRAY_SIZE(addr->all); i++) {
		if (addr->all[i] & ~mask->all[i]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[tb[ip4] ? ip4 : ip6],
					    "address has bits set beyond its prefix length");
			return -EINVAL;
		}
	}
	return 1;
}

static int kfw_nl_parse_ports(struct nlattr **tb, int first, int last,
			      struct kfw_port_range *range,
			      struct netlink_ext_ack *extack)
{
	if (!tb[first]) {
		if (tb[last]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[last], "port range without a first port");
			return -EINVAL;
		}
		return 0;
	}
	range->first = nla_get_u16(tb[first]);
	range->last = tb[last] ? nla_get_u16(tb[last]) : range->first;
	if (range->last < range->first) {
		NL_SET_ERR_MSG_ATTR(extack, tb[last], "port range ends before it starts");
		return -EINVAL;
	}
	return 1;
}

/**
 * kfw_nl_parse_rule() - a rule's direction, action and match from a nest
 * @nest: KFW_A_RULE, already validated against kfw_rule_policy
 * @dir: result
 * @action: result
 * @match: result
 * @extack: why the rule was refused
 *
 * Return: 0 or -EINVAL.
 */
static int kfw_nl_parse_rule(const struct nlattr *nest, u8 *dir, u8 *action,
			     struct kfw_match *match,
			     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KFW_RULE_A_MAX + 1];
	int err;

	err = nla_parse_nested(tb, KFW_RULE_A_MAX, nest, kfw_rule_policy, extack);
	if (err)
		return err;
	if (!tb[KFW_RULE_A_DIR]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "rule has no direction");
		return -EINVAL;
	}
	if (!tb[KFW_RULE_A_ACTION]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "rule has no action");
		return -EINVAL;
	}
	*dir = nla_get_u8(tb[KFW_RULE_A_DIR]);
	*action = nla_get_u8(tb[KFW_RULE_A_ACTION]);

	memset(match, 0, sizeof(*match));
	if (tb[KFW_RULE_A_PROTO]) {
		match->fields |= KFW_MATCH_PROTO;
		match->proto = nla_get_u8(tb[KFW_RULE_A_PROTO]);
	}

	err = kfw_nl_parse_addr(tb, KFW_RULE_A_SRC_IP4, KFW_RULE_A_SRC_IP6,
				KFW_RULE_A_SRC_PREFIX, &match->family,
				&match->src, &match->src_mask,
				&match->src_prefix, extack);
	if (err < 0)
		return err;
	if (err)
		match->fields |= KFW_MATCH_SRC;
	err = kfw_nl_parse_addr(tb, KFW_RULE_A_DST_IP4, KFW_RULE_A_DST_IP6,
				KFW_RULE_A_DST_PREFIX, &match->family,
				&match->dst, &match->dst_mask,
				&match->dst_prefix, extack);
	if (err < 0)
		return err;
	if (err)
		match->fields |= KFW_MATCH_DST;

	err = kfw_nl_parse_ports(tb, KFW_RULE_A_SPORT_FIRST,
				 KFW_RULE_A_SPORT_LAST, &match->sport, extack);
	if (err < 0)
		return err;
	if (err)
		match->fields |= KFW_MATCH_SPORT;
	err = kfw_nl_parse_ports(tb, KFW_RULE_A_DPORT_FIRST,
				 KFW_RULE_A_DPORT_LAST, &match->dport, extack);
	if (err < 0)
		return err;
	if (err)
		match->fields |= KFW_MATCH_DPORT;
	if ((match->fields & (KFW_MATCH_SPORT | KFW_MATCH_DPORT)) &&
	    (!(match->fields & KFW_MATCH_PROTO) ||
	     (match->proto != IPPROTO_TCP && match->proto != IPPROTO_UDP))) {
		NL_SET_ERR_MSG_ATTR(extack,
				    tb[KFW_RULE_A_SPORT_FIRST] ?: tb[KFW_RULE_A_DPORT_FIRST],
				    "ports need proto tcp or udp");
		return -EINVAL;
	}

	if (tb[KFW_RULE_A_IFACE]) {
		if (!nla_len(tb[KFW_RULE_A_IFACE]) ||
		    !*(char *)nla_data(tb[KFW_RULE_A_IFACE])) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_IFACE],
					    "empty interface name");
			return -EINVAL;
		}
		match->fields |= KFW_MATCH_IFACE;
		nla_strscpy(match->iface, tb[KFW_RULE_A_IFACE], IFNAMSIZ);
	}
	return 0;
}

static struct kfw_rule *kfw_nl_new_rule(struct kfw_net *kn,
					const struct nlattr *nest,
					struct netlink_ext_ack *extack)
{
	struct kfw_match match;
	struct kfw_rule *rule;
	u8 dir, action;
	int err;

	err = kfw_nl_parse_rule(nest, &dir, &action, &match, extack);
	if (err)
		return ERR_PTR(err);
	rule = kfw_rule_alloc(kn, dir, action, &match);
	if (!rule)
		return ERR_PTR(-ENOMEM);
	return rule;
}

static int kfw_nl_put_addr(struct sk_buff *skb, int ip4, int ip6, int plen,
			   u8 family, const union nf_inet_addr *addr, u8 prefix)
{
	if (family == NFPROTO_IPV4 ? nla_put_in_addr(skb, ip4, addr->ip) :
				     nla_put_in6_addr(skb, ip6, &addr->in6))
		return -EMSGSIZE;
	return nla_put_u8(skb, plen, prefix);
}

static int kfw_nl_put_ports(struct sk_buff *skb, int first, int last,
			    const struct kfw_port_range *range)
{
	if (nla_put_u16(skb, first, range->first) ||
	    nla_put_u16(skb, last, range->last))
		return -EMSGSIZE;
	return 0;
}

static int kfw_nl_put_rule(struct sk_buff *skb, struct kfw_net *kn,
			   const struct kfw_rule *rule)
{
	const struct kfw_match *m = &rule->match;
	struct kfw_counter sum;
	struct nlattr *nest;

	kfw_rule_read_counters(kn, rule, &sum);
	nest = nla_nest_start(skb, KFW_A_RULE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KFW_RULE_A_HANDLE, rule->handle, KFW_RULE_A_PAD) ||
	    nla_put_u8(skb, KFW_RULE_A_DIR, rule->dir) ||
	    nla_put_u8(skb, KFW_RULE_A_ACTION, rule->action) ||
	    nla_put_u64_64bit(skb, KFW_RULE_A_PACKETS, sum.packets, KFW_RULE_A_PAD) ||
	    nla_put_u64_64bit(skb, KFW_RULE_A_BYTES, sum.bytes, KFW_RULE_A_PAD))
		goto cancel;
	if ((m->fields & KFW_MATCH_PROTO) &&
	    nla_put_u8(skb, KFW_RULE_A_PROTO, m->proto))
		goto cancel;
	if ((m->fields & KFW_MATCH_SRC) &&
	    kfw_nl_put_addr(skb, KFW_RULE_A_SRC_IP4, KFW_RULE_A_SRC_IP6,
			    KFW_RULE_A_SRC_PREFIX, m->family, &m->src,
			    m->src_prefix))
		goto cancel;
	if ((m->fields & KFW_MATCH_DST) &&
	    kfw_nl_put_addr(skb, KFW_RULE_A_DST_IP4, KFW_RULE_A_DST_IP6,
			    KFW_RULE_A_DST_PREFIX, m->family, &m->dst,
			    m->dst_prefix))
		goto cancel;
	if ((m->fields & KFW_MATCH_SPORT) &&
	    kfw_nl_put_ports(skb, KFW_RULE_A_SPORT_FIRST, KFW_RULE_A_SPORT_LAST,
			     &m->sport))
		goto cancel;
	if ((m->fields & KFW_MATCH_DPORT) &&
	    kfw_nl_put_ports(skb, KFW_RULE_A_DPORT_FIRST, KFW_RULE_A_DPORT_LAST,
			     &m->dport))
		goto cancel;
	if ((m->fields & KFW_MATCH_IFACE) &&
	    nla_put_string(skb, KFW_RULE_A_IFACE, m->iface))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int kfw_nl_put_stats(struct sk_buff *skb, struct kfw_net *kn)
{
	struct kfw_hook_counter sum;
	struct nlattr *stats, *hook;
	u8 dir, family;

	stats = nla_nest_start(skb, KFW_A_STATS);
	if (!stats)
		return -EMSGSIZE;
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		for (family = 0; family <= KFW_FAMILY_MAX; family++) {
			kfw_net_read_hook(kn, dir, family, &sum);
			hook = nla_nest_start(skb, KFW_A_HOOK);
			if (!hook ||
			    nla_put_u8(skb, KFW_HOOK_A_DIR, dir) ||
			    nla_put_u8(skb, KFW_HOOK_A_FAMILY, family) ||
			    nla_put_u64_64bit(skb, KFW_HOOK_A_SEEN, sum.seen,
					      KFW_HOOK_A_PAD) ||
			    nla_put_u64_64bit(skb, KFW_HOOK_A_ACCEPTED,
					      sum.accepted, KFW_HOOK_A_PAD) ||
			    nla_put_u64_64bit(skb, KFW_HOOK_A_DROPPED,
					      sum.dropped, KFW_HOOK_A_PAD))
				return -EMSGSIZE;
			nla_nest_end(skb, hook);
		}
	}
	nla_nest_end(skb, stats);
	return 0;
}

static int kfw_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	const struct kfw_table *table;
	struct sk_buff *msg;
	void *hdr;
	int err = -EMSGSIZE;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kfw_family, 0, KFW_CMD_GET_INFO);
	if (!hdr)
		goto err_free;

	rcu_read_lock();
	table = rcu_dereference(kn->table);
	if (nla_put_u8(msg, KFW_A_POLICY_IN, table->policy[KFW_DIR_IN]) ||
	    nla_put_u8(msg, KFW_A_POLICY_OUT, table->policy[KFW_DIR_OUT]) ||
	    nla_put_u32(msg, KFW_A_RULE_COUNT, table->nr_rules) ||
	    nla_put_u32(msg, KFW_A_RULE_LIMIT, kfw_max_rules) ||
	    nla_put_u32(msg, KFW_A_GENERATION, table->generation)) {
		rcu_read_unlock();
		goto err_free;
	}
	rcu_read_unlock();
	if (kfw_nl_put_stats(msg, kn))
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static int kfw_nl_dump_rules(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kfw_net *kn = kfw_net(sock_net(skb->sk));
	unsigned int index = cb->args[0];
	const struct kfw_table *table;
	void *hdr;

	rcu_read_lock();
	table = rcu_dereference(kn->table);
	/* A change between two parts of the dump marks it NLM_F_DUMP_INTR. */
	cb->seq = table->generation;
	for (; index < table->nr_rules; index++) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &kfw_family, NLM_F_MULTI,
				  KFW_CMD_GET_RULES);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (kfw_nl_put_rule(skb, kn, table->rules[index])) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	rcu_read_unlock();
	cb->args[0] = index;
	return skb->len;
}

static int kfw_nl_add_rule(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	struct netlink_ext_ack *extack = info->extack;
	unsigned int index = UINT_MAX;
	struct kfw_rule *rule;
	struct sk_buff *msg;
	void *hdr;
	u64 handle;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KFW_A_RULE))
		return -EINVAL;
	if (info->attrs[KFW_A_POSITION])
		index = nla_get_u32(info->attrs[KFW_A_POSITION]) - 1;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kfw_family, 0, KFW_CMD_ADD_RULE);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}

	mutex_lock(&kn->lock);
	rule = kfw_nl_new_rule(kn, info->attrs[KFW_A_RULE], extack);
	if (IS_ERR(rule)) {
		err = PTR_ERR(rule);
		goto err_unlock;
	}
	handle = rule->handle;
	if (index == UINT_MAX)
		index = kfw_table_locked(kn)->nr_rules;
	err = kfw_table_insert(kn, rule, index);
	if (err) {
		kfw_rule_destroy(kn, rule);
		if (err == -ENOSPC)
			NL_SET_ERR_MSG(extack, "rule limit reached (max_rules)");
		else if (err == -ERANGE)
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[KFW_A_POSITION],
					    "position is past the end of the table");
		goto err_unlock;
	}
	mutex_unlock(&kn->lock);

	if (nla_put_u64_64bit(msg, KFW_A_HANDLE, handle, KFW_A_PAD)) {
		nlmsg_free(msg);
		return 0;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&kn->lock);
err_free:
	nlmsg_free(msg);
	return err;
}

static int kfw_nl_del_rule(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KFW_A_HANDLE))
		return -EINVAL;
	mutex_lock(&kn->lock);
	err = kfw_table_delete(kn, nla_get_u64(info->attrs[KFW_A_HANDLE]));
	mutex_unlock(&kn->lock);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KFW_A_HANDLE],
				    "no rule with that handle");
	return err;
}

static int kfw_nl_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	int err;

	mutex_lock(&kn->lock);
	err = kfw_table_flush(kn);
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_set_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KFW_A_DIR) ||
	    GENL_REQ_ATTR_CHECK(info, KFW_A_VERDICT))
		return -EINVAL;
	mutex_lock(&kn->lock);
	err = kfw_table_set_policy(kn, nla_get_u8(info->attrs[KFW_A_DIR]),
				   nla_get_u8(info->attrs[KFW_A_VERDICT]));
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_zero(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	struct kfw_hook_counter sum;
	u8 dir, family;

	mutex_lock(&kn->lock);
	kfw_table_zero(kn);
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		for (family = 0; family <= KFW_FAMILY_MAX; family++) {
			struct kfw_hook_counter *zeroed;

			zeroed = &kn->hook_zeroed.hook[dir][family];
			kfw_net_read_hook(kn, dir, family, &sum);
			WRITE_ONCE(zeroed->seen, zeroed->seen + sum.seen);
			WRITE_ONCE(zeroed->accepted, zeroed->accepted + sum.accepted);
			WRITE_ONCE(zeroed->dropped, zeroed->dropped + sum.dropped);
		}
	}
	mutex_unlock(&kn->lock);
	return 0;
}

static u8 kfw_nl_get_policy(const struct nlattr *attr)
{
	return attr ? nla_get_u8(attr) : KFW_VERDICT_MAX + 1;
}

static int kfw_nl_replace_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	u8 policy[KFW_DIR_MAX + 1];
	int err;

	/* An out-of-range verdict keeps the direction's current policy. */
	policy[KFW_DIR_IN] = kfw_nl_get_policy(info->attrs[KFW_A_POLICY_IN]);
	policy[KFW_DIR_OUT] = kfw_nl_get_policy(info->attrs[KFW_A_POLICY_OUT]);
	mutex_lock(&kn->lock);
	err = kfw_replace_begin(kn, info->snd_portid, policy, info->extack);
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_replace_rules(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	struct netlink_ext_ack *extack = info->extack;
	unsigned int count = 0;
	struct kfw_rule *rule;
	struct nlattr *nest;
	int rem, err = 0;

	if (GENL_REQ_ATTR_CHECK(info, KFW_A_RULES))
		return -EINVAL;

	mutex_lock(&kn->lock);
	nla_for_each_nested(nest, info->attrs[KFW_A_RULES], rem) {
		if (nla_type(nest) != KFW_A_RULE) {
			NL_SET_ERR_MSG_ATTR(extack, nest, "KFW_A_RULES holds only KFW_A_RULE");
			err = -EINVAL;
			break;
		}
		if (++count > KFW_REPLACE_CHUNK_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, nest, "too many rules in one chunk");
			err = -E2BIG;
			break;
		}
		rule = kfw_nl_new_rule(kn, nest, extack);
		if (IS_ERR(rule)) {
			err = PTR_ERR(rule);
			break;
		}
		err = kfw_replace_append(kn, info->snd_portid, rule, extack);
		if (err) {
			kfw_rule_destroy(kn, rule);
			break;
		}
	}
	/* One bad rule spoils the transaction: the table must not half change. */
	if (err)
		kfw_replace_drop(kn, info->snd_portid);
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_replace_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	int err;

	mutex_lock(&kn->lock);
	err = kfw_replace_commit(kn, info->snd_portid, info->extack);
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_replace_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	int err;

	mutex_lock(&kn->lock);
	err = kfw_replace_abort(kn, info->snd_portid, info->extack);
	mutex_unlock(&kn->lock);
	return err;
}

static const struct genl_small_ops kfw_nl_ops[] = {
	{
		.cmd	= KFW_CMD_GET_INFO,
		.doit	= kfw_nl_get_info,
	},
	{
		.cmd	= KFW_CMD_GET_RULES,
		.dumpit	= kfw_nl_dump_rules,
	},
	{
		.cmd	= KFW_CMD_ADD_RULE,
		.doit	= kfw_nl_add_rule,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_DEL_RULE,
		.doit	= kfw_nl_del_rule,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_FLUSH,
		.doit	= kfw_nl_flush,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_SET_POLICY,
		.doit	= kfw_nl_set_policy,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_ZERO,
		.doit	= kfw_nl_zero,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_REPLACE_BEGIN,
		.doit	= kfw_nl_replace_begin,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_REPLACE_RULES,
		.doit	= kfw_nl_replace_rules,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_REPLACE_COMMIT,
		.doit	= kfw_nl_replace_commit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KFW_CMD_REPLACE_ABORT,
		.doit	= kfw_nl_replace_abort,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family kfw_family __ro_after_init = {
	.name		= KFW_GENL_NAME,
	.version	= KFW_GENL_VERSION,
	.maxattr	= KFW_A_MAX,
	.policy		= kfw_policy,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.small_ops	= kfw_nl_ops,
	.n_small_ops	= ARRAY_SIZE(kfw_nl_ops),
};

/* A socket that closes with a transaction open abandons it. */
static int kfw_nl_notify(struct notifier_block *nb, unsigned long event,
			 void *ptr)
{
	struct netlink_notify *n = ptr;
	struct kfw_net *kn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	kn = kfw_net(n->net);
	mutex_lock(&kn->lock);
	kfw_replace_drop(kn, n->portid);
	mutex_unlock(&kn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block kfw_nl_notifier = {
	.notifier_call = kfw_nl_notify,
};

int kfw_netlink_init(void)
{
	int err;

	err = netlink_register_notifier(&kfw_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&kfw_family);
	if (err)
		netlink_unregister_notifier(&kfw_nl_notifier);
	return err;
}

void kfw_netlink_exit(void)
{
	genl_unregister_family(&kfw_family);
	netlink_unregister_notifier(&kfw_nl_notifier);
}

/* The kfw_netlink KUnit suite tests the static functions above. */
#if IS_ENABLED(CONFIG_KUNIT) && defined(KFW_KUNIT)
#include "netlink_test.c"
#endif
