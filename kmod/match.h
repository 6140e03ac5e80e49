/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_MATCH_H
#define _KFW_MATCH_H

#include <linux/if.h>
#include <linux/netfilter.h>
#include <linux/types.h>

/* Which fields of struct kfw_match take part in matching. */
enum kfw_match_fields {
	KFW_MATCH_PROTO	= BIT(0),
	KFW_MATCH_SRC	= BIT(1),
	KFW_MATCH_DST	= BIT(2),
	KFW_MATCH_SPORT	= BIT(3),
	KFW_MATCH_DPORT	= BIT(4),
	KFW_MATCH_IFACE	= BIT(5),
	KFW_MATCH_STATE	= BIT(6),
	KFW_MATCH_ICMP_TYPE = BIT(7),
	KFW_MATCH_ICMP_CODE = BIT(8),
	KFW_MATCH_PAYLOAD = BIT(9),
	KFW_MATCH_MORE	= BIT(10),
	KFW_MATCH_ELEMENT = BIT(11),
};

struct kfw_payload;

/* The fields that can hold a list, as indexes of struct kfw_match_more. */
enum kfw_list_field {
	KFW_LIST_SRC,
	KFW_LIST_DST,
	KFW_LIST_SPORT,
	KFW_LIST_DPORT,
	KFW_LIST_PROTO,
	KFW_LISTS
};

/**
 * struct kfw_addr_elem - one prefix of an address list
 * @net: the address, bits beyond @prefix zero
 * @mask: netmask of @prefix
 * @prefix: prefix length
 */
struct kfw_addr_elem {
	union nf_inet_addr net;
	union nf_inet_addr mask;
	u8 prefix;
};

struct kfw_port_range {
	u16 first;
	u16 last;
};

/**
 * struct kfw_match_more - the matches of a rule that no classifier indexes
 * @len: elements of each list, 0 for a field that is single or absent
 * @has_uid: the rule matches on the sending socket's owner
 * @has_gid: and on its group
 * @uid_first: owner range, as kernel-wide kuid values
 * @uid_last: end of that range
 * @gid_first: group range, as kernel-wide kgid values
 * @gid_last: end of that range
 * @addr: the src and dst lists (KFW_LIST_SRC, KFW_LIST_DST)
 * @port: the sport and dport lists (KFW_LIST_SPORT - 2, KFW_LIST_DPORT - 2)
 * @proto: the protocol list
 *
 * A field is here when it has more than one element, or is negated: a
 * packet's field must then be in one of the elements (none, negated), which
 * no hash can find in one probe. Single values stay in struct kfw_match,
 * where the classifier indexes them. A list of many elements is indexed
 * anyway, one classifier entry per element (see table.c), so it is here
 * only to be printed and compared.
 */
struct kfw_match_more {
	u8 len[KFW_LISTS];
	bool has_uid;
	bool has_gid;
	u32 uid_first;
	u32 uid_last;
	u32 gid_first;
	u32 gid_last;
	struct kfw_addr_elem *addr[2];
	struct kfw_port_range *port[2];
	u8 *proto;
};

/**
 * struct kfw_match - what a rule asks of a packet
 * @fields: KFW_MATCH_* bits of the fields below that are in use
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6 when the rule has an address,
 *	NFPROTO_UNSPEC when it matches both families
 * @proto: IPPROTO_* number
 * @src_prefix: prefix length of @src
 * @dst_prefix: prefix length of @dst
 * @sport: source port range
 * @dport: destination port range
 * @states: KFW_STATE_* bits, one of which the packet's state must be
 * @icmp_type: ICMP or ICMPv6 type
 * @icmp_code: ICMP or ICMPv6 code
 * @negate: KFW_NEGATE_* bits (uapi) of the fields whose test is turned
 *	around: the iface here, and lists of @more
 * @listed: BIT(KFW_LIST_*) of the lists of @more this match checks
 * @payload: pattern the transport payload must contain
 * @more: lists, negated values and owners (KFW_MATCH_MORE), shared by the
 *	element matches of a rule (KFW_MATCH_ELEMENT, see table.c)
 * @src: source address, bits beyond @src_prefix zero
 * @src_mask: netmask of @src_prefix
 * @dst: destination address, bits beyond @dst_prefix zero
 * @dst_mask: netmask of @dst_prefix
 * @iface: interface name, NUL padded
 */
struct kfw_match {
	u16 fields;
	u8 family;
	u8 proto;
	u8 src_prefix;
	u8 dst_prefix;
	struct kfw_port_range sport;
	struct kfw_port_range dport;
	u8 states;
	u8 icmp_type;
	u8 icmp_code;
	u8 negate;
	u8 listed;
	const struct kfw_payload *payload;
	const struct kfw_match_more *more;
	union nf_inet_addr src;
	union nf_inet_addr src_mask;
	union nf_inet_addr dst;
	union nf_inet_addr dst_mask;
	char iface[IFNAMSIZ];
};

/**
 * struct kfw_packet - the fields of one packet that rules can match
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6
 * @has_proto: @proto is known (IPv6 extension headers could be walked)
 * @has_ports: @sport and @dport were read: a first (or no) fragment of a
 *	TCP or UDP packet whose ports lie within the packet
 * @has_icmp: @icmp_type and @icmp_code were read, likewise
 * @proto: transport protocol
 * @state: the KFW_STATE_* bit of the packet's conntrack state, or 0
 * @icmp_type: ICMP or ICMPv6 type
 * @icmp_code: ICMP or ICMPv6 code
 * @sport: source port, host order
 * @dport: destination port, host order
 * @payload_offset: where the transport payload starts in @skb
 * @skb: the packet, for payload matches; NULL for a test packet
 * @src: source address
 * @dst: destination address
 * @iface: name of the input (in) or output (out) device, or NULL
 * @uid: for a what-if query: the owner of the sending socket's file (kuid)
 * @gid: and its group (kgid); the packet path reads both from @skb
 * @unknown: KFW_PACKET_UNKNOWN_* bits, for fields a what-if query left out:
 *	0 on the packet path, where every field read is known
 */
/*
 * A what-if query (KFW_CMD_TEST) may name a protocol but leave out a port,
 * an ICMP code or an address. Those fields are unknown, not 0: rules that
 * ask for them do not match.
 */
enum {
	KFW_PACKET_UNKNOWN_SRC		= BIT(0),
	KFW_PACKET_UNKNOWN_DST		= BIT(1),
	KFW_PACKET_UNKNOWN_SPORT	= BIT(2),
	KFW_PACKET_UNKNOWN_DPORT	= BIT(3),
	KFW_PACKET_UNKNOWN_ICMP_CODE	= BIT(4),
	KFW_PACKET_UNKNOWN_UID		= BIT(5),
	KFW_PACKET_UNKNOWN_GID		= BIT(6),
};

struct kfw_packet {
	u8 family;
	bool has_proto;
	bool has_ports;
	bool has_icmp;
	u8 unknown;
	u8 proto;
	u8 state;
	u8 icmp_type;
	u8 icmp_code;
	u16 sport;
	u16 dport;
	unsigned int payload_offset;
	const struct sk_buff *skb;
	union nf_inet_addr src;
	union nf_inet_addr dst;
	const char *iface;
	u32 uid;
	u32 gid;
};

bool kfw_owner_found(const struct kfw_match_more *more,
		     const struct kfw_packet *pkt);
void kfw_match_prefix_mask(union nf_inet_addr *mask, u8 family, u8 prefix);
bool kfw_match_packet(const struct kfw_match *match,
		      const struct kfw_packet *pkt);
bool kfw_match_equal(const struct kfw_match *a, const struct kfw_match *b);

#endif /* _KFW_MATCH_H */
