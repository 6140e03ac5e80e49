// SPDX-License-Identifier: GPL-2.0
/*
 * Which rules can never match?
 *
 * Rule J covers rule I when J comes earlier in the list, has I's direction,
 * and matches every packet that I matches: then no packet ever reaches I.
 * Matching is field by field (kmod/match.c), so J covers I when each field
 * J matches on admits everything I's same field admits:
 *
 *	family	J's is unspecified (no address), or equal to I's
 *	proto	J has none, or I has the same one
 *	src/dst	J has none or a /0, or I has one inside J's prefix
 *	ports	J has none, or I has a range inside J's (a port rule needs
 *		ports in the packet, which a rule without one does not)
 *	iface	J has none, or I has the same name
 *	state	J has none, or I's states are a subset of J's
 *	icmp	J has no type, or I has the same type; likewise the code
 *	payload	J has none (a J with a payload is never used as a coverer:
 *		whether one byte pattern implies another is not worth the
 *		risk of a wrong warning)
 *	timeout	J has none (a timed J is never used as a coverer: once the
 *		kernel deletes it, the rules it covered match again)
 *
 * The action, log, log-rate, log-burst and comment change nothing about
 * which packets match. A rule with anything else (shadow_understood() says
 * which rules qualify) is neither reported nor used as a coverer, so a
 * field the checker does not know makes it silent rather than wrong. Only
 * single rules count: a rule covered by two earlier rules together, but by
 * neither alone, is not reported.
 *
 * LISTS
 *
 * A rule with lists stands for the rules of one value each that its
 * elements make, all their combinations: `proto tcp,udp dport 22,80` is
 * four. Up to SHADOW_COMBOS_MAX of them, the checker reasons on those: J
 * covers I when each of I's combinations is covered by one of J's. The
 * index holds each combination of a list rule at the rule's position, and a
 * list rule is reported only when the earliest coverer of each of its
 * combinations is one and the same rule. A negated field, an owner, or more
 * combinations than that keep a rule out, as any unknown field does.
 *
 * THE INDEX
 *
 * Comparing every rule with every earlier one is 5e9 pairs at 100k rules.
 * Instead the earlier rules are kept in a tuple space (Srinivasan et al.,
 * "Packet classification using tuple space search", SIGCOMM 1999). A rule's
 * shape is which fields it matches on and how: direction, family, prefix
 * lengths, whether it has a protocol, an interface, an ICMP type and code,
 * and whether each port match is a single port or a range. Its key is the
 * shape plus the values that a coverer must share exactly: the addresses
 * masked to the shape's lengths, protocol, single ports, ICMP type and
 * code, interface. The rules of one key chain up in list order.
 *
 * To find I's earliest coverer, each shape seen so far that could cover I
 * (its prefixes no longer than I's, no field that I lacks) gives one hash
 * lookup of I's values masked to that shape; the rules chained there are
 * then checked for the fields outside the key (port ranges, state). For
 * 100k rules that is a few hundred shapes at most, in practice far fewer.
 * Shapes are kept in the order they first appeared, and each chain in list
 * order, so the search stops as soon as the rest can only be later than
 * a coverer already found.
 *
 * A shadowed rule is not added: whatever it covers, its own coverer covers
 * too, and earlier. So the earliest coverer of a rule is never shadowed,
 * and the index answers with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "shadow.h"

enum { PORTS_NONE, PORTS_ONE, PORTS_RANGE };

enum {
	SHAPE_PROTO	= 1 << 0,
	SHAPE_IFACE	= 1 << 1,
	SHAPE_ICMP_TYPE	= 1 << 2,
	SHAPE_ICMP_CODE	= 1 << 3,
};

/* Which fields a rule matches on, and how: 8 bytes, one 64-bit word. */
struct shape {
	uint8_t dir;
	uint8_t family;		/* 0, AF_INET or AF_INET6 */
	uint8_t slen;		/* 0: any source of the family */
	uint8_t dlen;
	uint8_t flags;		/* SHAPE_* */
	uint8_t sport;		/* PORTS_* */
	uint8_t dport;
	uint8_t zero;
};

/* The shape and the values a coverer of that shape must share exactly. */
struct key {
	struct shape shape;
	uint8_t src[16];	/* masked to shape.slen */
	uint8_t dst[16];
	uint16_t sport;		/* the port of PORTS_ONE, else 0 */
	uint16_t dport;
	uint8_t proto;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t zero;
	char iface[IFNAMSIZ];
};

_Static_assert(sizeof(struct shape) == 8, "a shape is one word");
_Static_assert(sizeof(struct key) % 8 == 0, "a key is whole words");

/* One rule in a chain. */
struct node {
	const struct rule *rule;
	size_t pos;
	size_t next;		/* index into nodes, SHADOW_NONE at the end */
};

/*
 * A hash slot: a key and its chain; empty while tail is SHADOW_NONE. A
 * presence key (see struct group) has no chain but the destination
 * lengths seen with it, one bit per two lengths (dlen_bit()).
 */
struct slot {
	struct key key;
	union {
		size_t head;
		uint64_t dlens;
	};
	size_t tail;
};

struct shape_seen {
	struct shape shape;
	size_t first;		/* the position of its first rule */
	size_t group;		/* index into groups */
};

/*
 * The shapes that differ only in their destination length form a group.
 * A lookup of a rule's source alone in the group (a presence entry in the
 * hash) tells which of its shapes can hold a coverer: those whose
 * destination length was seen with that source. With sources and
 * destinations of many lengths, one lookup per source length then
 * replaces most of the lookups per pair of lengths.
 */
struct group {
	uint32_t seen;		/* the query that last looked it up */
	uint64_t dlens;		/* its answer then: dlen_bit()s */
};

/* Open addressing from a 64-bit word (a packed shape) to an index. */
struct wordmap {
	uint64_t *words;	/* the word + 1; 0 marks a free slot */
	size_t *vals;
	size_t nslots;		/* a power of two */
	size_t used;
};

struct shadow_index {
	struct slot *slots;	/* open addressing, linear probing */
	size_t nslots;		/* a power of two */
	size_t used;
	struct node *nodes;
	size_t nnodes;
	size_t capnodes;
	struct shape_seen *shapes;	/* in order of first appearance */
	size_t nshapes;
	size_t capshapes;
	struct wordmap shape_map;	/* shape -> index into shapes */
	struct group *groups;
	size_t ngroups;
	size_t capgroups;
	struct wordmap group_map;	/* group shape -> index into groups */
	uint32_t query;			/* counts shadow_index_find() calls */
	struct rule **combos;		/* the combinations of list rules added */
	size_t ncombos;
	size_t capcombos;
};

/* Combinations a list rule may stand for, and still be reasoned about. */
#define SHADOW_COMBOS_MAX	64

/*
 * How many rules of one value each @r stands for: 1 without lists, 0 when
 * more than SHADOW_COMBOS_MAX.
 */
static size_t combos_of(const struct rule *r)
{
	size_t n = 1;
	int f;

	if (!r->lists)
		return 1;
	for (f = 0; f < RULE_LISTS; f++) {
		if (r->lists->len[f] > 1)
			n *= r->lists->len[f];
		if (n > SHADOW_COMBOS_MAX)
			return 0;
	}
	return n;
}

/* The @n-th combination of @r's elements, in @out, without lists. */
static void combo_of(const struct rule *r, size_t n, struct rule *out)
{
	const struct rule_lists *l = r->lists;
	int f;

	memcpy(out, r, sizeof(*out));
	out->lists = NULL;
	for (f = 0; l && f < RULE_LISTS; f++) {
		size_t len = l->len[f], k;

		if (len < 2)
			continue;
		k = n % len;
		n /= len;
		switch (f) {
		case RULE_LIST_SRC:
			out->src = l->addr[0][k];
			break;
		case RULE_LIST_DST:
			out->dst = l->addr[1][k];
			break;
		case RULE_LIST_SPORT:
			out->sport = l->port[0][k];
			break;
		case RULE_LIST_DPORT:
			out->dport = l->port[1][k];
			break;
		default:
			out->proto = l->proto[k];
		}
	}
}

static uint8_t family_of(const struct rule *r)
{
	return r->src.family ? r->src.family : r->dst.family;
}

static unsigned int addr_bits(uint8_t family)
{
	return family == AF_INET ? 32 : 128;
}

static bool addr_valid(const struct rule_addr *a)
{
	if (!a->family)
		return true;
	if (a->family != AF_INET && a->family != AF_INET6)
		return false;
	return a->prefix <= addr_bits(a->family);
}

static bool ports_valid(const struct rule_ports *p)
{
	return !p->set || p->first <= p->last;
}

/**
 * shadow_understood() - can the checker reason about this rule?
 * @r: the rule
 *
 * A rule qualifies when it matches on nothing but the fields the checker
 * knows (see the top of this file), with sane values. The test is a
 * whitelist: the known fields are cleared in a copy, and whatever is left
 * must be all zero. A field that struct rule gains later, whose absence is
 * zero as for every field so far, thus makes the rules that use it
 * unknown here without any change to this file.
 *
 * Return: true if shadow_covers() may use it, either way round.
 */
bool shadow_understood(const struct rule *r)
{
	static const struct rule zero;
	struct rule rest, first;

	/* The combinations differ only in fields checked below as they are. */
	if (r->lists) {
		if (!combos_of(r))
			return false;
		combo_of(r, 0, &first);
		r = &first;
	}
	if (r->dir > KFW_DIR_MAX || !addr_valid(&r->src) || !addr_valid(&r->dst) ||
	    (r->src.family && r->dst.family && r->src.family != r->dst.family) ||
	    !ports_valid(&r->sport) || !ports_valid(&r->dport) ||
	    (r->has_icmp_code && !r->has_icmp_type) ||
	    r->payload_len > KFW_PAYLOAD_MAX)
		return false;

	memcpy(&rest, r, sizeof(rest));
	/* What the checker reads. */
	rest.dir = 0;
	rest.has_proto = false;
	rest.proto = 0;
	memset(&rest.src, 0, sizeof(rest.src));
	memset(&rest.dst, 0, sizeof(rest.dst));
	memset(&rest.sport, 0, sizeof(rest.sport));
	memset(&rest.dport, 0, sizeof(rest.dport));
	memset(rest.iface, 0, sizeof(rest.iface));
	rest.state = 0;
	rest.has_icmp_type = false;
	rest.icmp_type = 0;
	rest.has_icmp_code = false;
	rest.icmp_code = 0;
	/* A payload rule can be shadowed, never a coverer: see the top. */
	rest.payload_len = 0;
	memset(rest.payload, 0, sizeof(rest.payload));
	rest.payload_within = 0;
	/* Likewise a timed rule. */
	rest.timeout_ms = 0;
	/* What does not change which packets match. */
	rest.action = 0;
	rest.log = false;
	rest.log_rate = 0;
	rest.log_burst = 0;
	memset(rest.comment, 0, sizeof(rest.comment));
	rest.handle = 0;
	rest.packets = 0;
	rest.bytes = 0;
	return !memcmp(&rest, &zero, sizeof(rest));
}

/* Copies the first @bits bits of @addr, the rest zero. */
static void mask_addr(uint8_t out[16], const uint8_t addr[16], unsigned int bits)
{
	unsigned int whole = bits / 8;

	memset(out, 0, 16);
	memcpy(out, addr, whole);
	if (bits % 8)
		out[whole] = addr[whole] & (uint8_t)(0xff << (8 - bits % 8));
}

/* An address match of a coverer: absent or /0 asks only for the family. */
static unsigned int addr_len(const struct rule_addr *a)
{
	return a->family ? a->prefix : 0;
}

/* Does @j's address match admit every address @i's admits? */
static bool addr_covers(const struct rule_addr *j, const struct rule_addr *i)
{
	uint8_t jm[16], im[16];

	if (addr_len(j) == 0)
		return true;	/* the family is checked on its own */
	if (i->family != j->family || addr_len(i) < j->prefix)
		return false;
	mask_addr(jm, j->raw, j->prefix);
	mask_addr(im, i->raw, j->prefix);
	return !memcmp(jm, im, sizeof(jm));
}

static bool ports_cover(const struct rule_ports *j, const struct rule_ports *i)
{
	return !j->set || (i->set && j->first <= i->first && i->last <= j->last);
}

static bool state_covers(uint8_t j, uint8_t i)
{
	return !j || (i && !(i & ~j));
}

/**
 * shadow_covers() - does @j match every packet that @i matches?
 * @j: the earlier rule
 * @i: the later rule
 *
 * The order is the caller's business; this compares the matches only.
 *
 * Return: true only if both are understood, @j has no payload match and
 * no timeout, both have the same direction, and each of @j's fields admits
 * all of @i's.
 */
static bool single_covers(const struct rule *j, const struct rule *i);

bool shadow_covers(const struct rule *j, const struct rule *i)
{
	struct rule jc, ic;
	size_t a, b, na, nb;

	if (!j->lists && !i->lists)
		return single_covers(j, i);
	if (!shadow_understood(j) || !shadow_understood(i))
		return false;
	na = combos_of(i);
	nb = combos_of(j);
	for (a = 0; a < na; a++) {
		combo_of(i, a, &ic);
		for (b = 0; b < nb; b++) {
			combo_of(j, b, &jc);
			if (single_covers(&jc, &ic))
				break;
		}
		if (b == nb)
			return false;
	}
	return true;
}

/* shadow_covers() for rules without lists. */
static bool single_covers(const struct rule *j, const struct rule *i)
{
	if (!shadow_understood(j) || !shadow_understood(i) || j->payload_len ||
	    j->timeout_ms)
		return false;
	if (j->dir != i->dir)
		return false;
	if (family_of(j) && family_of(j) != family_of(i))
		return false;
	if (j->has_proto && (!i->has_proto || i->proto != j->proto))
		return false;
	if (!addr_covers(&j->src, &i->src) || !addr_covers(&j->dst, &i->dst))
		return false;
	if (!ports_cover(&j->sport, &i->sport) || !ports_cover(&j->dport, &i->dport))
		return false;
	if (j->iface[0] && strncmp(j->iface, i->iface, sizeof(j->iface)))
		return false;
	if (!state_covers(j->state, i->state))
		return false;
	if (j->has_icmp_type &&
	    (!i->has_icmp_type || i->icmp_type != j->icmp_type))
		return false;
	if (j->has_icmp_code &&
	    (!i->has_icmp_code || i->icmp_code != j->icmp_code))
		return false;
	return true;
}

static uint8_t ports_kind(const struct rule_ports *p)
{
	if (!p->set)
		return PORTS_NONE;
	return p->first == p->last ? PORTS_ONE : PORTS_RANGE;
}

static void shape_of(const struct rule *r, struct shape *s)
{
	memset(s, 0, sizeof(*s));
	s->dir = r->dir;
	s->family = family_of(r);
	s->slen = (uint8_t)addr_len(&r->src);
	s->dlen = (uint8_t)addr_len(&r->dst);
	s->flags = (r->has_proto ? SHAPE_PROTO : 0) |
		   (r->iface[0] ? SHAPE_IFACE : 0) |
		   (r->has_icmp_type ? SHAPE_ICMP_TYPE : 0) |
		   (r->has_icmp_code ? SHAPE_ICMP_CODE : 0);
	s->sport = ports_kind(&r->sport);
	s->dport = ports_kind(&r->dport);
}

/* Could a rule of shape @s (earlier) cover a rule of shape @i? */
static bool shape_may_cover(const struct shape *s, const struct shape *i)
{
	return s->dir == i->dir &&
	       (!s->family || s->family == i->family) &&
	       s->slen <= i->slen && s->dlen <= i->dlen &&
	       !(s->flags & ~i->flags) &&
	       (s->sport == PORTS_NONE || (i->sport != PORTS_NONE &&
					   (s->sport == PORTS_RANGE || i->sport == PORTS_ONE))) &&
	       (s->dport == PORTS_NONE || (i->dport != PORTS_NONE &&
					   (s->dport == PORTS_RANGE || i->dport == PORTS_ONE)));
}

/*
 * The key of @r's values under shape @s, which may be coarser than @r's
 * own: a coverer's key, or the key a covered rule looks up.
 */
static void key_of(const struct rule *r, const struct shape *s, struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->shape = *s;
	if (s->slen)
		mask_addr(k->src, r->src.raw, s->slen);
	if (s->dlen)
		mask_addr(k->dst, r->dst.raw, s->dlen);
	if (s->sport == PORTS_ONE)
		k->sport = r->sport.first;
	if (s->dport == PORTS_ONE)
		k->dport = r->dport.first;
	if (s->flags & SHAPE_PROTO)
		k->proto = r->proto;
	if (s->flags & SHAPE_ICMP_TYPE)
		k->icmp_type = r->icmp_type;
	if (s->flags & SHAPE_ICMP_CODE)
		k->icmp_code = r->icmp_code;
	if (s->flags & SHAPE_IFACE)
		memcpy(k->iface, r->iface, sizeof(k->iface));
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint64_t key_hash(const struct key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < sizeof(*k); i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return mix(h);
}

static uint64_t shape_word(const struct shape *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

static struct slot *slot_find(struct slot *slots, size_t nslots,
			      const struct key *k)
{
	size_t i = key_hash(k) & (nslots - 1);

	while (slots[i].tail != SHADOW_NONE &&
	       memcmp(&slots[i].key, k, sizeof(*k)))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static struct slot *new_slots(size_t n)
{
	struct slot *slots = malloc(n * sizeof(*slots));
	size_t i;

	if (!slots)
		return NULL;
	for (i = 0; i < n; i++)
		slots[i].tail = SHADOW_NONE;
	return slots;
}

/* Keeps the load at most a half. */
static int grow_slots(struct shadow_index *idx)
{
	size_t n = idx->nslots ? idx->nslots * 2 : 1024;
	struct slot *slots = new_slots(n);
	size_t i;

	if (!slots)
		return -1;
	for (i = 0; i < idx->nslots; i++)
		if (idx->slots[i].tail != SHADOW_NONE)
			*slot_find(slots, n, &idx->slots[i].key) = idx->slots[i];
	free(idx->slots);
	idx->slots = slots;
	idx->nslots = n;
	return 0;
}

static size_t *wordmap_slot(const struct wordmap *m, uint64_t word, bool *found)
{
	size_t i = mix(word) & (m->nslots - 1);

	while (m->words[i] && m->words[i] != word + 1)
		i = (i + 1) & (m->nslots - 1);
	*found = m->words[i] != 0;
	return &m->vals[i];
}

/* The index of @word, or SHADOW_NONE. */
static size_t wordmap_get(const struct wordmap *m, uint64_t word)
{
	bool found;
	size_t *val;

	if (!m->nslots)
		return SHADOW_NONE;
	val = wordmap_slot(m, word, &found);
	return found ? *val : SHADOW_NONE;
}

/* Adds @word, which must be new, with @val; keeps the load at most a half. */
static int wordmap_put(struct wordmap *m, uint64_t word, size_t val)
{
	bool found;
	size_t *at;

	if (2 * (m->used + 1) > m->nslots) {
		struct wordmap bigger = { NULL, NULL, m->nslots ? 2 * m->nslots : 64, 0 };
		size_t i;

		bigger.words = calloc(bigger.nslots, sizeof(*bigger.words));
		bigger.vals = calloc(bigger.nslots, sizeof(*bigger.vals));
		if (!bigger.words || !bigger.vals) {
			free(bigger.words);
			free(bigger.vals);
			return -1;
		}
		for (i = 0; i < m->nslots; i++) {
			if (!m->words[i])
				continue;
			at = wordmap_slot(&bigger, m->words[i] - 1, &found);
			*at = m->vals[i];
			bigger.words[at - bigger.vals] = m->words[i];
		}
		bigger.used = m->used;
		free(m->words);
		free(m->vals);
		*m = bigger;
	}
	at = wordmap_slot(m, word, &found);
	*at = val;
	m->words[at - m->vals] = word + 1;
	m->used++;
	return 0;
}

static void wordmap_free(struct wordmap *m)
{
	free(m->words);
	free(m->vals);
}

/* A shape's group: the same shape, any destination length. */
static struct shape group_of(const struct shape *s)
{
	struct shape g = *s;

	g.dlen = 0;
	g.zero = 1;	/* no rule's shape: presence keys stay apart */
	return g;
}

static int add_shape(struct shadow_index *idx, const struct shape *s, size_t pos)
{
	struct shape g = group_of(s);
	size_t group;

	if (wordmap_get(&idx->shape_map, shape_word(s)) != SHADOW_NONE)
		return 0;
	group = wordmap_get(&idx->group_map, shape_word(&g));
	if (group == SHADOW_NONE) {
		if (idx->ngroups == idx->capgroups) {
			size_t cap = idx->capgroups ? idx->capgroups * 2 : 64;
			struct group *groups = reallocarray(idx->groups, cap,
							    sizeof(*groups));

			if (!groups)
				return -1;
			idx->groups = groups;
			idx->capgroups = cap;
		}
		group = idx->ngroups;
		if (wordmap_put(&idx->group_map, shape_word(&g), group))
			return -1;
		idx->groups[group] = (struct group){ 0, 0 };
		idx->ngroups++;
	}
	if (idx->nshapes == idx->capshapes) {
		size_t cap = idx->capshapes ? idx->capshapes * 2 : 64;
		struct shape_seen *shapes = reallocarray(idx->shapes, cap,
							 sizeof(*shapes));

		if (!shapes)
			return -1;
		idx->shapes = shapes;
		idx->capshapes = cap;
	}
	if (wordmap_put(&idx->shape_map, shape_word(s), idx->nshapes))
		return -1;
	idx->shapes[idx->nshapes] = (struct shape_seen){ *s, pos, group };
	idx->nshapes++;
	return 0;
}

/* The presence key of @r's source in the group of shape @s. */
static void presence_key_of(const struct rule *r, const struct shape *s,
			    struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->shape = group_of(s);
	if (s->slen)
		mask_addr(k->src, r->src.raw, s->slen);
}

/* A destination length as a bit of a 64-bit set: 126-128 share one. */
static uint64_t dlen_bit(unsigned int dlen)
{
	return 1ull << (dlen >= 126 ? 63 : dlen / 2);
}

/* Records @dlen under the presence key @k, adding it if need be. */
static int add_presence(struct shadow_index *idx, const struct key *k,
			unsigned int dlen)
{
	struct slot *slot;

	if (2 * (idx->used + 1) > idx->nslots && grow_slots(idx))
		return -1;
	slot = slot_find(idx->slots, idx->nslots, k);
	if (slot->tail == SHADOW_NONE) {
		slot->key = *k;
		slot->dlens = 0;
		slot->tail = 0;
		idx->used++;
	}
	slot->dlens |= dlen_bit(dlen);
	return 0;
}

/**
 * shadow_index_new() - an empty index of earlier rules
 *
 * Return: the index, or NULL when out of memory.
 */
struct shadow_index *shadow_index_new(void)
{
	return calloc(1, sizeof(struct shadow_index));
}

/**
 * shadow_index_free() - release an index
 * @idx: the index, or NULL
 */
void shadow_index_free(struct shadow_index *idx)
{
	if (!idx)
		return;
	free(idx->slots);
	free(idx->nodes);
	free(idx->shapes);
	wordmap_free(&idx->shape_map);
	free(idx->groups);
	wordmap_free(&idx->group_map);
	while (idx->ncombos)
		free(idx->combos[--idx->ncombos]);
	free(idx->combos);
	free(idx);
}

static int index_add_single(struct shadow_index *idx, const struct rule *r, size_t pos);
static size_t index_find_single(struct shadow_index *idx, const struct rule *r);

/**
 * shadow_index_add() - make a rule a candidate coverer of later rules
 * @idx: the index
 * @r: the rule, which must stay where it is while @idx is used (the
 *	combinations of a list rule are copies the index keeps)
 * @pos: its position; each call's must be larger than the one before
 *
 * A rule that shadow_covers() would not take as a coverer (not understood,
 * or with a payload) is left out.
 *
 * Return: 0, or -1 when out of memory.
 */
int shadow_index_add(struct shadow_index *idx, const struct rule *r, size_t pos)
{
	struct rule *combos;
	size_t n, k;

	if (!r->lists)
		return index_add_single(idx, r, pos);
	if (!shadow_understood(r) || r->payload_len)
		return 0;
	if (idx->ncombos == idx->capcombos) {
		size_t cap = idx->capcombos ? idx->capcombos * 2 : 64;
		struct rule **more = reallocarray(idx->combos, cap, sizeof(*more));

		if (!more)
			return -1;
		idx->combos = more;
		idx->capcombos = cap;
	}
	n = combos_of(r);
	combos = calloc(n, sizeof(*combos));
	if (!combos)
		return -1;
	idx->combos[idx->ncombos++] = combos;
	for (k = 0; k < n; k++) {
		combo_of(r, k, &combos[k]);
		if (index_add_single(idx, &combos[k], pos))
			return -1;
	}
	return 0;
}

/**
 * shadow_index_find() - the earliest indexed rule that covers @r
 * @idx: the index
 * @r: the rule, which must come after every indexed rule
 *
 * Return: the position given to shadow_index_add() of the earliest rule
 * that covers @r (for a rule with lists, the one rule that is the earliest
 * coverer of each of its combinations), or SHADOW_NONE if none does or @r
 * is not understood.
 */
size_t shadow_index_find(struct shadow_index *idx, const struct rule *r)
{
	size_t n, k, by, first = SHADOW_NONE;
	struct rule one;

	if (!r->lists)
		return index_find_single(idx, r);
	if (!shadow_understood(r))
		return SHADOW_NONE;
	n = combos_of(r);
	for (k = 0; k < n; k++) {
		combo_of(r, k, &one);
		by = index_find_single(idx, &one);
		if (by == SHADOW_NONE || (k && by != first))
			return SHADOW_NONE;
		first = by;
	}
	return first;
}

static int index_add_single(struct shadow_index *idx, const struct rule *r, size_t pos)
{
	struct shape s;
	struct slot *slot;
	struct key k;

	if (!shadow_understood(r) || r->payload_len || r->timeout_ms)
		return 0;
	shape_of(r, &s);
	if (2 * (idx->used + 1) > idx->nslots && grow_slots(idx))
		return -1;
	if (idx->nnodes == idx->capnodes) {
		size_t cap = idx->capnodes ? idx->capnodes * 2 : 1024;
		struct node *nodes = reallocarray(idx->nodes, cap, sizeof(*nodes));

		if (!nodes)
			return -1;
		idx->nodes = nodes;
		idx->capnodes = cap;
	}
	if (add_shape(idx, &s, pos))
		return -1;
	presence_key_of(r, &s, &k);
	if (add_presence(idx, &k, s.dlen))
		return -1;
	key_of(r, &s, &k);
	if (2 * (idx->used + 1) > idx->nslots && grow_slots(idx))
		return -1;
	idx->nodes[idx->nnodes] = (struct node){ r, pos, SHADOW_NONE };
	slot = slot_find(idx->slots, idx->nslots, &k);
	if (slot->tail == SHADOW_NONE) {
		slot->key = k;
		slot->head = idx->nnodes;
		idx->used++;
	} else {
		idx->nodes[slot->tail].next = idx->nnodes;
	}
	slot->tail = idx->nnodes;
	idx->nnodes++;
	return 0;
}

/* The fields outside the key: port ranges and states. */
static bool rest_covers(const struct rule *j, const struct rule *i)
{
	return (ports_kind(&j->sport) != PORTS_RANGE || ports_cover(&j->sport, &i->sport)) &&
	       (ports_kind(&j->dport) != PORTS_RANGE || ports_cover(&j->dport, &i->dport)) &&
	       state_covers(j->state, i->state);
}

/* shadow_index_find() for a rule without lists. */
static size_t index_find_single(struct shadow_index *idx, const struct rule *r)
{
	size_t best = SHADOW_NONE;
	struct shape own;
	size_t s;

	if (!idx->nslots || !shadow_understood(r))
		return SHADOW_NONE;
	shape_of(r, &own);
	/* A new query: every group's memo is stale (wraps after 4e9 calls). */
	if (++idx->query == 0) {
		for (s = 0; s < idx->ngroups; s++)
			idx->groups[s].seen = 0;
		idx->query = 1;
	}
	for (s = 0; s < idx->nshapes && idx->shapes[s].first < best; s++) {
		const struct shape *shape = &idx->shapes[s].shape;
		struct group *group = &idx->groups[idx->shapes[s].group];
		const struct slot *slot;
		struct key k;
		size_t n;

		if (!shape_may_cover(shape, &own))
			continue;
		if (group->seen != idx->query) {
			presence_key_of(r, shape, &k);
			slot = slot_find(idx->slots, idx->nslots, &k);
			group->seen = idx->query;
			group->dlens = slot->tail != SHADOW_NONE ? slot->dlens : 0;
		}
		if (!(group->dlens & dlen_bit(shape->dlen)))
			continue;
		key_of(r, shape, &k);
		slot = slot_find(idx->slots, idx->nslots, &k);
		for (n = slot->tail == SHADOW_NONE ? SHADOW_NONE : slot->head;
		     n != SHADOW_NONE && idx->nodes[n].pos < best;
		     n = idx->nodes[n].next) {
			if (rest_covers(idx->nodes[n].rule, r)) {
				best = idx->nodes[n].pos;
				break;
			}
		}
	}
	return best;
}

/**
 * shadow_check() - report every rule that an earlier one covers
 * @rules: the table, in list order (both directions)
 * @count: how many
 * @report: called for each shadowed rule, in list order, with the
 *          earliest rule that covers it
 * @data: passed to @report
 *
 * Return: the number of shadowed rules, or -1 when out of memory.
 */
int shadow_check(const struct rule *rules, size_t count,
		 shadow_report_fn report, void *data)
{
	struct shadow_index *idx = shadow_index_new();
	int found = 0;
	size_t i;

	if (!idx)
		return -1;
	for (i = 0; i < count; i++) {
		size_t by = shadow_index_find(idx, &rules[i]);

		if (by != SHADOW_NONE) {
			report(i, by, data);
			found++;
		} else if (shadow_index_add(idx, &rules[i], i)) {
			found = -1;
			break;
		}
	}
	shadow_index_free(idx);
	return found;
}

/**
 * shadow_check_one() - what a rule just added or inserted changes
 * @rules: the table, in list order, with the new rule
 * @count: how many
 * @pos: the new rule's index in @rules
 * @report: as for shadow_check(): once if the new rule is shadowed, else
 *          once for each later rule whose earliest coverer it now is
 * @data: passed to @report
 *
 * The same answers as shadow_check() restricted to the rule at @pos,
 * cheaper: the earlier rules are scanned once, and indexed only when the
 * new rule covers a later one, to learn whether that one was shadowed
 * already.
 *
 * Return: the number of reports, or -1 when out of memory.
 */
int shadow_check_one(const struct rule *rules, size_t count, size_t pos,
		     shadow_report_fn report, void *data)
{
	const struct rule *r = &rules[pos];
	struct shadow_index *idx = NULL;
	int found = 0;
	size_t i;

	if (pos >= count || !shadow_understood(r))
		return 0;
	for (i = 0; i < pos; i++) {
		if (shadow_covers(&rules[i], r)) {
			report(pos, i, data);
			return 1;
		}
	}
	if (r->payload_len)
		return 0;
	for (i = pos + 1; i < count; i++) {
		if (!shadow_covers(r, &rules[i]))
			continue;
		if (!idx) {
			size_t e;

			idx = shadow_index_new();
			if (!idx)
				return -1;
			/* The earlier rules, as shadow_check() would index them. */
			for (e = 0; e < pos; e++) {
				if (shadow_index_find(idx, &rules[e]) == SHADOW_NONE &&
				    shadow_index_add(idx, &rules[e], e)) {
					shadow_index_free(idx);
					return -1;
				}
			}
		}
		if (shadow_index_find(idx, &rules[i]) == SHADOW_NONE) {
			report(i, pos, data);
			found++;
		}
	}
	shadow_index_free(idx);
	return found;
}
