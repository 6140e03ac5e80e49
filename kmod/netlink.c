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

#include "expire.h"
#include "hooks.h"
#include "more.h"
#include "netlink.h"
#include "netns.h"
#include "payload.h"
#include "replace.h"
#include "table.h"
#include "timed.h"

static struct netlink_range_validation kfw_log_rate_range __ro_after_init = {
	.min = 1,
	.max = KFW_LOG_RATE_MAX,
};

static struct netlink_range_validation kfw_over_rate_range __ro_after_init = {
	.min = 1,
	.max = KFW_OVER_RATE_MAX,
};

static struct netlink_range_validation kfw_over_burst_range __ro_after_init = {
	.min = 1,
	.max = KFW_OVER_BURST_MAX,
};

static struct netlink_range_validation kfw_timeout_range __ro_after_init = {
	.min = 1,
	.max = KFW_TIMEOUT_MAX_MS,
};

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
	[KFW_RULE_A_STATE]	  = NLA_POLICY_MASK(NLA_U8, __KFW_STATE_ALL),
	[KFW_RULE_A_ICMP_TYPE]	  = { .type = NLA_U8 },
	[KFW_RULE_A_ICMP_CODE]	  = { .type = NLA_U8 },
	[KFW_RULE_A_PAYLOAD]	  = NLA_POLICY_RANGE(NLA_BINARY, 1, KFW_PAYLOAD_MAX),
	[KFW_RULE_A_PAYLOAD_WITHIN] = NLA_POLICY_MIN(NLA_U16, 1),
	[KFW_RULE_A_LOG]	  = { .type = NLA_FLAG },
	[KFW_RULE_A_LOG_RATE]	  = NLA_POLICY_FULL_RANGE(NLA_U32, &kfw_log_rate_range),
	[KFW_RULE_A_LOG_BURST]	  = NLA_POLICY_RANGE(NLA_U32, 1, KFW_LOG_BURST_MAX),
	[KFW_RULE_A_COMMENT]	  = { .type = NLA_NUL_STRING, .len = KFW_COMMENT_MAX - 1 },
	[KFW_RULE_A_NEGATE]	  = NLA_POLICY_MASK(NLA_U8, __KFW_NEGATE_ALL),
	[KFW_RULE_A_SRC_LIST]	  = NLA_POLICY_NESTED_ARRAY(kfw_elem_policy),
	[KFW_RULE_A_DST_LIST]	  = NLA_POLICY_NESTED_ARRAY(kfw_elem_policy),
	[KFW_RULE_A_SPORT_LIST]	  = NLA_POLICY_NESTED_ARRAY(kfw_elem_policy),
	[KFW_RULE_A_DPORT_LIST]	  = NLA_POLICY_NESTED_ARRAY(kfw_elem_policy),
	[KFW_RULE_A_PROTO_LIST]	  = NLA_POLICY_NESTED_ARRAY(kfw_elem_policy),
	[KFW_RULE_A_UID_FIRST]	  = { .type = NLA_U32 },
	[KFW_RULE_A_UID_LAST]	  = { .type = NLA_U32 },
	[KFW_RULE_A_GID_FIRST]	  = { .type = NLA_U32 },
	[KFW_RULE_A_GID_LAST]	  = { .type = NLA_U32 },
	[KFW_RULE_A_OVER_RATE]	  = NLA_POLICY_FULL_RANGE(NLA_U32, &kfw_over_rate_range),
	/* 1, 60 or 3600: the rest is refused in kfw_nl_parse_over(). */
	[KFW_RULE_A_OVER_PERIOD]  = NLA_POLICY_RANGE(NLA_U32, 1, 3600),
	[KFW_RULE_A_OVER_BURST]	  = NLA_POLICY_FULL_RANGE(NLA_U32, &kfw_over_burst_range),
	[KFW_RULE_A_OVER_PER_SRC] = { .type = NLA_FLAG },
	[KFW_RULE_A_OVER_SOURCES] = { .type = NLA_REJECT,
				      .reject_message = "sources are counted by the kernel" },
	[KFW_RULE_A_TIMEOUT]	  = NLA_POLICY_FULL_RANGE(NLA_U64, &kfw_timeout_range),
};

static const struct nla_policy kfw_packet_policy[KFW_PACKET_A_MAX + 1] = {
	[KFW_PACKET_A_DIR]	  = NLA_POLICY_MAX(NLA_U8, KFW_DIR_MAX),
	[KFW_PACKET_A_FAMILY]	  = NLA_POLICY_MAX(NLA_U8, KFW_FAMILY_MAX),
	[KFW_PACKET_A_PROTO]	  = { .type = NLA_U8 },
	[KFW_PACKET_A_SRC_IP4]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[KFW_PACKET_A_SRC_IP6]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KFW_PACKET_A_DST_IP4]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[KFW_PACKET_A_DST_IP6]	  = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KFW_PACKET_A_SPORT]	  = { .type = NLA_U16 },
	[KFW_PACKET_A_DPORT]	  = { .type = NLA_U16 },
	[KFW_PACKET_A_IFACE]	  = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[KFW_PACKET_A_STATE]	  = NLA_POLICY_MASK(NLA_U8, __KFW_STATE_ALL),
	[KFW_PACKET_A_ICMP_TYPE]  = { .type = NLA_U8 },
	[KFW_PACKET_A_ICMP_CODE]  = { .type = NLA_U8 },
	[KFW_PACKET_A_UID]	  = { .type = NLA_U32 },
	[KFW_PACKET_A_GID]	  = { .type = NLA_U32 },
};

static struct netlink_range_validation kfw_confirm_range __ro_after_init = {
	.min = 1,
	.max = KFW_CONFIRM_MAX,
};

static const struct nla_policy kfw_policy[KFW_A_MAX + 1] = {
	[KFW_A_RULE]		= NLA_POLICY_NESTED(kfw_rule_policy),
	/* Checked rule by rule in the doit, so a bad rule can end the transaction. */
	[KFW_A_RULES]		= { .type = NLA_NESTED },
	[KFW_A_POSITION]	= NLA_POLICY_MIN(NLA_U32, 1),
	[KFW_A_HANDLE]		= { .type = NLA_U64 },
	/* A policy accepts or drops; it never answers. */
	[KFW_A_DIR]		= NLA_POLICY_MAX(NLA_U8, KFW_DIR_MAX),
	[KFW_A_VERDICT]		= NLA_POLICY_MAX(NLA_U8, KFW_VERDICT_DROP),
	[KFW_A_POLICY_IN]	= NLA_POLICY_MAX(NLA_U8, KFW_VERDICT_DROP),
	[KFW_A_POLICY_OUT]	= NLA_POLICY_MAX(NLA_U8, KFW_VERDICT_DROP),
	[KFW_A_RULE_COUNT]	= { .type = NLA_REJECT },
	[KFW_A_RULE_LIMIT]	= { .type = NLA_REJECT },
	[KFW_A_GENERATION]	= { .type = NLA_REJECT },
	[KFW_A_STATS]		= { .type = NLA_REJECT },
	[KFW_A_HOOK]		= { .type = NLA_REJECT },
	[KFW_A_LOG_SUPPRESSED]	= { .type = NLA_REJECT },
	[KFW_A_PACKET]		= NLA_POLICY_NESTED(kfw_packet_policy),
	[KFW_A_CHECK]		= { .type = NLA_FLAG },
	[KFW_A_CONFIRM]		= NLA_POLICY_FULL_RANGE(NLA_U32, &kfw_confirm_range),
	[KFW_A_CONFIRM_LEFT]	= { .type = NLA_REJECT },
	[KFW_A_ZERO]		= { .type = NLA_FLAG },
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

/*
 * Names as the kernel allows them (dev_valid_name()), and printable ASCII
 * without quotes: /proc/net/kfw/rules and `fwctl save` print them bare, so a
 * newline would start another rule in the next restore, and a quote would
 * open a string there.
 */
static bool kfw_nl_iface_valid(const char *name)
{
	const char *c;

	if (!dev_valid_name(name))
		return false;
	for (c = name; *c; c++)
		if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\'')
			return false;
	return true;
}

/* The matches beyond addresses and ports: state, ICMP, interface. */
static int kfw_nl_parse_extras(struct nlattr **tb, struct kfw_match *match,
			       struct netlink_ext_ack *extack)
{
	bool icmp = (match->fields & KFW_MATCH_PROTO) &&
		    (match->proto == IPPROTO_ICMP || match->proto == IPPROTO_ICMPV6);

	if (tb[KFW_RULE_A_STATE]) {
		match->states = nla_get_u8(tb[KFW_RULE_A_STATE]);
		if (!match->states) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_STATE],
					    "state match without a state");
			return -EINVAL;
		}
		match->fields |= KFW_MATCH_STATE;
	}
	if (tb[KFW_RULE_A_ICMP_CODE] && !tb[KFW_RULE_A_ICMP_TYPE]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_ICMP_CODE],
				    "icmp code without an icmp type");
		return -EINVAL;
	}
	if (tb[KFW_RULE_A_ICMP_TYPE]) {
		if (!icmp) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_ICMP_TYPE],
					    "icmp type needs proto icmp or icmpv6");
			return -EINVAL;
		}
		match->icmp_type = nla_get_u8(tb[KFW_RULE_A_ICMP_TYPE]);
		match->fields |= KFW_MATCH_ICMP_TYPE;
	}
	if (tb[KFW_RULE_A_ICMP_CODE]) {
		match->icmp_code = nla_get_u8(tb[KFW_RULE_A_ICMP_CODE]);
		match->fields |= KFW_MATCH_ICMP_CODE;
	}
	if (tb[KFW_RULE_A_IFACE]) {
		if (!kfw_nl_iface_valid(nla_data(tb[KFW_RULE_A_IFACE]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_IFACE],
					    "invalid interface name");
			return -EINVAL;
		}
		match->fields |= KFW_MATCH_IFACE;
		nla_strscpy(match->iface, tb[KFW_RULE_A_IFACE], IFNAMSIZ);
	}
	return 0;
}

/* Comments are listed between double quotes, so they cannot hold one. */
static bool kfw_nl_comment_valid(const char *comment)
{
	if (!*comment)
		return false;
	for (; *comment; comment++)
		if (*comment < 0x20 || *comment > 0x7e ||
		    *comment == '"' || *comment == '\\')
			return false;
	return true;
}

/* Logging, the payload and the comment: the parts a rule owns memory for. */
static int kfw_nl_parse_owned(struct nlattr **tb, struct kfw_rule_spec *spec,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *comment = tb[KFW_RULE_A_COMMENT];
	struct nlattr *payload = tb[KFW_RULE_A_PAYLOAD];
	struct nlattr *within = tb[KFW_RULE_A_PAYLOAD_WITHIN];
	struct kfw_payload *found;

	spec->log = nla_get_flag(tb[KFW_RULE_A_LOG]);
	if (!spec->log && (tb[KFW_RULE_A_LOG_RATE] || tb[KFW_RULE_A_LOG_BURST])) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_LOG_RATE] ?: tb[KFW_RULE_A_LOG_BURST],
				    "log rate and burst need log");
		return -EINVAL;
	}
	if (spec->log && kfw_hooks_logger_get()) {
		spec->log = false;
		NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_LOG],
				    "no packet logger: the kernel has no nf_log_syslog");
		return -EOPNOTSUPP;
	}
	spec->log_rate = tb[KFW_RULE_A_LOG_RATE] ?
			 nla_get_u32(tb[KFW_RULE_A_LOG_RATE]) : KFW_LOG_RATE_DEFAULT;
	spec->log_burst = tb[KFW_RULE_A_LOG_BURST] ?
			  nla_get_u32(tb[KFW_RULE_A_LOG_BURST]) : KFW_LOG_BURST_DEFAULT;
	if (tb[KFW_RULE_A_TIMEOUT])
		spec->timeout = nla_get_u64(tb[KFW_RULE_A_TIMEOUT]);

	if (within && !payload) {
		NL_SET_ERR_MSG_ATTR(extack, within, "payload-within needs a payload");
		return -EINVAL;
	}
	if (payload) {
		found = kfw_payload_create(nla_data(payload), nla_len(payload),
					   within ? nla_get_u16(within) : 0);
		if (IS_ERR(found)) {
			/* Short of memory, the errno says it all; anything
			 * else means textsearch could not load ts_kmp.
			 */
			if (PTR_ERR(found) != -ENOMEM)
				NL_SET_ERR_MSG_ATTR(extack, payload,
						    "cannot prepare the payload search (ts_kmp)");
			return PTR_ERR(found);
		}
		spec->match.payload = found;
		spec->match.fields |= KFW_MATCH_PAYLOAD;
	}

	if (comment) {
		if (!kfw_nl_comment_valid(nla_data(comment))) {
			NL_SET_ERR_MSG_ATTR(extack, comment,
					    "comment must be printable ASCII without '\"' or '\\'");
			return -EINVAL;
		}
		spec->comment = nla_strdup(comment, GFP_KERNEL_ACCOUNT);
		if (!spec->comment)
			return -ENOMEM;
	}
	return 0;
}

/* A rate's `over`, and its state: a table of sources for per-src. */
static int kfw_nl_parse_over(struct nlattr **tb, struct kfw_rule_spec *spec,
			     struct netlink_ext_ack *extack)
{
	struct nlattr *rate = tb[KFW_RULE_A_OVER_RATE];
	struct nlattr *period = tb[KFW_RULE_A_OVER_PERIOD];
	struct nlattr *burst = tb[KFW_RULE_A_OVER_BURST];
	struct nlattr *per_src = tb[KFW_RULE_A_OVER_PER_SRC];
	struct kfw_limit_conf conf;

	if (!rate) {
		if (period || burst || per_src) {
			NL_SET_ERR_MSG_ATTR(extack, period ?: burst ?: per_src,
					    "over period, burst and per-src need an over rate");
			return -EINVAL;
		}
		return 0;
	}
	if (!period) {
		NL_SET_ERR_MSG_ATTR(extack, rate, "over rate without a period");
		return -EINVAL;
	}
	conf.rate = nla_get_u32(rate);
	conf.period = nla_get_u32(period);
	if (conf.period != 1 && conf.period != 60 && conf.period != 3600) {
		NL_SET_ERR_MSG_ATTR(extack, period,
				    "over period must be 1, 60 or 3600 seconds");
		return -EINVAL;
	}
	conf.burst = burst ? nla_get_u32(burst) : min_t(u32, conf.rate, KFW_OVER_BURST_MAX);
	conf.per_src = nla_get_flag(per_src);
	spec->over = kfw_limit_create(&conf, 0);
	return spec->over ? 0 : -ENOMEM;
}

/**
 * kfw_nl_parse_rule() - what a new rule is made of, from its nest
 * @nest: KFW_A_RULE
 * @ns: the user namespace owning the rule's network namespace
 * @spec: result; on success it may own a payload, lists and a comment
 * @extack: why the rule was refused
 *
 * Return: 0, or a negative errno with nothing left owned by @spec.
 */
static int kfw_nl_parse_rule(const struct nlattr *nest, struct user_namespace *ns,
			     struct kfw_rule_spec *spec,
			     struct netlink_ext_ack *extack)
{
	struct kfw_match *match = &spec->match;
	struct nlattr *tb[KFW_RULE_A_MAX + 1];
	int err;

	memset(spec, 0, sizeof(*spec));
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
	spec->dir = nla_get_u8(tb[KFW_RULE_A_DIR]);
	spec->action = nla_get_u8(tb[KFW_RULE_A_ACTION]);

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

	err = kfw_nl_parse_extras(tb, match, extack);
	if (err)
		return err;
	err = kfw_more_parse(tb, spec->dir, ns, match, extack);
	if (err)
		return err;
	err = kfw_nl_parse_owned(tb, spec, extack) ?:
	      kfw_nl_parse_over(tb, spec, extack);
	if (err)
		kfw_rule_spec_release(spec);
	return err;
}

static struct kfw_rule *kfw_nl_new_rule(struct kfw_net *kn,
					const struct nlattr *nest,
					struct netlink_ext_ack *extack)
{
	struct kfw_rule_spec spec;
	struct kfw_rule *rule;
	int err;

	err = kfw_nl_parse_rule(nest, kn->net->user_ns, &spec, extack);
	if (err)
		return ERR_PTR(err);
	rule = kfw_rule_alloc(kn, &spec);
	if (!rule) {
		kfw_rule_spec_release(&spec);
		return ERR_PTR(-ENOMEM);
	}
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

static int kfw_nl_put_over(struct sk_buff *skb, const struct kfw_limit *over)
{
	if (!over)
		return 0;
	if (nla_put_u32(skb, KFW_RULE_A_OVER_RATE, over->conf.rate) ||
	    nla_put_u32(skb, KFW_RULE_A_OVER_PERIOD, over->conf.period) ||
	    nla_put_u32(skb, KFW_RULE_A_OVER_BURST, over->conf.burst))
		return -EMSGSIZE;
	if (over->conf.per_src &&
	    (nla_put_flag(skb, KFW_RULE_A_OVER_PER_SRC) ||
	     nla_put_u32(skb, KFW_RULE_A_OVER_SOURCES,
			 kfw_limit_sources(over, ktime_get_mono_fast_ns()))))
		return -EMSGSIZE;
	return 0;
}

static int kfw_nl_put_extras(struct sk_buff *skb, const struct kfw_rule *rule)
{
	const struct kfw_match *m = &rule->match;

	if ((m->fields & KFW_MATCH_STATE) &&
	    nla_put_u8(skb, KFW_RULE_A_STATE, m->states))
		return -EMSGSIZE;
	if ((m->fields & KFW_MATCH_ICMP_TYPE) &&
	    nla_put_u8(skb, KFW_RULE_A_ICMP_TYPE, m->icmp_type))
		return -EMSGSIZE;
	if ((m->fields & KFW_MATCH_ICMP_CODE) &&
	    nla_put_u8(skb, KFW_RULE_A_ICMP_CODE, m->icmp_code))
		return -EMSGSIZE;
	if (m->fields & KFW_MATCH_PAYLOAD) {
		if (nla_put(skb, KFW_RULE_A_PAYLOAD, m->payload->len,
			    m->payload->pattern))
			return -EMSGSIZE;
		if (m->payload->within &&
		    nla_put_u16(skb, KFW_RULE_A_PAYLOAD_WITHIN, m->payload->within))
			return -EMSGSIZE;
	}
	if (rule->log &&
	    (nla_put_flag(skb, KFW_RULE_A_LOG) ||
	     nla_put_u32(skb, KFW_RULE_A_LOG_RATE, rule->log_rate) ||
	     nla_put_u32(skb, KFW_RULE_A_LOG_BURST, rule->log_burst)))
		return -EMSGSIZE;
	if (rule->comment &&
	    nla_put_string(skb, KFW_RULE_A_COMMENT, rule->comment))
		return -EMSGSIZE;
	if (rule->expires &&
	    nla_put_u64_64bit(skb, KFW_RULE_A_TIMEOUT,
			      kfw_timed_left_ms(rule->expires), KFW_RULE_A_PAD))
		return -EMSGSIZE;
	return kfw_nl_put_over(skb, rule->over);
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
	if (kfw_more_put(skb, kn->net->user_ns, m))
		goto cancel;
	if (kfw_nl_put_extras(skb, rule))
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
	unsigned int confirm_left;
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
	    nla_put_u32(msg, KFW_A_GENERATION, table->generation) ||
	    nla_put_u64_64bit(msg, KFW_A_LOG_SUPPRESSED,
			      kfw_net_read_log_suppressed(kn), KFW_A_PAD)) {
		rcu_read_unlock();
		goto err_free;
	}
	rcu_read_unlock();
	confirm_left = kfw_replace_confirm_left(kn);
	if (confirm_left && nla_put_u32(msg, KFW_A_CONFIRM_LEFT, confirm_left))
		goto err_free;
	if (kfw_nl_put_stats(msg, kn))
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

/*
 * A dump goes on from the handle of the next rule to send, in cb->args[0]
 * (0 at the start), so each part costs what it sends; cb->args[1] says
 * that all was sent. Every part, and the NLMSG_DONE after the last, carries
 * the generation it saw: one that differs from the part before marks the
 * dump NLM_F_DUMP_INTR, and userspace starts again.
 */
static int kfw_nl_dump_rules(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kfw_net *kn = kfw_net(sock_net(skb->sk));
	const struct kfw_table *table;
	struct kfw_rule *rule;
	void *hdr;

	rcu_read_lock();
	table = rcu_dereference(kn->table);
	cb->seq = table->generation;
	if (cb->args[1]) {
		rcu_read_unlock();
		return 0;
	}
	if (!cb->args[0]) {
		rule = list_first_or_null_rcu(&table->list->head,
					      struct kfw_rule, list);
	} else {
		rule = xa_load(&table->list->by_handle, cb->args[0]);
		/*
		 * Gone: deleted, maybe by a change not yet published, or
		 * replaced. The dump missed a change, whatever the
		 * generation says.
		 */
		if (!rule)
			cb->seq = cb->prev_seq + 1 ?: 1;
	}
	if (!rule)
		goto done;
	list_for_each_entry_from_rcu(rule, &table->list->head, list) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &kfw_family, NLM_F_MULTI,
				  KFW_CMD_GET_RULES);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (kfw_nl_put_rule(skb, kn, rule)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	if (&rule->list != &table->list->head) {
		cb->args[0] = rule->handle;
		rcu_read_unlock();
		return skb->len;
	}
done:
	cb->args[1] = 1;
	rcu_read_unlock();
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
		if (err == -ENOSPC)
			NL_SET_ERR_MSG(extack, "rule limit reached (max_rules)");
		else if (err == -ERANGE)
			NL_SET_ERR_MSG_ATTR(extack, info->attrs[KFW_A_POSITION],
					    "position is past the end of the table");
		goto err_unlock;
	}
	kfw_expire_arm(kn);
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

	mutex_lock(&kn->lock);
	kfw_net_zero(kn);
	mutex_unlock(&kn->lock);
	return 0;
}

/* An address of a test packet, in either family; the family must agree. */
static int kfw_nl_packet_addr(struct nlattr **tb, int ip4, int ip6,
			      struct kfw_packet *pkt, union nf_inet_addr *addr,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *attr = tb[ip4] ?: tb[ip6];
	u8 family = tb[ip4] ? NFPROTO_IPV4 : NFPROTO_IPV6;

	if (!attr)
		return 0;
	if ((tb[ip4] && tb[ip6]) || pkt->family != family) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "packet addresses of another family");
		return -EINVAL;
	}
	if (family == NFPROTO_IPV4)
		addr->ip = nla_get_in_addr(attr);
	else
		addr->in6 = nla_get_in6_addr(attr);
	return 0;
}

/* A test packet: what the packet path would have read from a real one. */
static int kfw_nl_parse_packet(const struct nlattr *nest, struct user_namespace *ns,
			       u8 *dir, struct kfw_packet *pkt, char *iface,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KFW_PACKET_A_MAX + 1];
	bool v6;
	int err;

	err = nla_parse_nested(tb, KFW_PACKET_A_MAX, nest, kfw_packet_policy, extack);
	if (err)
		return err;
	if (!tb[KFW_PACKET_A_DIR]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "test packet has no direction");
		return -EINVAL;
	}
	*dir = nla_get_u8(tb[KFW_PACKET_A_DIR]);

	memset(pkt, 0, sizeof(*pkt));
	v6 = tb[KFW_PACKET_A_SRC_IP6] || tb[KFW_PACKET_A_DST_IP6] ||
	     (tb[KFW_PACKET_A_FAMILY] &&
	      nla_get_u8(tb[KFW_PACKET_A_FAMILY]) == KFW_FAMILY_IPV6);
	pkt->family = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	err = kfw_nl_packet_addr(tb, KFW_PACKET_A_SRC_IP4, KFW_PACKET_A_SRC_IP6,
				 pkt, &pkt->src, extack) ?:
	      kfw_nl_packet_addr(tb, KFW_PACKET_A_DST_IP4, KFW_PACKET_A_DST_IP6,
				 pkt, &pkt->dst, extack);
	if (err)
		return err;

	if (tb[KFW_PACKET_A_PROTO]) {
		pkt->proto = nla_get_u8(tb[KFW_PACKET_A_PROTO]);
		pkt->has_proto = true;
	}
	/* As on the packet path: ports of TCP and UDP, types of ICMP. */
	if (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP) {
		pkt->has_ports = true;
		if (tb[KFW_PACKET_A_SPORT])
			pkt->sport = nla_get_u16(tb[KFW_PACKET_A_SPORT]);
		else
			pkt->unknown |= KFW_PACKET_UNKNOWN_SPORT;
		if (tb[KFW_PACKET_A_DPORT])
			pkt->dport = nla_get_u16(tb[KFW_PACKET_A_DPORT]);
		else
			pkt->unknown |= KFW_PACKET_UNKNOWN_DPORT;
	}
	if (!tb[KFW_PACKET_A_SRC_IP4] && !tb[KFW_PACKET_A_SRC_IP6])
		pkt->unknown |= KFW_PACKET_UNKNOWN_SRC;
	if (!tb[KFW_PACKET_A_DST_IP4] && !tb[KFW_PACKET_A_DST_IP6])
		pkt->unknown |= KFW_PACKET_UNKNOWN_DST;
	if (pkt->proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) &&
	    tb[KFW_PACKET_A_ICMP_TYPE]) {
		pkt->has_icmp = true;
		pkt->icmp_type = nla_get_u8(tb[KFW_PACKET_A_ICMP_TYPE]);
		if (tb[KFW_PACKET_A_ICMP_CODE])
			pkt->icmp_code = nla_get_u8(tb[KFW_PACKET_A_ICMP_CODE]);
		else
			pkt->unknown |= KFW_PACKET_UNKNOWN_ICMP_CODE;
	}
	if (tb[KFW_PACKET_A_STATE])
		pkt->state = nla_get_u8(tb[KFW_PACKET_A_STATE]);
	if (tb[KFW_PACKET_A_IFACE]) {
		if (!kfw_nl_iface_valid(nla_data(tb[KFW_PACKET_A_IFACE]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KFW_PACKET_A_IFACE],
					    "invalid interface name");
			return -EINVAL;
		}
		nla_strscpy(iface, tb[KFW_PACKET_A_IFACE], IFNAMSIZ);
		pkt->iface = iface;
	}
	/* An owner the namespace cannot name is no owner any rule names. */
	if (tb[KFW_PACKET_A_UID])
		pkt->uid = __kuid_val(make_kuid(ns, nla_get_u32(tb[KFW_PACKET_A_UID])));
	else
		pkt->unknown |= KFW_PACKET_UNKNOWN_UID;
	if (tb[KFW_PACKET_A_GID])
		pkt->gid = __kgid_val(make_kgid(ns, nla_get_u32(tb[KFW_PACKET_A_GID])));
	else
		pkt->unknown |= KFW_PACKET_UNKNOWN_GID;
	return 0;
}

static int kfw_nl_test(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	const struct kfw_table *table;
	const struct kfw_rule *rule;
	char iface[IFNAMSIZ] = "";
	struct kfw_packet pkt;
	struct sk_buff *msg;
	u8 dir, verdict;
	void *hdr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KFW_A_PACKET))
		return -EINVAL;
	err = kfw_nl_parse_packet(info->attrs[KFW_A_PACKET], kn->net->user_ns, &dir,
				  &pkt, iface, info->extack);
	if (err)
		return err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kfw_family, 0, KFW_CMD_TEST);
	if (!hdr)
		goto err_free;

	rcu_read_lock();
	table = rcu_dereference(kn->table);
	rule = kfw_table_what_if(table, dir, &pkt);
	verdict = rule ? rule->action : table->policy[dir];
	if (nla_put_u8(msg, KFW_A_VERDICT, verdict) ||
	    (rule && kfw_nl_put_rule(msg, kn, rule))) {
		rcu_read_unlock();
		goto err_free;
	}
	rcu_read_unlock();
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static u8 kfw_nl_get_policy(const struct nlattr *attr)
{
	return attr ? nla_get_u8(attr) : KFW_VERDICT_MAX + 1;
}

/* The socket a request came from, as the owner of a transaction. */
static u64 kfw_nl_owner(const struct sk_buff *skb)
{
	return (uintptr_t)NETLINK_CB(skb).sk;
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
	err = kfw_replace_begin(kn, kfw_nl_owner(skb), info->snd_portid, policy,
				info->extack);
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
		err = kfw_replace_append(kn, kfw_nl_owner(skb), rule, extack);
		if (err) {
			kfw_rule_destroy(kn, rule);
			break;
		}
	}
	/* One bad rule spoils the transaction: the table must not half change. */
	if (err)
		kfw_replace_drop(kn, kfw_nl_owner(skb));
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_replace_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	struct nlattr *confirm = info->attrs[KFW_A_CONFIRM];
	unsigned int flags = 0;
	int err;

	if (info->attrs[KFW_A_CHECK]) {
		if (confirm) {
			NL_SET_ERR_MSG_ATTR(info->extack, confirm,
					    "a check installs nothing to confirm");
			return -EINVAL;
		}
		flags |= KFW_REPLACE_CHECK;
	}
	if (info->attrs[KFW_A_ZERO])
		flags |= KFW_REPLACE_ZERO;
	mutex_lock(&kn->lock);
	err = kfw_replace_commit(kn, kfw_nl_owner(skb), flags,
				 confirm ? nla_get_u32(confirm) : 0,
				 info->extack);
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_confirm(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	int err;

	mutex_lock(&kn->lock);
	err = kfw_replace_confirm(kn, info->extack);
	mutex_unlock(&kn->lock);
	return err;
}

static int kfw_nl_replace_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct kfw_net *kn = kfw_net(genl_info_net(info));
	int err;

	mutex_lock(&kn->lock);
	err = kfw_replace_abort(kn, kfw_nl_owner(skb), info->extack);
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
		.cmd	= KFW_CMD_TEST,
		.doit	= kfw_nl_test,
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
	{
		.cmd	= KFW_CMD_CONFIRM,
		.doit	= kfw_nl_confirm,
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

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	kfw_replace_released(kfw_net(n->net), n->portid);
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
