// SPDX-License-Identifier: GPL-2.0
/*
 * Random rules and packets for the classifier's tests and benchmark, built
 * in the kernel (kfw_test.ko) and on the host (tests/classifier/) alike.
 *
 * The rules of kfw_gen_rule() take every shape the classifier must handle:
 * IPv4, IPv6 or either family; a source and/or destination prefix of any
 * length; TCP, UDP, ICMP or any protocol; single ports and ranges of every
 * kind (the whole space, ranges that cross nibble and byte boundaries,
 * aligned blocks); an interface, states, ICMP type and code. Never a
 * payload. Addresses come from a few documentation networks, with the bits
 * below them drawn mostly from a handful of values, so that rules overlap
 * and nest. kfw_gen_packet() derives most packets from one rule, inside its
 * prefixes and ranges and then now and then a bit or a port off, and makes
 * the rest up.
 */

#include "classify_gen.h"

/* --- Random numbers -------------------------------------------------------- */

/**
 * kfw_gen_seed() - start a generator
 * @gen: the generator
 * @seed: any number; the same seed gives the same numbers
 */
void kfw_gen_seed(struct kfw_gen *gen, u64 seed)
{
	gen->state = seed;
}

/**
 * kfw_gen_u64() - the next number (splitmix64)
 * @gen: the generator
 *
 * Return: 64 random bits.
 */
u64 kfw_gen_u64(struct kfw_gen *gen)
{
	u64 z;

	gen->state += 0x9e3779b97f4a7c15ULL;
	z = gen->state;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/**
 * kfw_gen_below() - a number in [0, n)
 * @gen: the generator
 * @n: the bound; 0 gives 0
 *
 * Return: the number.
 */
u32 kfw_gen_below(struct kfw_gen *gen, u32 n)
{
	return ((kfw_gen_u64(gen) >> 32) * n) >> 32;
}

static bool kfw_gen_one_in(struct kfw_gen *gen, u32 n)
{
	return !kfw_gen_below(gen, n);
}

/* --- Addresses ------------------------------------------------------------- */

/**
 * struct kfw_gen_base - a network the random addresses cluster in
 * @addr: its address, network order
 * @prefix: its length
 */
struct kfw_gen_base {
	u8 addr[16];
	u8 prefix;
};

static const struct kfw_gen_base kfw_gen_bases4[] = {
	{ { 198, 18 }, 15 },
	{ { 198, 18 }, 16 },
	{ { 198, 19 }, 16 },
	{ { 198, 18, 128 }, 17 },
	{ { 192, 0, 2 }, 24 },
};

static const struct kfw_gen_base kfw_gen_bases6[] = {
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },
	{ { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01 }, 64 },
	{ { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff }, 48 },
	{ { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56 }, 56 },
};

/* The bytes below a base: mostly a few values, so that networks nest. */
static u8 kfw_gen_byte(struct kfw_gen *gen)
{
	static const u8 bytes[] = { 0x00, 0x00, 0x00, 0x01, 0x02, 0x10, 0x80, 0xff };
	u32 i = kfw_gen_below(gen, ARRAY_SIZE(bytes) + 2);

	return i < ARRAY_SIZE(bytes) ? bytes[i] : kfw_gen_u64(gen);
}

/* Sets the bits of @addr beyond @prefix to those of @with, or to 0 if NULL. */
static void kfw_gen_mask(u8 *addr, unsigned int len, unsigned int prefix,
			 const u8 *with)
{
	unsigned int bit;

	for (bit = prefix; bit < len * 8; bit++) {
		u8 b = 0x80 >> (bit % 8);

		addr[bit / 8] = (addr[bit / 8] & ~b) | (with ? with[bit / 8] & b : 0);
	}
}

/* An address of @family, usually in one of the base networks. */
static void kfw_gen_addr(struct kfw_gen *gen, u8 family, union nf_inet_addr *addr)
{
	const struct kfw_gen_base *base;
	unsigned int len = family == NFPROTO_IPV4 ? 4 : 16;
	bool random = kfw_gen_one_in(gen, 8);
	u8 *bytes = (u8 *)addr->all;
	u8 below[16];
	unsigned int i;

	memset(addr, 0, sizeof(*addr));
	for (i = 0; i < len; i++)
		below[i] = random ? kfw_gen_u64(gen) : kfw_gen_byte(gen);
	if (kfw_gen_one_in(gen, 16)) {
		/* Anywhere at all. */
		memcpy(bytes, below, len);
		return;
	}
	if (family == NFPROTO_IPV4)
		base = &kfw_gen_bases4[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_bases4))];
	else
		base = &kfw_gen_bases6[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_bases6))];
	memcpy(bytes, base->addr, len);
	kfw_gen_mask(bytes, len, base->prefix, below);
}

/* A prefix length of @family: any, now and then short, mostly at edges. */
static u8 kfw_gen_prefix(struct kfw_gen *gen, u8 family)
{
	static const u8 edges4[] = { 8, 15, 16, 17, 20, 23, 24, 25, 28, 31, 32 };
	static const u8 edges6[] = { 31, 32, 33, 47, 48, 49, 56, 63, 64, 65, 96,
				     120, 127, 128 };
	u32 kind = kfw_gen_below(gen, 10);

	if (family == NFPROTO_IPV4) {
		if (!kind)
			return kfw_gen_below(gen, 33);
		if (kind < 4)
			return edges4[kfw_gen_below(gen, ARRAY_SIZE(edges4))];
		return 12 + kfw_gen_below(gen, 21);
	}
	if (!kind)
		return kfw_gen_below(gen, 129);
	if (kind < 4)
		return edges6[kfw_gen_below(gen, ARRAY_SIZE(edges6))];
	return 32 + kfw_gen_below(gen, 97);
}

/* A network of @family into @addr, @mask and @prefix, host bits zero. */
static void kfw_gen_net(struct kfw_gen *gen, u8 family, union nf_inet_addr *addr,
			union nf_inet_addr *mask, u8 *prefix)
{
	unsigned int i;

	kfw_gen_addr(gen, family, addr);
	*prefix = kfw_gen_prefix(gen, family);
	kfw_match_prefix_mask(mask, family, *prefix);
	for (i = 0; i < ARRAY_SIZE(addr->all); i++)
		addr->all[i] &= mask->all[i];
}

/*
 * A packet address inside @net/@prefix (zero-padded to the family): the bits
 * below the prefix are random, and sometimes a bit is off, often the last
 * of the prefix, so that the packet just misses.
 */
static void kfw_gen_addr_in(struct kfw_gen *gen, u8 family,
			    const union nf_inet_addr *net, u8 prefix,
			    union nf_inet_addr *addr)
{
	unsigned int len = family == NFPROTO_IPV4 ? 4 : 16;
	u8 *bytes = (u8 *)addr->all;
	union nf_inet_addr below;
	unsigned int bit;

	kfw_gen_addr(gen, family, &below);
	memset(addr, 0, sizeof(*addr));
	memcpy(bytes, net->all, len);
	kfw_gen_mask(bytes, len, prefix, (const u8 *)below.all);
	if (prefix && kfw_gen_one_in(gen, 8))
		bit = prefix - 1;
	else if (kfw_gen_one_in(gen, 10))
		bit = kfw_gen_below(gen, len * 8);
	else
		return;
	bytes[bit / 8] ^= 0x80 >> (bit % 8);
}

/* --- Ports and the rest ---------------------------------------------------- */

static u16 kfw_gen_port(struct kfw_gen *gen)
{
	static const u16 ports[] = {
		0, 1, 7, 22, 53, 80, 443, 1023, 1024, 8080, 0x00ff, 0x0100,
		0x0fff, 0x1000, 0x7fff, 0x8000, 0xfffe, 0xffff,
	};

	if (kfw_gen_below(gen, 5) < 3)
		return ports[kfw_gen_below(gen, ARRAY_SIZE(ports))];
	return kfw_gen_u64(gen);
}

static void kfw_gen_range(struct kfw_gen *gen, struct kfw_port_range *range)
{
	u32 first = kfw_gen_port(gen), last, bits;

	switch (kfw_gen_below(gen, 9)) {
	case 0:
	case 1:
	case 2:
		last = first;
		break;
	case 3:
		first = 0;
		last = 65535;
		break;
	case 4:
		last = first + kfw_gen_below(gen, 4096);
		break;
	case 5:
		/* An aligned block of 2^bits ports. */
		bits = 1 + kfw_gen_below(gen, 15);
		first &= ~((1U << bits) - 1);
		last = first + (1U << bits) - 1;
		break;
	case 6:
		/* Off the nibble boundaries at both ends, across several. */
		first = (first & 0xfff0) | (1 + kfw_gen_below(gen, 15));
		last = first + 16 + kfw_gen_below(gen, 600);
		break;
	case 7:
		last = 65535;
		break;
	default:
		last = first + 1;
		break;
	}
	range->first = first;
	range->last = min_t(u32, last, 65535);
}

static const char kfw_gen_ifaces[][IFNAMSIZ] = {
	"eth0", "eth1", "veth0", "eth", "eth00", "wg0",
};

static const u8 kfw_gen_icmp_types[] = { 0, 3, 8, 11, 128, 129, 135, 136 };
static const u8 kfw_gen_icmp_codes[] = { 0, 1, 3, 4 };
static const u8 kfw_gen_protos[] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 0, IPPROTO_GRE,
	255,
};

static u8 kfw_gen_icmp_type(struct kfw_gen *gen)
{
	if (kfw_gen_one_in(gen, 8))
		return kfw_gen_u64(gen);
	return kfw_gen_icmp_types[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_icmp_types))];
}

static u8 kfw_gen_icmp_code(struct kfw_gen *gen)
{
	if (kfw_gen_one_in(gen, 8))
		return kfw_gen_u64(gen);
	return kfw_gen_icmp_codes[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_icmp_codes))];
}

static bool kfw_gen_ports_proto(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static bool kfw_gen_icmp_proto(u8 proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/*
 * Roughly how many bits of a random packet a rule pins down: -log2 of the
 * share of kfw_gen_packet()'s made-up packets it matches. Without a floor,
 * ten thousand random rules would leave no packet unmatched and the first
 * few broad ones would decide everything.
 */
#define KFW_GEN_MIN_BITS	16

static unsigned int kfw_gen_addr_bits(u8 family, u8 prefix)
{
	unsigned int base = family == NFPROTO_IPV4 ? 15 : 32;

	/* Bits below the bases are clustered: count half of them. */
	return prefix > base ? 2 + (prefix - base) / 2 : !!prefix;
}

static unsigned int kfw_gen_range_bits(const struct kfw_port_range *range)
{
	u32 width = range->last - range->first + 1;

	return width == 1 ? 5 : min_t(u32, 5, 17 - fls(width));
}

static unsigned int kfw_gen_bits(const struct kfw_match *match)
{
	u16 fields = match->fields;
	unsigned int bits = match->family != NFPROTO_UNSPEC;

	if (fields & KFW_MATCH_SRC)
		bits += kfw_gen_addr_bits(match->family, match->src_prefix);
	if (fields & KFW_MATCH_DST)
		bits += kfw_gen_addr_bits(match->family, match->dst_prefix);
	if (fields & KFW_MATCH_PROTO)
		bits += 2;
	if (fields & KFW_MATCH_SPORT)
		bits += kfw_gen_range_bits(&match->sport);
	if (fields & KFW_MATCH_DPORT)
		bits += kfw_gen_range_bits(&match->dport);
	if (fields & KFW_MATCH_IFACE)
		bits += 2;
	if (fields & KFW_MATCH_STATE)
		bits += 1;
	if (fields & KFW_MATCH_ICMP_TYPE)
		bits += 3;
	if (fields & KFW_MATCH_ICMP_CODE)
		bits += 2;
	return bits;
}

/* Adds a field to a rule that pins down too little; false if none is left. */
static bool kfw_gen_narrow(struct kfw_gen *gen, struct kfw_match *match)
{
	u16 fields = match->fields;

	if (!(fields & KFW_MATCH_PROTO)) {
		match->fields |= KFW_MATCH_PROTO;
		match->proto = kfw_gen_below(gen, 2) ? IPPROTO_TCP : IPPROTO_UDP;
	} else if (kfw_gen_ports_proto(match->proto) && !(fields & KFW_MATCH_DPORT)) {
		match->fields |= KFW_MATCH_DPORT;
		match->dport.first = kfw_gen_port(gen);
		match->dport.last = match->dport.first;
	} else if (kfw_gen_ports_proto(match->proto) && !(fields & KFW_MATCH_SPORT)) {
		match->fields |= KFW_MATCH_SPORT;
		match->sport.first = kfw_gen_port(gen);
		match->sport.last = match->sport.first;
	} else if (kfw_gen_icmp_proto(match->proto) && !(fields & KFW_MATCH_ICMP_TYPE)) {
		match->fields |= KFW_MATCH_ICMP_TYPE;
		match->icmp_type = kfw_gen_icmp_type(gen);
	} else if (kfw_gen_icmp_proto(match->proto) && !(fields & KFW_MATCH_ICMP_CODE)) {
		match->fields |= KFW_MATCH_ICMP_CODE;
		match->icmp_code = kfw_gen_icmp_code(gen);
	} else if (!(fields & KFW_MATCH_IFACE)) {
		match->fields |= KFW_MATCH_IFACE;
		memcpy(match->iface,
		       kfw_gen_ifaces[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_ifaces))],
		       IFNAMSIZ);
	} else if (!(fields & KFW_MATCH_STATE)) {
		match->fields |= KFW_MATCH_STATE;
		match->states = BIT(kfw_gen_below(gen, 4));
	} else {
		return false;
	}
	return true;
}

/**
 * kfw_gen_rule() - a random rule of any shape
 * @gen: the generator
 * @match: the rule's match, filled in as netlink would: masks from
 *	kfw_match_prefix_mask(), host bits zero, ports and ICMP fields only
 *	with their protocols, never a payload
 */
void kfw_gen_rule(struct kfw_gen *gen, struct kfw_match *match)
{
	u32 kind;

	memset(match, 0, sizeof(*match));
	kind = kfw_gen_below(gen, 10);
	match->family = kind < 4 ? NFPROTO_IPV4 : kind < 8 ? NFPROTO_IPV6 :
			NFPROTO_UNSPEC;
	if (match->family != NFPROTO_UNSPEC) {
		kind = kfw_gen_below(gen, 4);
		if (kind != 1) {
			match->fields |= KFW_MATCH_SRC;
			kfw_gen_net(gen, match->family, &match->src,
				    &match->src_mask, &match->src_prefix);
		}
		if (kind != 0) {
			match->fields |= KFW_MATCH_DST;
			kfw_gen_net(gen, match->family, &match->dst,
				    &match->dst_mask, &match->dst_prefix);
		}
	}

	/* A rule for either family names a protocol, or it takes too much. */
	kind = kfw_gen_below(gen, match->family == NFPROTO_UNSPEC ? 15 : 20);
	if (kind < 15)
		match->fields |= KFW_MATCH_PROTO;
	if (kind < 7) {
		match->proto = IPPROTO_TCP;
	} else if (kind < 12) {
		match->proto = IPPROTO_UDP;
	} else if (kind < 15) {
		match->proto = match->family == NFPROTO_IPV4 ? IPPROTO_ICMP :
			       match->family == NFPROTO_IPV6 ? IPPROTO_ICMPV6 :
			       kfw_gen_below(gen, 2) ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	}

	if (kfw_gen_ports_proto(match->proto)) {
		if (kfw_gen_one_in(gen, 4)) {
			match->fields |= KFW_MATCH_SPORT;
			kfw_gen_range(gen, &match->sport);
		}
		if (kfw_gen_below(gen, 10) < 7 ||
		    (match->family == NFPROTO_UNSPEC &&
		     !(match->fields & KFW_MATCH_SPORT))) {
			match->fields |= KFW_MATCH_DPORT;
			kfw_gen_range(gen, &match->dport);
		}
	}
	if (kfw_gen_icmp_proto(match->proto) &&
	    (kfw_gen_below(gen, 10) < 6 || match->family == NFPROTO_UNSPEC)) {
		match->fields |= KFW_MATCH_ICMP_TYPE;
		match->icmp_type = kfw_gen_icmp_type(gen);
		if (kfw_gen_below(gen, 2)) {
			match->fields |= KFW_MATCH_ICMP_CODE;
			match->icmp_code = kfw_gen_icmp_code(gen);
		}
	}
	if (kfw_gen_one_in(gen, 8)) {
		match->fields |= KFW_MATCH_IFACE;
		memcpy(match->iface,
		       kfw_gen_ifaces[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_ifaces))],
		       IFNAMSIZ);
	}
	if (kfw_gen_one_in(gen, 10)) {
		match->fields |= KFW_MATCH_STATE;
		match->states = 1 + kfw_gen_below(gen, 15);
	}
	while (kfw_gen_bits(match) < KFW_GEN_MIN_BITS && kfw_gen_narrow(gen, match))
		;
}

/* A port of @range, or just outside it. */
static u16 kfw_gen_port_in(struct kfw_gen *gen, const struct kfw_port_range *range)
{
	switch (kfw_gen_below(gen, 8)) {
	case 0:
		return range->first - 1;
	case 1:
		return range->last + 1;
	case 2:
		return range->first;
	case 3:
		return range->last;
	default:
		return range->first +
		       kfw_gen_below(gen, range->last - range->first + 1);
	}
}

static const char *kfw_gen_iface_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kfw_gen_ifaces); i++)
		if (!memcmp(kfw_gen_ifaces[i], name, IFNAMSIZ))
			return kfw_gen_ifaces[i];
	return kfw_gen_ifaces[0];
}

/**
 * kfw_gen_packet() - a random packet, usually near a rule
 * @gen: the generator
 * @near: mostly, a packet that matches this rule or just misses it; NULL
 *	for one made up from nothing
 * @pkt: the packet; has_ports and has_icmp only with their protocols, and
 *	now and then not even then (a fragment); @pkt->iface points to a
 *	constant name
 */
void kfw_gen_packet(struct kfw_gen *gen, const struct kfw_match *near,
		    struct kfw_packet *pkt)
{
	bool derive = near && !kfw_gen_one_in(gen, 8);
	u16 fields = derive ? near->fields : 0;

	memset(pkt, 0, sizeof(*pkt));
	if (derive && near->family != NFPROTO_UNSPEC && !kfw_gen_one_in(gen, 32))
		pkt->family = near->family;
	else
		pkt->family = kfw_gen_below(gen, 2) ? NFPROTO_IPV4 : NFPROTO_IPV6;
	if (derive && pkt->family != near->family)
		fields &= ~(KFW_MATCH_SRC | KFW_MATCH_DST);

	if (fields & KFW_MATCH_SRC)
		kfw_gen_addr_in(gen, pkt->family, &near->src, near->src_prefix,
				&pkt->src);
	else
		kfw_gen_addr(gen, pkt->family, &pkt->src);
	if (fields & KFW_MATCH_DST)
		kfw_gen_addr_in(gen, pkt->family, &near->dst, near->dst_prefix,
				&pkt->dst);
	else
		kfw_gen_addr(gen, pkt->family, &pkt->dst);

	pkt->has_proto = !kfw_gen_one_in(gen, 20);
	if ((fields & KFW_MATCH_PROTO) && !kfw_gen_one_in(gen, 10))
		pkt->proto = near->proto;
	else
		pkt->proto = kfw_gen_protos[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_protos))];

	pkt->has_ports = pkt->has_proto && kfw_gen_ports_proto(pkt->proto) &&
			 !kfw_gen_one_in(gen, 10);
	if (pkt->has_ports) {
		pkt->sport = fields & KFW_MATCH_SPORT ?
			     kfw_gen_port_in(gen, &near->sport) : kfw_gen_port(gen);
		pkt->dport = fields & KFW_MATCH_DPORT ?
			     kfw_gen_port_in(gen, &near->dport) : kfw_gen_port(gen);
	}

	pkt->has_icmp = pkt->has_proto && kfw_gen_icmp_proto(pkt->proto) &&
			!kfw_gen_one_in(gen, 10);
	if (pkt->has_icmp) {
		pkt->icmp_type = kfw_gen_icmp_type(gen);
		pkt->icmp_code = kfw_gen_icmp_code(gen);
		if ((fields & KFW_MATCH_ICMP_TYPE) && !kfw_gen_one_in(gen, 4)) {
			pkt->icmp_type = near->icmp_type;
			if (!kfw_gen_one_in(gen, 4))
				pkt->icmp_code = near->icmp_code;
		}
	}

	if ((fields & KFW_MATCH_IFACE) && !kfw_gen_one_in(gen, 8))
		pkt->iface = kfw_gen_iface_of(near->iface);
	else if (!kfw_gen_one_in(gen, 4))
		pkt->iface = kfw_gen_ifaces[kfw_gen_below(gen, ARRAY_SIZE(kfw_gen_ifaces))];

	/* One of the rule's states, or any (or none: untracked). */
	if ((fields & KFW_MATCH_STATE) && (near->states & 15) &&
	    !kfw_gen_one_in(gen, 4)) {
		do
			pkt->state = BIT(kfw_gen_below(gen, 4));
		while (!(pkt->state & near->states));
	} else if (!kfw_gen_one_in(gen, 3)) {
		pkt->state = BIT(kfw_gen_below(gen, 4));
	}
}

/* --- The benchmark's rule set ---------------------------------------------- */

/*
 * The benchmark's rules lie in 198.18.0.0/15, each with its own source
 * prefix of /16 to /32 (as long as a length has networks left; then a
 * longer one), half of them with a destination prefix of /16 to /32 too,
 * TCP or UDP, and a destination port or range in 1024-60999.
 */
#define KFW_GEN_BENCH_NET	0xc6120000U	/* 198.18.0.0 */
#define KFW_GEN_BENCH_BITS	15
#define KFW_GEN_BENCH_PORT_FIRST 1024
#define KFW_GEN_BENCH_PORT_LAST	60999

/**
 * kfw_gen_bench_init() - start a benchmark rule set
 * @bench: its state
 * @seed: the seed; the same seed gives the same rules
 */
void kfw_gen_bench_init(struct kfw_gen_bench *bench, u64 seed)
{
	memset(bench, 0, sizeof(*bench));
	kfw_gen_seed(&bench->gen, seed);
}

static void kfw_gen_bench_net(union nf_inet_addr *addr, union nf_inet_addr *mask,
			      u8 *prefix, u8 len, u32 net)
{
	memset(addr, 0, sizeof(*addr));
	*prefix = len;
	kfw_match_prefix_mask(mask, NFPROTO_IPV4, len);
	addr->ip = htonl(KFW_GEN_BENCH_NET | net) & mask->ip;
}

static u32 kfw_gen_bench_host(struct kfw_gen *gen)
{
	return kfw_gen_u64(gen) & ((1U << (32 - KFW_GEN_BENCH_BITS)) - 1);
}

/**
 * kfw_gen_bench_rule() - the benchmark set's next rule
 * @bench: the set's state
 * @match: the rule's match
 */
void kfw_gen_bench_rule(struct kfw_gen_bench *bench, struct kfw_match *match)
{
	struct kfw_gen *gen = &bench->gen;
	u32 len, bits, net;

	memset(match, 0, sizeof(*match));
	match->family = NFPROTO_IPV4;
	match->fields = KFW_MATCH_SRC | KFW_MATCH_PROTO | KFW_MATCH_DPORT;

	/*
	 * The n-th network of a length is n times an odd number modulo their
	 * count: all different, and spread over the /15.
	 */
	len = 16 + kfw_gen_below(gen, 17);
	while (len < 32 && bench->used[len] >> (len - KFW_GEN_BENCH_BITS))
		len++;
	bits = len - KFW_GEN_BENCH_BITS;
	net = (bench->used[len]++ * 0x9e3779b1U + 0x5bd1e995U) & ((1U << bits) - 1);
	kfw_gen_bench_net(&match->src, &match->src_mask, &match->src_prefix, len,
			  net << (32 - len));

	if (kfw_gen_below(gen, 2)) {
		match->fields |= KFW_MATCH_DST;
		kfw_gen_bench_net(&match->dst, &match->dst_mask, &match->dst_prefix,
				  16 + kfw_gen_below(gen, 17), kfw_gen_bench_host(gen));
	}
	match->proto = kfw_gen_below(gen, 2) ? IPPROTO_TCP : IPPROTO_UDP;
	match->dport.first = KFW_GEN_BENCH_PORT_FIRST +
		kfw_gen_below(gen, KFW_GEN_BENCH_PORT_LAST - KFW_GEN_BENCH_PORT_FIRST + 1);
	match->dport.last = match->dport.first;
	if (kfw_gen_below(gen, 2))
		match->dport.last = min_t(u32, KFW_GEN_BENCH_PORT_LAST,
					  match->dport.first + kfw_gen_below(gen, 1000));
}

static void kfw_gen_bench_pkt(struct kfw_gen *gen, u8 proto, struct kfw_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = NFPROTO_IPV4;
	pkt->has_proto = true;
	pkt->has_ports = true;
	pkt->proto = proto;
	pkt->sport = KFW_GEN_BENCH_PORT_FIRST + kfw_gen_below(gen, 64000);
	pkt->src.ip = htonl(KFW_GEN_BENCH_NET | kfw_gen_bench_host(gen));
	pkt->dst.ip = htonl(KFW_GEN_BENCH_NET | kfw_gen_bench_host(gen));
}

/**
 * kfw_gen_bench_probe() - a packet no rule of the benchmark set matches
 * @gen: the generator
 * @pkt: a UDP packet within 198.18.0.0/15 to port 7, below every rule's ports
 */
void kfw_gen_bench_probe(struct kfw_gen *gen, struct kfw_packet *pkt)
{
	kfw_gen_bench_pkt(gen, IPPROTO_UDP, pkt);
	pkt->dport = 7;
}

/**
 * kfw_gen_bench_packet() - a packet a rule of the benchmark set matches
 * @gen: the generator
 * @rule: the rule, or a rule listed before it, matches the packet
 * @pkt: the packet
 */
void kfw_gen_bench_packet(struct kfw_gen *gen, const struct kfw_match *rule,
			  struct kfw_packet *pkt)
{
	kfw_gen_bench_pkt(gen, rule->proto, pkt);
	pkt->src.ip = (pkt->src.ip & ~rule->src_mask.ip) | rule->src.ip;
	if (rule->fields & KFW_MATCH_DST)
		pkt->dst.ip = (pkt->dst.ip & ~rule->dst_mask.ip) | rule->dst.ip;
	pkt->dport = rule->dport.first +
		     kfw_gen_below(gen, rule->dport.last - rule->dport.first + 1);
}

/* --- A rule list and its linear reference ---------------------------------- */

/**
 * kfw_gen_set_bytes() - memory of a rule list
 * @cap: rules it can hold
 *
 * Return: bytes to give kfw_gen_set_init().
 */
size_t kfw_gen_set_bytes(u32 cap)
{
	return (size_t)cap * (sizeof(struct kfw_match) + sizeof(u64) +
			      2 * sizeof(u32));
}

/**
 * kfw_gen_set_init() - an empty rule list
 * @set: the list
 * @mem: kfw_gen_set_bytes(@cap) bytes, suitably aligned, owned by the caller
 * @cap: rules it can hold
 */
void kfw_gen_set_init(struct kfw_gen_set *set, void *mem, u32 cap)
{
	u32 i;

	set->match = mem;
	set->prio = (u64 *)(set->match + cap);
	set->order = (u32 *)(set->prio + cap);
	set->free = set->order + cap;
	set->nr = 0;
	set->cap = cap;
	/* Slot 0 is taken first. */
	for (i = 0; i < cap; i++)
		set->free[i] = cap - 1 - i;
}

/* The first list position whose priority is not below @prio. */
static u32 kfw_gen_set_find(const struct kfw_gen_set *set, u64 prio)
{
	u32 lo = 0, hi = set->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (kfw_gen_set_prio(set, mid) < prio)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/**
 * kfw_gen_set_add() - put a rule in its place in the list
 * @set: the list
 * @match: the rule, copied
 * @prio: its priority, which no rule of the list may have
 *
 * Return: where the copy lives until kfw_gen_set_del(), or NULL if the list
 * is full or @prio taken.
 */
struct kfw_match *kfw_gen_set_add(struct kfw_gen_set *set,
				  const struct kfw_match *match, u64 prio)
{
	u32 pos, slot;

	if (set->nr == set->cap)
		return NULL;
	pos = kfw_gen_set_find(set, prio);
	if (pos < set->nr && kfw_gen_set_prio(set, pos) == prio)
		return NULL;
	slot = set->free[set->cap - set->nr - 1];
	memmove(&set->order[pos + 1], &set->order[pos],
		(set->nr - pos) * sizeof(*set->order));
	set->order[pos] = slot;
	set->match[slot] = *match;
	set->prio[slot] = prio;
	set->nr++;
	return &set->match[slot];
}

/**
 * kfw_gen_set_del() - take a rule out of the list
 * @set: the list
 * @pos: the rule's position, below @set->nr
 *
 * The rule's slot stays as it is until a later kfw_gen_set_add() reuses it.
 */
void kfw_gen_set_del(struct kfw_gen_set *set, u32 pos)
{
	u32 slot = set->order[pos];

	memmove(&set->order[pos], &set->order[pos + 1],
		(set->nr - pos - 1) * sizeof(*set->order));
	set->nr--;
	set->free[set->cap - set->nr - 1] = slot;
}

/**
 * kfw_gen_set_new_prio() - a priority no rule of the list has
 * @gen: the generator
 * @set: the list
 *
 * Return: a random priority between two neighbours, or before the first
 * rule, or after the last; U64_MAX if every priority is taken.
 */
u64 kfw_gen_set_new_prio(struct kfw_gen *gen, const struct kfw_gen_set *set)
{
	unsigned int tries;
	u64 lo, hi;
	u32 pos;

	for (tries = 0; tries < 2 * set->nr + 16; tries++) {
		pos = tries < 16 ? kfw_gen_below(gen, set->nr + 1) :
		      (tries - 16) % (set->nr + 1);
		lo = pos ? kfw_gen_set_prio(set, pos - 1) : 0;
		hi = pos < set->nr ? kfw_gen_set_prio(set, pos) : U64_MAX;
		if (pos && lo++ == U64_MAX)
			continue;
		if (pos < set->nr && hi-- == 0)
			continue;
		if (lo > hi)
			continue;
		if (hi - lo == U64_MAX)
			return kfw_gen_u64(gen);
		return lo + kfw_gen_u64(gen) % (hi - lo + 1);
	}
	return U64_MAX;
}

/**
 * kfw_gen_set_any() - a random rule of the list
 * @gen: the generator
 * @set: the list
 *
 * Return: the rule, or NULL if the list is empty.
 */
const struct kfw_match *kfw_gen_set_any(struct kfw_gen *gen,
					const struct kfw_gen_set *set)
{
	return set->nr ? kfw_gen_set_at(set, kfw_gen_below(gen, set->nr)) : NULL;
}

/**
 * kfw_gen_set_lookup() - the linear reference classifier
 * @set: the list
 * @pkt: the packet
 *
 * Return: the first rule of the list that matches @pkt, or NULL.
 */
const struct kfw_match *kfw_gen_set_lookup(const struct kfw_gen_set *set,
					   const struct kfw_packet *pkt)
{
	u32 pos;

	for (pos = 0; pos < set->nr; pos++)
		if (kfw_match_packet(kfw_gen_set_at(set, pos), pkt))
			return kfw_gen_set_at(set, pos);
	return NULL;
}
