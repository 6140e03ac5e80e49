// SPDX-License-Identifier: GPL-2.0
/*
 * classbench: kfw_cls on the ClassBench rule sets (../shared/classbench/, or
 * CLASSBENCH_DIR): every expected answer checked, and the cost measured.
 *
 * Usage: classbench [-t] SET...
 *
 * SET names files SET.rules.xz, SET.trace.xz and SET.expect.xz (acl1-100000,
 * say, or a path to them without the suffix). For each set the rules go, in
 * list order, into an unpublished classifier as a restore builds it; the
 * classifier is published; every trace packet is looked up and its answer
 * compared with the expected one (the first matching rule's number, 0 for
 * none). Then it prints
 *
 *	CLASSBENCH set=S rules=N packets=P mismatches=M lookup_ns=X
 *		bytes_per_rule=B build_ms=T insert_us=I remove_us=R
 *
 * lookup_ns is the median, over 7 rounds, of the mean time of a lookup of
 * the whole trace in its order; insert_us and remove_us the median time of
 * one insertion into the published classifier (a rule of the set, again,
 * at a priority of its own: last, first or in between) and of its removal,
 * over 200 of each.
 *
 * With -t it is a test: only the answers are checked, and the last line is
 * "classbench: N passed, N failed", one test per set. A mismatch prints the
 * packet and both rules.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS		7
#define CHANGES		200

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "classbench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static void *grow(void *array, size_t *cap, size_t size)
{
	*cap = *cap ? *cap * 2 : 1024;
	array = realloc(array, *cap * size);
	if (!array)
		die("no memory for %s", "the set");
	return array;
}

/* The lines of FILE.xz, through xzcat; NULL when there are no more. */
struct reader {
	FILE *pipe;
	char *line;
	size_t cap;
	unsigned int number;
	char path[4096];
};

static void reader_open(struct reader *r, const char *set, const char *kind)
{
	char command[4200];

	snprintf(r->path, sizeof(r->path), "%s.%s.xz", set, kind);
	if (strchr(r->path, '\'') || access(r->path, R_OK))
		die("cannot read %s", r->path);
	snprintf(command, sizeof(command), "xzcat '%s'", r->path);
	r->pipe = popen(command, "r");
	if (!r->pipe)
		die("cannot run xzcat on %s", r->path);
	r->line = NULL;
	r->cap = 0;
	r->number = 0;
}

static char *reader_next(struct reader *r)
{
	ssize_t len = getline(&r->line, &r->cap, r->pipe);

	if (len < 0)
		return NULL;
	r->number++;
	if (len && r->line[len - 1] == '\n')
		r->line[len - 1] = '\0';
	return r->line;
}

static void reader_close(struct reader *r)
{
	free(r->line);
	if (pclose(r->pipe))
		die("xzcat failed on %s", r->path);
}

static void bad_line(const struct reader *r, const char *token)
{
	fprintf(stderr, "classbench: %s line %u: cannot read '%s'\n", r->path,
		r->number, token);
	exit(2);
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && end != s && !*end && *v <= max;
}

static bool parse_prefix(char *s, union nf_inet_addr *addr,
			 union nf_inet_addr *mask, u8 *len)
{
	char *slash = strchr(s, '/');
	unsigned long bits;

	if (!slash || !parse_uint(slash + 1, 32, &bits))
		return false;
	*slash = '\0';
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, s, &addr->ip) != 1)
		return false;
	*len = bits;
	kfw_match_prefix_mask(mask, NFPROTO_IPV4, *len);
	addr->ip &= mask->ip;
	return true;
}

static bool parse_ports(char *s, struct kfw_port_range *range)
{
	char *dash = strchr(s, '-');
	unsigned long first, last;

	if (dash)
		*dash = '\0';
	if (!parse_uint(s, 65535, &first) ||
	    (dash && !parse_uint(dash + 1, 65535, &last)))
		return false;
	range->first = first;
	range->last = dash ? last : first;
	return range->first <= range->last;
}

static bool parse_proto(const char *s, u8 *proto)
{
	unsigned long v;

	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcmp(s, "icmp"))
		*proto = IPPROTO_ICMP;
	else if (parse_uint(s, 255, &v))
		*proto = v;
	else
		return false;
	return true;
}

/* One "add in drop ..." line of a set's rules into @m. */
static void parse_rule(struct reader *r, char *line, struct kfw_match *m)
{
	char *save, *key, *value;

	memset(m, 0, sizeof(*m));
	m->family = NFPROTO_IPV4;
	key = strtok_r(line, " ", &save);
	if (!key || strcmp(key, "add"))
		bad_line(r, key ? key : "");
	key = strtok_r(NULL, " ", &save);
	if (!key || strcmp(key, "in"))
		bad_line(r, key ? key : "");
	key = strtok_r(NULL, " ", &save);
	if (!key || strcmp(key, "drop"))
		bad_line(r, key ? key : "");
	while ((key = strtok_r(NULL, " ", &save))) {
		value = strtok_r(NULL, " ", &save);
		if (!value)
			bad_line(r, key);
		if (!strcmp(key, "proto") && parse_proto(value, &m->proto))
			m->fields |= KFW_MATCH_PROTO;
		else if (!strcmp(key, "src") &&
			 parse_prefix(value, &m->src, &m->src_mask, &m->src_prefix))
			m->fields |= KFW_MATCH_SRC;
		else if (!strcmp(key, "dst") &&
			 parse_prefix(value, &m->dst, &m->dst_mask, &m->dst_prefix))
			m->fields |= KFW_MATCH_DST;
		else if (!strcmp(key, "sport") && parse_ports(value, &m->sport))
			m->fields |= KFW_MATCH_SPORT;
		else if (!strcmp(key, "dport") && parse_ports(value, &m->dport))
			m->fields |= KFW_MATCH_DPORT;
		else
			bad_line(r, value);
	}
}

/* "SRC DST SPORT DPORT PROTO", addresses as host-order numbers. */
static void parse_packet(struct reader *r, const char *line,
			 struct kfw_packet *pkt)
{
	unsigned long src, dst, sport, dport, proto;
	char extra;

	if (sscanf(line, "%lu %lu %lu %lu %lu %c", &src, &dst, &sport, &dport,
		   &proto, &extra) != 5 || src > U32_MAX || dst > U32_MAX ||
	    sport > 65535 || dport > 65535 || proto > 255)
		bad_line(r, line);
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = NFPROTO_IPV4;
	pkt->has_proto = true;
	pkt->proto = proto;
	/* ClassBench gives ports to TCP and UDP only, as the kernel reads them. */
	pkt->has_ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP;
	if (pkt->has_ports) {
		pkt->sport = sport;
		pkt->dport = dport;
	}
	pkt->src.ip = htonl(src);
	pkt->dst.ip = htonl(dst);
}

struct set {
	const char *name;
	struct kfw_match *rules;
	size_t nr_rules;
	struct kfw_packet *packets;
	unsigned int *expect;
	size_t nr_packets;
};

static void load(struct set *s, const char *name)
{
	struct reader r;
	size_t cap = 0, expect_cap = 0, nr_expect = 0;
	unsigned long v;
	char *line;

	memset(s, 0, sizeof(*s));
	s->name = name;
	reader_open(&r, name, "rules");
	while ((line = reader_next(&r))) {
		if (line[0] == '#' || !line[0])
			continue;
		if (s->nr_rules == cap)
			s->rules = grow(s->rules, &cap, sizeof(*s->rules));
		parse_rule(&r, line, &s->rules[s->nr_rules++]);
	}
	reader_close(&r);

	cap = 0;
	reader_open(&r, name, "trace");
	while ((line = reader_next(&r))) {
		if (s->nr_packets == cap)
			s->packets = grow(s->packets, &cap, sizeof(*s->packets));
		parse_packet(&r, line, &s->packets[s->nr_packets++]);
	}
	reader_close(&r);

	reader_open(&r, name, "expect");
	while ((line = reader_next(&r))) {
		if (!parse_uint(line, s->nr_rules, &v))
			bad_line(&r, line);
		if (nr_expect == expect_cap)
			s->expect = grow(s->expect, &expect_cap, sizeof(*s->expect));
		s->expect[nr_expect++] = v;
	}
	reader_close(&r);
	if (nr_expect != s->nr_packets)
		die("%s: the trace and the expected answers differ in length", name);
}

/* Rule i (0-based) has priority PRIO(i): room for insertions in between. */
#define PRIO(i)		(((u64)(i) + 1) << 20)

static unsigned int answer(const struct set *s, const struct kfw_match *m)
{
	return m ? m - s->rules + 1 : 0;
}

static struct kfw_cls *build(const struct set *s, u64 *ns)
{
	struct kfw_cls *cls = kfw_cls_create();
	u64 start = harness_now_ns();
	size_t i;

	if (!cls)
		die("no memory for %s", "the classifier");
	for (i = 0; i < s->nr_rules; i++)
		if (kfw_cls_insert(cls, &s->rules[i], PRIO(i)))
			die("%s: an insertion failed", s->name);
	*ns = harness_now_ns() - start;
	kfw_cls_publish(cls);
	return cls;
}

static unsigned long check(const struct set *s, const struct kfw_cls *cls)
{
	unsigned long mismatches = 0;
	size_t i;

	for (i = 0; i < s->nr_packets; i++) {
		const struct kfw_match *got = kfw_cls_lookup(cls, &s->packets[i]);
		unsigned int want = s->expect[i];

		if (answer(s, got) == want)
			continue;
		if (mismatches++ < 5) {
			fprintf(stderr, "classbench: %s packet %zu: rule %u, expected %u\n",
				s->name, i + 1, answer(s, got), want);
			harness_print_packet(stderr, &s->packets[i]);
			harness_print_match(stderr, "got", got, got ? PRIO(answer(s, got) - 1) : 0);
			harness_print_match(stderr, "expected",
					    want ? &s->rules[want - 1] : NULL,
					    want ? PRIO(want - 1) : 0);
		}
	}
	return mismatches;
}

static int compare_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 median(u64 *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_u64);
	return v[n / 2];
}

/* Keeps the compiler from dropping lookups whose answer nobody reads. */
static volatile unsigned long sink;

static double lookup_ns(const struct set *s, const struct kfw_cls *cls)
{
	u64 rounds[ROUNDS];
	unsigned long found;
	unsigned int round;
	size_t i;

	for (round = 0; round < ROUNDS; round++) {
		u64 start = harness_now_ns();

		found = 0;
		for (i = 0; i < s->nr_packets; i++)
			found += (unsigned long)kfw_cls_lookup(cls, &s->packets[i]);
		rounds[round] = harness_now_ns() - start;
		sink += found;
	}
	return (double)median(rounds, ROUNDS) / s->nr_packets;
}

/*
 * One rule of the set inserted again, at a priority of its own, and
 * removed: the cost of fwctl insert and del at this size, in the classifier.
 */
static void changes(const struct set *s, struct kfw_cls *cls, double *insert_us,
		    double *remove_us)
{
	u64 inserts[CHANGES], removes[CHANGES];
	unsigned int i;

	for (i = 0; i < CHANGES; i++) {
		size_t at = (size_t)i * 7919 % s->nr_rules;
		u64 prio = i % 3 == 0 ? PRIO(s->nr_rules) :
			   i % 3 == 1 ? PRIO(0) / 2 : PRIO(at) + 1;
		u64 start = harness_now_ns();

		if (kfw_cls_insert(cls, &s->rules[at], prio))
			die("%s: an insertion into the published classifier failed",
			    s->name);
		inserts[i] = harness_now_ns() - start;
		start = harness_now_ns();
		kfw_cls_remove(cls, &s->rules[at], prio);
		removes[i] = harness_now_ns() - start;
	}
	*insert_us = median(inserts, CHANGES) / 1000.0;
	*remove_us = median(removes, CHANGES) / 1000.0;
}

int main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0;
	bool test = argc > 1 && !strcmp(argv[1], "-t");
	int i;

	if (argc < 2 + test) {
		fprintf(stderr, "Usage: classbench [-t] SET...\n");
		return 2;
	}
	for (i = 1 + test; i < argc; i++) {
		struct kfw_cls_stats stats;
		unsigned long mismatches;
		struct kfw_cls *cls;
		double ins, rem;
		struct set s;
		u64 build_ns;

		load(&s, argv[i]);
		cls = build(&s, &build_ns);
		mismatches = check(&s, cls);
		if (test) {
			printf("%s %u %s: %zu rules, %zu packets, %lu mismatches\n",
			       mismatches ? "not ok" : "ok", passed + failed + 1,
			       argv[i], s.nr_rules, s.nr_packets, mismatches);
		} else {
			double ns = lookup_ns(&s, cls);

			kfw_cls_stats(cls, &stats);
			changes(&s, cls, &ins, &rem);
			printf("CLASSBENCH set=%s rules=%zu packets=%zu mismatches=%lu lookup_ns=%.1f bytes_per_rule=%.0f build_ms=%.1f insert_us=%.2f remove_us=%.2f\n",
			       argv[i], s.nr_rules, s.nr_packets, mismatches, ns,
			       (double)stats.bytes / s.nr_rules, build_ns / 1e6,
			       ins, rem);
		}
		fflush(stdout);
		mismatches ? failed++ : passed++;
		kfw_cls_destroy(cls);
		free(s.rules);
		free(s.packets);
		free(s.expect);
	}
	if (test)
		printf("classbench: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
