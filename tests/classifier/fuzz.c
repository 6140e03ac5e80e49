// SPDX-License-Identifier: GPL-2.0
/*
 * classifier_fuzz: a libFuzzer target comparing kfw_cls_lookup() with the
 * linear reference, built with clang -fsanitize=fuzzer,address,undefined.
 *
 * The input is a program for a classifier of at most MAX_RULES rules: a
 * byte of flags (bit 0: publish before the first change), then operations,
 * each an opcode byte followed by its operands:
 *
 *	0-2  insert a rule (decoded below) at a 16-bit priority, unless taken
 *	3    remove the rule at list position (byte) % rules
 *	4    remove what is not there: (byte) odd, the rule at list position
 *	     (byte / 2) % rules at another 16-bit priority; even, a rule
 *	     decoded from the input, never inserted, at a 16-bit priority
 *	5-6  look up a packet decoded from the input
 *	7    look up a packet classify_gen.c makes near rule (byte) % rules,
 *	     from a 16-bit seed
 *	8    make allocation number (byte) from now fail; an insertion that
 *	     fails must change nothing, and a removal must never fail
 *
 * Missing bytes read as zero. After the program, packets near every rule
 * are looked up, then the rules are removed one by one. Every lookup must
 * give the reference's rule, and the statistics the number of rules, or
 * the target aborts after printing the packet and both rules.
 */

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define MAX_RULES	64
#define MAX_OPS		512

struct reader {
	const u8 *p;
	size_t n;
};

static u8 rd8(struct reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static u16 rd16(struct reader *r)
{
	u16 hi = rd8(r);

	return hi << 8 | rd8(r);
}

static const char ifaces[][IFNAMSIZ] = { "eth0", "eth1", "veth0", "eth", "eth00", "wg0" };

/* The family of a protocol choice: none, TCP, UDP, ICMP(v6), any byte. */
static u8 decode_proto(struct reader *r, unsigned int choice, u8 family)
{
	switch (choice % 5) {
	case 1:
		return IPPROTO_TCP;
	case 2:
		return IPPROTO_UDP;
	case 3:
		return family == NFPROTO_IPV6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	case 4:
		return rd8(r);
	default:
		return 0;
	}
}

/*
 * An address: IPv4 in four bytes; IPv6 from a mode byte saying which parts
 * come from the input (else 2001:db8::/32 and zeros), so that short inputs
 * make nested networks.
 */
static void decode_addr(struct reader *r, u8 family, union nf_inet_addr *addr)
{
	static const u8 doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };
	u8 *bytes = (u8 *)addr->all;
	unsigned int i;
	u8 mode;

	memset(addr, 0, sizeof(*addr));
	if (family == NFPROTO_IPV4) {
		for (i = 0; i < 4; i++)
			bytes[i] = rd8(r);
		return;
	}
	mode = rd8(r);
	for (i = 0; i < 4; i++)
		bytes[i] = mode & 1 ? rd8(r) : doc[i];
	for (i = 4; i < 8; i++)
		bytes[i] = mode & 2 ? rd8(r) : 0;
	for (i = 8; i < 15; i++)
		bytes[i] = mode & 4 ? rd8(r) : 0;
	bytes[15] = mode & 8 ? rd8(r) : mode >> 4;
}

static void decode_net(struct reader *r, u8 family, union nf_inet_addr *addr,
		       union nf_inet_addr *mask, u8 *prefix)
{
	unsigned int i;

	*prefix = rd8(r) % (family == NFPROTO_IPV4 ? 33 : 129);
	decode_addr(r, family, addr);
	kfw_match_prefix_mask(mask, family, *prefix);
	for (i = 0; i < 4; i++)
		addr->all[i] &= mask->all[i];
}

static void decode_range(struct reader *r, struct kfw_port_range *range)
{
	u32 first = rd16(r), width = rd16(r);

	range->first = first;
	range->last = min(first + width, 65535U);
}

/* A rule as netlink accepts it: ports and ICMP fields only with their protocols. */
static void decode_rule(struct reader *r, struct kfw_match *m)
{
	u8 shape = rd8(r), extra = rd8(r);
	bool ports, icmp;

	memset(m, 0, sizeof(*m));
	m->family = (u8[]){ NFPROTO_UNSPEC, NFPROTO_IPV4, NFPROTO_IPV6 }[shape % 3];
	if (m->family != NFPROTO_UNSPEC) {
		if ((shape & 4) || !(shape & 8)) {
			m->fields |= KFW_MATCH_SRC;
			decode_net(r, m->family, &m->src, &m->src_mask, &m->src_prefix);
		}
		if (shape & 8) {
			m->fields |= KFW_MATCH_DST;
			decode_net(r, m->family, &m->dst, &m->dst_mask, &m->dst_prefix);
		}
	}
	if ((shape >> 4) % 5) {
		m->fields |= KFW_MATCH_PROTO;
		m->proto = decode_proto(r, shape >> 4, m->family);
	}
	ports = (m->fields & KFW_MATCH_PROTO) &&
		(m->proto == IPPROTO_TCP || m->proto == IPPROTO_UDP);
	icmp = (m->fields & KFW_MATCH_PROTO) &&
	       (m->proto == IPPROTO_ICMP || m->proto == IPPROTO_ICMPV6);
	if (ports && (extra & 1)) {
		m->fields |= KFW_MATCH_SPORT;
		decode_range(r, &m->sport);
	}
	if (ports && (extra & 2)) {
		m->fields |= KFW_MATCH_DPORT;
		decode_range(r, &m->dport);
	}
	if (extra & 4) {
		m->fields |= KFW_MATCH_IFACE;
		memcpy(m->iface, ifaces[rd8(r) % ARRAY_SIZE(ifaces)], IFNAMSIZ);
	}
	if (extra & 8) {
		m->fields |= KFW_MATCH_STATE;
		m->states = rd8(r) % 15 + 1;
	}
	if (icmp && (extra & 16)) {
		m->fields |= KFW_MATCH_ICMP_TYPE;
		m->icmp_type = rd8(r);
		if (extra & 32) {
			m->fields |= KFW_MATCH_ICMP_CODE;
			m->icmp_code = rd8(r);
		}
	}
}

static void decode_packet(struct reader *r, struct kfw_packet *pkt)
{
	u8 shape = rd8(r);

	memset(pkt, 0, sizeof(*pkt));
	pkt->family = shape & 1 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	pkt->has_proto = !(shape & 2);
	pkt->proto = decode_proto(r, shape >> 2, pkt->family);
	decode_addr(r, pkt->family, &pkt->src);
	decode_addr(r, pkt->family, &pkt->dst);
	if (pkt->has_proto && !(shape & 32) &&
	    (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP)) {
		pkt->has_ports = true;
		pkt->sport = rd16(r);
		pkt->dport = rd16(r);
	}
	if (pkt->has_proto && !(shape & 64) &&
	    (pkt->proto == IPPROTO_ICMP || pkt->proto == IPPROTO_ICMPV6)) {
		pkt->has_icmp = true;
		pkt->icmp_type = rd8(r);
		pkt->icmp_code = rd8(r);
	}
	if (shape & 128)
		pkt->iface = ifaces[rd8(r) % ARRAY_SIZE(ifaces)];
	pkt->state = (1U << (rd8(r) % 5)) >> 1;
}

/* Did the allocation set to fail fail (and so reset the count)? */
static bool injected_failure_hit(void)
{
	return !kfw_host_alloc_fails_after;
}

static u32 position_of(const struct kfw_gen_set *set, const struct kfw_match *m)
{
	u32 i;

	for (i = 0; kfw_gen_set_at(set, i) != m; i++)
		;
	return i;
}

static void check(const struct kfw_cls *cls, const struct kfw_gen_set *set,
		  const struct kfw_packet *pkt)
{
	struct kfw_cls_stats stats;

	if (!harness_check(cls, set, pkt, NULL))
		abort();
	kfw_cls_stats(cls, &stats);
	if (stats.rules != set->nr) {
		fprintf(stderr, "classifier: stats say %lu rules, the list holds %u\n",
			stats.rules, set->nr);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 mem[MAX_RULES * (sizeof(struct kfw_match) + 16)]
		__attribute__((aligned(16)));
	struct reader r = { data, size };
	struct kfw_match match, *m;
	struct kfw_gen_set set;
	struct kfw_packet pkt;
	struct kfw_cls *cls;
	struct kfw_gen gen;
	unsigned int ops, i;
	u64 prio;

	if (kfw_gen_set_bytes(MAX_RULES) > sizeof(mem))
		abort();
	kfw_gen_set_init(&set, mem, MAX_RULES);
	cls = kfw_cls_create();
	if (!cls)
		abort();
	if (rd8(&r) & 1)
		kfw_cls_publish(cls);

	for (ops = 0; r.n && ops < MAX_OPS; ops++) {
		switch (rd8(&r) % 9) {
		case 0:
		case 1:
		case 2:
			decode_rule(&r, &match);
			prio = rd16(&r);
			if (set.nr == MAX_RULES)
				break;
			m = kfw_gen_set_add(&set, &match, prio);
			if (!m || !kfw_cls_insert(cls, m, prio))
				break;
			if (!injected_failure_hit())
				abort();
			/* It failed on the injected allocation: the rule is not there. */
			kfw_gen_set_del(&set, position_of(&set, m));
			break;
		case 3:
			i = rd8(&r);
			if (!set.nr)
				break;
			i %= set.nr;
			kfw_cls_remove(cls, kfw_gen_set_at(&set, i), kfw_gen_set_prio(&set, i));
			kfw_gen_set_del(&set, i);
			break;
		case 4:
			i = rd8(&r);
			if (i & 1) {
				prio = rd16(&r);
				if (!set.nr)
					break;
				i = (i >> 1) % set.nr;
				if (prio != kfw_gen_set_prio(&set, i))
					kfw_cls_remove(cls, kfw_gen_set_at(&set, i), prio);
				break;
			}
			decode_rule(&r, &match);
			kfw_cls_remove(cls, &match, rd16(&r));
			break;
		case 5:
		case 6:
			decode_packet(&r, &pkt);
			check(cls, &set, &pkt);
			break;
		case 8:
			kfw_host_alloc_fails_after = rd8(&r) + 1;
			break;
		default:
			i = rd8(&r);
			kfw_gen_seed(&gen, rd16(&r));
			kfw_gen_packet(&gen, set.nr ? kfw_gen_set_at(&set, i % set.nr) : NULL,
				       &pkt);
			check(cls, &set, &pkt);
			break;
		}
	}

	/* Around every rule, then down to nothing. */
	kfw_host_alloc_fails_after = 0;
	kfw_gen_seed(&gen, size);
	for (i = 0; i < set.nr * 8; i++) {
		kfw_gen_packet(&gen, kfw_gen_set_at(&set, i / 8), &pkt);
		check(cls, &set, &pkt);
	}
	while (set.nr) {
		i = kfw_gen_below(&gen, set.nr);
		kfw_cls_remove(cls, kfw_gen_set_at(&set, i), kfw_gen_set_prio(&set, i));
		kfw_gen_set_del(&set, i);
		kfw_gen_packet(&gen, kfw_gen_set_any(&gen, &set), &pkt);
		check(cls, &set, &pkt);
	}
	kfw_cls_destroy(cls);
	return 0;
}
