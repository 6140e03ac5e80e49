// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite kfw_parse: from crafted skbs to the fields rules match on.
 *
 * Every case is a packet built byte by byte, parsed at every length from
 * zero to its full size, and in three layouts: all in the linear area, the
 * part after the first bytes spread over many small page fragments, and
 * that part in a second skb on the frag list; in the last two
 * skb_header_pointer() has to copy. The bytes past the truncated length are
 * still there in memory, holding the real ports, so a parser that read past
 * the end of the packet would be caught reporting them.
 *
 * At each length the result must be what that many bytes allow and no
 * more: the addresses once the IP header is in, the protocol once the
 * extension header chain is, the ports once four bytes of transport header
 * are, and never for fragments that carry no transport header. The layouts
 * must agree with each other.
 *
 * The IPv6 header itself is kept linear: netfilter's IPv6 hooks only ever
 * see skbs whose IPv6 header ip6_rcv() or the output path has pulled, and
 * ipv6_find_hdr() relies on that.
 */

#include <asm/unaligned.h>
#include <kunit/test.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/inet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "match.h"
#include "packet.h"
#include "payload.h"
#include "test_util.h"

#define KFW_FRAME_MAX	2200
#define KFW_NEVER	UINT_MAX

/* For struct kfw_parse_case's @version and @ihl: a literal zero. */
#define KFW_ZERO	0xff

#define KFW_SPORT	40000
#define KFW_DPORT	443

/* What follows the transport header unless a case says otherwise. */
#define KFW_PAYLOAD "kfw payload!"

/**
 * struct kfw_frame - a packet and what parsing it must yield
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6
 * @len: full length
 * @addr_min: length from which the addresses are known
 * @proto_lo: below this length the protocol must be unknown
 * @proto_hi: from this length on it must be known
 * @ports_min: length from which the ports are known, or KFW_NEVER
 * @icmp_min: length from which the ICMP type and code are known, or KFW_NEVER
 * @transport_min: length from which the parser looks past the network
 *	header (and sets the payload offset), or KFW_NEVER
 * @thoff: where the transport header starts
 * @payload_offset: where the payload starts, for a parser that looked
 * @proto: the transport protocol
 * @icmp_type: the ICMP or ICMPv6 type in the packet
 * @payload: the bytes after the transport header
 * @src: source address
 * @dst: destination address
 * @data: the bytes
 */
struct kfw_frame {
	u8 family;
	unsigned int len;
	unsigned int addr_min;
	unsigned int proto_lo;
	unsigned int proto_hi;
	unsigned int ports_min;
	unsigned int icmp_min;
	unsigned int transport_min;
	unsigned int thoff;
	unsigned int payload_offset;
	u8 proto;
	u8 icmp_type;
	const char *payload;
	union nf_inet_addr src;
	union nf_inet_addr dst;
	u8 data[KFW_FRAME_MAX];
};

/**
 * struct kfw_parse_ext - one IPv6 extension header of a case
 * @type: NEXTHDR_*
 * @len: its length in bytes
 * @frag: for NEXTHDR_FRAGMENT, the offset and M flag field, host order
 */
struct kfw_parse_ext {
	u8 type;
	u16 len;
	u16 frag;
};

enum kfw_parse_proto {
	KFW_PROTO_AT_THOFF,	/* known once the whole chain is in */
	KFW_PROTO_AT_FRAG,	/* non-first fragment: known once its offset is */
	KFW_PROTO_NEVER,	/* the chain cannot be walked */
};

/**
 * struct kfw_parse_case - a packet to build, by its headers
 * @desc: name of the case
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6
 * @proto: the transport protocol
 * @version: the IP version field, 0 for the family's own, KFW_ZERO for 0
 * @ihl: IPv4 header length in words, 0 for 5, KFW_ZERO for 0
 * @frag_off: IPv4 flags and fragment offset field, host order
 * @ext: IPv6 extension headers, up to the first with @len 0
 * @repeat: @ext[0] this many times, for long chains
 * @bad: the IP header is refused and nothing is known
 * @no_ports: a non-first fragment: never any ports
 * @proto_from: when the protocol becomes known (IPv6)
 * @payload: the bytes after the transport header, KFW_PAYLOAD if NULL
 */
struct kfw_parse_case {
	const char *desc;
	u8 family;
	u8 proto;
	u8 version;
	u8 ihl;
	u16 frag_off;
	struct kfw_parse_ext ext[4];
	unsigned int repeat;
	bool bad;
	bool no_ports;
	enum kfw_parse_proto proto_from;
	const char *payload;
};

static bool kfw_has_ports(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* Is this the ICMP of the packet's family, whose type and code kfw reads? */
static bool kfw_is_icmp(u8 family, u8 proto)
{
	return proto == (family == NFPROTO_IPV4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

/*
 * The transport header at @off, then the payload. TCP and UDP get their
 * ports, TCP a 20-byte header whose other bytes are 0xa5, ICMP and ICMPv6
 * an echo request of either family; other protocols have no header here.
 */
static unsigned int kfw_put_transport(struct kunit *test, struct kfw_frame *f,
				      unsigned int off)
{
	unsigned int hlen = 0, plen = strlen(f->payload);
	u8 *h = f->data + off;

	KUNIT_ASSERT_LE(test, off + 20 + plen, KFW_FRAME_MAX);
	switch (f->proto) {
	case IPPROTO_TCP:
		hlen = 20;
		memset(h, 0xa5, hlen);
		h[12] = 5 << 4;			/* data offset: 5 words */
		fallthrough;
	case IPPROTO_UDP:
		hlen = hlen ?: 8;
		put_unaligned_be16(KFW_SPORT, h);
		put_unaligned_be16(KFW_DPORT, h + 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hlen = 8;
		f->icmp_type = f->proto == IPPROTO_ICMP ? ICMP_ECHO : ICMPV6_ECHO_REQUEST;
		h[0] = f->icmp_type;
		break;
	}
	memcpy(h + hlen, f->payload, plen);
	f->thoff = off;
	/* kfw needs the whole TCP header for its length; the others have one. */
	f->payload_offset = off + hlen;
	return off + hlen + plen;
}

/* What the parser must say about the transport header, from @transport_min. */
static void kfw_expect_transport(struct kfw_frame *f, bool first_fragment)
{
	if (!first_fragment)
		f->transport_min = KFW_NEVER;
	f->ports_min = KFW_NEVER;
	f->icmp_min = KFW_NEVER;
	if (f->transport_min == KFW_NEVER)
		return;
	if (kfw_has_ports(f->proto))
		f->ports_min = max(f->transport_min, f->thoff + 4);
	if (kfw_is_icmp(f->family, f->proto))
		f->icmp_min = max(f->transport_min, f->thoff + 2);
}

static void kfw_build_ipv4(struct kunit *test, const struct kfw_parse_case *c,
			   struct kfw_frame *f)
{
	unsigned int ihl = c->ihl == KFW_ZERO ? 0 : c->ihl ?: 5;
	struct iphdr *iph = (struct iphdr *)f->data;
	unsigned int hlen = max(ihl, 5U) * 4, i;

	f->src.ip = htonl(0xc0000201);		/* 192.0.2.1 */
	f->dst.ip = htonl(0xc6336402);		/* 198.51.100.2 */
	f->len = kfw_put_transport(test, f, hlen);
	iph->version = c->version == KFW_ZERO ? 0 : c->version ?: 4;
	iph->ihl = ihl;
	iph->tot_len = htons(f->len);
	iph->frag_off = htons(c->frag_off);
	iph->ttl = 64;
	iph->protocol = c->proto;
	iph->saddr = f->src.ip;
	iph->daddr = f->dst.ip;
	for (i = sizeof(*iph); i < hlen; i++)
		f->data[i] = i + 1 < hlen ? IPOPT_NOOP : IPOPT_END;

	f->addr_min = 20;
	f->proto_lo = 20;
	f->proto_hi = 20;
	/* The options need not be in: the transport header is just missing. */
	f->transport_min = 20;
	kfw_expect_transport(f, !(c->frag_off & IP_OFFSET));
}

/* An extension header of @len bytes at @off whose next header is @next. */
static void kfw_put_ext(struct kunit *test, struct kfw_frame *f, unsigned int off,
			const struct kfw_parse_ext *e, u8 next)
{
	u8 *h = f->data + off;

	h[0] = next;
	switch (e->type) {
	case NEXTHDR_FRAGMENT:
		KUNIT_ASSERT_EQ(test, e->len, 8);
		h[1] = 0;
		put_unaligned_be16(e->frag, h + 2);
		put_unaligned_be32(0x6b6677, h + 4);
		break;
	case NEXTHDR_AUTH:
		KUNIT_ASSERT_EQ(test, e->len % 4, 0);
		h[1] = e->len / 4 - 2;
		break;
	default:
		KUNIT_ASSERT_EQ(test, e->len % 8, 0);
		h[1] = e->len / 8 - 1;
		if (e->len > 2) {
			/* One PadN option over the rest. */
			h[2] = IPV6_TLV_PADN;
			h[3] = e->len - 4;
		}
		break;
	}
}

static void kfw_build_ipv6(struct kunit *test, const struct kfw_parse_case *c,
			   struct kfw_frame *f)
{
	struct ipv6hdr *ip6h = (struct ipv6hdr *)f->data;
	const struct kfw_parse_ext *chain[64 + ARRAY_SIZE(c->ext)];
	unsigned int nr = 0, i, off = sizeof(*ip6h), frag_at = 0;

	for (i = 0; i < c->repeat; i++)
		chain[nr++] = &c->ext[0];
	for (i = c->repeat ? 1 : 0; i < ARRAY_SIZE(c->ext) && c->ext[i].len; i++)
		chain[nr++] = &c->ext[i];
	KUNIT_ASSERT_LE(test, nr, ARRAY_SIZE(chain));

	ip6h->version = c->version == KFW_ZERO ? 0 : c->version ?: 6;
	ip6h->nexthdr = nr ? chain[0]->type : c->proto;
	ip6h->hop_limit = 64;
	KUNIT_ASSERT_EQ(test, in6_pton("2001:db8::1", -1, f->src.in6.s6_addr, -1, NULL), 1);
	KUNIT_ASSERT_EQ(test, in6_pton("2001:db8::2", -1, f->dst.in6.s6_addr, -1, NULL), 1);
	ip6h->saddr = f->src.in6;
	ip6h->daddr = f->dst.in6;
	for (i = 0; i < nr; i++) {
		KUNIT_ASSERT_LE(test, off + chain[i]->len + 8, KFW_FRAME_MAX);
		kfw_put_ext(test, f, off, chain[i], i + 1 < nr ? chain[i + 1]->type : c->proto);
		if (chain[i]->type == NEXTHDR_FRAGMENT)
			frag_at = off;
		off += chain[i]->len;
	}
	f->len = kfw_put_transport(test, f, off);
	ip6h->payload_len = htons(f->len - sizeof(*ip6h));

	f->addr_min = sizeof(*ip6h);
	f->proto_lo = off;
	f->proto_hi = off;
	if (c->proto_from == KFW_PROTO_AT_FRAG) {
		/* Known from the offset field on; certainly with the whole chain. */
		f->proto_lo = frag_at + 4;
	} else if (c->proto_from == KFW_PROTO_NEVER) {
		f->proto_lo = KFW_NEVER;
		f->proto_hi = KFW_NEVER;
	}
	f->transport_min = off;
	kfw_expect_transport(f, c->proto_from == KFW_PROTO_AT_THOFF && !c->no_ports);
}

static void kfw_build_frame(struct kunit *test, const struct kfw_parse_case *c,
			    struct kfw_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->family = c->family;
	f->proto = c->proto;
	f->payload = c->payload ?: KFW_PAYLOAD;
	if (c->family == NFPROTO_IPV4)
		kfw_build_ipv4(test, c, f);
	else
		kfw_build_ipv6(test, c, f);
	if (c->bad) {
		f->addr_min = KFW_NEVER;
		f->proto_lo = KFW_NEVER;
		f->proto_hi = KFW_NEVER;
		f->transport_min = KFW_NEVER;
		kfw_expect_transport(f, false);
	}
}

/* --- skbs in three layouts ------------------------------------------------ */

enum kfw_layout {
	KFW_LINEAR,
	KFW_PAGED,
	KFW_FRAGLIST,
	__KFW_LAYOUT_MAX
};

static const char * const kfw_layout_names[] = { "linear", "paged", "fraglist" };

/* Bytes per page fragment: odd, so that headers straddle fragments. */
#define KFW_FRAG_BYTES 7

/*
 * The first @len bytes of @f as a packet whose first @head bytes are linear.
 * The bytes after @len stay in memory behind the packet's end.
 */
static struct sk_buff *kfw_build_skb(const struct kfw_frame *f, unsigned int len,
				     enum kfw_layout layout, unsigned int head)
{
	struct sk_buff *skb, *tail;
	unsigned int nr_frags, i, off, size;
	struct page *page;

	if (layout == KFW_LINEAR)
		head = f->len;
	skb = alloc_skb(head + 32, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, 32);
	skb_put_data(skb, f->data, head);
	skb_reset_network_header(skb);
	skb->protocol = htons(f->family == NFPROTO_IPV4 ? ETH_P_IP : ETH_P_IPV6);
	if (layout == KFW_LINEAR) {
		skb_trim(skb, len);
		return skb;
	}
	if (len == head)
		return skb;

	if (layout == KFW_FRAGLIST) {
		tail = alloc_skb(f->len - head, GFP_KERNEL);
		if (!tail)
			goto err;
		skb_put_data(tail, f->data + head, f->len - head);
		skb_trim(tail, len - head);
		skb_shinfo(skb)->frag_list = tail;
		skb->len += tail->len;
		skb->data_len += tail->len;
		skb->truesize += tail->truesize;
		return skb;
	}

	page = alloc_page(GFP_KERNEL);
	if (!page)
		goto err;
	memcpy(page_address(page), f->data + head, f->len - head);
	nr_frags = min_t(unsigned int, DIV_ROUND_UP(len - head, KFW_FRAG_BYTES),
			 MAX_SKB_FRAGS);
	for (i = 0, off = 0; i < nr_frags; i++, off += size) {
		size = i + 1 < nr_frags ? KFW_FRAG_BYTES : len - head - off;
		if (i)
			get_page(page);
		skb_add_rx_frag(skb, i, page, off, size, size);
	}
	return skb;

err:
	kfree_skb(skb);
	return NULL;
}

static bool kfw_same_packet(const struct kfw_packet *a, const struct kfw_packet *b)
{
	return a->family == b->family && a->has_proto == b->has_proto &&
	       a->has_ports == b->has_ports && a->has_icmp == b->has_icmp &&
	       a->proto == b->proto && a->state == b->state &&
	       a->icmp_type == b->icmp_type && a->icmp_code == b->icmp_code &&
	       a->sport == b->sport && a->dport == b->dport &&
	       a->payload_offset == b->payload_offset &&
	       !memcmp(&a->src, &b->src, sizeof(a->src)) &&
	       !memcmp(&a->dst, &b->dst, sizeof(a->dst));
}

/* The payload offset the parser must give for the first @len bytes. */
static unsigned int kfw_want_payload_offset(const struct kfw_frame *f, unsigned int len)
{
	if (len < f->transport_min)
		return 0;
	/* A TCP header's length is only known from a whole header. */
	if (f->proto == IPPROTO_TCP && len < f->thoff + 20)
		return 0;
	return f->payload_offset;
}

/* Checks one parse of the first @len bytes; false (and a report) if wrong. */
static bool kfw_check_parse(struct kunit *test, const struct kfw_frame *f,
			    unsigned int len, const struct kfw_packet *pkt,
			    const char *how)
{
	static const union nf_inet_addr zero;
	bool addrs = len >= f->addr_min, ports = len >= f->ports_min, icmp = len >= f->icmp_min;
	struct kfw_match any_port = {
		.fields = KFW_MATCH_PROTO | KFW_MATCH_DPORT,
		.proto = f->proto,
		.dport = { 0, 65535 },
	};
	bool ok = true;

#define KFW_PARSE_CHECK(cond, fmt, ...) do {					\
		if (!(cond)) {							\
			KUNIT_FAIL(test, "length %u of %u, %s: " fmt, len, f->len,	\
				   how, ##__VA_ARGS__);				\
			ok = false;						\
		}								\
	} while (0)

	KFW_PARSE_CHECK(pkt->family == f->family, "family %u", pkt->family);
	KFW_PARSE_CHECK(!memcmp(&pkt->src, addrs ? &f->src : &zero, sizeof(zero)),
			"source %pI6c", &pkt->src.in6);
	KFW_PARSE_CHECK(!memcmp(&pkt->dst, addrs ? &f->dst : &zero, sizeof(zero)),
			"destination %pI6c", &pkt->dst.in6);
	if (len < f->proto_lo)
		KFW_PARSE_CHECK(!pkt->has_proto, "protocol %u known too early", pkt->proto);
	if (len >= f->proto_hi)
		KFW_PARSE_CHECK(pkt->has_proto, "protocol unknown");
	if (pkt->has_proto)
		KFW_PARSE_CHECK(pkt->proto == f->proto, "protocol %u", pkt->proto);
	KFW_PARSE_CHECK(pkt->has_ports == ports, "has_ports %d", pkt->has_ports);
	if (pkt->has_ports)
		KFW_PARSE_CHECK(pkt->sport == KFW_SPORT && pkt->dport == KFW_DPORT,
				"ports %u %u", pkt->sport, pkt->dport);
	KFW_PARSE_CHECK(pkt->has_icmp == icmp, "has_icmp %d", pkt->has_icmp);
	if (pkt->has_icmp)
		KFW_PARSE_CHECK(pkt->icmp_type == f->icmp_type && !pkt->icmp_code,
				"icmp %u/%u", pkt->icmp_type, pkt->icmp_code);
	KFW_PARSE_CHECK(pkt->payload_offset == kfw_want_payload_offset(f, len),
			"payload at %u, not %u", pkt->payload_offset,
			kfw_want_payload_offset(f, len));
	/* No conntrack entry is attached to these skbs. */
	KFW_PARSE_CHECK(pkt->state == KFW_STATE_INVALID, "state %u", pkt->state);
	/* Whatever the ports, a rule on them matches only if they were read. */
	if (kfw_has_ports(f->proto))
		KFW_PARSE_CHECK(kfw_match_packet(&any_port, pkt) == ports,
				"a rule on ports 0-65535 disagrees with has_ports");
#undef KFW_PARSE_CHECK
	return ok;
}

/* Where the linear part may end for the non-linear layouts. */
static unsigned int kfw_heads(const struct kfw_frame *f, unsigned int len,
			      unsigned int *heads)
{
	unsigned int min = f->family == NFPROTO_IPV6 ? min(len, 40U) : 0;
	unsigned int cand[] = { 0, 1, 19, 20, 21, 39, 40, 41, f->thoff, f->thoff + 1,
				f->thoff + 3, f->proto_hi - 1, len - 1, len };
	unsigned int nr = 0, i, j;

	for (i = 0; i < ARRAY_SIZE(cand); i++) {
		unsigned int h = clamp(cand[i], min, len);

		for (j = 0; j < nr && heads[j] != h; j++)
			;
		if (j == nr)
			heads[nr++] = h;
	}
	return nr;
}

/* Whether to try this length: all of them, but for long packets only the ends. */
static bool kfw_try_length(const struct kfw_frame *f, unsigned int len)
{
	return f->len <= 160 || len <= 64 || len + 32 >= f->len ||
	       (f->proto_hi != KFW_NEVER && len + 8 >= f->proto_hi && len <= f->proto_hi + 8);
}

static void kfw_parse_sweep(struct kunit *test, const struct kfw_frame *f)
{
	unsigned int len, nr, i, failures = 0, parses = 0;
	unsigned int heads[32];
	enum kfw_layout layout;

	for (len = 0; len <= f->len && failures < 8; len++) {
		struct kfw_packet first, pkt;
		bool have_first = false;

		if (!kfw_try_length(f, len))
			continue;
		nr = kfw_heads(f, len, heads);
		for (layout = 0; layout < __KFW_LAYOUT_MAX; layout++) {
			for (i = 0; i < (layout == KFW_LINEAR ? 1 : nr); i++) {
				struct sk_buff *skb = kfw_build_skb(f, len, layout, heads[i]);
				char how[48];

				KUNIT_ASSERT_NOT_NULL(test, skb);
				KUNIT_ASSERT_EQ(test, skb->len, len);
				snprintf(how, sizeof(how), "%s, %u linear",
					 kfw_layout_names[layout], skb_headlen(skb));
				kfw_packet_parse(skb, f->family, true, &pkt);
				kfree_skb(skb);
				parses++;
				if (!kfw_check_parse(test, f, len, &pkt, how))
					failures++;
				if (!have_first) {
					first = pkt;
					have_first = true;
				} else if (!kfw_same_packet(&first, &pkt)) {
					KUNIT_FAIL(test, "length %u, %s: differs from linear",
						   len, how);
					failures++;
				}
			}
		}
	}
	kunit_info(test, "%u parses of a %u byte packet\n", parses, f->len);
}

/* --- The cases ------------------------------------------------------------ */

#define V4	NFPROTO_IPV4
#define V6	NFPROTO_IPV6
#define TCP	IPPROTO_TCP
#define UDP	IPPROTO_UDP
#define HOP(n)	{ NEXTHDR_HOP, n }
#define RT(n)	{ NEXTHDR_ROUTING, n }
#define DST(n)	{ NEXTHDR_DEST, n }
#define AH(n)	{ NEXTHDR_AUTH, n }
#define FRAG(f)	{ NEXTHDR_FRAGMENT, 8, f }

static const struct kfw_parse_case kfw_parse_cases[] = {
	{ "IPv4 TCP", V4, TCP },
	{ "IPv4 UDP", V4, UDP },
	{ "IPv4 ICMP", V4, IPPROTO_ICMP },
	{ "IPv4 SCTP", V4, IPPROTO_SCTP },
	{ "IPv4 TCP, 4 bytes of options", V4, TCP, .ihl = 6 },
	{ "IPv4 UDP, 20 bytes of options", V4, UDP, .ihl = 10 },
	{ "IPv4 TCP, 40 bytes of options", V4, TCP, .ihl = 15 },
	{ "IPv4 ICMP, 40 bytes of options", V4, IPPROTO_ICMP, .ihl = 15 },
	{ "IPv4 carrying ICMPv6", V4, IPPROTO_ICMPV6 },
	{ "IPv4 ICMP second fragment", V4, IPPROTO_ICMP, .frag_off = 2, .no_ports = true },
	{ "IPv4 header length 0", V4, TCP, .ihl = KFW_ZERO, .bad = true },
	{ "IPv4 header length 4", V4, TCP, .ihl = 4, .bad = true },
	{ "IPv4 family, version 6", V4, TCP, .version = 6, .bad = true },
	{ "IPv4 family, version 0", V4, UDP, .version = KFW_ZERO, .bad = true },
	{ "IPv4 first fragment", V4, TCP, .frag_off = IP_MF },
	{ "IPv4 first fragment, don't fragment", V4, UDP, .frag_off = IP_DF },
	{ "IPv4 second fragment", V4, TCP, .frag_off = IP_MF | 1, .no_ports = true },
	{ "IPv4 last fragment", V4, UDP, .frag_off = 185, .no_ports = true },
	{ "IPv4 furthest fragment", V4, UDP, .frag_off = IP_OFFSET, .no_ports = true },
	{ "IPv4 non-first fragment with options", V4, TCP, .ihl = 7, .frag_off = 3,
	  .no_ports = true },
	{ "IPv6 TCP", V6, TCP },
	{ "IPv6 UDP", V6, UDP },
	{ "IPv6 ICMPv6", V6, IPPROTO_ICMPV6 },
	{ "IPv6 carrying ICMP", V6, IPPROTO_ICMP },
	{ "IPv6 TCP without payload", V6, TCP, .payload = "" },
	{ "IPv6 family, version 4", V6, TCP, .version = 4, .bad = true },
	{ "IPv6 hop-by-hop, UDP", V6, UDP, .ext = { HOP(8) } },
	{ "IPv6 hop-by-hop, routing, destination, AH, TCP", V6, TCP,
	  .ext = { HOP(8), RT(24), DST(16), AH(12) } },
	{ "IPv6 AH, ICMPv6", V6, IPPROTO_ICMPV6, .ext = { AH(24) } },
	{ "IPv6 unknown header 253 after hop-by-hop", V6, 253, .ext = { HOP(8) } },
	{ "IPv6 no next header after destination options", V6, NEXTHDR_NONE,
	  .ext = { DST(8) } },
	{ "IPv6 64 destination option headers, UDP", V6, UDP, .ext = { DST(8) }, .repeat = 64 },
	{ "IPv6 2048-byte hop-by-hop header, TCP", V6, TCP, .ext = { HOP(2048) } },
	{ "IPv6 first fragment, TCP", V6, TCP, .ext = { FRAG(IP6_MF) } },
	{ "IPv6 atomic fragment, UDP", V6, UDP, .ext = { FRAG(0) } },
	{ "IPv6 hop-by-hop, first fragment, UDP", V6, UDP, .ext = { HOP(8), FRAG(IP6_MF) } },
	{ "IPv6 second fragment, TCP", V6, TCP, .ext = { FRAG(8 | IP6_MF) },
	  .proto_from = KFW_PROTO_AT_FRAG },
	{ "IPv6 last fragment after hop-by-hop, UDP", V6, UDP,
	  .ext = { HOP(16), FRAG(0xfff8) }, .proto_from = KFW_PROTO_AT_FRAG },
	{ "IPv6 non-first fragment, destination options next", V6, TCP,
	  .ext = { FRAG(64), DST(8) }, .proto_from = KFW_PROTO_NEVER },
};

#undef V4
#undef V6
#undef TCP
#undef UDP
#undef HOP
#undef RT
#undef DST
#undef AH
#undef FRAG

static void kfw_parse_case_desc(const struct kfw_parse_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kfw_parse_cases, kfw_parse_cases, kfw_parse_case_desc);

static void kfw_parse_test_truncated(struct kunit *test)
{
	const struct kfw_parse_case *c = test->param_value;
	struct kfw_frame *f;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	kfw_build_frame(test, c, f);
	kfw_parse_sweep(test, f);
}

/* --- Payload matches ------------------------------------------------------ */

static const char kfw_payload_text[] = "GET /kfw HTTP/1.0 secret";

static const struct kfw_parse_case kfw_payload_frames[] = {
	{ "UDP", NFPROTO_IPV4, IPPROTO_UDP, .payload = kfw_payload_text },
	{ "TCP after extension headers", NFPROTO_IPV6, IPPROTO_TCP,
	  .ext = { { NEXTHDR_HOP, 8 }, { NEXTHDR_DEST, 16 } }, .payload = kfw_payload_text },
	{ "ICMP", NFPROTO_IPV4, IPPROTO_ICMP, .payload = kfw_payload_text },
	{ "protocol 253", NFPROTO_IPV6, 253, .payload = kfw_payload_text },
	{ "UDP second fragment", NFPROTO_IPV4, IPPROTO_UDP, .frag_off = 1, .no_ports = true,
	  .payload = kfw_payload_text },
};

/* Patterns, and how many payload bytes a search looks at (0: all). */
static const struct {
	const char *pattern;
	u16 within;
} kfw_payload_searches[] = {
	{ "GET", 0 }, { "GET", 3 }, { "GET", 2 },
	{ "secret", 0 }, { "secret", 24 }, { "secret", 23 },
	{ "T /kfw H", 0 },
	/* In the TCP header's bytes, never in a payload. */
	{ "\xa5\xa5\xa5\xa5", 0 },
	{ "not there", 0 },
};

/* Does a payload search on the first @len bytes of @f have to succeed? */
static bool kfw_want_payload(const struct kfw_frame *f, unsigned int len,
			     const char *pattern, u16 within)
{
	const char *at = strstr(f->payload, pattern);
	unsigned int pos, end, from = kfw_want_payload_offset(f, len);

	if (!at || !from)
		return false;
	pos = at - f->payload;
	end = pos + strlen(pattern);
	return (!within || end <= within) && len >= from + end;
}

/*
 * Searches the first @len bytes of @f, in every layout, for @m's payload;
 * false (and a report) if a search got it wrong.
 */
static bool kfw_payload_check(struct kunit *test, const struct kfw_frame *f,
			      const struct kfw_match *m, unsigned int len,
			      const char *pattern, u16 within, const char *desc)
{
	unsigned int heads[2] = { f->family == NFPROTO_IPV6 ? min(len, 40U) : 0, len / 2 };
	bool want = kfw_want_payload(f, len, pattern, within), ok = true;
	enum kfw_layout layout;
	unsigned int h;

	for (layout = 0; layout < __KFW_LAYOUT_MAX; layout++) {
		for (h = 0; h < (layout == KFW_LINEAR ? 1 : ARRAY_SIZE(heads)); h++) {
			struct kfw_packet pkt;
			struct sk_buff *skb;
			bool found;

			skb = kfw_build_skb(f, len, layout, max(heads[h], heads[0]));
			KUNIT_ASSERT_NOT_NULL(test, skb);
			kfw_packet_parse(skb, f->family, true, &pkt);
			found = kfw_match_packet(m, &pkt);
			kfree_skb(skb);
			if (found == want)
				continue;
			KUNIT_FAIL(test, "%s, length %u, %s: '%s' within %u %s", desc, len,
				   kfw_layout_names[layout], pattern, within,
				   found ? "found" : "not found");
			ok = false;
		}
	}
	return ok;
}

/* Payload matches find the pattern in the payload only, however the skb is laid out. */
static void kfw_parse_test_payload(struct kunit *test)
{
	struct kfw_match m = { .fields = KFW_MATCH_PAYLOAD };
	unsigned int i, j, len, failures = 0;
	struct kfw_payload *payload;
	struct kfw_frame *f;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	for (i = 0; i < ARRAY_SIZE(kfw_payload_frames); i++) {
		kfw_build_frame(test, &kfw_payload_frames[i], f);
		for (j = 0; j < ARRAY_SIZE(kfw_payload_searches) && failures < 8; j++) {
			const char *pattern = kfw_payload_searches[j].pattern;
			u16 within = kfw_payload_searches[j].within;

			payload = kfw_payload_create(pattern, strlen(pattern), within);
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, payload);
			m.payload = payload;
			for (len = 0; len <= f->len && failures < 8; len++)
				failures += !kfw_payload_check(test, f, &m, len, pattern, within,
							       kfw_payload_frames[i].desc);
			kfw_payload_destroy(payload);
		}
	}
}

static const u8 kfw_ext_types[] = {
	NEXTHDR_HOP, NEXTHDR_ROUTING, NEXTHDR_DEST, NEXTHDR_FRAGMENT, NEXTHDR_AUTH,
};

/* Whole packets whose headers hold random bytes: no crash, no overread. */
static void kfw_parse_test_random_bytes(struct kunit *test)
{
	struct kfw_frame *f;
	struct rnd_state rnd;
	unsigned int round, i;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	kfw_test_rnd_init(test, &rnd, 2);
	for (round = 0; round < 400; round++) {
		u8 family = round % 2 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		unsigned int len = kfw_test_rnd(&rnd, 200), head;
		enum kfw_layout layout = kfw_test_rnd(&rnd, __KFW_LAYOUT_MAX);
		struct kfw_packet pkt;
		struct sk_buff *skb;

		f->family = family;
		f->len = 256;
		for (i = 0; i < f->len; i++)
			f->data[i] = prandom_u32_state(&rnd);
		/* Mostly well-formed version fields, or nothing gets parsed. */
		if (kfw_test_rnd(&rnd, 8))
			f->data[0] = (f->data[0] & 0x0f) | (family == NFPROTO_IPV4 ? 0x40 : 0x60);
		if (family == NFPROTO_IPV6 && kfw_test_rnd(&rnd, 2))
			f->data[6] = kfw_ext_types[kfw_test_rnd(&rnd, ARRAY_SIZE(kfw_ext_types))];
		head = family == NFPROTO_IPV6 ? min(len, 40U) : 0;
		head += kfw_test_rnd(&rnd, len - head + 1);
		skb = kfw_build_skb(f, len, layout, head);
		KUNIT_ASSERT_NOT_NULL(test, skb);
		kfw_packet_parse(skb, family, true, &pkt);
		kfree_skb(skb);
		KUNIT_EXPECT_EQ(test, pkt.family, family);
		if (pkt.has_ports)
			KUNIT_EXPECT_TRUE(test, kfw_has_ports(pkt.proto) && pkt.has_proto);
		if (family == NFPROTO_IPV4 && pkt.has_ports)
			KUNIT_EXPECT_GE(test, len, (f->data[0] & 0x0f) * 4U + 4);
		if (family == NFPROTO_IPV6 && pkt.has_ports)
			KUNIT_EXPECT_GE(test, len, 44U);
	}
}

static struct kunit_case kfw_parse_test_cases[] = {
	KUNIT_CASE_PARAM(kfw_parse_test_truncated, kfw_parse_cases_gen_params),
	KUNIT_CASE(kfw_parse_test_random_bytes),
	KUNIT_CASE(kfw_parse_test_payload),
	{}
};

static struct kunit_suite kfw_parse_test_suite = {
	.name = "kfw_parse",
	.test_cases = kfw_parse_test_cases,
};

kunit_test_suite(kfw_parse_test_suite);
