// SPDX-License-Identifier: GPL-2.0
/*
 * kfw's classifier: the first rule, in list order, that matches a packet, at
 * a cost that does not grow with the number of rules.
 *
 * Theory of Operation
 * ===================
 *
 * Problem
 * -------
 * A table is an ordered list of rules; each rule matches on up to two address
 * prefixes (source, destination), two port ranges, a protocol, an interface
 * and a few rarer fields. The first rule whose fields all match a packet
 * decides its fate. Evaluating the list in order, as iptables does, costs
 * every packet a test of every rule before the one that matches, and of all of
 * them when none does: at 100 000 rules that is milliseconds per packet.
 *
 * Idea
 * ----
 * Most rules pin down at least one field that can be looked up rather than
 * scanned: an address prefix longer than /0, or a port range narrower than
 * 0-65535. Each rule is indexed by exactly one such field, the one where it
 * crowds fewest other rules, in one of six tries:
 *
 *	source IPv4, destination IPv4, source IPv6, destination IPv6,
 *	source port, destination port.
 *
 * A packet then walks each trie along its own value of that field, and only
 * the rules it meets on the way, those whose indexed prefix contains the
 * packet's value, are candidates. Each candidate is checked in full by
 * kfw_match_packet(), the reference definition of a match, so the index only
 * has to be complete (no rule that could match is left out), never exact.
 * The few rules with no indexable field (say, "proto icmp") are kept in one
 * more list, the rest list, that every lookup scans.
 *
 * First match comes from priorities: each rule carries a number, smaller
 * first, given by the caller from its place in the list. Every list of
 * candidates is kept sorted by priority, so each is scanned only until its
 * first match or until it reaches the best priority found so far.
 *
 * The tries
 * ---------
 * A trie consumes its key four bits (a nibble) per level, most significant
 * first: 8 levels for IPv4, 32 for IPv6, 4 for ports. A node has up to 16
 * children and up to 16 candidate lists ("vectors"), one per nibble value.
 * A prefix of length L lives in the node at depth (L - 1) / 4; if L is not a
 * multiple of 4 it covers 2^(4 - L % 4) consecutive nibble values there, and
 * the rule is put in each of their vectors (controlled prefix expansion, as
 * in Srinivasan and Varghese). A port range is first cut into at most 30
 * aligned prefixes, as for a TCAM, and each is inserted so.
 *
 * Nodes are compressed: a 16-bit map says which nibbles have a child and
 * another which have a vector, and only those pointers are stored, children
 * first, so a node with one child costs two words and two maps.
 *
 * Lookup
 * ------
 * For each trie that applies to the packet (its family's addresses, its ports
 * if it has any), start at the root; at each level take the packet's nibble,
 * scan the vector there if the map has one, and descend to the child if the
 * map has one. Then scan the rest list. Return the best candidate.
 *
 * Two shortcuts keep the walk short when rules are alike. When the top
 * levels of a trie are a single path with nothing on it (every rule in one
 * network), the path is kept aside (struct kfw_cls_skip): the packet is
 * compared with it at once and the walk starts below it. And each vector
 * records the protocol and the span of destination ports its entries share,
 * if they do, so a packet to another port passes a whole vector over with
 * two comparisons; the entries themselves carry their rule's protocol and
 * ports, so most candidates fail without a look at the rule.
 *
 * Insertion and removal
 * ---------------------
 * The caller serialises writers; readers hold only rcu_read_lock(). Nothing a
 * reader can reach is ever changed in a way it could see half done:
 *
 *  - A published vector is only ever appended to: when it has room and the
 *    new rule's priority is its largest, the entry is written past the end
 *    and the length stored after it (store-release, load-acquire), and the
 *    vector's hint only widens, field by field. Any other change makes a new
 *    vector, with room to grow by half, which replaces the old one with one
 *    pointer store; the old one is freed after a grace period. Appending n
 *    rules that share a vector thus costs O(n) in all, not O(n^2).
 *  - A node's maps and pointer array change together, so a node that gains a
 *    child or a vector is copied, and the copy replaces it in its parent.
 *    Replacing one existing child or vector is a single pointer store in
 *    place.
 *  - New nodes and vectors are built completely before they are linked in.
 *  - The shortcut past a trie's single-child top points into the trie, at a
 *    node an insertion may replace. An insertion therefore unpublishes the
 *    trie's shortcut before it changes anything, and publishes a new one
 *    when it is done: no reader can find a shortcut to a retired node.
 *  - Removal never needs memory: if the smaller vector cannot be allocated,
 *    the rule's entry is cleared in place (one pointer store); readers skip
 *    cleared entries. An emptied vector is unlinked by storing NULL; its map
 *    bit stays, and readers skip NULL vectors. Nodes are not merged back.
 *
 * So an insertion touches one path per prefix, a removal the same, and the
 * rest of the classifier is shared, untouched, by every reader.
 *
 * Before kfw_cls_publish(), when no reader can exist, replaced vectors and
 * nodes are freed at once, and vectors take entries in place anywhere:
 * building a 100 000-rule table for an atomic restore does not queue
 * 100 000 RCU callbacks.
 *
 * Choosing the field
 * ------------------
 * Among the fields a rule has, insertion picks the one where a packet that
 * the rule matches would meet the fewest other entries on its way down to
 * the rule: the vectors on the path above it plus the vector it joins (the
 * worst of its slots counts). Ties go to the place taking fewest entries,
 * then to source, destination, destination port, source port. Rules that
 * share one address, or nest many prefixes over one another, then spread
 * over their ports, and the other way round, so a packet meets few
 * candidates unless the rules are alike in every indexable field.
 *
 * Complexity
 * ----------
 * With W the key width in bits, a lookup visits at most W/4 nodes per trie
 * (8 for IPv4, 32 for IPv6, 4 per port), plus the candidates: the rules whose
 * indexed prefix contains the packet, at most one vector per level. Neither
 * depends on the number of rules, only on how many rules overlap the packet
 * in their indexed field. An insertion or removal costs O(W/4) node copies of
 * at most 32 pointers per prefix and O(v) for the vectors it changes, v their
 * length; a port range has at most 30 prefixes, each covering at most 8
 * nibble values. Memory is one entry (16 bytes) per vector a rule is in,
 * plus the nodes of the paths.
 *
 * Worked example
 * --------------
 * Rules, in list order (priorities 1, 2, 3):
 *
 *	1: in drop src 192.0.2.0/24 proto udp
 *	2: in accept dport 22
 *	3: in drop src 192.0.2.128/25
 *
 * 192.0.2.0 is c0.00.02.00 in hex: rule 1 is a /24, a multiple of 4, so it
 * lies in one vector, at depth 5 on the path c-0-0-0-0-2. Rule 2 has only a
 * port: 22 = 0x0016 lies at depth 3 of the destination port trie, path
 * 0-0-1-6. Rule 3 is a /25: depth 6 (bits 24-27), and its first bit fixes only
 * the top bit of that nibble, so it takes the vectors of nibbles 8 to f under
 * c-0-0-0-0-2.
 *
 * A TCP packet from 192.0.2.200 (c0.00.02.c8) to port 22 walks the source
 * trie: depth 5 nibble 2 holds rule 1, which fails (udp); depth 6 nibble c
 * holds rule 3, which matches: best is now priority 3. The destination port
 * trie at 0-0-1-6 holds rule 2, priority 2, which matches and wins. Rule 3
 * never had to be compared with rule 2 in a list; priorities did it.
 *
 * References
 * ----------
 *  - V. Srinivasan, G. Varghese, "Faster IP lookups using controlled prefix
 *    expansion", SIGMETRICS 1998.
 *  - V. Srinivasan, S. Suri, G. Varghese, "Packet classification using tuple
 *    space search", SIGCOMM 1999: one index per field shape, as here.
 *  - H. Asai, Y. Ohara, "Poptrie: a compressed trie with population count for
 *    fast and scalable software IP routing table lookup", SIGCOMM 2015: the
 *    bitmap-compressed nodes.
 *  - net/netfilter/nft_set_pipapo.c, whose commentary this one imitates.
 */

#include "classify.h"

#define KFW_CLS_STRIDE	4
#define KFW_CLS_FANOUT	BIT(KFW_CLS_STRIDE)

enum kfw_cls_trie_id {
	KFW_CLS_SRC4,
	KFW_CLS_DST4,
	KFW_CLS_SRC6,
	KFW_CLS_DST6,
	KFW_CLS_SPORT,
	KFW_CLS_DPORT,
	KFW_CLS_TRIES,
};

/**
 * struct kfw_cls_hint - what one rule, or every rule of a vector, asks of the
 *	protocol and destination port: most candidates fail on one of them
 * @dport: the destination ports, if @has_dport (for a vector, the smallest
 *	range holding those of all its entries)
 * @proto: the protocol, 0 if none is asked for (or 0 is)
 * @has_dport: destination ports are asked for (by every entry, for a vector)
 */
struct kfw_cls_hint {
	struct kfw_port_range dport;
	u8 proto;
	bool has_dport;
};

/**
 * struct kfw_cls_entry - one rule in a vector
 * @prio: the rule's priority, copied here so scans stay in the vector
 * @match: the rule's match; NULL once removed in place
 * @hint: copied from the rule, so that most candidates are rejected without
 *	a cache miss on the rule itself
 */
struct kfw_cls_entry {
	u64 prio;
	const struct kfw_match *match;
	struct kfw_cls_hint hint;
};

/**
 * struct kfw_cls_vec - candidates, by increasing priority; while readers can
 *	see it, only ever appended to (see kfw_cls_vec_add())
 * @rcu: for freeing after a grace period
 * @refs: how many slots point to it (writers only): the slots of one
 *	expanded prefix share their vector while their contents are equal
 * @len: number of entries readers may look at, stored after the entries
 * @cap: room for entries
 * @hint: what all the entries ask: a packet it rejects matches none of them
 * @entry: the entries
 */
struct kfw_cls_vec {
	struct rcu_head rcu;
	unsigned int refs;
	unsigned int len;
	unsigned int cap;
	struct kfw_cls_hint hint;
	struct kfw_cls_entry entry[];
};

union kfw_cls_slot {
	struct kfw_cls_node __rcu *child;
	struct kfw_cls_vec __rcu *vec;
};

/**
 * struct kfw_cls_node - one level of a trie
 * @rcu: for freeing after a grace period
 * @child_map: nibble values that have a child
 * @vec_map: nibble values that have a vector (which may be NULL)
 * @slot: the children in nibble order, then the vectors in nibble order
 */
struct kfw_cls_node {
	struct rcu_head rcu;
	u16 child_map;
	u16 vec_map;
	union kfw_cls_slot slot[];
};

/**
 * struct kfw_cls - the classifier of one direction
 * @root: the root of each trie, by enum kfw_cls_trie_id
 * @rest: rules that no trie indexes
 * @live: readers may exist, so what is replaced waits for a grace period
 * @stats: what it holds
 */
struct kfw_cls {
	struct kfw_cls_node __rcu *root[KFW_CLS_TRIES];
	struct kfw_cls_skip __rcu *skip[KFW_CLS_TRIES];
	struct kfw_cls_vec __rcu *rest;
	bool live;
	struct kfw_cls_stats stats;
};

/* A key: up to 128 bits in host order, most significant word first. */
struct kfw_cls_key {
	u32 word[4];
};

/**
 * struct kfw_cls_skip - where lookups in a trie start
 * @rcu: for freeing after a grace period
 * @depth: how many levels from the root lead, one child each, to @node,
 *	with no vector on the way
 * @key: the nibbles of that path, the rest zero
 * @node: the node at @depth
 *
 * When every rule of a trie lies in one network (all of them in
 * 198.18.0.0/15, say), the top levels hold nothing but the way down, and a
 * packet outside the network can find nothing there. Lookups compare the
 * packet with @key at once and start at @node.
 */
struct kfw_cls_skip {
	struct rcu_head rcu;
	unsigned int depth;
	struct kfw_cls_key key;
	struct kfw_cls_node *node;
};

/* A prefix of a key: where a rule sits in a trie. */
struct kfw_cls_prefix {
	struct kfw_cls_key key;
	unsigned int len;
};

/*
 * Where a rule could be indexed: a trie, and there either one address prefix
 * or a port range, which stands for the aligned prefixes that cover it.
 */
struct kfw_cls_place {
	enum kfw_cls_trie_id trie;
	bool ports;
	struct kfw_cls_prefix addr;
	struct kfw_port_range range;
};

static const unsigned int kfw_cls_depth[KFW_CLS_TRIES] = {
	[KFW_CLS_SRC4] = 32 / KFW_CLS_STRIDE,
	[KFW_CLS_DST4] = 32 / KFW_CLS_STRIDE,
	[KFW_CLS_SRC6] = 128 / KFW_CLS_STRIDE,
	[KFW_CLS_DST6] = 128 / KFW_CLS_STRIDE,
	[KFW_CLS_SPORT] = 16 / KFW_CLS_STRIDE,
	[KFW_CLS_DPORT] = 16 / KFW_CLS_STRIDE,
};

static unsigned int kfw_cls_nibble(const struct kfw_cls_key *key,
				   unsigned int depth)
{
	return (key->word[depth / 8] >> (28 - KFW_CLS_STRIDE * (depth % 8))) &
	       (KFW_CLS_FANOUT - 1);
}

/* How many of the map's nibbles come before @nibble: its index in the slots. */
static unsigned int kfw_cls_below(u16 map, unsigned int nibble)
{
	return kfw_cls_popcount16(map & (BIT(nibble) - 1));
}

static unsigned int kfw_cls_vec_index(const struct kfw_cls_node *node,
				      unsigned int nibble)
{
	return kfw_cls_popcount16(node->child_map) +
	       kfw_cls_below(node->vec_map, nibble);
}

static size_t kfw_cls_node_size(u16 child_map, u16 vec_map)
{
	return sizeof(struct kfw_cls_node) +
	       (kfw_cls_popcount16(child_map) + kfw_cls_popcount16(vec_map)) *
	       sizeof(union kfw_cls_slot);
}

static size_t kfw_cls_vec_size(unsigned int cap)
{
	return sizeof(struct kfw_cls_vec) + cap * sizeof(struct kfw_cls_entry);
}

static void kfw_cls_addr_key(struct kfw_cls_key *key,
			     const union nf_inet_addr *addr)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		key->word[i] = ntohl(addr->all[i]);
}

static void kfw_cls_port_key(struct kfw_cls_key *key, u32 port)
{
	memset(key, 0, sizeof(*key));
	key->word[0] = port << 16;
}

/* --- Lookup ----------------------------------------------------------------- */

/* The best candidate so far: only a smaller priority can beat it. */
struct kfw_cls_best {
	u64 prio;
	const struct kfw_match *match;
};

/* Could a rule, or a vector's rules, match @pkt, by what @hint knows of them? */
static bool kfw_cls_admits(const struct kfw_cls_hint *hint,
			   const struct kfw_packet *pkt)
{
	if (hint->proto && (!pkt->has_proto || pkt->proto != hint->proto))
		return false;
	if (hint->has_dport &&
	    (!pkt->has_ports || pkt->dport < hint->dport.first ||
	     pkt->dport > hint->dport.last))
		return false;
	return true;
}

static void kfw_cls_scan(const struct kfw_cls_vec *vec,
			 const struct kfw_packet *pkt, struct kfw_cls_best *best)
{
	const struct kfw_cls_entry *entry;
	const struct kfw_match *match;
	unsigned int i, len;

	if (!kfw_cls_admits(&vec->hint, pkt))
		return;
	/* Pairs with the store in kfw_cls_vec_add(): entries below are whole. */
	len = smp_load_acquire(&vec->len);
	for (i = 0; i < len; i++) {
		entry = &vec->entry[i];
		if (entry->prio >= best->prio)
			return;
		if (!kfw_cls_admits(&entry->hint, pkt))
			continue;
		match = READ_ONCE(entry->match);
		if (match && kfw_match_packet(match, pkt)) {
			best->prio = entry->prio;
			best->match = match;
			return;
		}
	}
}

/* Do the first @depth nibbles of two keys differ? */
static bool kfw_cls_differ(const struct kfw_cls_key *a,
			   const struct kfw_cls_key *b, unsigned int depth)
{
	unsigned int bits = depth * KFW_CLS_STRIDE, i;

	for (i = 0; bits >= 32; i++, bits -= 32)
		if (a->word[i] != b->word[i])
			return true;
	return bits && ((a->word[i] ^ b->word[i]) >> (32 - bits));
}

static void kfw_cls_walk(const struct kfw_cls *cls, enum kfw_cls_trie_id trie,
			 const struct kfw_cls_key *key,
			 const struct kfw_packet *pkt, struct kfw_cls_best *best)
{
	const struct kfw_cls_skip *skip = rcu_dereference(cls->skip[trie]);
	unsigned int depth = 0, end = kfw_cls_depth[trie], nibble;
	const struct kfw_cls_node *node;
	const struct kfw_cls_vec *vec;
	u32 bits = 0;

	if (skip) {
		if (kfw_cls_differ(key, &skip->key, skip->depth))
			return;
		node = skip->node;
		depth = skip->depth;
		bits = key->word[depth / 8] << (KFW_CLS_STRIDE * (depth % 8));
	} else {
		node = rcu_dereference(cls->root[trie]);
	}
	for (; node && depth < end; depth++) {
		/* The key's nibbles, most significant first, word by word. */
		if (!(depth % 8))
			bits = key->word[depth / 8];
		nibble = bits >> (32 - KFW_CLS_STRIDE);
		bits <<= KFW_CLS_STRIDE;
		if (node->vec_map & BIT(nibble)) {
			vec = rcu_dereference(node->slot[kfw_cls_vec_index(node, nibble)].vec);
			if (vec)
				kfw_cls_scan(vec, pkt, best);
		}
		if (!(node->child_map & BIT(nibble)))
			break;
		node = rcu_dereference(node->slot[kfw_cls_below(node->child_map, nibble)].child);
	}
}

/**
 * kfw_cls_lookup() - the first rule that matches a packet
 * @cls: the classifier, under rcu_read_lock() once published
 * @pkt: the packet
 *
 * Return: the match of the rule with the smallest priority among those that
 * match @pkt, or NULL.
 */
const struct kfw_match *kfw_cls_lookup(const struct kfw_cls *cls,
				       const struct kfw_packet *pkt)
{
	struct kfw_cls_best best = { .prio = U64_MAX };
	bool v4 = pkt->family == NFPROTO_IPV4;
	const struct kfw_cls_vec *rest;
	struct kfw_cls_key key;

	kfw_cls_addr_key(&key, &pkt->src);
	kfw_cls_walk(cls, v4 ? KFW_CLS_SRC4 : KFW_CLS_SRC6, &key, pkt, &best);
	kfw_cls_addr_key(&key, &pkt->dst);
	kfw_cls_walk(cls, v4 ? KFW_CLS_DST4 : KFW_CLS_DST6, &key, pkt, &best);
	if (pkt->has_ports) {
		kfw_cls_port_key(&key, pkt->sport);
		kfw_cls_walk(cls, KFW_CLS_SPORT, &key, pkt, &best);
		kfw_cls_port_key(&key, pkt->dport);
		kfw_cls_walk(cls, KFW_CLS_DPORT, &key, pkt, &best);
	}
	rest = rcu_dereference(cls->rest);
	if (rest)
		kfw_cls_scan(rest, pkt, &best);
	return best.match;
}

/* --- Where a rule goes ------------------------------------------------------ */

/* The places a rule could be indexed in, in the order that breaks ties. */
static unsigned int kfw_cls_places(const struct kfw_match *match,
				   struct kfw_cls_place *places)
{
	bool v4 = match->family == NFPROTO_IPV4;
	unsigned int nr = 0;

	if ((match->fields & KFW_MATCH_SRC) && match->src_prefix) {
		places[nr].trie = v4 ? KFW_CLS_SRC4 : KFW_CLS_SRC6;
		places[nr].ports = false;
		kfw_cls_addr_key(&places[nr].addr.key, &match->src);
		places[nr++].addr.len = match->src_prefix;
	}
	if ((match->fields & KFW_MATCH_DST) && match->dst_prefix) {
		places[nr].trie = v4 ? KFW_CLS_DST4 : KFW_CLS_DST6;
		places[nr].ports = false;
		kfw_cls_addr_key(&places[nr].addr.key, &match->dst);
		places[nr++].addr.len = match->dst_prefix;
	}
	if ((match->fields & KFW_MATCH_DPORT) &&
	    (match->dport.first || match->dport.last != 0xffff)) {
		places[nr].trie = KFW_CLS_DPORT;
		places[nr].ports = true;
		places[nr++].range = match->dport;
	}
	if ((match->fields & KFW_MATCH_SPORT) &&
	    (match->sport.first || match->sport.last != 0xffff)) {
		places[nr].trie = KFW_CLS_SPORT;
		places[nr].ports = true;
		places[nr++].range = match->sport;
	}
	return nr;
}

/*
 * The prefixes of a place, one per call: *@cursor starts at 0 and the call
 * returns false after the last. A port range is cut into the largest aligned
 * blocks that cover it exactly, the cursor being the next port to cover.
 */
static bool kfw_cls_next_prefix(const struct kfw_cls_place *place, u32 *cursor,
				struct kfw_cls_prefix *prefix)
{
	u32 port, size;
	unsigned int bits;

	if (!place->ports) {
		if (*cursor)
			return false;
		*prefix = place->addr;
		*cursor = 1;
		return true;
	}
	port = max_t(u32, *cursor, place->range.first);
	if (port > place->range.last)
		return false;
	for (bits = 0; bits < 16; bits++) {
		size = 1U << (bits + 1);
		if ((port & (size - 1)) || port + size - 1 > place->range.last)
			break;
	}
	kfw_cls_port_key(&prefix->key, port);
	prefix->len = 16 - bits;
	*cursor = port + (1U << bits);
	return true;
}

/* The nibble values a prefix covers in the node at its depth. */
static void kfw_cls_span(const struct kfw_cls_prefix *prefix,
			 unsigned int *depth, unsigned int *first,
			 unsigned int *count)
{
	*depth = (prefix->len - 1) / KFW_CLS_STRIDE;
	*count = 1U << (KFW_CLS_STRIDE * (*depth + 1) - prefix->len);
	*first = kfw_cls_nibble(&prefix->key, *depth) & ~(*count - 1);
}

/* Writers' view: the caller serialises them, so no lock is named here. */
static struct kfw_cls_node *kfw_cls_deref_node(struct kfw_cls_node __rcu *const *link)
{
	return rcu_dereference_protected(*link, 1);
}

static struct kfw_cls_vec *kfw_cls_deref_vec(struct kfw_cls_vec __rcu *const *link)
{
	return rcu_dereference_protected(*link, 1);
}

static struct kfw_cls_vec *kfw_cls_vec_at(struct kfw_cls_node *node,
					  unsigned int nibble)
{
	if (!node || !(node->vec_map & BIT(nibble)))
		return NULL;
	return kfw_cls_deref_vec(&node->slot[kfw_cls_vec_index(node, nibble)].vec);
}

/*
 * The node at @depth on a prefix's path, if the path goes that far. With
 * @above, also the number of entries a packet meets on the way there.
 */
static struct kfw_cls_node *kfw_cls_find(struct kfw_cls *cls,
					 enum kfw_cls_trie_id trie,
					 const struct kfw_cls_prefix *prefix,
					 unsigned int depth, unsigned int *above)
{
	struct kfw_cls_node *node = kfw_cls_deref_node(&cls->root[trie]);
	struct kfw_cls_vec *vec;
	unsigned int d, nibble;

	for (d = 0; node && d < depth; d++) {
		nibble = kfw_cls_nibble(&prefix->key, d);
		vec = above ? kfw_cls_vec_at(node, nibble) : NULL;
		if (vec)
			*above += vec->len;
		if (!(node->child_map & BIT(nibble)))
			return NULL;
		node = kfw_cls_deref_node(&node->slot[kfw_cls_below(node->child_map,
								    nibble)].child);
	}
	return node;
}

/*
 * How crowded a place is: the most entries a packet that the rule would
 * match there meets on its way down to the rule (other rules it must be
 * checked against first), and how many entries the rule would take.
 */
static void kfw_cls_crowding(struct kfw_cls *cls,
			     const struct kfw_cls_place *place,
			     unsigned int *crowd, unsigned int *entries)
{
	unsigned int n, depth, first, count, above;
	struct kfw_cls_prefix prefix;
	struct kfw_cls_node *node;
	struct kfw_cls_vec *vec;
	u32 cursor = 0;

	*crowd = 0;
	*entries = 0;
	while (kfw_cls_next_prefix(place, &cursor, &prefix)) {
		kfw_cls_span(&prefix, &depth, &first, &count);
		*entries += count;
		above = 0;
		node = kfw_cls_find(cls, place->trie, &prefix, depth, &above);
		*crowd = max(*crowd, above);
		for (n = first; n < first + count; n++) {
			vec = kfw_cls_vec_at(node, n);
			if (vec)
				*crowd = max(*crowd, above + vec->len);
		}
	}
}

/* --- Memory ----------------------------------------------------------------- */

static void *kfw_cls_alloc(struct kfw_cls *cls, size_t size)
{
	void *ptr = kfw_cls_zalloc(size);

	if (ptr)
		cls->stats.bytes += size;
	return ptr;
}

/* Frees a vector no reader can see: never published, or being destroyed. */
static void kfw_cls_vec_free(struct kfw_cls *cls, struct kfw_cls_vec *vec)
{
	cls->stats.bytes -= kfw_cls_vec_size(vec->cap);
	kfw_cls_free(vec);
}

/*
 * Drops a slot's reference to a replaced vector; the last one frees it, now
 * or after a grace period if readers may see it.
 */
static void kfw_cls_vec_retire(struct kfw_cls *cls, struct kfw_cls_vec *vec)
{
	if (--vec->refs)
		return;
	if (!cls->live) {
		kfw_cls_vec_free(cls, vec);
		return;
	}
	cls->stats.bytes -= kfw_cls_vec_size(vec->cap);
	kfw_cls_free_rcu(vec, rcu);
}

/* Likewise for a node that a grown copy replaced; its slots live on. */
static void kfw_cls_node_retire(struct kfw_cls *cls, struct kfw_cls_node *node)
{
	cls->stats.bytes -= kfw_cls_node_size(node->child_map, node->vec_map);
	if (cls->live)
		kfw_cls_free_rcu(node, rcu);
	else
		kfw_cls_free(node);
}

/* Frees a subtree no reader can see, its vectors included. */
static void kfw_cls_tree_free(struct kfw_cls *cls, struct kfw_cls_node *node)
{
	unsigned int i, children, slots;
	struct kfw_cls_vec *vec;

	if (!node)
		return;
	children = kfw_cls_popcount16(node->child_map);
	slots = children + kfw_cls_popcount16(node->vec_map);
	for (i = 0; i < children; i++)
		kfw_cls_tree_free(cls, kfw_cls_deref_node(&node->slot[i].child));
	for (; i < slots; i++) {
		vec = kfw_cls_deref_vec(&node->slot[i].vec);
		if (vec && !--vec->refs)
			kfw_cls_vec_free(cls, vec);
	}
	cls->stats.bytes -= kfw_cls_node_size(node->child_map, node->vec_map);
	cls->stats.nodes--;
	kfw_cls_free(node);
}

/* --- Changing vectors and nodes ----------------------------------------------- */

/*
 * Makes @all admit what @one asks too. Each field only ever gets weaker,
 * one store at a time, so a reader that sees some stores and not others
 * still admits every packet the old hint did.
 */
static void kfw_cls_hint_widen(struct kfw_cls_hint *all,
			       const struct kfw_cls_hint *one)
{
	if (one->proto != all->proto)
		WRITE_ONCE(all->proto, 0);
	if (!one->has_dport)
		WRITE_ONCE(all->has_dport, false);
	if (one->dport.first < all->dport.first)
		WRITE_ONCE(all->dport.first, one->dport.first);
	if (one->dport.last > all->dport.last)
		WRITE_ONCE(all->dport.last, one->dport.last);
}

/* Works out what all the entries of @vec ask, for kfw_cls_scan(). */
static void kfw_cls_vec_summarise(struct kfw_cls_vec *vec)
{
	unsigned int i;

	vec->hint = vec->entry[0].hint;
	for (i = 1; i < vec->len; i++)
		kfw_cls_hint_widen(&vec->hint, &vec->entry[i].hint);
}

/*
 * Adds @entry to @old (which may be NULL) in its place by priority.
 *
 * A vector that no other slot shares and that has room takes the entry in
 * place, if no reader can see it yet (a table being built) or if the entry
 * goes last (rules are mostly appended): readers look only below @len, which
 * is stored after the entry is written. Otherwise the result is a copy with
 * room to grow by half, which the caller publishes in @old's place, so that
 * appending n rules to one vector costs O(n), not O(n^2).
 *
 * Return: @old itself, a new vector, or NULL without memory.
 */
static struct kfw_cls_vec *kfw_cls_vec_add(struct kfw_cls *cls,
					   struct kfw_cls_vec *old,
					   const struct kfw_cls_entry *entry)
{
	unsigned int len = old ? old->len : 0, at = len;
	struct kfw_cls_vec *vec;

	while (at && old->entry[at - 1].prio > entry->prio)
		at--;
	if (old && old->refs == 1 && len < old->cap &&
	    (at == len || !cls->live)) {
		memmove(old->entry + at + 1, old->entry + at,
			(len - at) * sizeof(*entry));
		old->entry[at] = *entry;
		kfw_cls_hint_widen(&old->hint, &entry->hint);
		/* Pairs with kfw_cls_scan(): the entry is whole before it counts. */
		smp_store_release(&old->len, len + 1);
		return old;
	}

	vec = kfw_cls_alloc(cls, kfw_cls_vec_size(len + 1 + len / 2));
	if (!vec)
		return NULL;
	if (at)
		memcpy(vec->entry, old->entry, at * sizeof(*entry));
	vec->entry[at] = *entry;
	if (len > at)
		memcpy(vec->entry + at + 1, old->entry + at,
		       (len - at) * sizeof(*entry));
	vec->len = len + 1;
	vec->cap = len + 1 + len / 2;
	vec->refs = 1;
	kfw_cls_vec_summarise(vec);
	return vec;
}

/* Where @entry is in @vec, or -1. */
static int kfw_cls_vec_find(const struct kfw_cls_vec *vec,
			    const struct kfw_cls_entry *entry)
{
	unsigned int at;

	for (at = 0; vec && at < vec->len; at++)
		if (vec->entry[at].match == entry->match &&
		    vec->entry[at].prio == entry->prio)
			return at;
	return -1;
}

/*
 * A copy of @old without its entry @at, NULL if that leaves it empty, or @old
 * itself with the entry cleared in place when there is no memory for the
 * copy: removal must not fail.
 */
static struct kfw_cls_vec *kfw_cls_vec_without(struct kfw_cls *cls,
					       struct kfw_cls_vec *old,
					       unsigned int at)
{
	struct kfw_cls_vec *vec;

	if (old->len == 1)
		return NULL;
	vec = kfw_cls_alloc(cls, kfw_cls_vec_size(old->len - 1));
	if (!vec) {
		WRITE_ONCE(old->entry[at].match, NULL);
		return old;
	}
	memcpy(vec->entry, old->entry, at * sizeof(*vec->entry));
	memcpy(vec->entry + at, old->entry + at + 1,
	       (old->len - at - 1) * sizeof(*vec->entry));
	vec->len = old->len - 1;
	vec->cap = vec->len;
	vec->refs = 0;
	kfw_cls_vec_summarise(vec);
	return vec;
}

/*
 * Takes @entry out of the vectors *@links[0..@nr) point to. Slots that shared
 * a vector share its replacement. Every slot that shares a vector holding
 * @entry is among @links (the entry is there only because its prefix covers
 * the slot), so clearing an entry in place is right for all of them.
 * Return: how many slots held @entry.
 */
static unsigned int kfw_cls_vecs_remove(struct kfw_cls *cls,
					struct kfw_cls_vec __rcu **links[],
					unsigned int nr,
					const struct kfw_cls_entry *entry)
{
	struct kfw_cls_vec *old[KFW_CLS_FANOUT], *vec[KFW_CLS_FANOUT];
	unsigned int n, m, removed = 0;
	int at;

	for (n = 0; n < nr; n++) {
		old[n] = kfw_cls_deref_vec(links[n]);
		at = kfw_cls_vec_find(old[n], entry);
		if (at < 0) {
			old[n] = NULL;
			continue;
		}
		for (m = 0; m < n && old[m] != old[n]; m++)
			;
		vec[n] = m < n ? vec[m] : kfw_cls_vec_without(cls, old[n], at);
		removed++;
		if (vec[n] == old[n])
			continue;
		if (vec[n])
			vec[n]->refs++;
		rcu_assign_pointer(*links[n], vec[n]);
	}
	for (n = 0; n < nr; n++)
		if (old[n] && vec[n] != old[n])
			kfw_cls_vec_retire(cls, old[n]);
	return removed;
}

/*
 * A copy of @node with the maps @child_map and @vec_map, supersets of its
 * own; the new slots are NULL. @node may be NULL, for a new node.
 */
static struct kfw_cls_node *kfw_cls_node_grow(struct kfw_cls *cls,
					      const struct kfw_cls_node *node,
					      u16 child_map, u16 vec_map)
{
	unsigned int nibble, from = 0, to = 0;
	struct kfw_cls_node *grown;

	grown = kfw_cls_alloc(cls, kfw_cls_node_size(child_map, vec_map));
	if (!grown)
		return NULL;
	cls->stats.nodes++;
	grown->child_map = child_map;
	grown->vec_map = vec_map;
	for (nibble = 0; nibble < KFW_CLS_FANOUT; nibble++) {
		if (!(child_map & BIT(nibble)))
			continue;
		if (node && (node->child_map & BIT(nibble)))
			grown->slot[to] = node->slot[from++];
		to++;
	}
	for (nibble = 0; nibble < KFW_CLS_FANOUT; nibble++) {
		if (!(vec_map & BIT(nibble)))
			continue;
		if (node && (node->vec_map & BIT(nibble)))
			grown->slot[to] = node->slot[from++];
		to++;
	}
	return grown;
}

/*
 * Adds @entry to the vectors of nibbles [@first, @first + @count) of the node
 * *@link points to, which may not exist yet; the node is replaced by a grown
 * copy if it lacks some of those vectors. On -ENOMEM, vectors that took the
 * entry in place keep it, and the caller takes it out again.
 */
static int kfw_cls_node_add(struct kfw_cls *cls,
			    struct kfw_cls_node __rcu **link,
			    unsigned int first, unsigned int count,
			    const struct kfw_cls_entry *entry)
{
	struct kfw_cls_vec *old[KFW_CLS_FANOUT], *vec[KFW_CLS_FANOUT];
	struct kfw_cls_node *node = kfw_cls_deref_node(link), *grown;
	unsigned int n, m, end = first + count;
	u16 want = 0;

	for (n = first; n < end; n++) {
		want |= BIT(n);
		old[n] = kfw_cls_vec_at(node, n);
		for (m = first; m < n && old[m] != old[n]; m++)
			;
		if (m < n) {
			vec[n] = vec[m];
			vec[n]->refs++;
			continue;
		}
		vec[n] = kfw_cls_vec_add(cls, old[n], entry);
		if (!vec[n])
			goto nomem;
	}

	if (node && (node->vec_map & want) == want) {
		for (n = first; n < end; n++) {
			if (vec[n] == old[n])
				continue;
			rcu_assign_pointer(node->slot[kfw_cls_vec_index(node, n)].vec,
					   vec[n]);
			if (old[n])
				kfw_cls_vec_retire(cls, old[n]);
		}
		return 0;
	}

	grown = kfw_cls_node_grow(cls, node, node ? node->child_map : 0,
				  (node ? node->vec_map : 0) | want);
	if (!grown)
		goto nomem;
	for (n = first; n < end; n++)
		RCU_INIT_POINTER(grown->slot[kfw_cls_vec_index(grown, n)].vec,
				 vec[n]);
	rcu_assign_pointer(*link, grown);
	if (node) {
		for (n = first; n < end; n++)
			if (old[n] && vec[n] != old[n])
				kfw_cls_vec_retire(cls, old[n]);
		kfw_cls_node_retire(cls, node);
	}
	return 0;

nomem:
	while (n-- > first)
		if (vec[n] != old[n] && !--vec[n]->refs)
			kfw_cls_vec_free(cls, vec[n]);
	return -ENOMEM;
}

/*
 * Adds @entry for one prefix of a trie. The path is followed in place while
 * it exists. Where it stops short of the prefix's depth, the missing nodes
 * are built bottom up as a private chain, which one pointer store links in:
 * into the root, or into a grown copy of the last node on the path.
 */
static int kfw_cls_prefix_add(struct kfw_cls *cls, enum kfw_cls_trie_id trie,
			      const struct kfw_cls_prefix *prefix,
			      const struct kfw_cls_entry *entry)
{
	struct kfw_cls_node __rcu **link = &cls->root[trie];
	struct kfw_cls_node __rcu *chain_link = NULL;
	unsigned int depth, first, count, d, top, nibble;
	struct kfw_cls_node *node, *chain, *parent;
	int err;

	kfw_cls_span(prefix, &depth, &first, &count);
	for (d = 0; d < depth; d++) {
		node = kfw_cls_deref_node(link);
		if (!node)
			break;
		nibble = kfw_cls_nibble(&prefix->key, d);
		if (!(node->child_map & BIT(nibble)))
			break;
		link = &node->slot[kfw_cls_below(node->child_map, nibble)].child;
	}
	if (d == depth)
		return kfw_cls_node_add(cls, link, first, count, entry);

	err = kfw_cls_node_add(cls, &chain_link, first, count, entry);
	if (err)
		return err;
	chain = kfw_cls_deref_node(&chain_link);
	node = kfw_cls_deref_node(link);
	top = node ? d + 1 : d;
	for (d = depth; d > top; d--) {
		parent = kfw_cls_node_grow(cls, NULL,
					   BIT(kfw_cls_nibble(&prefix->key, d - 1)), 0);
		if (!parent)
			goto nomem;
		RCU_INIT_POINTER(parent->slot[0].child, chain);
		chain = parent;
	}
	if (!node) {
		rcu_assign_pointer(*link, chain);
		return 0;
	}

	nibble = kfw_cls_nibble(&prefix->key, top - 1);
	parent = kfw_cls_node_grow(cls, node, node->child_map | BIT(nibble),
				   node->vec_map);
	if (!parent)
		goto nomem;
	RCU_INIT_POINTER(parent->slot[kfw_cls_below(parent->child_map, nibble)].child,
			 chain);
	rcu_assign_pointer(*link, parent);
	kfw_cls_node_retire(cls, node);
	return 0;

nomem:
	kfw_cls_tree_free(cls, chain);
	return -ENOMEM;
}

/* Takes @entry out of one prefix's vectors; returns how many held it. */
static unsigned int kfw_cls_prefix_remove(struct kfw_cls *cls,
					  enum kfw_cls_trie_id trie,
					  const struct kfw_cls_prefix *prefix,
					  const struct kfw_cls_entry *entry)
{
	struct kfw_cls_vec __rcu **links[KFW_CLS_FANOUT];
	unsigned int depth, first, count, n, nr = 0;
	struct kfw_cls_node *node;

	kfw_cls_span(prefix, &depth, &first, &count);
	node = kfw_cls_find(cls, trie, prefix, depth, NULL);
	if (!node)
		return 0;
	for (n = first; n < first + count; n++)
		if (node->vec_map & BIT(n))
			links[nr++] = &node->slot[kfw_cls_vec_index(node, n)].vec;
	return kfw_cls_vecs_remove(cls, links, nr, entry);
}

static unsigned int kfw_cls_place_remove(struct kfw_cls *cls,
					 const struct kfw_cls_place *place,
					 const struct kfw_cls_entry *entry)
{
	struct kfw_cls_prefix prefix;
	unsigned int removed = 0;
	u32 cursor = 0;

	while (kfw_cls_next_prefix(place, &cursor, &prefix))
		removed += kfw_cls_prefix_remove(cls, place->trie, &prefix, entry);
	return removed;
}

/*
 * Makes lookups in @trie start at the root again, which is always right.
 * An insertion does this first: it may replace the node the shortcut points
 * to, and a reader that found the shortcut after that node was retired
 * would walk freed memory.
 */
static void kfw_cls_skip_drop(struct kfw_cls *cls, enum kfw_cls_trie_id trie)
{
	struct kfw_cls_skip *old = rcu_dereference_protected(cls->skip[trie], 1);

	if (!old)
		return;
	RCU_INIT_POINTER(cls->skip[trie], NULL);
	cls->stats.bytes -= sizeof(*old);
	if (cls->live)
		kfw_cls_free_rcu(old, rcu);
	else
		kfw_cls_free(old);
}

/*
 * Finds the path of single children from the root of @trie and publishes it
 * as where lookups start. Called after every insertion, which dropped the
 * old shortcut first; removals replace no node and keep it. Without memory,
 * lookups start at the root.
 */
static void kfw_cls_skip_update(struct kfw_cls *cls, enum kfw_cls_trie_id trie)
{
	struct kfw_cls_node *node = kfw_cls_deref_node(&cls->root[trie]);
	struct kfw_cls_key key = {};
	struct kfw_cls_skip *skip;
	unsigned int depth = 0, nibble;

	while (node && depth + 1 < kfw_cls_depth[trie] && !node->vec_map &&
	       kfw_cls_popcount16(node->child_map) == 1) {
		for (nibble = 0; !(node->child_map & BIT(nibble)); nibble++)
			;
		key.word[depth / 8] |= nibble << (32 - KFW_CLS_STRIDE * (depth % 8 + 1));
		node = kfw_cls_deref_node(&node->slot[0].child);
		depth++;
	}
	if (!node || !depth)
		return;
	skip = kfw_cls_alloc(cls, sizeof(*skip));
	if (!skip)
		return;
	skip->depth = depth;
	skip->key = key;
	skip->node = node;
	rcu_assign_pointer(cls->skip[trie], skip);
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
	struct kfw_cls_vec *rest;
	unsigned int trie;

	if (!cls)
		return;
	for (trie = 0; trie < KFW_CLS_TRIES; trie++) {
		kfw_cls_tree_free(cls, kfw_cls_deref_node(&cls->root[trie]));
		kfw_cls_free(rcu_dereference_protected(cls->skip[trie], 1));
	}
	rest = kfw_cls_deref_vec(&cls->rest);
	if (rest && !--rest->refs)
		kfw_cls_vec_free(cls, rest);
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
	unsigned int nr, i, best = 0, crowd, entries, best_crowd = 0;
	unsigned int best_entries = 0;
	const struct kfw_cls_entry entry = {
		.prio = prio,
		.match = match,
		.hint = {
			.dport = match->dport,
			.proto = match->fields & KFW_MATCH_PROTO ? match->proto : 0,
			.has_dport = match->fields & KFW_MATCH_DPORT,
		},
	};
	struct kfw_cls_place places[4];
	struct kfw_cls_prefix prefix;
	struct kfw_cls_vec *old, *vec;
	u32 cursor = 0;
	int err;

	nr = kfw_cls_places(match, places);
	if (!nr) {
		old = kfw_cls_deref_vec(&cls->rest);
		vec = kfw_cls_vec_add(cls, old, &entry);
		if (!vec)
			return -ENOMEM;
		if (vec != old) {
			rcu_assign_pointer(cls->rest, vec);
			if (old)
				kfw_cls_vec_retire(cls, old);
		}
		cls->stats.rules++;
		cls->stats.entries++;
		return 0;
	}

	for (i = 0; i < nr; i++) {
		kfw_cls_crowding(cls, &places[i], &crowd, &entries);
		if (!i || crowd < best_crowd ||
		    (crowd == best_crowd && entries < best_entries)) {
			best = i;
			best_crowd = crowd;
			best_entries = entries;
		}
	}
	kfw_cls_skip_drop(cls, places[best].trie);
	while (kfw_cls_next_prefix(&places[best], &cursor, &prefix)) {
		err = kfw_cls_prefix_add(cls, places[best].trie, &prefix, &entry);
		if (err) {
			kfw_cls_place_remove(cls, &places[best], &entry);
			kfw_cls_skip_update(cls, places[best].trie);
			return err;
		}
	}
	kfw_cls_skip_update(cls, places[best].trie);
	cls->stats.rules++;
	cls->stats.entries += best_entries;
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
	const struct kfw_cls_entry entry = { .prio = prio, .match = match };
	struct kfw_cls_place places[4];
	unsigned int nr, i, removed = 0;

	nr = kfw_cls_places(match, places);
	for (i = 0; i < nr && !removed; i++)
		removed = kfw_cls_place_remove(cls, &places[i], &entry);
	if (!nr) {
		struct kfw_cls_vec __rcu **rest = &cls->rest;

		removed = kfw_cls_vecs_remove(cls, &rest, 1, &entry);
	}
	if (removed) {
		cls->stats.rules--;
		cls->stats.entries -= removed;
	}
}

void kfw_cls_stats(const struct kfw_cls *cls, struct kfw_cls_stats *stats)
{
	*stats = cls->stats;
}

#ifndef __KERNEL__
static bool kfw_cls_node_reaches(const struct kfw_cls_node *node,
				 const void *ptr)
{
	unsigned int i, children, slots;

	if (!node)
		return false;
	if (node == ptr)
		return true;
	children = kfw_cls_popcount16(node->child_map);
	slots = children + kfw_cls_popcount16(node->vec_map);
	for (i = 0; i < children; i++)
		if (kfw_cls_node_reaches(node->slot[i].child, ptr))
			return true;
	for (; i < slots; i++)
		if (node->slot[i].vec == ptr)
			return true;
	return false;
}

/*
 * For the host harness: can a reader that starts now reach @ptr? Memory
 * handed to kfw_cls_free_rcu() must not be: the grace period waits only
 * for readers that started before it.
 */
bool kfw_cls_reaches(const struct kfw_cls *cls, const void *ptr)
{
	const struct kfw_cls_skip *skip;
	unsigned int trie;

	if (cls->rest == ptr)
		return true;
	for (trie = 0; trie < KFW_CLS_TRIES; trie++) {
		skip = cls->skip[trie];
		if (skip && (skip == ptr || kfw_cls_node_reaches(skip->node, ptr)))
			return true;
		if (kfw_cls_node_reaches(cls->root[trie], ptr))
			return true;
	}
	return false;
}
#endif
