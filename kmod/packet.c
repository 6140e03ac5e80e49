// SPDX-License-Identifier: GPL-2.0
/*
 * From an skb to the fields rules match on. Every read goes through
 * skb_header_pointer(): a field that is not in the packet is left unknown,
 * never read past the end.
 */

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "packet.h"

struct kfw_ports {
	__be16 src;
	__be16 dst;
};

static void kfw_packet_parse_ports(const struct sk_buff *skb,
				   unsigned int thoff, struct kfw_packet *pkt)
{
	const struct kfw_ports *ports;
	struct kfw_ports buf;

	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP)
		return;
	ports = skb_header_pointer(skb, thoff, sizeof(buf), &buf);
	if (!ports)
		return;
	pkt->sport = ntohs(ports->src);
	pkt->dport = ntohs(ports->dst);
	pkt->has_ports = true;
}

static void kfw_packet_parse_ipv4(const struct sk_buff *skb,
				  struct kfw_packet *pkt)
{
	unsigned int nhoff = skb_network_offset(skb);
	const struct iphdr *iph;
	struct iphdr buf;

	iph = skb_header_pointer(skb, nhoff, sizeof(buf), &buf);
	if (!iph || iph->version != 4 || iph->ihl < 5)
		return;
	pkt->src.ip = iph->saddr;
	pkt->dst.ip = iph->daddr;
	pkt->proto = iph->protocol;
	pkt->has_proto = true;
	/* Only the first fragment carries the transport header. */
	if (ntohs(iph->frag_off) & IP_OFFSET)
		return;
	kfw_packet_parse_ports(skb, nhoff + iph->ihl * 4, pkt);
}

static void kfw_packet_parse_ipv6(const struct sk_buff *skb,
				  struct kfw_packet *pkt)
{
	const struct ipv6hdr *ip6h;
	unsigned short fragoff;
	unsigned int thoff = 0;
	struct ipv6hdr buf;
	int proto;

	ip6h = skb_header_pointer(skb, skb_network_offset(skb), sizeof(buf), &buf);
	if (!ip6h || ip6h->version != 6)
		return;
	pkt->src.in6 = ip6h->saddr;
	pkt->dst.in6 = ip6h->daddr;

	/*
	 * A chain of extension headers that cannot be walked leaves the
	 * protocol unknown: rules that name one do not match.
	 */
	proto = ipv6_find_hdr(skb, &thoff, -1, &fragoff, NULL);
	if (proto < 0)
		return;
	pkt->proto = proto;
	pkt->has_proto = true;
	if (fragoff)
		return;
	kfw_packet_parse_ports(skb, thoff, pkt);
}

/**
 * kfw_packet_parse() - read the matchable fields of a packet
 * @skb: the packet, network header set
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6
 * @pkt: result; fields that could not be read are marked unknown
 *
 * @pkt->iface is left for the caller, who knows the direction.
 */
void kfw_packet_parse(const struct sk_buff *skb, u8 family,
		      struct kfw_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = family;
	if (family == NFPROTO_IPV4)
		kfw_packet_parse_ipv4(skb, pkt);
	else
		kfw_packet_parse_ipv6(skb, pkt);
}
