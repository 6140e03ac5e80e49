// SPDX-License-Identifier: GPL-2.0
/*
 * From an skb to the fields rules match on. Every read goes through
 * skb_header_pointer(): a field that is not in the packet is left unknown,
 * never read past the end.
 */

#include <linux/icmp.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>

#include "packet.h"
#include "uapi/kfw.h"

struct kfw_ports {
	__be16 src;
	__be16 dst;
};

struct kfw_icmp {
	u8 type;
	u8 code;
};

static void kfw_packet_parse_ports(const struct sk_buff *skb,
				   unsigned int thoff, struct kfw_packet *pkt)
{
	const struct kfw_ports *ports;
	struct kfw_ports buf;

	ports = skb_header_pointer(skb, thoff, sizeof(buf), &buf);
	if (!ports)
		return;
	pkt->sport = ntohs(ports->src);
	pkt->dport = ntohs(ports->dst);
	pkt->has_ports = true;
}

static void kfw_packet_parse_icmp(const struct sk_buff *skb,
				  unsigned int thoff, struct kfw_packet *pkt)
{
	const struct kfw_icmp *icmp;
	struct kfw_icmp buf;

	icmp = skb_header_pointer(skb, thoff, sizeof(buf), &buf);
	if (!icmp)
		return;
	pkt->icmp_type = icmp->type;
	pkt->icmp_code = icmp->code;
	pkt->has_icmp = true;
}

/* Where the transport payload starts; 0 (no payload) if it cannot be told. */
static unsigned int kfw_packet_payload_offset(const struct sk_buff *skb,
					      unsigned int thoff, u8 proto)
{
	const struct tcphdr *th;
	struct tcphdr buf;

	switch (proto) {
	case IPPROTO_TCP:
		th = skb_header_pointer(skb, thoff, sizeof(buf), &buf);
		if (!th || th->doff < sizeof(buf) / 4)
			return 0;
		return thoff + th->doff * 4;
	case IPPROTO_UDP:
		return thoff + sizeof(struct udphdr);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return thoff + sizeof(struct icmphdr);
	default:
		return thoff;
	}
}

/* Reads what lies past the network header of a first (or only) fragment. */
static void kfw_packet_parse_transport(const struct sk_buff *skb,
				       unsigned int thoff,
				       struct kfw_packet *pkt)
{
	switch (pkt->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		kfw_packet_parse_ports(skb, thoff, pkt);
		break;
	case IPPROTO_ICMP:
		if (pkt->family == NFPROTO_IPV4)
			kfw_packet_parse_icmp(skb, thoff, pkt);
		break;
	case IPPROTO_ICMPV6:
		if (pkt->family == NFPROTO_IPV6)
			kfw_packet_parse_icmp(skb, thoff, pkt);
		break;
	}
	pkt->payload_offset = kfw_packet_payload_offset(skb, thoff, pkt->proto);
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
	kfw_packet_parse_transport(skb, nhoff + iph->ihl * 4, pkt);
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
	kfw_packet_parse_transport(skb, thoff, pkt);
}

static u8 kfw_packet_state(const struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	const struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	/* Untracked packets have no conntrack entry either, but no state. */
	if (ctinfo == IP_CT_UNTRACKED)
		return 0;
	if (!ct)
		return KFW_STATE_INVALID;
	switch (ctinfo) {
	case IP_CT_NEW:
		return KFW_STATE_NEW;
	case IP_CT_ESTABLISHED:
	case IP_CT_ESTABLISHED_REPLY:
		return KFW_STATE_ESTABLISHED;
	case IP_CT_RELATED:
	case IP_CT_RELATED_REPLY:
		return KFW_STATE_RELATED;
	default:
		return 0;
	}
}

/**
 * kfw_packet_parse() - read the matchable fields of a packet
 * @skb: the packet, network header set
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6
 * @with_state: read the connection-tracking state too; otherwise it is 0
 * @pkt: result; fields that could not be read are marked unknown
 *
 * @pkt->iface is left for the caller, who knows the direction. The
 * connection-tracking state is only meaningful while the namespace tracks
 * connections, which it does while it has a rule that asks for a state:
 * then, and only then, the caller asks for it.
 */
void kfw_packet_parse(const struct sk_buff *skb, u8 family, bool with_state,
		      struct kfw_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = family;
	pkt->skb = skb;
	if (with_state)
		pkt->state = kfw_packet_state(skb);
	if (family == NFPROTO_IPV4)
		kfw_packet_parse_ipv4(skb, pkt);
	else
		kfw_packet_parse_ipv6(skb, pkt);
}
