// SPDX-License-Identifier: GPL-2.0
/*
 * rulegen: the rule sets of the kfw benchmark, one set in four syntaxes.
 *
 *   rulegen FORMAT N [SEED [overlap]]
 *
 * prints N rules, deterministic from SEED (default 1), as FORMAT:
 *
 *   fwctl      input of `fwctl restore`
 *   iptables   input of `iptables-legacy-restore` (table filter, chain INPUT)
 *   nft-chain  an `nft -f` script: one linear chain at hook input
 *   nft-set    an `nft -f` script: one interval map of verdicts keyed on
 *              ip saddr . ip daddr . meta l4proto . th dport (pipapo)
 *
 * Every rule drops incoming IPv4 tcp or udp (even odds) from a source prefix
 * inside 198.18.0.0/15 of length uniform in /16-/32, with even odds also to a
 * destination prefix there of the same kind of length, to a destination port
 * that is a single port or a range (even odds) inside 1024-60999.
 *
 * No two rules share a source prefix, and no two rules overlap: no packet
 * matches more than one. nf_tables refuses overlapping elements of a
 * concatenated interval set, so a rule set that every implementation takes
 * whole must be free of them; it also makes the order of the rules
 * irrelevant. A candidate that repeats a source prefix or overlaps a rule
 * already drawn is dropped and another drawn, so the first N rules of a seed
 * are the same whatever N: each set is the head of the larger ones.
 *
 * With "overlap" the rules are drawn alike but kept all: sources repeat
 * and nest, and every destination port is a range. A packet from inside the
 * /15 then lies inside the source prefix of a share of all the rules that
 * does not shrink as N grows, as in real rule sets, where many rules name
 * the same networks. nft-set refuses such a set; the others take it.
 *
 * Rule lookups are fast because the source prefixes live in a complete binary
 * tree over the 17 bits below the /15: the rules whose source overlaps a
 * candidate's are on the path from the root to its node (at most 17) and in
 * its subtree, which a count of rules per subtree lets the search skip when
 * empty.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE		0xc6120000u	/* 198.18.0.0 */
#define BASE_LEN	15
#define DEPTH		(32 - BASE_LEN)	/* prefix lengths /16 to /32 below the /15 */
#define NODES		(1u << (DEPTH + 1))
#define MAX_RULES	200000
#define PORT_MIN	1024
#define PORT_MAX	60999

struct rule {
	uint32_t src, dst;
	uint8_t slen, dlen;	/* dlen 0: no destination */
	uint8_t proto;		/* 6 or 17 */
	uint16_t plo, phi;
};

static struct rule rules[MAX_RULES];
static int32_t owner[NODES];	/* rule index at each source prefix, or -1 */
static uint32_t under[NODES];	/* rules in each subtree */

static uint64_t state;
static bool overlapping;

/* splitmix64: good enough, and the same everywhere. */
static uint64_t next(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t uniform(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(next() % ((uint64_t)hi - lo + 1));
}

static uint32_t mask(unsigned int len)
{
	return len ? ~0u << (32 - len) : 0;
}

/* The tree node of prefix @addr/@len, /15 being the root (1). */
static uint32_t node_of(uint32_t addr, unsigned int len)
{
	unsigned int depth = len - BASE_LEN;

	return (1u << depth) | ((addr - BASE) >> (32 - len));
}

static void prefix(uint32_t *addr, uint8_t *len)
{
	*len = uniform(BASE_LEN + 1, 32);
	*addr = (BASE | (uint32_t)(next() & ~mask(BASE_LEN))) & mask(*len);
}

/* Do @a and @b match a common packet? Their sources are known to overlap. */
static bool overlap(const struct rule *a, const struct rule *b)
{
	unsigned int len;

	if (a->proto != b->proto || a->plo > b->phi || b->plo > a->phi)
		return false;
	if (!a->dlen || !b->dlen)
		return true;
	len = a->dlen < b->dlen ? a->dlen : b->dlen;
	return !((a->dst ^ b->dst) & mask(len));
}

/* Does a rule in the subtree of @node, below depth @depth, overlap @r? */
static bool overlaps_below(uint32_t node, unsigned int depth, const struct rule *r)
{
	if (!under[node])
		return false;
	if (owner[node] >= 0 && overlap(&rules[owner[node]], r))
		return true;
	if (depth == DEPTH)
		return false;
	return overlaps_below(2 * node, depth + 1, r) ||
	       overlaps_below(2 * node + 1, depth + 1, r);
}

static void draw(struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->proto = next() & 1 ? 6 : 17;
	prefix(&r->src, &r->slen);
	if (next() & 1)
		prefix(&r->dst, &r->dlen);
	r->plo = uniform(PORT_MIN, PORT_MAX);
	r->phi = r->plo;
	if (overlapping || (next() & 1)) {
		while (r->phi == r->plo)
			r->phi = uniform(PORT_MIN, PORT_MAX);
		if (r->phi < r->plo) {
			uint16_t t = r->plo;

			r->plo = r->phi;
			r->phi = t;
		}
	}
}

/* Add rule @r as number @i, or say why not. */
static bool place(const struct rule *r, int32_t i)
{
	uint32_t node = node_of(r->src, r->slen), n;

	if (owner[node] >= 0)
		return false;
	for (n = node >> 1; n; n >>= 1)
		if (owner[n] >= 0 && overlap(&rules[owner[n]], r))
			return false;
	if (overlaps_below(node, r->slen - BASE_LEN, r))
		return false;
	owner[node] = i;
	for (n = node; n; n >>= 1)
		under[n]++;
	return true;
}

static void generate(long count)
{
	unsigned long tries = 0;
	long i;

	memset(owner, 0xff, sizeof(owner));
	for (i = 0; i < count; i++) {
		do {
			if (++tries > 1000ul * MAX_RULES) {
				fprintf(stderr, "rulegen: gave up after %ld rules\n", i);
				exit(1);
			}
			draw(&rules[i]);
		} while (!overlapping && !place(&rules[i], (int32_t)i));
	}
}

static const char *ip(uint32_t a, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

static const char *proto_name(const struct rule *r)
{
	return r->proto == 6 ? "tcp" : "udp";
}

static void print_fwctl(long count)
{
	char s[16], d[16];
	long i;

	printf("# rulegen fwctl %ld\npolicy in accept\npolicy out accept\n", count);
	for (i = 0; i < count; i++) {
		const struct rule *r = &rules[i];

		printf("add in drop proto %s src %s/%u", proto_name(r), ip(r->src, s), r->slen);
		if (r->dlen)
			printf(" dst %s/%u", ip(r->dst, d), r->dlen);
		if (r->plo == r->phi)
			printf(" dport %u\n", r->plo);
		else
			printf(" dport %u-%u\n", r->plo, r->phi);
	}
}

static void print_iptables(long count)
{
	char s[16], d[16];
	long i;

	printf("# rulegen iptables %ld\n*filter\n:INPUT ACCEPT [0:0]\n"
	       ":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n", count);
	for (i = 0; i < count; i++) {
		const struct rule *r = &rules[i];

		printf("-A INPUT -s %s/%u", ip(r->src, s), r->slen);
		if (r->dlen)
			printf(" -d %s/%u", ip(r->dst, d), r->dlen);
		printf(" -p %s -m %s --dport %u", proto_name(r), proto_name(r), r->plo);
		if (r->plo != r->phi)
			printf(":%u", r->phi);
		printf(" -j DROP\n");
	}
	printf("COMMIT\n");
}

static void print_nft_chain(long count)
{
	char s[16], d[16];
	long i;

	printf("# rulegen nft-chain %ld\ntable ip kfwbench {\n\tchain input {\n"
	       "\t\ttype filter hook input priority filter; policy accept;\n", count);
	for (i = 0; i < count; i++) {
		const struct rule *r = &rules[i];

		printf("\t\tip saddr %s/%u", ip(r->src, s), r->slen);
		if (r->dlen)
			printf(" ip daddr %s/%u", ip(r->dst, d), r->dlen);
		printf(" %s dport %u", proto_name(r), r->plo);
		if (r->plo != r->phi)
			printf("-%u", r->phi);
		printf(" drop\n");
	}
	printf("\t}\n}\n");
}

/* Elements go in chunks: one huge line is hard on nft's parser and on eyes. */
#define CHUNK 1000

static void print_nft_set(long count)
{
	char s[16], d[16];
	long i;

	printf("# rulegen nft-set %ld\ntable ip kfwbench {\n"
	       "\tmap rules {\n"
	       "\t\ttype ipv4_addr . ipv4_addr . inet_proto . inet_service : verdict\n"
	       "\t\tflags interval\n\t}\n"
	       "\tchain input {\n"
	       "\t\ttype filter hook input priority filter; policy accept;\n"
	       "\t\tip saddr . ip daddr . meta l4proto . th dport vmap @rules\n"
	       "\t}\n}\n", count);
	for (i = 0; i < count; i++) {
		const struct rule *r = &rules[i];

		if (i % CHUNK == 0)
			printf("add element ip kfwbench rules {");
		printf(" %s/%u . %s/%u . %u . %u", ip(r->src, s), r->slen,
		       ip(r->dst, d), r->dlen, r->proto, r->plo);
		if (r->plo != r->phi)
			printf("-%u", r->phi);
		printf(" : drop%s", i % CHUNK == CHUNK - 1 || i == count - 1 ? " }\n" : ",");
	}
}

static const struct {
	const char *name;
	void (*print)(long count);
} formats[] = {
	{ "fwctl", print_fwctl },
	{ "iptables", print_iptables },
	{ "nft-chain", print_nft_chain },
	{ "nft-set", print_nft_set },
};

int main(int argc, char **argv)
{
	char *end;
	long count;
	size_t i;

	if (argc < 3 || argc > 5 || (argc == 5 && strcmp(argv[4], "overlap"))) {
		fprintf(stderr, "Usage: rulegen fwctl|iptables|nft-chain|nft-set N [SEED [overlap]]\n");
		return 2;
	}
	overlapping = argc == 5;
	count = strtol(argv[2], &end, 10);
	if (*end || end == argv[2] || count < 0 || count > MAX_RULES) {
		fprintf(stderr, "rulegen: invalid rule count '%s'\n", argv[2]);
		return 2;
	}
	state = argc >= 4 ? strtoull(argv[3], NULL, 10) : 1;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!strcmp(argv[1], formats[i].name)) {
			generate(count);
			formats[i].print(count);
			return ferror(stdout) ? 1 : 0;
		}
	}
	fprintf(stderr, "rulegen: unknown format '%s'\n", argv[1]);
	return 2;
}
