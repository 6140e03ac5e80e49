// SPDX-License-Identifier: GPL-2.0
/*
 * kfw's classifier: the first rule, in list order, that matches a packet.
 *
 * Theory of Operation
 * ===================
 *
 * WORK IN PROGRESS (branch tuplemerge): TupleMerge (Daly, Liu, Torng, "TupleMerge:
 * fast software packet processing for online packet classification",
 * IEEE/ACM Transactions on Networking 27(4), 2019).
 *
 * Rules are grouped by shape: the prefix lengths of their addresses and
 * which of protocol, source port and destination port they pin to one
 * value. Each shape has a hash table keyed on those fields, masked; a
 * packet masks its own fields the same way for each table and finds, in one
 * probe, the bucket of rules that can match it there, checked in priority
 * order. A rule may sit in a table of a less specific shape than its own
 * (TupleMerge's relaxation), so that few tables serve many rule shapes; a
 * bucket that grows past a limit is split into a more specific table.
 * Tables are visited by the best priority they hold, and a lookup stops at
 * the first that cannot beat what it found.
 */

#include "classify.h"

/* TupleMerge's collision limit: a bucket with more rules is split. */
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
 * A key, in host order: the source address (IPv4 in the first word), the
 * destination address, sport << 16 | dport, the protocol.
 */
#define KFW_CLS_KEY_WORDS	10

struct kfw_cls_key {
	u32 word[KFW_CLS_KEY_WORDS];
};

/**
 * struct kfw_cls_hint - what a rule asks of the ports and protocol, so that
 *	most candidates fail without a look at the rule itself
 */
struct kfw_cls_hint {
	struct kfw_port_range sport;
	struct kfw_port_range dport;
	__be32 src, src_mask, dst, dst_mask;
	u8 proto;
	bool has_proto;
	bool has_ports;
	bool whole;
};

struct kfw_cls_entry {
	u64 prio;
	const struct kfw_match *match;
	struct kfw_cls_hint hint;
};

/**
 * struct kfw_cls_bucket - the rules of one key of one table, by priority;
 *	while readers can see it, only ever appended to, else replaced whole
 * @rcu: for freeing after a grace period
 * @cap: room for entries
 * @len: entries readers may look at, stored after the entries
 * @split_at: the length at which a split last found nothing to split by
 * @entry: the entries
 */
struct kfw_cls_bucket {
	struct rcu_head rcu;
	unsigned int cap;
	unsigned int len;
	unsigned int split_at;
	struct kfw_cls_entry entry[];
};

struct kfw_cls_slot {
	struct kfw_cls_key key;
	struct kfw_cls_bucket __rcu *bucket;
};

/**
 * struct kfw_cls_slots - a table's open-addressing hash: slots and their tags
 * @rcu: for freeing after a grace period
 * @mask: number of slots, less one (a power of two, less one)
 * @used: slots not empty (live or dead)
 * @tag: one per slot, after the slots: 0 empty, 1 dead, else a live slot's
 *	hash bits; readers probe the tags, which stay in cache, and look at a
 *	slot only when its tag is theirs
 */
struct kfw_cls_slots {
	struct rcu_head rcu;
	u32 mask;
	u32 used;
	u16 *tag;
	struct kfw_cls_slot slot[];
};

/**
 * struct kfw_cls_table - every rule of one shape
 * @rcu: for freeing after a grace period
 * @shape: what it keys on
 * @mask: the key's bits that it keys on
 * @slots: its hash
 * @best: no rule in it has a smaller priority (a bound: removals leave it)
 * @rules: rules in it
 * @live: keys in it
 */
struct kfw_cls_table {
	struct rcu_head rcu;
	struct kfw_cls_shape shape;
	struct kfw_cls_key mask;
	struct kfw_cls_slots __rcu *slots;
	u64 best;
	unsigned int rules;
	unsigned int live;
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

static void kfw_cls_addr_words(u32 *word, const union nf_inet_addr *addr,
			       u8 family)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		word[i] = family == NFPROTO_IPV4 && i ? 0 : ntohl(addr->all[i]);
}

/* The top @len bits of a 128-bit address in four host-order words. */
static void kfw_cls_prefix_mask(u32 *word, unsigned int len)
{
	unsigned int i, bits;

	for (i = 0; i < 4; i++) {
		bits = len > 32 * i ? min(len - 32 * i, 32U) : 0;
		word[i] = bits ? ~0U << (32 - bits) : 0;
	}
}

static void kfw_cls_shape_mask(const struct kfw_cls_shape *shape,
			       struct kfw_cls_key *mask)
{
	memset(mask, 0, sizeof(*mask));
	kfw_cls_prefix_mask(&mask->word[0], shape->src_len);
	kfw_cls_prefix_mask(&mask->word[4], shape->dst_len);
	if (shape->keys & KFW_CLS_KEY_SPORT)
		mask->word[8] |= 0xffff0000;
	if (shape->keys & KFW_CLS_KEY_DPORT)
		mask->word[8] |= 0x0000ffff;
	if (shape->keys & KFW_CLS_KEY_PROTO)
		mask->word[9] = 0xff;
}

/* A packet's key; fields it lacks are 0, and no table that keys on them applies. */
static void kfw_cls_packet_key(const struct kfw_packet *pkt,
			       struct kfw_cls_key *key)
{
	kfw_cls_addr_words(&key->word[0], &pkt->src, pkt->family);
	kfw_cls_addr_words(&key->word[4], &pkt->dst, pkt->family);
	key->word[8] = pkt->has_ports ? (u32)pkt->sport << 16 | pkt->dport : 0;
	key->word[9] = pkt->has_proto ? pkt->proto : 0;
}

/* A rule's key, its fields' first values: masked, the key of its table. */
static void kfw_cls_match_key(const struct kfw_match *match,
			      struct kfw_cls_key *key)
{
	memset(key, 0, sizeof(*key));
	if (match->fields & KFW_MATCH_SRC)
		kfw_cls_addr_words(&key->word[0], &match->src, match->family);
	if (match->fields & KFW_MATCH_DST)
		kfw_cls_addr_words(&key->word[4], &match->dst, match->family);
	if (match->fields & KFW_MATCH_SPORT)
		key->word[8] |= (u32)match->sport.first << 16;
	if (match->fields & KFW_MATCH_DPORT)
		key->word[8] |= match->dport.first;
	if (match->fields & KFW_MATCH_PROTO)
		key->word[9] = match->proto;
}

static void kfw_cls_key_and(struct kfw_cls_key *out, const struct kfw_cls_key *key,
			    const struct kfw_cls_key *mask)
{
	unsigned int i;

	for (i = 0; i < KFW_CLS_KEY_WORDS; i++)
		out->word[i] = key->word[i] & mask->word[i];
}

static bool kfw_cls_key_equal(const struct kfw_cls_key *a,
			      const struct kfw_cls_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static u64 kfw_cls_hash(const struct kfw_cls_key *key)
{
	u64 h = 0;
	unsigned int i;

	for (i = 0; i < KFW_CLS_KEY_WORDS; i += 2)
		h = (h ^ ((u64)key->word[i] << 32 | key->word[i + 1])) *
		    0x9E3779B97F4A7C15ULL;
	/* Masked keys end in zeros: mix the high bits down (MurmurHash3's finaliser). */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* The tag of a live slot with hash @hash: never EMPTY or DEAD. */
static u16 kfw_cls_tag(u64 hash)
{
	return (u16)(hash >> 40) | 2;
}

/* --- Lookup ------------------------------------------------------------------ */

static unsigned int kfw_cls_class(const struct kfw_packet *pkt)
{
	return (pkt->family == NFPROTO_IPV6) << 2 |
	       (pkt->has_ports && !(pkt->unknown & (KFW_PACKET_UNKNOWN_SPORT |
						    KFW_PACKET_UNKNOWN_DPORT))) << 1 |
	       pkt->has_proto;
}

static bool kfw_cls_admits(const struct kfw_cls_hint *hint,
			   const struct kfw_packet *pkt)
{
	if (hint->has_proto && (!pkt->has_proto || pkt->proto != hint->proto))
		return false;
	if (hint->has_ports &&
	    (!pkt->has_ports || pkt->sport < hint->sport.first ||
	     pkt->sport > hint->sport.last || pkt->dport < hint->dport.first ||
	     pkt->dport > hint->dport.last))
		return false;
	if (((pkt->src.ip ^ hint->src) & hint->src_mask) |
	    ((pkt->dst.ip ^ hint->dst) & hint->dst_mask))
		return false;
	return true;
}

/* Where @key is in @slots, or -1; for readers and writers alike. */
static s32 kfw_cls_find(const struct kfw_cls_slots *slots,
			const struct kfw_cls_key *key)
{
	u64 hash = kfw_cls_hash(key);
	u16 tag = kfw_cls_tag(hash), seen;
	u32 i;

	for (i = hash & slots->mask;; i = (i + 1) & slots->mask) {
		/* Pairs with the store in kfw_cls_slot_add(): the slot is whole. */
		seen = smp_load_acquire(&slots->tag[i]);
		if (seen == KFW_CLS_TAG_EMPTY)
			return -1;
		if (seen == tag && kfw_cls_key_equal(&slots->slot[i].key, key))
			return i;
	}
}

const struct kfw_match *kfw_cls_lookup(const struct kfw_cls *cls,
				       const struct kfw_packet *pkt)
{
	const struct kfw_cls_order *order;
	const struct kfw_cls_bucket *bucket;
	const struct kfw_cls_slots *slots;
	const struct kfw_match *match, *found = NULL;
	const struct kfw_cls_entry *entry;
	struct kfw_cls_key key, masked;
	bool plain = pkt->family == NFPROTO_IPV4 && !pkt->unknown;
	u64 best = U64_MAX;
	unsigned int i, j, len;
	s32 at;

	order = rcu_dereference(cls->order[kfw_cls_class(pkt)]);
	if (!order)
		return NULL;
	kfw_cls_packet_key(pkt, &key);
	for (i = 0; i < order->len && order->item[i].best < best; i++) {
		const struct kfw_cls_table *table = order->item[i].table;

		kfw_cls_key_and(&masked, &key, &table->mask);
		slots = rcu_dereference(table->slots);
		at = kfw_cls_find(slots, &masked);
		if (at < 0)
			continue;
		bucket = rcu_dereference(slots->slot[at].bucket);
		/* Pairs with the store in kfw_cls_bucket_with(): entries below are whole. */
		len = smp_load_acquire(&bucket->len);
		for (j = 0; j < len; j++) {
			entry = &bucket->entry[j];
			if (entry->prio >= best)
				break;
			if (!kfw_cls_admits(&entry->hint, pkt))
				continue;
			match = READ_ONCE(entry->match);
			if (match && ((plain && entry->hint.whole) ||
				      kfw_match_packet(match, pkt))) {
				best = entry->prio;
				found = match;
				break;
			}
		}
	}
	return found;
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

static size_t kfw_cls_slots_size(u32 nr)
{
	return sizeof(struct kfw_cls_slots) + nr * (sizeof(struct kfw_cls_slot) + sizeof(u16));
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
	(cls)->stats.bytes -= (size);					\
	if ((cls)->live)						\
		kfw_cls_free_rcu(ptr, rcu);				\
	else								\
		kfw_cls_free(ptr);					\
} while (0)

/* --- Buckets, slots, tables ------------------------------------------------------ */

static struct kfw_cls_bucket *kfw_cls_bucket_deref(struct kfw_cls_slot *slot)
{
	return rcu_dereference_protected(slot->bucket, 1);
}

static struct kfw_cls_slots *kfw_cls_slots_deref(struct kfw_cls_table *table)
{
	return rcu_dereference_protected(table->slots, 1);
}

/*
 * @old with @entry added in its place by priority, and without the entries
 * cleared in place. An entry that comes last goes in place when there is
 * room, written before the length that shows it; a new bucket has room to
 * grow by half, so n rules appended to one key cost O(n) copies in all.
 */
static struct kfw_cls_bucket *kfw_cls_bucket_with(struct kfw_cls *cls,
						  struct kfw_cls_bucket *old,
						  const struct kfw_cls_entry *entry)
{
	unsigned int len = old ? old->len : 0, i, n = 0;
	struct kfw_cls_bucket *bucket;
	bool placed = false;

	if (old && len < old->cap && old->entry[len - 1].prio < entry->prio) {
		old->entry[len] = *entry;
		/* Pairs with the load in kfw_cls_lookup(). */
		smp_store_release(&old->len, len + 1);
		return old;
	}
	bucket = kfw_cls_alloc(cls, kfw_cls_bucket_size(len + 1 + len / 2));
	if (!bucket)
		return NULL;
	bucket->cap = len + 1 + len / 2;
	bucket->split_at = old ? old->split_at : 0;
	for (i = 0; i < len; i++) {
		if (!old->entry[i].match)
			continue;
		if (!placed && old->entry[i].prio > entry->prio) {
			bucket->entry[n++] = *entry;
			placed = true;
		}
		bucket->entry[n++] = old->entry[i];
	}
	if (!placed)
		bucket->entry[n++] = *entry;
	bucket->len = n;
	return bucket;
}

static void kfw_cls_bucket_retire(struct kfw_cls *cls,
				  struct kfw_cls_bucket *bucket)
{
	cls->stats.entries -= bucket->len;
	kfw_cls_retire(cls, bucket, kfw_cls_bucket_size(bucket->cap));
}

static struct kfw_cls_slots *kfw_cls_slots_alloc(struct kfw_cls *cls, u32 nr)
{
	struct kfw_cls_slots *slots = kfw_cls_alloc(cls, kfw_cls_slots_size(nr));

	if (!slots)
		return NULL;
	slots->mask = nr - 1;
	slots->tag = (u16 *)&slots->slot[nr];
	return slots;
}

/* Fills a never used slot of @slots, which has one, with @key. */
static void kfw_cls_slot_add(struct kfw_cls_slots *slots,
			     const struct kfw_cls_key *key,
			     struct kfw_cls_bucket *bucket)
{
	u64 hash = kfw_cls_hash(key);
	u32 i;

	for (i = hash & slots->mask; slots->tag[i] != KFW_CLS_TAG_EMPTY;
	     i = (i + 1) & slots->mask)
		;
	slots->slot[i].key = *key;
	RCU_INIT_POINTER(slots->slot[i].bucket, bucket);
	slots->used++;
	/* Pairs with the load in kfw_cls_find(). */
	smp_store_release(&slots->tag[i], kfw_cls_tag(hash));
}

/*
 * Dead slots are never reused, as a reader may still be reading one: a
 * table is rehashed into fresh slots, twice as many as it has keys and
 * never under 8, once three quarters are used.
 */
static int kfw_cls_make_room(struct kfw_cls *cls, struct kfw_cls_table *table)
{
	struct kfw_cls_slots *old = kfw_cls_slots_deref(table), *slots;
	u32 nr = 8, i;

	if (old && (old->used + 1) * 4 <= (old->mask + 1) * 3)
		return 0;
	while (nr < 2 * (table->live + 1))
		nr *= 2;
	slots = kfw_cls_slots_alloc(cls, nr);
	if (!slots)
		return -ENOMEM;
	for (i = 0; old && i <= old->mask; i++)
		if (old->tag[i] > KFW_CLS_TAG_DEAD)
			kfw_cls_slot_add(slots, &old->slot[i].key,
					 kfw_cls_bucket_deref(&old->slot[i]));
	rcu_assign_pointer(table->slots, slots);
	if (old)
		kfw_cls_retire(cls, old, kfw_cls_slots_size(old->mask + 1));
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
	kfw_cls_shape_mask(shape, &table->mask);
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
	memset(entry, 0, sizeof(*entry));
	entry->prio = prio;
	entry->match = match;
	entry->hint.has_proto = match->fields & KFW_MATCH_PROTO;
	entry->hint.proto = match->proto;
	entry->hint.has_ports = match->fields & (KFW_MATCH_SPORT | KFW_MATCH_DPORT);
	entry->hint.sport = match->fields & KFW_MATCH_SPORT ? match->sport :
			    (struct kfw_port_range){ 0, U16_MAX };
	entry->hint.dport = match->fields & KFW_MATCH_DPORT ? match->dport :
			    (struct kfw_port_range){ 0, U16_MAX };
	/*
	 * The addresses of an IPv4 rule: with them the hint is the whole
	 * match of a rule that asks only for addresses, protocol and ports,
	 * which then needs no look at the rule. A packet with a field it
	 * could not read goes to kfw_match_packet() all the same.
	 */
	if (match->family == NFPROTO_IPV4 && (match->fields & KFW_MATCH_SRC)) {
		entry->hint.src = match->src.ip;
		entry->hint.src_mask = match->src_mask.ip;
	}
	if (match->family == NFPROTO_IPV4 && (match->fields & KFW_MATCH_DST)) {
		entry->hint.dst = match->dst.ip;
		entry->hint.dst_mask = match->dst_mask.ip;
	}
	entry->hint.whole = match->family == NFPROTO_IPV4 &&
			    !(match->fields & ~(KFW_MATCH_SRC | KFW_MATCH_DST | KFW_MATCH_PROTO |
						KFW_MATCH_SPORT | KFW_MATCH_DPORT));
}

static int kfw_cls_table_add(struct kfw_cls *cls, struct kfw_cls_table *table,
			     const struct kfw_cls_entry *entry, unsigned int depth);

/*
 * TupleMerge's split of a crowded bucket: its rules that fit a more specific
 * shape move to that shape's table. They are added there before they leave
 * here, so a reader finds each once or twice, never not at all; on failure
 * some stay in both, which lookups and removals take in their stride.
 */
static void kfw_cls_split(struct kfw_cls *cls, struct kfw_cls_table *table,
			  struct kfw_cls_slot *slot)
{
	struct kfw_cls_bucket *bucket = kfw_cls_bucket_deref(slot), *rest;
	struct kfw_cls_shape low, high, shape, target;
	struct kfw_cls_table *to;
	unsigned int i, n, moved = 0;

	/* Entries cleared in place are gone from a bucket only once it is copied. */
	for (i = 0; i < bucket->len; i++)
		if (!bucket->entry[i].match)
			return;
	kfw_cls_rule_shape(bucket->entry[0].match, &low);
	high = low;
	for (i = 1; i < bucket->len; i++) {
		kfw_cls_rule_shape(bucket->entry[i].match, &shape);
		low.src_len = min(low.src_len, shape.src_len);
		low.dst_len = min(low.dst_len, shape.dst_len);
		low.keys &= shape.keys;
		high.src_len = max(high.src_len, shape.src_len);
		high.dst_len = max(high.dst_len, shape.dst_len);
		high.keys |= shape.keys;
	}
	target = low;
	if (!memcmp(&target, &table->shape, sizeof(target))) {
		if (high.src_len - low.src_len >= high.dst_len - low.dst_len &&
		    high.src_len > low.src_len)
			target.src_len = high.src_len - (high.src_len - low.src_len) / 2;
		else if (high.dst_len > low.dst_len)
			target.dst_len = high.dst_len - (high.dst_len - low.dst_len) / 2;
		else if (high.keys != low.keys)
			target.keys = high.keys;
		else
			bucket->split_at = bucket->len;	/* alike in every keyed field */
		if (!memcmp(&target, &table->shape, sizeof(target)))
			return;
	}
	to = kfw_cls_table_find(cls, &target);
	if (!to)
		to = kfw_cls_table_new(cls, &target);
	if (!to)
		return;
	for (i = 0; i < bucket->len; i++) {
		kfw_cls_rule_shape(bucket->entry[i].match, &shape);
		if (!kfw_cls_fits(&target, &shape))
			continue;
		/* No split inside a split: the next insertion there splits. */
		if (kfw_cls_table_add(cls, to, &bucket->entry[i], KFW_CLS_SPLIT_DEPTH))
			return;
		moved++;
	}
	if (!moved || moved == bucket->len)
		return;	/* a bucket left empty would need its slot killed: keep it */
	rest = kfw_cls_alloc(cls, kfw_cls_bucket_size(bucket->len - moved));
	if (!rest)
		return;
	rest->cap = bucket->len - moved;
	for (i = n = 0; i < bucket->len; i++) {
		kfw_cls_rule_shape(bucket->entry[i].match, &shape);
		if (!kfw_cls_fits(&target, &shape))
			rest->entry[n++] = bucket->entry[i];
	}
	rest->len = n;
	cls->stats.entries += n;
	table->rules -= moved;
	rcu_assign_pointer(slot->bucket, rest);
	kfw_cls_bucket_retire(cls, bucket);
}

static int kfw_cls_table_add(struct kfw_cls *cls, struct kfw_cls_table *table,
			     const struct kfw_cls_entry *entry, unsigned int depth)
{
	struct kfw_cls_bucket *old = NULL, *bucket;
	struct kfw_cls_slots *slots;
	struct kfw_cls_key key;
	s32 at;
	int err;

	kfw_cls_match_key(entry->match, &key);
	kfw_cls_key_and(&key, &key, &table->mask);
	err = kfw_cls_make_room(cls, table);
	if (err)
		return err;
	slots = kfw_cls_slots_deref(table);
	at = kfw_cls_find(slots, &key);
	if (at >= 0)
		old = kfw_cls_bucket_deref(&slots->slot[at]);
	if (entry->prio < table->best) {
		u64 was = table->best;

		/* Lookups must not pass the table by before they can find the rule. */
		table->best = entry->prio;
		table->rules++;
		err = kfw_cls_order_publish(cls);
		table->rules--;
		if (err) {
			table->best = was;
			return err;
		}
	}
	bucket = kfw_cls_bucket_with(cls, old, entry);
	if (!bucket)
		return -ENOMEM;
	table->rules++;
	if (bucket == old) {
		cls->stats.entries++;
	} else if (old) {
		cls->stats.entries += bucket->len;
		rcu_assign_pointer(slots->slot[at].bucket, bucket);
		kfw_cls_bucket_retire(cls, old);
	} else {
		cls->stats.entries += bucket->len;
		kfw_cls_slot_add(slots, &key, bucket);
		table->live++;
		cls->stats.nodes++;
		at = kfw_cls_find(slots, &key);
	}
	/* A bucket nothing could split is tried again at twice the size. */
	if (bucket->len > KFW_CLS_BUCKET_LIMIT && bucket->len >= 2 * bucket->split_at &&
	    depth < KFW_CLS_SPLIT_DEPTH)
		kfw_cls_split(cls, table, &slots->slot[at]);
	return 0;
}

/* Drops @table, empty, from the classifier. */
static void kfw_cls_table_drop(struct kfw_cls *cls, struct kfw_cls_table *table)
{
	struct kfw_cls_slots *slots = kfw_cls_slots_deref(table);
	unsigned int i;

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
	kfw_cls_retire(cls, slots, kfw_cls_slots_size(slots->mask + 1));
	kfw_cls_retire(cls, table, sizeof(*table));
}

/* Removes the rule from @table if it is there; true if it was. */
static bool kfw_cls_table_remove(struct kfw_cls *cls, struct kfw_cls_table *table,
				 const struct kfw_match *match, u64 prio)
{
	struct kfw_cls_slots *slots = kfw_cls_slots_deref(table);
	struct kfw_cls_bucket *old, *bucket;
	struct kfw_cls_key key;
	unsigned int i, n;
	s32 at;

	kfw_cls_match_key(match, &key);
	kfw_cls_key_and(&key, &key, &table->mask);
	at = kfw_cls_find(slots, &key);
	if (at < 0)
		return false;
	old = kfw_cls_bucket_deref(&slots->slot[at]);
	for (i = 0; i < old->len; i++)
		if (old->entry[i].prio == prio && old->entry[i].match == match)
			break;
	if (i == old->len)
		return false;
	table->rules--;
	if (old->len == 1) {
		/* Readers that saw the tag may still read the slot, never reuse it. */
		WRITE_ONCE(slots->tag[at], KFW_CLS_TAG_DEAD);
		table->live--;
		cls->stats.nodes--;
		kfw_cls_bucket_retire(cls, old);
		if (!table->rules)
			kfw_cls_table_drop(cls, table);
		return true;
	}
	bucket = kfw_cls_alloc(cls, kfw_cls_bucket_size(old->len - 1));
	if (bucket)
		bucket->cap = old->len - 1;
	if (!bucket) {
		/* Removal needs no memory: readers skip an entry cleared in place. */
		WRITE_ONCE(old->entry[i].match, NULL);
		cls->stats.entries--;
		return true;
	}
	for (i = n = 0; i < old->len; i++)
		if (old->entry[i].match &&
		    (old->entry[i].prio != prio || old->entry[i].match != match))
			bucket->entry[n++] = old->entry[i];
	bucket->len = n;
	cls->stats.entries += n;
	rcu_assign_pointer(slots->slot[at].bucket, bucket);
	kfw_cls_bucket_retire(cls, old);
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
			if (slots->tag[j] > KFW_CLS_TAG_DEAD)
				kfw_cls_free(kfw_cls_bucket_deref(&slots->slot[j]));
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
			if (slots->tag[j] > KFW_CLS_TAG_DEAD &&
			    slots->slot[j].bucket == ptr)
				return true;
	}
	return false;
}
#endif
