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
};

struct kfw_port_range {
	u16 first;
	u16 last;
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
 * @src: source address, bits beyond @src_prefix zero
 * @src_mask: netmask of @src_prefix
 * @dst: destination address, bits beyond @dst_prefix zero
 * @dst_mask: netmask of @dst_prefix
 * @iface: interface name, NUL padded
 */
struct kfw_match {
	u8 fields;
	u8 family;
	u8 proto;
	u8 src_prefix;
	u8 dst_prefix;
	struct kfw_port_range sport;
	struct kfw_port_range dport;
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
 * @proto: transport protocol
 * @sport: source port, host order
 * @dport: destination port, host order
 * @src: source address
 * @dst: destination address
 * @iface: name of the input (in) or output (out) device, or NULL
 */
struct kfw_packet {
	u8 family;
	bool has_proto;
	bool has_ports;
	u8 proto;
	u16 sport;
	u16 dport;
	union nf_inet_addr src;
	union nf_inet_addr dst;
	const char *iface;
};

void kfw_match_prefix_mask(union nf_inet_addr *mask, u8 family, u8 prefix);
bool kfw_match_packet(const struct kfw_match *match,
		      const struct kfw_packet *pkt);

#endif /* _KFW_MATCH_H */
