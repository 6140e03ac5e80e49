// SPDX-License-Identifier: GPL-2.0
/*
 * Does a packet satisfy a rule's match? The reference semantics of kfw.
 */

#include <linux/string.h>

#include "match.h"
#include "payload.h"
#include "uapi/kfw.h"

/**
 * kfw_match_prefix_mask() - netmask of a prefix length
 * @mask: result, in network byte order
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6
 * @prefix: 0-32 or 0-128
 */
void kfw_match_prefix_mask(union nf_inet_addr *mask, u8 family, u8 prefix)
{
	unsigned int words = family == NFPROTO_IPV4 ? 1 : 4;
	unsigned int i, bits;

	memset(mask, 0, sizeof(*mask));
	for (i = 0; i < words; i++) {
		bits = min_t(unsigned int, prefix, 32);
		prefix -= bits;
		if (bits)
			mask->all[i] = htonl(~0U << (32 - bits));
	}
}

static bool kfw_match_addr(const union nf_inet_addr *addr,
			   const union nf_inet_addr *net,
			   const union nf_inet_addr *mask, u8 family)
{
	if (family == NFPROTO_IPV4)
		return !((addr->ip ^ net->ip) & mask->ip);

	return !(((addr->all[0] ^ net->all[0]) & mask->all[0]) |
		 ((addr->all[1] ^ net->all[1]) & mask->all[1]) |
		 ((addr->all[2] ^ net->all[2]) & mask->all[2]) |
		 ((addr->all[3] ^ net->all[3]) & mask->all[3]));
}

static bool kfw_match_port(u16 port, const struct kfw_port_range *range)
{
	return port >= range->first && port <= range->last;
}

static bool kfw_match_in_addrs(const struct kfw_addr_elem *elems, u8 len,
			       const union nf_inet_addr *addr, u8 family)
{
	u8 i;

	for (i = 0; i < len; i++)
		if (kfw_match_addr(addr, &elems[i].net, &elems[i].mask, family))
			return true;
	return false;
}

static bool kfw_match_in_ports(const struct kfw_port_range *elems, u8 len,
			       u16 port)
{
	u8 i;

	for (i = 0; i < len; i++)
		if (kfw_match_port(port, &elems[i]))
			return true;
	return false;
}

/*
 * The fields of @more that @match checks: each in one of its elements, or in
 * none when negated. An unknown field of a what-if packet matches neither way.
 */
static bool kfw_match_more(const struct kfw_match *match,
			   const struct kfw_packet *pkt)
{
	const struct kfw_match_more *more = match->more;
	u8 listed = match->listed, i;
	bool in;

	if (listed & BIT(KFW_LIST_PROTO)) {
		if (!pkt->has_proto)
			return false;
		for (i = 0; i < more->len[KFW_LIST_PROTO]; i++)
			if (more->proto[i] == pkt->proto)
				break;
		if (i == more->len[KFW_LIST_PROTO])
			return false;
	}
	if (listed & BIT(KFW_LIST_SRC)) {
		if (pkt->unknown & KFW_PACKET_UNKNOWN_SRC)
			return false;
		in = kfw_match_in_addrs(more->addr[KFW_LIST_SRC],
					more->len[KFW_LIST_SRC], &pkt->src, pkt->family);
		if (in == !!(match->negate & KFW_NEGATE_SRC))
			return false;
	}
	if (listed & BIT(KFW_LIST_DST)) {
		if (pkt->unknown & KFW_PACKET_UNKNOWN_DST)
			return false;
		in = kfw_match_in_addrs(more->addr[KFW_LIST_DST],
					more->len[KFW_LIST_DST], &pkt->dst, pkt->family);
		if (in == !!(match->negate & KFW_NEGATE_DST))
			return false;
	}
	if ((listed & (BIT(KFW_LIST_SPORT) | BIT(KFW_LIST_DPORT))) && !pkt->has_ports)
		return false;
	if (listed & BIT(KFW_LIST_SPORT)) {
		if (pkt->unknown & KFW_PACKET_UNKNOWN_SPORT)
			return false;
		in = kfw_match_in_ports(more->port[KFW_LIST_SPORT - KFW_LIST_SPORT],
					more->len[KFW_LIST_SPORT], pkt->sport);
		if (in == !!(match->negate & KFW_NEGATE_SPORT))
			return false;
	}
	if (listed & BIT(KFW_LIST_DPORT)) {
		if (pkt->unknown & KFW_PACKET_UNKNOWN_DPORT)
			return false;
		in = kfw_match_in_ports(more->port[KFW_LIST_DPORT - KFW_LIST_SPORT],
					more->len[KFW_LIST_DPORT], pkt->dport);
		if (in == !!(match->negate & KFW_NEGATE_DPORT))
			return false;
	}
	return !(more->has_uid || more->has_gid) || kfw_owner_found(more, pkt);
}

/* Does @match ask for a field that the what-if packet @pkt left out? */
static bool kfw_match_asks_unknown(const struct kfw_match *match,
				   const struct kfw_packet *pkt)
{
	static const struct {
		u16 field;
		u8 unknown;
	} needs[] = {
		{ KFW_MATCH_SRC, KFW_PACKET_UNKNOWN_SRC },
		{ KFW_MATCH_DST, KFW_PACKET_UNKNOWN_DST },
		{ KFW_MATCH_SPORT, KFW_PACKET_UNKNOWN_SPORT },
		{ KFW_MATCH_DPORT, KFW_PACKET_UNKNOWN_DPORT },
		{ KFW_MATCH_ICMP_CODE, KFW_PACKET_UNKNOWN_ICMP_CODE },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(needs); i++)
		if ((match->fields & needs[i].field) &&
		    (pkt->unknown & needs[i].unknown))
			return true;
	return false;
}

/**
 * kfw_match_packet() - check one rule against one packet
 * @match: the rule's match
 * @pkt: the packet's fields
 *
 * Return: true if every field the rule uses matches the packet.
 */
bool kfw_match_packet(const struct kfw_match *match,
		      const struct kfw_packet *pkt)
{
	u16 fields = match->fields;

	if (unlikely(pkt->unknown) && kfw_match_asks_unknown(match, pkt))
		return false;
	if (match->family != NFPROTO_UNSPEC && match->family != pkt->family)
		return false;
	if ((fields & KFW_MATCH_PROTO) &&
	    (!pkt->has_proto || pkt->proto != match->proto))
		return false;
	if ((fields & KFW_MATCH_SRC) &&
	    !kfw_match_addr(&pkt->src, &match->src, &match->src_mask,
			    pkt->family))
		return false;
	if ((fields & KFW_MATCH_DST) &&
	    !kfw_match_addr(&pkt->dst, &match->dst, &match->dst_mask,
			    pkt->family))
		return false;
	if ((fields & (KFW_MATCH_SPORT | KFW_MATCH_DPORT)) && !pkt->has_ports)
		return false;
	if ((fields & KFW_MATCH_SPORT) && !kfw_match_port(pkt->sport, &match->sport))
		return false;
	if ((fields & KFW_MATCH_DPORT) && !kfw_match_port(pkt->dport, &match->dport))
		return false;
	if ((fields & KFW_MATCH_IFACE) &&
	    (!pkt->iface || !strncmp(pkt->iface, match->iface, IFNAMSIZ) ==
			    !!(match->negate & KFW_NEGATE_IFACE)))
		return false;
	if ((fields & KFW_MATCH_STATE) && !(pkt->state & match->states))
		return false;
	if ((fields & (KFW_MATCH_ICMP_TYPE | KFW_MATCH_ICMP_CODE)) &&
	    (!pkt->has_icmp || pkt->icmp_type != match->icmp_type ||
	     ((fields & KFW_MATCH_ICMP_CODE) && pkt->icmp_code != match->icmp_code)))
		return false;
	if ((fields & KFW_MATCH_MORE) && !kfw_match_more(match, pkt))
		return false;
	/* The payload search is the dearest check, so it comes last. */
	if ((fields & KFW_MATCH_PAYLOAD) &&
	    !kfw_payload_found(match->payload, pkt))
		return false;
	return true;
}

/* The bytes of an address that its family uses; the rest are zero anyway. */
static bool kfw_match_addr_equal(const union nf_inet_addr *a,
				 const union nf_inet_addr *b, u8 family)
{
	return !memcmp(a, b, family == NFPROTO_IPV4 ? sizeof(a->ip) : sizeof(a->ip6));
}

static bool kfw_match_payload_equal(const struct kfw_payload *a,
				    const struct kfw_payload *b)
{
	return a->len == b->len && a->within == b->within &&
	       !memcmp(a->pattern, b->pattern, a->len);
}

static bool kfw_match_more_equal(const struct kfw_match_more *a,
				 const struct kfw_match_more *b, u8 family)
{
	unsigned int i, f;

	if (memcmp(a->len, b->len, sizeof(a->len)) || a->has_uid != b->has_uid ||
	    a->has_gid != b->has_gid)
		return false;
	if (a->has_uid && (a->uid_first != b->uid_first || a->uid_last != b->uid_last))
		return false;
	if (a->has_gid && (a->gid_first != b->gid_first || a->gid_last != b->gid_last))
		return false;
	for (f = KFW_LIST_SRC; f <= KFW_LIST_DST; f++)
		for (i = 0; i < a->len[f]; i++)
			if (a->addr[f][i].prefix != b->addr[f][i].prefix ||
			    !kfw_match_addr_equal(&a->addr[f][i].net,
						  &b->addr[f][i].net, family))
				return false;
	for (f = KFW_LIST_SPORT; f <= KFW_LIST_DPORT; f++)
		if (a->len[f] && memcmp(a->port[f - KFW_LIST_SPORT], b->port[f - KFW_LIST_SPORT],
					a->len[f] * sizeof(*a->port[0])))
			return false;
	return !a->len[KFW_LIST_PROTO] ||
	       !memcmp(a->proto, b->proto, a->len[KFW_LIST_PROTO]);
}

/**
 * kfw_match_equal() - do two matches take exactly the same packets
 * @a: one match
 * @b: the other
 *
 * Compares the fields in use, as the rule was written: two ways of writing
 * the same set of packets (a port range of one port, say) are equal only
 * when they reach here in the same form, which the parser makes sure of.
 *
 * Return: true if every field in use is the same.
 */
bool kfw_match_equal(const struct kfw_match *a, const struct kfw_match *b)
{
	u16 fields = a->fields;

	if (fields != b->fields || a->family != b->family ||
	    a->negate != b->negate || a->listed != b->listed)
		return false;
	if ((fields & KFW_MATCH_PROTO) && a->proto != b->proto)
		return false;
	if ((fields & KFW_MATCH_SRC) &&
	    (a->src_prefix != b->src_prefix ||
	     !kfw_match_addr_equal(&a->src, &b->src, a->family)))
		return false;
	if ((fields & KFW_MATCH_DST) &&
	    (a->dst_prefix != b->dst_prefix ||
	     !kfw_match_addr_equal(&a->dst, &b->dst, a->family)))
		return false;
	if ((fields & KFW_MATCH_SPORT) &&
	    (a->sport.first != b->sport.first || a->sport.last != b->sport.last))
		return false;
	if ((fields & KFW_MATCH_DPORT) &&
	    (a->dport.first != b->dport.first || a->dport.last != b->dport.last))
		return false;
	if ((fields & KFW_MATCH_IFACE) && strncmp(a->iface, b->iface, IFNAMSIZ))
		return false;
	if ((fields & KFW_MATCH_STATE) && a->states != b->states)
		return false;
	if ((fields & KFW_MATCH_ICMP_TYPE) && a->icmp_type != b->icmp_type)
		return false;
	if ((fields & KFW_MATCH_ICMP_CODE) && a->icmp_code != b->icmp_code)
		return false;
	if ((fields & KFW_MATCH_MORE) &&
	    !kfw_match_more_equal(a->more, b->more, a->family))
		return false;
	return !(fields & KFW_MATCH_PAYLOAD) ||
	       kfw_match_payload_equal(a->payload, b->payload);
}
