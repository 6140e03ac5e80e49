// SPDX-License-Identifier: GPL-2.0
/*
 * kfw's classifier: the first rule, in list order, that matches a packet.
 *
 * Theory of Operation
 * ===================
 *
 * Problem
 * -------
 * A table is an ordered list of rules; each rule matches on up to two address
 * prefixes, two port ranges, a protocol and a few rarer fields. The first rule
 * whose fields all match a packet decides its fate. Scanning the list, as
 * iptables does, costs a packet every rule before its match. Real rule sets
 * (ClassBench's acl, fw and ipc) overlap heavily: a packet lies inside many
 * prefixes and port ranges at once, so an index by one field at a time leaves
 * long lists of candidates, or blows up when ranges are cut into prefixes.
 *
 * Idea: TupleMerge
 * ----------------
 * The classifier is TupleMerge (Daly, Liu, Torng, "TupleMerge: fast software
 * packet processing for online packet classification", IEEE/ACM ToN 27(4),
 * 2019), a tuple space search. Rules are grouped by shape (struct
 * kfw_cls_shape): the family, the prefix lengths of the two addresses, and
 * whether the protocol and each port are one exact value. Each shape has a
 * hash table, keyed on those fields masked to the shape. A packet masks its
 * own fields the same way for each table and finds, in one probe, the rules
 * of its key there: all that can match it in that table.
 *
 * Plain tuple space search needs a table for every shape, dozens to hundreds.
 * TupleMerge lets a rule sit in a table of a less specific shape than its own
 * (kfw_cls_relax(): an address is keyed on a few bits less than its length, a
 * much shorter address not at all), so that few tables serve many shapes; a
 * port range is keyed on not at all. The key is then only a filter: every
 * candidate is checked against the packet. A key that gathers more than
 * KFW_CLS_BUCKET_LIMIT rules is split: its rules of a more specific shape move
 * to that shape's table.
 *
 * First match comes from priorities: each rule carries a number, smaller
 * first, given by the caller from its place in the list. A key's rules are
 * kept by priority, and each table knows a bound on its best priority. The
 * tables a packet looks in (struct kfw_cls_order, one list per class of
 * packet: family, ports, protocol) are sorted by that bound, so a lookup
 * stops at the first table that cannot beat what it has found.
 *
 * A lookup may also start from a priority (kfw_cls_lookup_from()): rules
 * before it are skipped, as if they were not there. A rule with a rate
 * (`over`) matches only the packets over its rate, which the classifier
 * cannot know; the caller checks the rate of the rule found, and if the
 * packet is within it, looks again from the priority after that rule's.
 * Table bounds stay valid for such a lookup: a table whose best rule is
 * skipped holds none better than that.
 *
 * Layout
 * ------
 * A table is open addressing with linear probing (struct kfw_cls_slots). Next
 * to the slots is an array of 16-bit tags, a few bits of each slot's hash;
 * probes read the tags, and look at a slot only when its tag is theirs. A
 * slot is one cache line: the key (an IPv4 key is two words; an IPv6 table
 * keeps its addresses beside the tags), the key's first rule (struct
 * kfw_cls_entry) and a pointer to its other rules (struct kfw_cls_bucket),
 * NULL for most keys. A lookup so costs, per table, one tag and, on a hit,
 * one slot. An entry holds what its rule asks of ports, protocol and IPv4
 * addresses: most candidates fail on it alone, and an IPv4 rule that asks
 * nothing else needs no look at the rule (KFW_CLS_ENTRY_WHOLE). Others go to
 * kfw_match_packet(), the reference definition of a match.
 *
 * Insertion and removal
 * ---------------------
 * The caller serialises writers; readers hold only rcu_read_lock(). Nothing a
 * reader can reach changes in a way it could see half done:
 *
 *  - A slot is filled before its tag is stored (store-release; the probe
 *    loads tags with load-acquire). A slot whose key leaves gets the dead
 *    tag, and is never reused: a reader may still be in it. Once three
 *    quarters of the slots are used, the live ones are copied to a fresh
 *    array, published whole; the old one is freed after a grace period.
 *  - A bucket is only appended to: when it has room and the new rule comes
 *    last, the entry is written past the end and the length stored after it.
 *    Any other change makes a new bucket, with room to grow by half, so n
 *    rules appended to one key cost O(n) copies in all.
 *  - A published slot's first rule never changes. A new first rule, or the
 *    removal of the first, makes a new slot of the same key, which a probe
 *    meets after the old one (it takes the first empty slot on the way), and
 *    then the old slot dies: a reader sees the key's rules before or after.
 *  - A table's bound improves before a better rule goes in, and the order
 *    lists are republished then; a lookup never passes over a table that
 *    holds a better match.
 *  - A split adds the rules to their new table before it takes them out of
 *    the old: a reader finds each rule once or twice, never not at all.
 *  - Removal needs no memory: when a new bucket or slot cannot be had, the
 *    entry's rule pointer is cleared in place and readers skip it.
 *
 * Everything replaced is freed after a grace period (kvfree_rcu), once the
 * classifier is published; a table being built is changed in place.
 *
 * Cost
 * ----
 * A lookup probes, at most, one table per class of packet's tables, in order
 * of their best rule; each probe is a hash of two words (IPv4), a tag, and on
 * a hit one slot. An insertion or removal touches one key of one table, plus
 * a republish of the order lists when a table's bound changes or a table
 * comes or goes. Memory is one slot per key at a load of 3/8 to 3/4, plus
 * the buckets of keys with more than one rule.
 */

#include "classify.h"

/* TupleMerge's collision limit: a key with more rules is split. */
#define KFW_CLS_BUCKET_LIMIT	40
/* The depth of a split's own insertions, which split nothing. */
#define KFW_CLS_SPLIT_DEPTH	1

/* Tags of slots: 0 is a slot never used, 1 one whose key left; live ones are >= 2. */
#define KFW_CLS_TAG_EMPTY	0
#define KFW_CLS_TAG_DEAD	1

/* Which exact values beside the addresses a table keys on. */
enum kfw_cls_keys {
	KFW_CLS_KEY_PROTO	= BIT(0),
	KFW_CLS_KEY_SPORT	= BIT(1),
	KFW_CLS_KEY_DPORT	= BIT(2),
};

/* Packets by what their lookup can use: family, then ports, then protocol. */
#define KFW_CLS_CLASSES		8

/**
 * struct kfw_cls_shape - the fields a table keys on: TupleMerge's tuple
 * @family: NFPROTO_IPV4 or NFPROTO_IPV6, or 0 for a table without addresses,
 *	whose rules may match either family
 * @src_len: source prefix length keyed on
 * @dst_len: destination prefix length keyed on
 * @keys: enum kfw_cls_keys
 */
struct kfw_cls_shape {
	u8 family;
	u8 src_len;
	u8 dst_len;
	u8 keys;
};

/*
 * A key, in host order, in five words. IPv4 packs both addresses into the
 * first, source above destination; IPv6 takes the first four, source first.
 * The last is sport << 24 | dport << 8 | protocol. An IPv4 key so hashes
 * and compares as two words, and a slot holds it whole.
 */
#define KFW_CLS_KEY_WORDS	5
#define KFW_CLS_KEY_REST	4

enum kfw_cls_entry_flags {
	KFW_CLS_ENTRY_PROTO	= BIT(0),
	KFW_CLS_ENTRY_PORTS	= BIT(1),
	KFW_CLS_ENTRY_WHOLE	= BIT(2),
};

/**
 * struct kfw_cls_entry - a rule as a lookup first sees it: what it asks of
 *	the ports, the protocol and, for IPv4, the addresses, so that most
 *	candidates fail without a look at the rule itself
 * @prio: the rule's priority
 * @match: the rule, or NULL once removed in place
 * @src: an IPv4 rule's source address, host order
 * @dst: its destination address
 * @sport: the source ports it admits
 * @dport: the destination ports it admits
 * @src_len: its source prefix length; 0 for any other rule
 * @dst_len: its destination prefix length
 * @proto: its protocol
 * @flags: enum kfw_cls_entry_flags: it asks for a protocol, for ports, and
 *	nothing beyond these fields (an IPv4 rule only)
 */
struct kfw_cls_entry {
	u64 prio;
	const struct kfw_match *match;
	u32 src;
	u32 dst;
	struct kfw_port_range sport;
	struct kfw_port_range dport;
	u8 src_len;
	u8 dst_len;
	u8 proto;
	u8 flags;
};

/**
 * struct kfw_cls_bucket - the rules of one key after its first, by priority;
 *	while readers can see it, only ever appended to, else replaced whole
 * @rcu: for freeing after a grace period
 * @cap: room for entries
 * @len: entries readers may look at, stored after the entries
 * @split_at: the number of rules at which a split last found nothing to
 *	split by
 * @dport: the destination ports of its entries together, first to last:
 *	rules that a key's fields alike crowd together differ in their ports,
 *	and a packet to a port outside all of them passes them by at once
 * @entry: the entries
 */
struct kfw_cls_bucket {
	struct rcu_head rcu;
	unsigned int cap;
	unsigned int len;
	unsigned int split_at;
	struct kfw_port_range dport;
	struct kfw_cls_entry entry[];
};

/**
 * struct kfw_cls_slot - one key of a table, in one cache line: most keys
 *	hold one rule, which a lookup then finds without another miss
 * @key: the key's first and last words (an IPv6 table keeps its addresses
 *	in &struct kfw_cls_slots.wide)
 * @first: its rule with the smallest priority
 * @rest: its other rules, or NULL
 *
 * A published slot changes only by its @rest and by entries removed in
 * place: a new first rule takes a new slot, and the old one dies.
 */
struct kfw_cls_slot {
	u64 key[2];
	struct kfw_cls_entry first;
	struct kfw_cls_bucket __rcu *rest;
} __aligned(64);

/**
 * struct kfw_cls_slots - a table's open-addressing hash: slots and their tags
 * @rcu: for freeing after a grace period
 * @mask: number of slots, less one (a power of two, less one)
 * @used: slots not empty (live or dead)
 * @group: the slots' 16-bit tags, four to a word, after the slots: 0 empty,
 *	1 dead, else a live slot's hash bits. Readers probe four tags at a time,
 *	and look at a slot only when its tag is theirs; writers store a whole
 *	word, so readers never see a word half written.
 * @wide: for an IPv6 table, the address words of each slot's key
 * @slot: the slots
 */
struct kfw_cls_slots {
	struct rcu_head rcu;
	u32 mask;
	u32 used;
	u64 *group;
	u64 (*wide)[4];
	struct kfw_cls_slot slot[];
};

/**
 * struct kfw_cls_table - every rule of one shape; what a lookup reads first
 * @slots: its hash
 * @mask: the key's bits that it keys on
 * @wide: an IPv6 table, whose keys have four address words
 * @shape: what it keys on
 * @rules: rules in it
 * @live: keys in it
 * @best: no rule in it has a smaller priority (a bound: removals leave it)
 * @rcu: for freeing after a grace period
 */
struct kfw_cls_table {
	struct kfw_cls_slots __rcu *slots;
	u64 mask[KFW_CLS_KEY_WORDS];
	bool wide;
	struct kfw_cls_shape shape;
	unsigned int rules;
	unsigned int live;
	u64 best;
	struct rcu_head rcu;
};

/**
 * struct kfw_cls_order - the tables a class of packets looks in, by best
 *	priority: a lookup stops at the first table that cannot beat what it
 *	found. Replaced whole when tables come, go or improve.
 */
struct kfw_cls_order {
	struct rcu_head rcu;
	unsigned int cap;
	unsigned int len;
	struct {
		u64 best;
		const struct kfw_cls_table *table;
	} item[];
};

/**
 * struct kfw_cls - the classifier of one direction
 * @order: by packet class, the tables to look in
 * @tables: every table (writers only)
 * @nr_tables: how many
 * @cap_tables: room in @tables
 * @live: readers may exist, so what is replaced waits for a grace period
 * @stats: what it holds
 */
struct kfw_cls {
	struct kfw_cls_order __rcu *order[KFW_CLS_CLASSES];
	struct kfw_cls_table **tables;
	unsigned int nr_tables;
	unsigned int cap_tables;
	bool live;
	struct kfw_cls_stats stats;
};

/* --- Keys ------------------------------------------------------------------ */

static u64 kfw_cls_pair(__be32 high, __be32 low)
{
	return (u64)ntohl(high) << 32 | ntohl(low);
}

/* The key words of addresses @src and @dst of @family. */
static void kfw_cls_addr_key(u64 *word, u8 family, const union nf_inet_addr *src,
			     const union nf_inet_addr *dst)
{
	if (family == NFPROTO_IPV6) {
		word[0] = kfw_cls_pair(src->all[0], src->all[1]);
		word[1] = kfw_cls_pair(src->all[2], src->all[3]);
		word[2] = kfw_cls_pair(dst->all[0], dst->all[1]);
		word[3] = kfw_cls_pair(dst->all[2], dst->all[3]);
	} else {
		word[0] = kfw_cls_pair(src->ip, dst->ip);
		word[1] = 0;
		word[2] = 0;
		word[3] = 0;
	}
}

static u64 kfw_cls_rest_key(u16 sport, u16 dport, u8 proto)
{
	return (u64)sport << 24 | (u64)dport << 8 | proto;
}

/* The top @len of 64 bits. */
static u64 kfw_cls_top64(unsigned int len)
{
	return len ? ~0ULL << (64 - len) : 0;
}

/* The top @len bits, at most 32, of a 32-bit word. */
static u32 kfw_cls_top32(unsigned int len)
{
	return (u32)(~0ULL << (32 - len));
}

static void kfw_cls_shape_mask(const struct kfw_cls_shape *shape, u64 *mask)
{
	unsigned int src = shape->src_len, dst = shape->dst_len;

	memset(mask, 0, KFW_CLS_KEY_WORDS * sizeof(*mask));
	if (shape->family == NFPROTO_IPV6) {
		mask[0] = kfw_cls_top64(min(src, 64U));
		mask[1] = kfw_cls_top64(src > 64 ? src - 64 : 0);
		mask[2] = kfw_cls_top64(min(dst, 64U));
		mask[3] = kfw_cls_top64(dst > 64 ? dst - 64 : 0);
	} else {
		mask[0] = (u64)kfw_cls_top32(src) << 32 | kfw_cls_top32(dst);
	}
	mask[KFW_CLS_KEY_REST] =
		kfw_cls_rest_key(shape->keys & KFW_CLS_KEY_SPORT ? U16_MAX : 0,
				 shape->keys & KFW_CLS_KEY_DPORT ? U16_MAX : 0,
				 shape->keys & KFW_CLS_KEY_PROTO ? U8_MAX : 0);
}

/* A packet's key; fields it lacks are 0, and no table that keys on them applies. */
static void kfw_cls_packet_key(const struct kfw_packet *pkt, u64 *word)
{
	kfw_cls_addr_key(word, pkt->family, &pkt->src, &pkt->dst);
	word[KFW_CLS_KEY_REST] =
		kfw_cls_rest_key(pkt->has_ports ? pkt->sport : 0,
				 pkt->has_ports ? pkt->dport : 0,
				 pkt->has_proto ? pkt->proto : 0);
}

/* A rule's key in @table: its fields' first values, masked. */
static void kfw_cls_match_key(const struct kfw_cls_table *table,
			      const struct kfw_match *match, u64 *word)
{
	unsigned int i;

	kfw_cls_addr_key(word, match->family, &match->src, &match->dst);
	word[KFW_CLS_KEY_REST] =
		kfw_cls_rest_key(match->sport.first, match->dport.first, match->proto);
	for (i = 0; i < KFW_CLS_KEY_WORDS; i++)
		word[i] &= table->mask[i];
}

/* The two words of an IPv4 key in two multiplies; an IPv6 key's addresses after. */
static u64 kfw_cls_hash_start(u64 first, u64 rest)
{
	return (first ^ rest * 0xc2b2ae3d27d4eb4fULL) * 0x9e3779b97f4a7c15ULL;
}

/* Masked keys end in zeros: MurmurHash3's finaliser mixes the high bits down. */
static u64 kfw_cls_hash_end(u64 h)
{
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 29);
}

static u64 kfw_cls_hash(const u64 *key, bool wide)
{
	u64 h = kfw_cls_hash_start(key[0], key[KFW_CLS_KEY_REST]);

	if (wide) {
		h = (h ^ key[1]) * 0x9e3779b97f4a7c15ULL;
		h = (h ^ key[2]) * 0x9e3779b97f4a7c15ULL;
		h = (h ^ key[3]) * 0x9e3779b97f4a7c15ULL;
	}
	return kfw_cls_hash_end(h);
}

/* The tag of a live slot with hash @hash: never EMPTY or DEAD. */
static u16 kfw_cls_tag(u64 hash)
{
	return (u16)(hash >> 48) | 2;
}

/* --- Lookup ------------------------------------------------------------------ */

/*
 * A what-if packet that left a port out is still of the class with ports:
 * its unknown port is 0 in its key, and whatever that finds in a table keyed
 * on the port asks for the port, which kfw_match_packet() then refuses.
 * Rules keyed on the other port are found as for a real packet.
 */
static unsigned int kfw_cls_class(const struct kfw_packet *pkt)
{
	return (pkt->family == NFPROTO_IPV6) << 2 | pkt->has_ports << 1 |
	       pkt->has_proto;
}

static bool kfw_cls_slot_is(const struct kfw_cls_slots *slots, u32 i,
			    const u64 *key, bool wide)
{
	const struct kfw_cls_slot *slot = &slots->slot[i];

	if (slot->key[1] != key[KFW_CLS_KEY_REST])
		return false;
	if (!wide)
		return slot->key[0] == key[0];
	return !memcmp(slots->wide[i], key, sizeof(slots->wide[i]));
}

/* Four tags to a word: lane i is bits 16i to 16i + 15. */
#define KFW_CLS_LANE_ONES	0x0001000100010001ULL
#define KFW_CLS_LANE_LOWS	0x7fff7fff7fff7fffULL
#define KFW_CLS_LANE_BITS	16

/*
 * The top bit of each lane of @group that is 0, and no other bit: the low
 * 15 bits of a lane plus 0x7fff carry into its top bit, never beyond.
 */
static u64 kfw_cls_zero_lanes(u64 group)
{
	u64 low = (group & KFW_CLS_LANE_LOWS) + KFW_CLS_LANE_LOWS;

	return ~(low | group | KFW_CLS_LANE_LOWS);
}

static unsigned int kfw_cls_lane(u64 lanes)
{
	return __ffs64(lanes) / KFW_CLS_LANE_BITS;
}

/*
 * The slot of @key, with hash @hash, in @slots, or -1; for readers and
 * writers alike. A key is in the first group, in probe order, that had a
 * free lane when it came, and lanes are never freed again: a group with an
 * empty lane ends the search.
 */
static __always_inline s32 kfw_cls_find_hashed(const struct kfw_cls_slots *slots,
					       u64 hash, const u64 *key, bool wide)
{
	u64 want = kfw_cls_tag(hash) * KFW_CLS_LANE_ONES, group, hits;
	u32 g, gmask = slots->mask / 4, i;

	for (g = hash & gmask;; g = (g + 1) & gmask) {
		/* Pairs with the stores in kfw_cls_slot_add() and kfw_cls_slot_kill(). */
		group = smp_load_acquire(&slots->group[g]);
		for (hits = kfw_cls_zero_lanes(group ^ want); hits; hits &= hits - 1) {
			i = 4 * g + kfw_cls_lane(hits);
			if (kfw_cls_slot_is(slots, i, key, wide))
				return i;
		}
		if (kfw_cls_zero_lanes(group))
			return -1;
	}
}

static s32 kfw_cls_find(const struct kfw_cls_slots *slots, const u64 *key,
			bool wide)
{
	return kfw_cls_find_hashed(slots, kfw_cls_hash(key, wide), key, wide);
}

/**
 * struct kfw_cls_view - what a lookup compares entries with
 * @pkt: the packet
 * @src: its IPv4 source address, host order, or 0
 * @dst: its IPv4 destination address, or 0
 * @plain: an IPv4 packet with every field known, which a whole entry decides
 */
struct kfw_cls_view {
	const struct kfw_packet *pkt;
	u32 src;
	u32 dst;
	bool plain;
};

/* The rule of @entry if it matches, else NULL. */
static const struct kfw_match *kfw_cls_entry_matches(const struct kfw_cls_entry *entry,
						     const struct kfw_cls_view *view)
{
	const struct kfw_packet *pkt = view->pkt;
	const struct kfw_match *match;

	if (((view->src ^ entry->src) & kfw_cls_top32(entry->src_len)) |
	    ((view->dst ^ entry->dst) & kfw_cls_top32(entry->dst_len)))
		return NULL;
	if ((entry->flags & KFW_CLS_ENTRY_PROTO) &&
	    (!pkt->has_proto || pkt->proto != entry->proto))
		return NULL;
	if ((entry->flags & KFW_CLS_ENTRY_PORTS) &&
	    (!pkt->has_ports || pkt->sport < entry->sport.first ||
	     pkt->sport > entry->sport.last || pkt->dport < entry->dport.first ||
	     pkt->dport > entry->dport.last))
		return NULL;
	match = READ_ONCE(entry->match);
	if (match && ((view->plain && (entry->flags & KFW_CLS_ENTRY_WHOLE)) ||
		      kfw_match_packet(match, pkt)))
		return match;
	return NULL;
}

/*
 * The first rule of @slot from priority @from on that matches and beats
 * *@best, which it lowers. With @from a constant 0, as kfw_cls_lookup()
 * has it, the compiler drops every test of it.
 */
static __always_inline const struct kfw_match *
kfw_cls_slot_lookup(const struct kfw_cls_slot *slot,
		    const struct kfw_cls_view *view, u64 from, u64 *best)
{
	const struct kfw_cls_bucket *rest;
	const struct kfw_match *match;
	unsigned int i, len;

	if (slot->first.prio >= *best)
		return NULL;
	match = slot->first.prio >= from ?
		kfw_cls_entry_matches(&slot->first, view) : NULL;
	if (match) {
		*best = slot->first.prio;
		return match;
	}
	rest = rcu_dereference(slot->rest);
	if (!rest)
		return NULL;
	/* Pairs with the store in kfw_cls_bucket_with(): entries below are whole. */
	len = smp_load_acquire(&rest->len);
	if (view->pkt->has_ports &&
	    (view->pkt->dport < READ_ONCE(rest->dport.first) ||
	     view->pkt->dport > READ_ONCE(rest->dport.last)))
		return NULL;
	for (i = 0; i < len && rest->entry[i].prio < *best; i++) {
		if (rest->entry[i].prio < from)
			continue;
		match = kfw_cls_entry_matches(&rest->entry[i], view);
		if (match) {
			*best = rest->entry[i].prio;
			return match;
		}
	}
	return NULL;
}

/*
 * The lookup, from priority @from on; the priority of what it finds goes to
 * *@prio. Inlined into both entry points, so that the packet path's, whose
 * @from is 0, pays nothing for it.
 */
static __always_inline const struct kfw_match *
kfw_cls_search(const struct kfw_cls *cls, const struct kfw_packet *pkt,
	       u64 from, u64 *prio)
{
	struct kfw_cls_view view = { .pkt = pkt };
	const struct kfw_match *match, *found = NULL;
	const struct kfw_cls_order *order;
	const struct kfw_cls_slots *slots;
	u64 key[KFW_CLS_KEY_WORDS], masked[KFW_CLS_KEY_WORDS];
	u64 best = U64_MAX, hash;
	unsigned int i, w;
	s32 at;

	*prio = U64_MAX;
	order = rcu_dereference(cls->order[kfw_cls_class(pkt)]);
	if (!order)
		return NULL;
	kfw_cls_packet_key(pkt, key);
	if (pkt->family == NFPROTO_IPV4) {
		view.src = key[0] >> 32;
		view.dst = (u32)key[0];
		view.plain = !pkt->unknown;
	}
	for (i = 0; i < order->len && order->item[i].best < best; i++) {
		const struct kfw_cls_table *table = order->item[i].table;

		slots = rcu_dereference(table->slots);
		if (likely(!table->wide)) {
			/* Most tables: two words, and kfw_cls_find() inline for them. */
			masked[0] = key[0] & table->mask[0];
			masked[KFW_CLS_KEY_REST] = key[KFW_CLS_KEY_REST] &
						   table->mask[KFW_CLS_KEY_REST];
			hash = kfw_cls_hash_start(masked[0], masked[KFW_CLS_KEY_REST]);
			at = kfw_cls_find_hashed(slots, kfw_cls_hash_end(hash), masked, false);
		} else {
			for (w = 0; w < KFW_CLS_KEY_WORDS; w++)
				masked[w] = key[w] & table->mask[w];
			at = kfw_cls_find(slots, masked, true);
		}
		if (at < 0)
			continue;
		match = kfw_cls_slot_lookup(&slots->slot[at], &view, from, &best);
		if (match)
			found = match;
	}
	*prio = best;
	return found;
}

/**
 * kfw_cls_lookup() - the first rule that matches a packet
 * @cls: the classifier, under rcu_read_lock()
 * @pkt: the packet
 *
 * Return: the match of the rule with the smallest priority that matches
 * @pkt, or NULL.
 */
const struct kfw_match *kfw_cls_lookup(const struct kfw_cls *cls,
				       const struct kfw_packet *pkt)
{
	u64 prio;

	return kfw_cls_search(cls, pkt, 0, &prio);
}

/**
 * kfw_cls_lookup_from() - the first rule from a priority on that matches
 * @cls: the classifier, under rcu_read_lock()
 * @pkt: the packet
 * @from: the smallest priority to consider
 * @prio: where the priority of the rule found goes, as @cls knows it
 *
 * For the rules that decide on a packet only after it matched them (a
 * rate's `over`): when such a rule passes, the lookup goes on after it, from
 * its priority + 1. Priorities are the classifier's own, which stay
 * consistent within @cls while the caller renumbers rules for another.
 * Costs what kfw_cls_lookup() does: tables are still taken best first, and
 * the rules of a key before @from are skipped.
 *
 * Return: the match of the rule with the smallest priority at least @from
 * that matches @pkt, or NULL (and *@prio is then U64_MAX).
 */
const struct kfw_match *kfw_cls_lookup_from(const struct kfw_cls *cls,
					    const struct kfw_packet *pkt,
					    u64 from, u64 *prio)
{
	return kfw_cls_search(cls, pkt, from, prio);
}

/* --- Memory ---------------------------------------------------------------------- */

static void *kfw_cls_alloc(struct kfw_cls *cls, size_t size)
{
	void *ptr = kfw_cls_zalloc(size);

	if (ptr)
		cls->stats.bytes += size;
	return ptr;
}

static size_t kfw_cls_bucket_size(unsigned int len)
{
	return sizeof(struct kfw_cls_bucket) + len * sizeof(struct kfw_cls_entry);
}

static size_t kfw_cls_slots_size(u32 nr, bool wide)
{
	struct kfw_cls_slots *slots;

	return struct_size(slots, slot, nr) + nr / 4 * sizeof(*slots->group) +
	       (wide ? nr * sizeof(*slots->wide) : 0);
}

static size_t kfw_cls_order_size(unsigned int len)
{
	struct kfw_cls_order *order;

	return struct_size(order, item, len);
}

/*
 * Memory readers may still hold is freed after a grace period once the
 * classifier is published, at once before.
 */
#define kfw_cls_retire(cls, ptr, size) do {				\
	struct kfw_cls *__cls = (cls);					\
	typeof(ptr) __ptr = (ptr);					\
									\
	__cls->stats.bytes -= (size);					\
	if (__cls->live)						\
		kfw_cls_free_rcu(__ptr, rcu);				\
	else								\
		kfw_cls_free(__ptr);					\
} while (0)

/* --- Buckets and slots ------------------------------------------------------------ */

static struct kfw_cls_bucket *kfw_cls_rest(const struct kfw_cls_slot *slot)
{
	return rcu_dereference_protected(slot->rest, 1);
}

static struct kfw_cls_slots *kfw_cls_slots_deref(const struct kfw_cls_table *table)
{
	return rcu_dereference_protected(table->slots, 1);
}

static unsigned int kfw_cls_rest_len(const struct kfw_cls_slot *slot)
{
	const struct kfw_cls_bucket *rest = kfw_cls_rest(slot);

	return rest ? rest->len : 0;
}

/* Entry @i of @slot: its first, then the rest. */
static struct kfw_cls_entry *kfw_cls_slot_entry(struct kfw_cls_slot *slot,
						unsigned int i)
{
	return i ? &kfw_cls_rest(slot)->entry[i - 1] : &slot->first;
}

/* Where in @slot the rule @match at @prio is, from @from on, or -1. */
static int kfw_cls_slot_find_rule(struct kfw_cls_slot *slot, unsigned int from,
				  const struct kfw_match *match, u64 prio)
{
	unsigned int i, len = 1 + kfw_cls_rest_len(slot);
	const struct kfw_cls_entry *entry;

	for (i = from; i < len; i++) {
		entry = kfw_cls_slot_entry(slot, i);
		if (entry->prio == prio && entry->match == match)
			return i;
	}
	return -1;
}

static struct kfw_cls_bucket *kfw_cls_bucket_alloc(struct kfw_cls *cls,
						   unsigned int cap)
{
	struct kfw_cls_bucket *bucket = kfw_cls_alloc(cls, kfw_cls_bucket_size(cap));

	if (bucket) {
		bucket->cap = cap;
		bucket->dport.first = U16_MAX;
	}
	return bucket;
}

/* Takes @entry into @bucket's ports, before a reader can see the entry. */
static void kfw_cls_bucket_ports(struct kfw_cls_bucket *bucket,
				 const struct kfw_cls_entry *entry)
{
	if (entry->dport.first < bucket->dport.first)
		WRITE_ONCE(bucket->dport.first, entry->dport.first);
	if (entry->dport.last > bucket->dport.last)
		WRITE_ONCE(bucket->dport.last, entry->dport.last);
}

/* Appends @entry to @bucket, which has room; a reader sees it whole or not. */
static void kfw_cls_bucket_append(struct kfw_cls_bucket *bucket,
				  const struct kfw_cls_entry *entry)
{
	bucket->entry[bucket->len] = *entry;
	kfw_cls_bucket_ports(bucket, entry);
	/* Pairs with the load in kfw_cls_slot_lookup(). */
	smp_store_release(&bucket->len, bucket->len + 1);
}

static void kfw_cls_bucket_retire(struct kfw_cls *cls,
				  struct kfw_cls_bucket *bucket)
{
	if (bucket)
		kfw_cls_retire(cls, bucket, kfw_cls_bucket_size(bucket->cap));
}

/*
 * @old with @entry added in its place by priority, and without the entries
 * removed in place. An entry that comes last goes in place when there is
 * room, written before the length that shows it; a new bucket has room to
 * grow by half, so n rules appended to one key cost O(n) copies in all.
 */
static struct kfw_cls_bucket *kfw_cls_bucket_with(struct kfw_cls *cls,
						  struct kfw_cls_bucket *old,
						  const struct kfw_cls_entry *entry)
{
	unsigned int len = old ? old->len : 0, i;
	struct kfw_cls_bucket *bucket;
	bool placed = false;

	if (old && len < old->cap && old->entry[len - 1].prio < entry->prio) {
		kfw_cls_bucket_append(old, entry);
		return old;
	}
	bucket = kfw_cls_bucket_alloc(cls, len + 1 + len / 2);
	if (!bucket)
		return NULL;
	bucket->split_at = old ? old->split_at : 0;
	for (i = 0; i < len; i++) {
		if (!old->entry[i].match)
			continue;
		if (!placed && old->entry[i].prio > entry->prio) {
			kfw_cls_bucket_append(bucket, entry);
			placed = true;
		}
		kfw_cls_bucket_append(bucket, &old->entry[i]);
	}
	if (!placed)
		kfw_cls_bucket_append(bucket, entry);
	return bucket;
}

static struct kfw_cls_slots *kfw_cls_slots_alloc(struct kfw_cls *cls, u32 nr,
						 bool wide)
{
	struct kfw_cls_slots *slots = kfw_cls_alloc(cls, kfw_cls_slots_size(nr, wide));

	if (!slots)
		return NULL;
	slots->mask = nr - 1;
	slots->group = (u64 *)&slots->slot[nr];
	if (wide)
		slots->wide = (void *)&slots->group[nr / 4];
	return slots;
}

static void kfw_cls_slots_retire(struct kfw_cls *cls, struct kfw_cls_slots *slots,
				 bool wide)
{
	kfw_cls_retire(cls, slots, kfw_cls_slots_size(slots->mask + 1, wide));
}

static u16 kfw_cls_slot_tag(const struct kfw_cls_slots *slots, u32 i)
{
	return slots->group[i / 4] >> (KFW_CLS_LANE_BITS * (i % 4));
}

/* Stores the tag of slot @i: a whole word, for readers. */
static void kfw_cls_slot_set_tag(struct kfw_cls_slots *slots, u32 i, u16 tag)
{
	unsigned int shift = KFW_CLS_LANE_BITS * (i % 4);
	u64 group = slots->group[i / 4] & ~(0xffffULL << shift);

	/* Pairs with the load in kfw_cls_find_hashed(): the slot is whole. */
	smp_store_release(&slots->group[i / 4], group | (u64)tag << shift);
}

/* Fills the first never used slot on @key's way with @key and its rules. */
static void kfw_cls_slot_add(struct kfw_cls_slots *slots, const u64 *key,
			     bool wide, const struct kfw_cls_entry *first,
			     struct kfw_cls_bucket *rest)
{
	u64 hash = kfw_cls_hash(key, wide), empty;
	u32 g, gmask = slots->mask / 4, i;
	struct kfw_cls_slot *slot;

	for (g = hash & gmask; !(empty = kfw_cls_zero_lanes(slots->group[g]));
	     g = (g + 1) & gmask)
		;
	i = 4 * g + kfw_cls_lane(empty);
	slot = &slots->slot[i];
	slot->key[0] = wide ? 0 : key[0];
	slot->key[1] = key[KFW_CLS_KEY_REST];
	if (wide)
		memcpy(slots->wide[i], key, sizeof(slots->wide[i]));
	slot->first = *first;
	RCU_INIT_POINTER(slot->rest, rest);
	slots->used++;
	kfw_cls_slot_set_tag(slots, i, kfw_cls_tag(hash));
}

/* The key of slot @i. */
static void kfw_cls_slot_key(const struct kfw_cls_slots *slots, u32 i,
			     bool wide, u64 *key)
{
	memset(key, 0, KFW_CLS_KEY_WORDS * sizeof(*key));
	if (wide)
		memcpy(key, slots->wide[i], sizeof(slots->wide[i]));
	else
		key[0] = slots->slot[i].key[0];
	key[KFW_CLS_KEY_REST] = slots->slot[i].key[1];
}

static bool kfw_cls_slot_live(const struct kfw_cls_slots *slots, u32 i)
{
	return kfw_cls_slot_tag(slots, i) > KFW_CLS_TAG_DEAD;
}

/*
 * Readers that saw the tag may still read the slot: it is never reused. A
 * new slot of its key, if any, is stored first, so a reader that finds this
 * one dead finds that one further on.
 */
static void kfw_cls_slot_kill(struct kfw_cls_slots *slots, u32 i)
{
	kfw_cls_slot_set_tag(slots, i, KFW_CLS_TAG_DEAD);
}

/*
 * Dead slots are never reused, as a reader may still be reading one: a
 * table is rehashed into fresh slots, twice as many as it has keys and
 * never under 8, once three quarters are used.
 */
static int kfw_cls_make_room(struct kfw_cls *cls, struct kfw_cls_table *table)
{
	struct kfw_cls_slots *old = kfw_cls_slots_deref(table), *slots;
	u64 key[KFW_CLS_KEY_WORDS];
	u32 nr = 8, i;

	if (old && (old->used + 1) * 4 <= (old->mask + 1) * 3)
		return 0;
	while (nr < 2 * (table->live + 1))
		nr *= 2;
	slots = kfw_cls_slots_alloc(cls, nr, table->wide);
	if (!slots)
		return -ENOMEM;
	for (i = 0; old && i <= old->mask; i++) {
		if (!kfw_cls_slot_live(old, i))
			continue;
		kfw_cls_slot_key(old, i, table->wide, key);
		kfw_cls_slot_add(slots, key, table->wide, &old->slot[i].first,
				 kfw_cls_rest(&old->slot[i]));
	}
	rcu_assign_pointer(table->slots, slots);
	if (old)
		kfw_cls_slots_retire(cls, old, table->wide);
	return 0;
}

/* --- Shapes ---------------------------------------------------------------------- */

static void kfw_cls_rule_shape(const struct kfw_match *match,
			       struct kfw_cls_shape *shape)
{
	u16 fields = match->fields;

	memset(shape, 0, sizeof(*shape));
	if (fields & (KFW_MATCH_SRC | KFW_MATCH_DST))
		shape->family = match->family;
	if (fields & KFW_MATCH_SRC)
		shape->src_len = match->src_prefix;
	if (fields & KFW_MATCH_DST)
		shape->dst_len = match->dst_prefix;
	if (fields & KFW_MATCH_PROTO)
		shape->keys |= KFW_CLS_KEY_PROTO;
	if ((fields & KFW_MATCH_SPORT) && match->sport.first == match->sport.last)
		shape->keys |= KFW_CLS_KEY_SPORT;
	if ((fields & KFW_MATCH_DPORT) && match->dport.first == match->dport.last)
		shape->keys |= KFW_CLS_KEY_DPORT;
}

/* Can a rule of shape @rule live in a table of shape @table? */
static bool kfw_cls_fits(const struct kfw_cls_shape *table,
			 const struct kfw_cls_shape *rule)
{
	return (!table->family || table->family == rule->family) &&
	       table->src_len <= rule->src_len && table->dst_len <= rule->dst_len &&
	       !(table->keys & ~rule->keys);
}

static unsigned int kfw_cls_specificity(const struct kfw_cls_shape *shape)
{
	return shape->src_len + shape->dst_len + 16 * kfw_cls_popcount16(shape->keys);
}

/*
 * TupleMerge's relaxation: a new table keys on somewhat less than the rule
 * that makes it, so that later rules of nearby shapes fit in it too. An
 * address much longer than the other keeps the table alone, with its port.
 */
static unsigned int kfw_cls_relax_len(unsigned int len, unsigned int width)
{
	if (width == 128 && len > 32)
		return len - len / 8;
	if (len == 32)
		return 26;
	if (len > 24)
		return len - 5;
	if (len > 16)
		return len - 4;
	if (len > 8)
		return len - 2;
	return len;
}

static void kfw_cls_relax(struct kfw_cls_shape *shape)
{
	unsigned int width = shape->family == NFPROTO_IPV6 ? 128 : 32;

	if (shape->dst_len > shape->src_len + 4) {
		shape->src_len = 0;
		shape->keys &= ~KFW_CLS_KEY_SPORT;
	} else if (shape->src_len > shape->dst_len + 4) {
		shape->dst_len = 0;
		shape->keys &= ~KFW_CLS_KEY_DPORT;
	}
	shape->src_len = kfw_cls_relax_len(shape->src_len, width);
	shape->dst_len = kfw_cls_relax_len(shape->dst_len, width);
	if (!shape->src_len && !shape->dst_len)
		shape->family = 0;
}

/* --- Tables and their order -------------------------------------------------------- */

static struct kfw_cls_table *kfw_cls_table_find(struct kfw_cls *cls,
						const struct kfw_cls_shape *shape)
{
	unsigned int i;

	for (i = 0; i < cls->nr_tables; i++)
		if (!memcmp(&cls->tables[i]->shape, shape, sizeof(*shape)))
			return cls->tables[i];
	return NULL;
}

static struct kfw_cls_table *kfw_cls_table_new(struct kfw_cls *cls,
					       const struct kfw_cls_shape *shape)
{
	struct kfw_cls_table *table, **tables;
	unsigned int cap;

	if (cls->nr_tables == cls->cap_tables) {
		cap = cls->cap_tables ? 2 * cls->cap_tables : 8;
		tables = kfw_cls_alloc(cls, cap * sizeof(*tables));
		if (!tables)
			return NULL;
		if (cls->nr_tables)
			memcpy(tables, cls->tables, cls->nr_tables * sizeof(*tables));
		/* Writers' only: no reader sees it. */
		cls->stats.bytes -= cls->cap_tables * sizeof(*tables);
		kfw_cls_free(cls->tables);
		cls->tables = tables;
		cls->cap_tables = cap;
	}
	table = kfw_cls_alloc(cls, sizeof(*table));
	if (!table)
		return NULL;
	table->shape = *shape;
	table->wide = shape->family == NFPROTO_IPV6;
	kfw_cls_shape_mask(shape, table->mask);
	table->best = U64_MAX;
	if (kfw_cls_make_room(cls, table)) {
		cls->stats.bytes -= sizeof(*table);
		kfw_cls_free(table);
		return NULL;
	}
	cls->tables[cls->nr_tables++] = table;
	return table;
}

/* Does a lookup in @class look in @table? */
static bool kfw_cls_applies(const struct kfw_cls_table *table, unsigned int class)
{
	const struct kfw_cls_shape *shape = &table->shape;
	u8 family = class & 4 ? NFPROTO_IPV6 : NFPROTO_IPV4;

	if (!table->rules)
		return false;
	if (shape->family && shape->family != family)
		return false;
	if ((shape->keys & (KFW_CLS_KEY_SPORT | KFW_CLS_KEY_DPORT)) && !(class & 2))
		return false;
	return !(shape->keys & KFW_CLS_KEY_PROTO) || (class & 1);
}

/*
 * Publishes, for every class of packets, the tables to look in by best
 * priority. On failure the old orders stay: they are still right, only
 * slower, or they miss a table an insertion was about to fill, which it
 * then undoes.
 */
static int kfw_cls_order_publish(struct kfw_cls *cls)
{
	struct kfw_cls_order *orders[KFW_CLS_CLASSES], *old;
	unsigned int class, i, j, n;

	for (class = 0; class < KFW_CLS_CLASSES; class++) {
		orders[class] = kfw_cls_alloc(cls, kfw_cls_order_size(cls->nr_tables));
		if (!orders[class]) {
			while (class--)
				kfw_cls_retire(cls, orders[class],
					       kfw_cls_order_size(cls->nr_tables));
			return -ENOMEM;
		}
	}
	for (class = 0; class < KFW_CLS_CLASSES; class++) {
		struct kfw_cls_order *order = orders[class];

		order->cap = cls->nr_tables;
		for (i = n = 0; i < cls->nr_tables; i++) {
			const struct kfw_cls_table *table = cls->tables[i];

			if (!kfw_cls_applies(table, class))
				continue;
			for (j = n++; j > 0 && order->item[j - 1].best > table->best; j--)
				order->item[j] = order->item[j - 1];
			order->item[j].best = table->best;
			order->item[j].table = table;
		}
		order->len = n;
		old = rcu_dereference_protected(cls->order[class], 1);
		rcu_assign_pointer(cls->order[class], order);
		if (old)
			kfw_cls_retire(cls, old, kfw_cls_order_size(old->cap));
	}
	return 0;
}

/* --- Insertion and removal ----------------------------------------------------------- */

static void kfw_cls_entry_init(struct kfw_cls_entry *entry,
			       const struct kfw_match *match, u64 prio)
{
	bool v4 = match->family == NFPROTO_IPV4;

	memset(entry, 0, sizeof(*entry));
	entry->prio = prio;
	entry->match = match;
	entry->proto = match->proto;
	if (match->fields & KFW_MATCH_PROTO)
		entry->flags |= KFW_CLS_ENTRY_PROTO;
	if (match->fields & (KFW_MATCH_SPORT | KFW_MATCH_DPORT))
		entry->flags |= KFW_CLS_ENTRY_PORTS;
	entry->sport = match->fields & KFW_MATCH_SPORT ? match->sport :
		       (struct kfw_port_range){ 0, U16_MAX };
	entry->dport = match->fields & KFW_MATCH_DPORT ? match->dport :
		       (struct kfw_port_range){ 0, U16_MAX };
	/*
	 * The addresses of an IPv4 rule: with them the entry is the whole
	 * match of a rule that asks only for addresses, protocol and ports,
	 * which then needs no look at the rule. A packet with a field it
	 * could not read goes to kfw_match_packet() all the same.
	 */
	if (v4 && (match->fields & KFW_MATCH_SRC)) {
		entry->src = ntohl(match->src.ip);
		entry->src_len = match->src_prefix;
	}
	if (v4 && (match->fields & KFW_MATCH_DST)) {
		entry->dst = ntohl(match->dst.ip);
		entry->dst_len = match->dst_prefix;
	}
	if (v4 && !(match->fields & ~(KFW_MATCH_SRC | KFW_MATCH_DST | KFW_MATCH_PROTO |
				      KFW_MATCH_SPORT | KFW_MATCH_DPORT)))
		entry->flags |= KFW_CLS_ENTRY_WHOLE;
}

/**
 * struct kfw_cls_edit - how a key's rules change
 * @add: a rule to put in by priority, or NULL
 * @drop: a rule to leave out, with @drop_prio, or NULL
 * @drop_prio: its priority
 * @moved: leave out the rules that fit this shape, or NULL
 */
struct kfw_cls_edit {
	const struct kfw_cls_entry *add;
	const struct kfw_match *drop;
	u64 drop_prio;
	const struct kfw_cls_shape *moved;
};

static bool kfw_cls_edit_keeps(const struct kfw_cls_edit *edit,
			       const struct kfw_cls_entry *entry)
{
	struct kfw_cls_shape shape;

	if (!entry->match)
		return false;
	if (entry->match == edit->drop && entry->prio == edit->drop_prio)
		return false;
	if (!edit->moved)
		return true;
	kfw_cls_rule_shape(entry->match, &shape);
	return !kfw_cls_fits(edit->moved, &shape);
}

/*
 * Entry @i of the rules of @slot as @edit leaves them, or NULL past the
 * last; @pos walks the slot's entries, @added says whether @edit->add is
 * already past.
 */
static const struct kfw_cls_entry *kfw_cls_edit_next(struct kfw_cls_slot *slot,
						     const struct kfw_cls_edit *edit,
						     unsigned int *pos, bool *added)
{
	unsigned int len = 1 + kfw_cls_rest_len(slot);
	const struct kfw_cls_entry *entry;

	for (; *pos < len; ++*pos) {
		entry = kfw_cls_slot_entry(slot, *pos);
		if (edit->add && !*added && edit->add->prio < entry->prio) {
			*added = true;
			return edit->add;
		}
		if (kfw_cls_edit_keeps(edit, entry)) {
			++*pos;
			return entry;
		}
	}
	if (edit->add && !*added) {
		*added = true;
		return edit->add;
	}
	return NULL;
}

/*
 * Changes the rules of the key of slot @at as @edit says. A slot whose
 * first rule stays takes a new bucket for the rest; else the rules move to
 * a new slot of the same key, which readers probe after the old one, and
 * the old one dies. Return: 0, or -ENOMEM with nothing changed.
 */
static int kfw_cls_slot_edit(struct kfw_cls *cls, struct kfw_cls_table *table,
			     const u64 *key, const struct kfw_cls_edit *edit)
{
	struct kfw_cls_slots *slots = kfw_cls_slots_deref(table);
	const struct kfw_cls_entry *entry, *first;
	struct kfw_cls_bucket *old, *rest = NULL;
	struct kfw_cls_slot *slot;
	unsigned int pos = 0, n = 0;
	bool added = false;
	s32 at;

	at = kfw_cls_find(slots, key, table->wide);
	slot = &slots->slot[at];
	while (kfw_cls_edit_next(slot, edit, &pos, &added))
		n++;
	old = kfw_cls_rest(slot);
	if (!n) {
		kfw_cls_slot_kill(slots, at);
		table->live--;
		cls->stats.nodes--;
		kfw_cls_bucket_retire(cls, old);
		return 0;
	}
	if (n > 1) {
		rest = kfw_cls_bucket_alloc(cls, n - 1 + (n - 1) / 2);
		if (!rest)
			return -ENOMEM;
		rest->split_at = old ? old->split_at : 0;
	}
	pos = 0;
	added = false;
	first = kfw_cls_edit_next(slot, edit, &pos, &added);
	while ((entry = kfw_cls_edit_next(slot, edit, &pos, &added)))
		kfw_cls_bucket_append(rest, entry);
	if (first == &slot->first) {
		rcu_assign_pointer(slot->rest, rest);
	} else {
		struct kfw_cls_entry copy = *first;

		/* Room may mean new slots, which readers see whole. */
		if (kfw_cls_make_room(cls, table)) {
			kfw_cls_bucket_retire(cls, rest);
			return -ENOMEM;
		}
		slots = kfw_cls_slots_deref(table);
		at = kfw_cls_find(slots, key, table->wide);
		kfw_cls_slot_add(slots, key, table->wide, &copy, rest);
		kfw_cls_slot_kill(slots, at);
	}
	kfw_cls_bucket_retire(cls, old);
	return 0;
}

static int kfw_cls_table_add(struct kfw_cls *cls, struct kfw_cls_table *table,
			     const struct kfw_cls_entry *entry, unsigned int depth);
static void kfw_cls_table_drop(struct kfw_cls *cls, struct kfw_cls_table *table);

/* The shape that a split of a crowded key moves rules to, or false. */
static bool kfw_cls_split_target(const struct kfw_cls_table *table,
				 struct kfw_cls_slot *slot,
				 struct kfw_cls_shape *target)
{
	unsigned int i, len = 1 + kfw_cls_rest_len(slot);
	struct kfw_cls_shape low = {}, high = {}, shape;
	const struct kfw_cls_entry *entry;
	bool any = false;

	for (i = 0; i < len; i++) {
		entry = kfw_cls_slot_entry(slot, i);
		if (!entry->match)
			continue;
		kfw_cls_rule_shape(entry->match, &shape);
		if (!any) {
			low = shape;
			high = shape;
			any = true;
		}
		/* A table without addresses holds both families: split by one. */
		if (shape.family != low.family)
			continue;
		low.src_len = min(low.src_len, shape.src_len);
		low.dst_len = min(low.dst_len, shape.dst_len);
		low.keys &= shape.keys;
		high.src_len = max(high.src_len, shape.src_len);
		high.dst_len = max(high.dst_len, shape.dst_len);
		high.keys |= shape.keys;
	}
	if (!any)
		return false;
	*target = low;
	if (!memcmp(target, &table->shape, sizeof(*target))) {
		if (high.src_len - low.src_len >= high.dst_len - low.dst_len &&
		    high.src_len > low.src_len)
			target->src_len = high.src_len - (high.src_len - low.src_len) / 2;
		else if (high.dst_len > low.dst_len)
			target->dst_len = high.dst_len - (high.dst_len - low.dst_len) / 2;
		else if (high.keys != low.keys)
			target->keys = high.keys;
	}
	return memcmp(target, &table->shape, sizeof(*target));
}

/*
 * TupleMerge's split of a crowded key: its rules that fit a more specific
 * shape move to that shape's table. They are added there before they leave
 * here, so a reader finds each once or twice, never not at all; on failure
 * some stay in both, which lookups and removals take in their stride.
 */
static void kfw_cls_split(struct kfw_cls *cls, struct kfw_cls_table *table,
			  const u64 *key)
{
	struct kfw_cls_slots *slots = kfw_cls_slots_deref(table);
	struct kfw_cls_slot *slot = &slots->slot[kfw_cls_find(slots, key, table->wide)];
	struct kfw_cls_edit edit = {};
	const struct kfw_cls_entry *entry;
	struct kfw_cls_shape target, shape;
	unsigned int i, len, moved = 0;
	struct kfw_cls_table *to;

	if (!kfw_cls_split_target(table, slot, &target)) {
		/* Alike in every keyed field: try again at twice the size. */
		kfw_cls_rest(slot)->split_at = 1 + kfw_cls_rest_len(slot);
		return;
	}
	to = kfw_cls_table_find(cls, &target);
	if (!to)
		to = kfw_cls_table_new(cls, &target);
	if (!to)
		return;
	len = 1 + kfw_cls_rest_len(slot);
	for (i = 0; i < len; i++) {
		entry = kfw_cls_slot_entry(slot, i);
		if (!entry->match)
			continue;
		kfw_cls_rule_shape(entry->match, &shape);
		if (!kfw_cls_fits(&target, &shape))
			continue;
		/* No split inside a split: the next insertion there splits. */
		if (kfw_cls_table_add(cls, to, entry, KFW_CLS_SPLIT_DEPTH))
			return;
		moved++;
	}
	edit.moved = &target;
	if (!moved || kfw_cls_slot_edit(cls, table, key, &edit))
		return;
	table->rules -= moved;
	cls->stats.entries -= moved;
	if (!table->rules)
		kfw_cls_table_drop(cls, table);
}

static int kfw_cls_table_add(struct kfw_cls *cls, struct kfw_cls_table *table,
			     const struct kfw_cls_entry *entry, unsigned int depth)
{
	struct kfw_cls_edit edit = { .add = entry };
	struct kfw_cls_bucket *old, *rest;
	struct kfw_cls_slots *slots;
	struct kfw_cls_slot *slot;
	bool crowded = false;
	u64 key[KFW_CLS_KEY_WORDS];
	s32 at;
	int err;

	kfw_cls_match_key(table, entry->match, key);
	err = kfw_cls_make_room(cls, table);
	if (err)
		return err;
	/*
	 * Lookups must not pass the table by before they can find the rule. An
	 * empty table may be in no order: kfw_cls_applies() leaves it out.
	 */
	if (entry->prio < table->best || !table->rules) {
		u64 was = table->best;

		table->best = entry->prio;
		table->rules++;
		err = kfw_cls_order_publish(cls);
		table->rules--;
		if (err) {
			table->best = was;
			return err;
		}
	}
	slots = kfw_cls_slots_deref(table);
	at = kfw_cls_find(slots, key, table->wide);
	/* A split that failed half-way may have left the rule here already. */
	if (at >= 0 && depth &&
	    kfw_cls_slot_find_rule(&slots->slot[at], 0, entry->match, entry->prio) >= 0)
		return 0;
	if (at < 0) {
		kfw_cls_slot_add(slots, key, table->wide, entry, NULL);
		table->live++;
		cls->stats.nodes++;
	} else if (entry->prio < slots->slot[at].first.prio) {
		err = kfw_cls_slot_edit(cls, table, key, &edit);
		if (err)
			return err;
	} else {
		slot = &slots->slot[at];
		old = kfw_cls_rest(slot);
		rest = kfw_cls_bucket_with(cls, old, entry);
		if (!rest)
			return -ENOMEM;
		if (rest != old) {
			rcu_assign_pointer(slot->rest, rest);
			kfw_cls_bucket_retire(cls, old);
		}
		/* A key nothing could split is tried again at twice the size. */
		crowded = rest->len >= KFW_CLS_BUCKET_LIMIT &&
			  rest->len + 1 >= 2 * rest->split_at && depth < KFW_CLS_SPLIT_DEPTH;
	}
	table->rules++;
	cls->stats.entries++;
	if (crowded)
		kfw_cls_split(cls, table, key);
	return 0;
}

/* Drops @table, empty, from the classifier. */
static void kfw_cls_table_drop(struct kfw_cls *cls, struct kfw_cls_table *table)
{
	struct kfw_cls_slots *slots = kfw_cls_slots_deref(table);
	unsigned int i;
	u32 j;

	for (i = 0; i < cls->nr_tables && cls->tables[i] != table; i++)
		;
	cls->tables[i] = cls->tables[--cls->nr_tables];
	/*
	 * If the new orders cannot be had, the old ones keep pointing here:
	 * keep the table then, empty, for lookups to pass through.
	 */
	if (kfw_cls_order_publish(cls)) {
		cls->tables[cls->nr_tables++] = table;
		return;
	}
	/* Keys of rules removed in place outlive them: they go now. */
	for (j = 0; j <= slots->mask; j++) {
		if (!kfw_cls_slot_live(slots, j))
			continue;
		kfw_cls_bucket_retire(cls, kfw_cls_rest(&slots->slot[j]));
		cls->stats.nodes--;
	}
	kfw_cls_slots_retire(cls, slots, table->wide);
	kfw_cls_retire(cls, table, sizeof(*table));
}

/* Removes the rule from @table if it is there; true if it was. */
static bool kfw_cls_table_remove(struct kfw_cls *cls, struct kfw_cls_table *table,
				 const struct kfw_match *match, u64 prio)
{
	struct kfw_cls_slots *slots = kfw_cls_slots_deref(table);
	struct kfw_cls_edit edit = { .drop = match, .drop_prio = prio };
	u64 key[KFW_CLS_KEY_WORDS];
	struct kfw_cls_slot *slot;
	int i;
	s32 at;

	kfw_cls_match_key(table, match, key);
	at = kfw_cls_find(slots, key, table->wide);
	if (at < 0)
		return false;
	slot = &slots->slot[at];
	i = kfw_cls_slot_find_rule(slot, 0, match, prio);
	if (i < 0)
		return false;
	table->rules--;
	cls->stats.entries--;
	/* Removal needs no memory: readers skip an entry removed in place. */
	if (kfw_cls_slot_edit(cls, table, key, &edit)) {
		for (; i >= 0; i = kfw_cls_slot_find_rule(slot, i + 1, match, prio))
			WRITE_ONCE(kfw_cls_slot_entry(slot, i)->match, NULL);
	}
	if (!table->rules)
		kfw_cls_table_drop(cls, table);
	return true;
}

/* --- The interface ------------------------------------------------------------ */

struct kfw_cls *kfw_cls_create(void)
{
	struct kfw_cls *cls = kfw_cls_zalloc(sizeof(*cls));

	if (cls)
		cls->stats.bytes = sizeof(*cls);
	return cls;
}

/* Frees the classifier at once: the caller knows no reader is left. */
void kfw_cls_destroy(struct kfw_cls *cls)
{
	struct kfw_cls_slots *slots;
	unsigned int i, class;
	u32 j;

	if (!cls)
		return;
	for (class = 0; class < KFW_CLS_CLASSES; class++)
		kfw_cls_free(rcu_dereference_protected(cls->order[class], 1));
	for (i = 0; i < cls->nr_tables; i++) {
		slots = kfw_cls_slots_deref(cls->tables[i]);
		for (j = 0; j <= slots->mask; j++)
			if (kfw_cls_slot_live(slots, j))
				kfw_cls_free(kfw_cls_rest(&slots->slot[j]));
		kfw_cls_free(slots);
		kfw_cls_free(cls->tables[i]);
	}
	kfw_cls_free(cls->tables);
	kfw_cls_free(cls);
}

/* From now on readers may run, so replaced memory waits for a grace period. */
void kfw_cls_publish(struct kfw_cls *cls)
{
	cls->live = true;
}

/**
 * kfw_cls_insert() - index a rule
 * @cls: the classifier
 * @match: the rule's match, alive until a grace period after its removal
 * @prio: its priority, unique in @cls
 *
 * Return: 0, or -ENOMEM, in which case nothing changed.
 */
int kfw_cls_insert(struct kfw_cls *cls, const struct kfw_match *match,
		   u64 prio)
{
	struct kfw_cls_shape shape, relaxed;
	struct kfw_cls_table *table = NULL;
	struct kfw_cls_entry entry;
	unsigned int i, score = 0;
	bool made = false;
	int err;

	kfw_cls_entry_init(&entry, match, prio);
	kfw_cls_rule_shape(match, &shape);
	for (i = 0; i < cls->nr_tables; i++) {
		struct kfw_cls_table *t = cls->tables[i];

		if (kfw_cls_fits(&t->shape, &shape) &&
		    (!table || kfw_cls_specificity(&t->shape) > score)) {
			table = t;
			score = kfw_cls_specificity(&t->shape);
		}
	}
	if (!table) {
		relaxed = shape;
		kfw_cls_relax(&relaxed);
		table = kfw_cls_table_find(cls, &relaxed);
		if (!table) {
			table = kfw_cls_table_new(cls, &relaxed);
			if (!table)
				return -ENOMEM;
			made = true;
		}
	}
	err = kfw_cls_table_add(cls, table, &entry, 0);
	if (err) {
		if (made && !table->rules)
			kfw_cls_table_drop(cls, table);
		return err;
	}
	cls->stats.rules++;
	return 0;
}

/**
 * kfw_cls_remove() - forget a rule
 * @cls: the classifier
 * @match: the rule's match, which must stay alive for a grace period
 * @prio: its priority
 *
 * Removing a rule that is not there does nothing.
 */
void kfw_cls_remove(struct kfw_cls *cls, const struct kfw_match *match,
		    u64 prio)
{
	struct kfw_cls_shape shape;
	bool removed = false;
	unsigned int i;

	kfw_cls_rule_shape(match, &shape);
	/* A split that failed half-way may have left the rule in two tables. */
	for (i = cls->nr_tables; i-- > 0;)
		if (kfw_cls_fits(&cls->tables[i]->shape, &shape) &&
		    kfw_cls_table_remove(cls, cls->tables[i], match, prio))
			removed = true;
	if (removed)
		cls->stats.rules--;
}

void kfw_cls_stats(const struct kfw_cls *cls, struct kfw_cls_stats *stats)
{
	*stats = cls->stats;
}

#ifndef __KERNEL__
/*
 * For the host harness: can a reader that starts now reach @ptr? Memory
 * handed to kfw_cls_free_rcu() must not be: the grace period waits only
 * for readers that started before it.
 */
bool kfw_cls_reaches(const struct kfw_cls *cls, const void *ptr)
{
	const struct kfw_cls_order *order;
	const struct kfw_cls_slots *slots;
	unsigned int class, i;
	u32 j;

	for (class = 0; class < KFW_CLS_CLASSES; class++) {
		order = cls->order[class];
		if (order == ptr)
			return true;
		for (i = 0; order && i < order->len; i++)
			if (order->item[i].table == ptr)
				return true;
	}
	/* Tables in no order are not reached, but hold nothing retired either. */
	for (i = 0; i < cls->nr_tables; i++) {
		slots = cls->tables[i]->slots;
		if (slots == ptr)
			return true;
		for (j = 0; j <= slots->mask; j++)
			if (kfw_cls_slot_live(slots, j) &&
			    slots->slot[j].rest == ptr)
				return true;
	}
	return false;
}
#endif
