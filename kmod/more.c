// SPDX-License-Identifier: GPL-2.0
/*
 * The matches beyond one value per field: lists, negated fields and the
 * owner of the sending socket. Here they are read from a rule's netlink
 * attributes, given back in dumps, and owners are checked on packets; the
 * lists themselves are checked in match.c, with everything else a rule asks.
 *
 * A list of one element that is not negated is a single value, so the
 * parser hands it to struct kfw_match where the classifier indexes it. Every
 * other list, and every negated field, goes to struct kfw_match_more.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/sock.h>

#include "more.h"

const struct nla_policy kfw_elem_policy[KFW_ELEM_A_MAX + 1] = {
	[KFW_ELEM_A_IP4]	= NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[KFW_ELEM_A_IP6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KFW_ELEM_A_PREFIX]	= NLA_POLICY_MAX(NLA_U8, 128),
	[KFW_ELEM_A_FIRST]	= { .type = NLA_U16 },
	[KFW_ELEM_A_LAST]	= { .type = NLA_U16 },
	[KFW_ELEM_A_PROTO]	= { .type = NLA_U8 },
};

/*
 * The attributes of each list field: the list, and the single value's
 * address or first port, last port or prefix; its struct kfw_match bit, and
 * the bit that negates it.
 */
static const struct {
	int list;
	int single;
	int single6;
	int single_end;
	u16 field;
	u8 negate;
} kfw_more_fields[KFW_LISTS] = {
	[KFW_LIST_SRC]	 = { KFW_RULE_A_SRC_LIST, KFW_RULE_A_SRC_IP4, KFW_RULE_A_SRC_IP6,
			     KFW_RULE_A_SRC_PREFIX, KFW_MATCH_SRC, KFW_NEGATE_SRC },
	[KFW_LIST_DST]	 = { KFW_RULE_A_DST_LIST, KFW_RULE_A_DST_IP4, KFW_RULE_A_DST_IP6,
			     KFW_RULE_A_DST_PREFIX, KFW_MATCH_DST, KFW_NEGATE_DST },
	[KFW_LIST_SPORT] = { KFW_RULE_A_SPORT_LIST, KFW_RULE_A_SPORT_FIRST, 0,
			     KFW_RULE_A_SPORT_LAST, KFW_MATCH_SPORT, KFW_NEGATE_SPORT },
	[KFW_LIST_DPORT] = { KFW_RULE_A_DPORT_LIST, KFW_RULE_A_DPORT_FIRST, 0,
			     KFW_RULE_A_DPORT_LAST, KFW_MATCH_DPORT, KFW_NEGATE_DPORT },
	[KFW_LIST_PROTO] = { KFW_RULE_A_PROTO_LIST, KFW_RULE_A_PROTO, 0, 0,
			     KFW_MATCH_PROTO, 0 },
};

/* Does the rule of @tb have anything for kfw_more_parse() to keep? */
static bool kfw_more_wanted(struct nlattr **tb)
{
	enum kfw_list_field f;

	for (f = 0; f < KFW_LISTS; f++)
		if (tb[kfw_more_fields[f].list])
			return true;
	return tb[KFW_RULE_A_NEGATE] || tb[KFW_RULE_A_UID_FIRST] ||
	       tb[KFW_RULE_A_UID_LAST] || tb[KFW_RULE_A_GID_FIRST] ||
	       tb[KFW_RULE_A_GID_LAST];
}

/**
 * kfw_more_free() - free a rule's lists
 * @more: from kfw_more_parse(), or NULL
 */
void kfw_more_free(const struct kfw_match_more *more)
{
	if (!more)
		return;
	kfree(more->addr[0]);
	kfree(more->addr[1]);
	kfree(more->port[0]);
	kfree(more->port[1]);
	kfree(more->proto);
	kfree(more);
}

/* One element of an address list; *family is the list's, once known. */
static int kfw_more_parse_addr(struct nlattr **tb, const struct nlattr *elem,
			       u8 *family, struct kfw_addr_elem *out,
			       struct netlink_ext_ack *extack)
{
	u8 this_family, max_prefix;
	unsigned int i;

	if (!!tb[KFW_ELEM_A_IP4] == !!tb[KFW_ELEM_A_IP6]) {
		NL_SET_ERR_MSG_ATTR(extack, elem, "a list address is either IPv4 or IPv6");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (tb[KFW_ELEM_A_IP4]) {
		this_family = NFPROTO_IPV4;
		max_prefix = 32;
		out->net.ip = nla_get_in_addr(tb[KFW_ELEM_A_IP4]);
	} else {
		this_family = NFPROTO_IPV6;
		max_prefix = 128;
		out->net.in6 = nla_get_in6_addr(tb[KFW_ELEM_A_IP6]);
	}
	if (*family != NFPROTO_UNSPEC && *family != this_family) {
		NL_SET_ERR_MSG_ATTR(extack, elem, "addresses of different families");
		return -EINVAL;
	}
	*family = this_family;
	out->prefix = tb[KFW_ELEM_A_PREFIX] ? nla_get_u8(tb[KFW_ELEM_A_PREFIX]) :
					      max_prefix;
	if (out->prefix > max_prefix) {
		NL_SET_ERR_MSG_ATTR(extack, elem, "prefix too long for the address family");
		return -EINVAL;
	}
	kfw_match_prefix_mask(&out->mask, this_family, out->prefix);
	for (i = 0; i < ARRAY_SIZE(out->net.all); i++) {
		if (out->net.all[i] & ~out->mask.all[i]) {
			NL_SET_ERR_MSG_ATTR(extack, elem,
					    "address has bits set beyond its prefix length");
			return -EINVAL;
		}
	}
	return 0;
}

static int kfw_more_parse_port(struct nlattr **tb, const struct nlattr *elem,
			       struct kfw_port_range *out,
			       struct netlink_ext_ack *extack)
{
	if (!tb[KFW_ELEM_A_FIRST]) {
		NL_SET_ERR_MSG_ATTR(extack, elem, "list port without a first port");
		return -EINVAL;
	}
	out->first = nla_get_u16(tb[KFW_ELEM_A_FIRST]);
	out->last = tb[KFW_ELEM_A_LAST] ? nla_get_u16(tb[KFW_ELEM_A_LAST]) : out->first;
	if (out->last < out->first) {
		NL_SET_ERR_MSG_ATTR(extack, elem, "port range ends before it starts");
		return -EINVAL;
	}
	return 0;
}

/*
 * The elements of list @f, from @attr into @elems (room for KFW_LIST_MAX);
 * returns their number.
 */
static int kfw_more_parse_list(enum kfw_list_field f, const struct nlattr *attr,
			       u8 *family, void *elems,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KFW_ELEM_A_MAX + 1];
	const struct nlattr *elem;
	int rem, n = 0, err;

	nla_for_each_nested(elem, attr, rem) {
		if (nla_type(elem) != KFW_LIST_A_ELEM) {
			NL_SET_ERR_MSG_ATTR(extack, elem, "a list holds only elements");
			return -EINVAL;
		}
		if (n == KFW_LIST_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, elem, "a list holds at most 64 elements");
			return -E2BIG;
		}
		err = nla_parse_nested(tb, KFW_ELEM_A_MAX, elem, kfw_elem_policy, extack);
		if (err)
			return err;
		switch (f) {
		case KFW_LIST_SRC:
		case KFW_LIST_DST:
			err = kfw_more_parse_addr(tb, elem, family,
						  (struct kfw_addr_elem *)elems + n, extack);
			break;
		case KFW_LIST_SPORT:
		case KFW_LIST_DPORT:
			err = kfw_more_parse_port(tb, elem,
						  (struct kfw_port_range *)elems + n, extack);
			break;
		default:
			if (!tb[KFW_ELEM_A_PROTO]) {
				NL_SET_ERR_MSG_ATTR(extack, elem, "list protocol without a number");
				return -EINVAL;
			}
			((u8 *)elems)[n] = nla_get_u8(tb[KFW_ELEM_A_PROTO]);
		}
		if (err)
			return err;
		n++;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "an empty list");
		return -EINVAL;
	}
	return n;
}

/* Moves a single value of field @f out of @match into element 0 of @elems. */
static void kfw_more_take_single(struct kfw_match *match, enum kfw_list_field f,
				 void *elems)
{
	struct kfw_addr_elem *addr = elems;

	switch (f) {
	case KFW_LIST_SRC:
		addr->net = match->src;
		addr->mask = match->src_mask;
		addr->prefix = match->src_prefix;
		break;
	case KFW_LIST_DST:
		addr->net = match->dst;
		addr->mask = match->dst_mask;
		addr->prefix = match->dst_prefix;
		break;
	case KFW_LIST_SPORT:
		*(struct kfw_port_range *)elems = match->sport;
		break;
	case KFW_LIST_DPORT:
		*(struct kfw_port_range *)elems = match->dport;
		break;
	default:
		*(u8 *)elems = match->proto;
	}
	match->fields &= ~kfw_more_fields[f].field;
}

/* The other way: a list of one element, not negated, is a single value. */
static void kfw_more_give_single(struct kfw_match *match, enum kfw_list_field f,
				 const void *elems)
{
	const struct kfw_addr_elem *addr = elems;

	switch (f) {
	case KFW_LIST_SRC:
		match->src = addr->net;
		match->src_mask = addr->mask;
		match->src_prefix = addr->prefix;
		break;
	case KFW_LIST_DST:
		match->dst = addr->net;
		match->dst_mask = addr->mask;
		match->dst_prefix = addr->prefix;
		break;
	case KFW_LIST_SPORT:
		match->sport = *(const struct kfw_port_range *)elems;
		break;
	case KFW_LIST_DPORT:
		match->dport = *(const struct kfw_port_range *)elems;
		break;
	default:
		match->proto = *(const u8 *)elems;
	}
	match->fields |= kfw_more_fields[f].field;
}

static size_t kfw_more_elem_size(enum kfw_list_field f);
static void **kfw_more_slot(struct kfw_match_more *more, enum kfw_list_field f);

/**
 * kfw_more_set_single() - make one element of a list a match's single value
 * @match: a copy of the rule's match, its @more the rule's
 * @f: the list
 * @i: the element
 */
void kfw_more_set_single(struct kfw_match *match, enum kfw_list_field f,
			 unsigned int i)
{
	const char *elems = *kfw_more_slot((struct kfw_match_more *)match->more, f);

	kfw_more_give_single(match, f, elems + i * kfw_more_elem_size(f));
}

static size_t kfw_more_elem_size(enum kfw_list_field f)
{
	if (f <= KFW_LIST_DST)
		return sizeof(struct kfw_addr_elem);
	if (f <= KFW_LIST_DPORT)
		return sizeof(struct kfw_port_range);
	return sizeof(u8);
}

static void **kfw_more_slot(struct kfw_match_more *more, enum kfw_list_field f)
{
	if (f <= KFW_LIST_DST)
		return (void **)&more->addr[f];
	if (f <= KFW_LIST_DPORT)
		return (void **)&more->port[f - KFW_LIST_SPORT];
	return (void **)&more->proto;
}

/* An owner range in the namespace's user namespace, as kernel-wide ids. */
static int kfw_more_parse_owner(struct nlattr **tb, int first_attr, int last_attr,
				struct user_namespace *ns, bool gid,
				u32 *first, u32 *last,
				struct netlink_ext_ack *extack)
{
	u32 lo, hi;

	if (!tb[first_attr]) {
		if (tb[last_attr]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[last_attr], "owner range without a start");
			return -EINVAL;
		}
		return 0;
	}
	lo = nla_get_u32(tb[first_attr]);
	hi = tb[last_attr] ? nla_get_u32(tb[last_attr]) : lo;
	if (hi < lo) {
		NL_SET_ERR_MSG_ATTR(extack, tb[last_attr], "owner range ends before it starts");
		return -EINVAL;
	}
	if (gid) {
		kgid_t a = make_kgid(ns, lo), b = make_kgid(ns, hi);

		if (!gid_valid(a) || !gid_valid(b)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[first_attr],
					    "group not mapped in this user namespace");
			return -EINVAL;
		}
		*first = __kgid_val(a);
		*last = __kgid_val(b);
	} else {
		kuid_t a = make_kuid(ns, lo), b = make_kuid(ns, hi);

		if (!uid_valid(a) || !uid_valid(b)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[first_attr],
					    "user not mapped in this user namespace");
			return -EINVAL;
		}
		*first = __kuid_val(a);
		*last = __kuid_val(b);
	}
	if (*last < *first) {
		NL_SET_ERR_MSG_ATTR(extack, tb[first_attr],
				    "owner range is not in order in the initial user namespace");
		return -EINVAL;
	}
	return 1;
}

/* Ports need every protocol the rule may match to be TCP or UDP. */
static bool kfw_more_ports_allowed(const struct kfw_match *match,
				   const struct kfw_match_more *more)
{
	u8 i;

	if (match->fields & KFW_MATCH_PROTO)
		return match->proto == IPPROTO_TCP || match->proto == IPPROTO_UDP;
	if (!more || !more->len[KFW_LIST_PROTO])
		return false;
	for (i = 0; i < more->len[KFW_LIST_PROTO]; i++)
		if (more->proto[i] != IPPROTO_TCP && more->proto[i] != IPPROTO_UDP)
			return false;
	return true;
}

/**
 * kfw_more_parse() - the lists, negations and owner of a rule
 * @tb: the rule's attributes, parsed
 * @dir: the rule's direction
 * @ns: the user namespace owning the rule's network namespace
 * @match: the match, its single values already parsed; lists join it
 * @extack: why the rule was refused
 *
 * Also checks that ports, single or listed, come with TCP or UDP only.
 *
 * Return: 0 with @match->more set if needed (the caller frees it with
 * kfw_more_free()), or a negative errno with nothing allocated.
 */
int kfw_more_parse(struct nlattr **tb, u8 dir, struct user_namespace *ns,
		   struct kfw_match *match, struct netlink_ext_ack *extack)
{
	u8 negate = tb[KFW_RULE_A_NEGATE] ? nla_get_u8(tb[KFW_RULE_A_NEGATE]) : 0;
	struct kfw_match_more *more = NULL;
	enum kfw_list_field f;
	void *elems = NULL;
	int n, err;

	/* The common rule, and every rule of a large restore, stops here. */
	if (!kfw_more_wanted(tb))
		goto ports;
	more = kzalloc(sizeof(*more), GFP_KERNEL_ACCOUNT);
	if (!more)
		return -ENOMEM;
	for (f = 0; f < KFW_LISTS; f++) {
		const struct nlattr *list = tb[kfw_more_fields[f].list];
		bool negated = negate & kfw_more_fields[f].negate;
		void **slot;

		if (list && (match->fields & kfw_more_fields[f].field)) {
			NL_SET_ERR_MSG_ATTR(extack, list,
					    "a list and a single value of one field");
			err = -EINVAL;
			goto fail;
		}
		if (!list && !(negated && (match->fields & kfw_more_fields[f].field)))
			continue;
		elems = kcalloc(list ? KFW_LIST_MAX : 1, kfw_more_elem_size(f),
				GFP_KERNEL_ACCOUNT);
		err = -ENOMEM;
		if (!elems)
			goto fail;
		if (list) {
			n = kfw_more_parse_list(f, list, &match->family, elems, extack);
			err = n;
			if (n < 0)
				goto fail;
		} else {
			kfw_more_take_single(match, f, elems);
			n = 1;
		}
		if (n == 1 && !negated) {
			kfw_more_give_single(match, f, elems);
			kfree(elems);
			elems = NULL;
			continue;
		}
		slot = kfw_more_slot(more, f);
		*slot = krealloc(elems, n * kfw_more_elem_size(f), GFP_KERNEL_ACCOUNT) ?: elems;
		elems = NULL;
		more->len[f] = n;
		match->listed |= BIT(f);
	}
	if ((negate & KFW_NEGATE_IFACE) && !(match->fields & KFW_MATCH_IFACE)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_NEGATE],
				    "negated interface without an interface");
		err = -EINVAL;
		goto fail;
	}
	for (f = 0; f < KFW_LISTS; f++) {
		if ((negate & kfw_more_fields[f].negate) && !(match->listed & BIT(f))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KFW_RULE_A_NEGATE],
					    "negation of a field the rule does not have");
			err = -EINVAL;
			goto fail;
		}
	}
	match->negate = negate;

ports:
	if ((match->fields & (KFW_MATCH_SPORT | KFW_MATCH_DPORT) ||
	     (more && (more->len[KFW_LIST_SPORT] || more->len[KFW_LIST_DPORT]))) &&
	    !kfw_more_ports_allowed(match, more)) {
		NL_SET_ERR_MSG_ATTR(extack,
				    tb[KFW_RULE_A_SPORT_FIRST] ?: tb[KFW_RULE_A_DPORT_FIRST] ?:
				    tb[KFW_RULE_A_SPORT_LIST] ?: tb[KFW_RULE_A_DPORT_LIST],
				    "ports need proto tcp or udp");
		err = -EINVAL;
		goto fail;
	}
	if (!more)
		return 0;

	err = kfw_more_parse_owner(tb, KFW_RULE_A_UID_FIRST, KFW_RULE_A_UID_LAST, ns,
				   false, &more->uid_first, &more->uid_last, extack);
	if (err < 0)
		goto fail;
	more->has_uid = err;
	err = kfw_more_parse_owner(tb, KFW_RULE_A_GID_FIRST, KFW_RULE_A_GID_LAST, ns,
				   true, &more->gid_first, &more->gid_last, extack);
	if (err < 0)
		goto fail;
	more->has_gid = err;
	if ((more->has_uid || more->has_gid) && dir != KFW_DIR_OUT) {
		NL_SET_ERR_MSG_ATTR(extack,
				    tb[KFW_RULE_A_UID_FIRST] ?: tb[KFW_RULE_A_GID_FIRST],
				    "uid and gid match only on out");
		err = -EINVAL;
		goto fail;
	}

	if (!match->listed && !more->has_uid && !more->has_gid) {
		kfw_more_free(more);
		return 0;
	}
	match->fields |= KFW_MATCH_MORE;
	match->more = more;
	return 0;

fail:
	kfree(elems);
	kfw_more_free(more);
	match->listed = 0;
	return err;
}

static int kfw_more_put_elem(struct sk_buff *skb, enum kfw_list_field f,
			     const struct kfw_match_more *more, u8 family, u8 i)
{
	const struct kfw_addr_elem *addr;
	const struct kfw_port_range *port;

	switch (f) {
	case KFW_LIST_SRC:
	case KFW_LIST_DST:
		addr = &more->addr[f][i];
		if (family == NFPROTO_IPV4 ?
		    nla_put_in_addr(skb, KFW_ELEM_A_IP4, addr->net.ip) :
		    nla_put_in6_addr(skb, KFW_ELEM_A_IP6, &addr->net.in6))
			return -EMSGSIZE;
		return nla_put_u8(skb, KFW_ELEM_A_PREFIX, addr->prefix);
	case KFW_LIST_SPORT:
	case KFW_LIST_DPORT:
		port = &more->port[f - KFW_LIST_SPORT][i];
		if (nla_put_u16(skb, KFW_ELEM_A_FIRST, port->first) ||
		    nla_put_u16(skb, KFW_ELEM_A_LAST, port->last))
			return -EMSGSIZE;
		return 0;
	default:
		return nla_put_u8(skb, KFW_ELEM_A_PROTO, more->proto[i]);
	}
}

/* A negated field of one element, as the single attributes. */
static int kfw_more_put_single(struct sk_buff *skb, enum kfw_list_field f,
			       const struct kfw_match_more *more, u8 family)
{
	const struct kfw_addr_elem *addr;
	const struct kfw_port_range *port;

	switch (f) {
	case KFW_LIST_SRC:
	case KFW_LIST_DST:
		addr = &more->addr[f][0];
		if (family == NFPROTO_IPV4 ?
		    nla_put_in_addr(skb, kfw_more_fields[f].single, addr->net.ip) :
		    nla_put_in6_addr(skb, kfw_more_fields[f].single6, &addr->net.in6))
			return -EMSGSIZE;
		return nla_put_u8(skb, kfw_more_fields[f].single_end, addr->prefix);
	case KFW_LIST_SPORT:
	case KFW_LIST_DPORT:
		port = &more->port[f - KFW_LIST_SPORT][0];
		if (nla_put_u16(skb, kfw_more_fields[f].single, port->first) ||
		    nla_put_u16(skb, kfw_more_fields[f].single_end, port->last))
			return -EMSGSIZE;
		return 0;
	default:
		return nla_put_u8(skb, kfw_more_fields[f].single, more->proto[0]);
	}
}

static int kfw_more_put_owner(struct sk_buff *skb, struct user_namespace *ns,
			      const struct kfw_match_more *more)
{
	if (more->has_uid &&
	    (nla_put_u32(skb, KFW_RULE_A_UID_FIRST,
			 from_kuid_munged(ns, KUIDT_INIT(more->uid_first))) ||
	     nla_put_u32(skb, KFW_RULE_A_UID_LAST,
			 from_kuid_munged(ns, KUIDT_INIT(more->uid_last)))))
		return -EMSGSIZE;
	if (more->has_gid &&
	    (nla_put_u32(skb, KFW_RULE_A_GID_FIRST,
			 from_kgid_munged(ns, KGIDT_INIT(more->gid_first))) ||
	     nla_put_u32(skb, KFW_RULE_A_GID_LAST,
			 from_kgid_munged(ns, KGIDT_INIT(more->gid_last)))))
		return -EMSGSIZE;
	return 0;
}

/**
 * kfw_more_put() - a rule's lists, negations and owner, as a request gives them
 * @skb: the message, inside the rule's nest
 * @ns: the user namespace to number owners in
 * @match: the rule's match
 *
 * A negated field of one element goes back as the single attribute, which
 * is how fwctl sends it.
 *
 * Return: 0 or -EMSGSIZE.
 */
int kfw_more_put(struct sk_buff *skb, struct user_namespace *ns,
		 const struct kfw_match *match)
{
	const struct kfw_match_more *more = match->more;
	struct nlattr *list, *elem;
	enum kfw_list_field f;
	u8 i;

	if (match->negate && nla_put_u8(skb, KFW_RULE_A_NEGATE, match->negate))
		return -EMSGSIZE;
	if (!(match->fields & KFW_MATCH_MORE))
		return 0;
	for (f = 0; f < KFW_LISTS; f++) {
		if (!more->len[f])
			continue;
		if (more->len[f] == 1) {
			if (kfw_more_put_single(skb, f, more, match->family))
				return -EMSGSIZE;
			continue;
		}
		list = nla_nest_start(skb, kfw_more_fields[f].list);
		if (!list)
			return -EMSGSIZE;
		for (i = 0; i < more->len[f]; i++) {
			elem = nla_nest_start(skb, KFW_LIST_A_ELEM);
			if (!elem || kfw_more_put_elem(skb, f, more, match->family, i))
				return -EMSGSIZE;
			nla_nest_end(skb, elem);
		}
		nla_nest_end(skb, list);
	}
	return kfw_more_put_owner(skb, ns, more);
}

/**
 * kfw_owner_found() - is a packet's socket owned as a rule asks
 * @more: the rule's owner ranges (has_uid, has_gid)
 * @pkt: the packet; a what-if packet carries its owner in @pkt->uid and gid
 *
 * As xt_owner does: the credentials of the file that opened the socket, read
 * under the RCU read lock that every hook runs in (a socket's file and its
 * credentials are freed after a grace period). Packets without a full
 * socket, such as the replies a time-wait socket makes, or whose socket has
 * no file, such as the kernel's own, never match.
 *
 * Return: true if every owner range of @more holds the packet's owner.
 */
bool kfw_owner_found(const struct kfw_match_more *more,
		     const struct kfw_packet *pkt)
{
	const struct socket *sock;
	const struct file *file;
	const struct cred *cred;
	struct sock *sk;
	u32 uid, gid;

	if (!pkt->skb) {
		if ((more->has_uid && (pkt->unknown & KFW_PACKET_UNKNOWN_UID)) ||
		    (more->has_gid && (pkt->unknown & KFW_PACKET_UNKNOWN_GID)))
			return false;
		uid = pkt->uid;
		gid = pkt->gid;
	} else {
		sk = skb_to_full_sk(pkt->skb);
		if (!sk || !sk_fullsock(sk))
			return false;
		sock = READ_ONCE(sk->sk_socket);
		file = sock ? READ_ONCE(sock->file) : NULL;
		if (!file)
			return false;
		cred = file->f_cred;
		uid = __kuid_val(cred->fsuid);
		gid = __kgid_val(cred->fsgid);
	}
	return (!more->has_uid || (uid >= more->uid_first && uid <= more->uid_last)) &&
	       (!more->has_gid || (gid >= more->gid_first && gid <= more->gid_last));
}
