// SPDX-License-Identifier: GPL-2.0
/*
 * classifier_bench: the cost of a lookup on the host, kfw_cls against the
 * linear scan it replaces, over the benchmark rule set of classify_gen.c
 * (rules in 198.18.0.0/15, TCP or UDP, destination ports 1024-60999).
 *
 * Usage: classifier_bench [RULES]...
 *        classifier_bench -c RULES LOOKUPS probe|inside
 *
 * The first form times, for each number of rules (default 0 100 1000 10000
 * 100000), the median of several batches of lookups of packets no rule
 * matches (UDP to port 7, the worst case for the linear scan) and of
 * packets made from the rules, and prints for each
 *
 *	BENCH impl=kfw-native rules=N cost_ns=X            (the probes)
 *	BENCH impl=linear-native rules=N cost_ns=X
 *	BENCH-NATIVE impl=kfw-native rules=N traffic=inside cost_ns=X
 *	BENCH-NATIVE impl=linear-native rules=N traffic=inside cost_ns=X
 *	BENCH-NATIVE impl=kfw-native rules=N build_ns_per_rule=X bytes_per_rule=X ...
 *
 * The second form builds RULES rules and makes LOOKUPS lookups of one kind
 * of packet, for counting instructions under callgrind (callgrind.sh).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PACKETS		4096
#define BATCHES		15
#define SEED		20261125

/* Keeps the compiler from dropping lookups whose answer nobody reads. */
static volatile unsigned long sink;

struct bench {
	struct kfw_gen_set set;
	struct kfw_cls *cls;
	struct kfw_packet probe[PACKETS];
	struct kfw_packet inside[PACKETS];
	u64 build_ns;
	void *mem;
};

static void die(const char *what)
{
	fprintf(stderr, "classifier_bench: %s\n", what);
	exit(1);
}

static void print_cpu(void)
{
	FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
	char line[256], *model = NULL;

	while (cpuinfo && fgets(line, sizeof(line), cpuinfo)) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			model = strchr(line, ':') + 2;
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (cpuinfo)
		fclose(cpuinfo);
	printf("BENCH-NATIVE cpu=\"%s\"\n", model ? model : "unknown");
}

static void build(struct bench *b, unsigned int rules)
{
	struct kfw_gen_bench gen;
	struct kfw_gen pkts;
	struct kfw_match match;
	unsigned int i;
	u64 start;

	b->mem = malloc(kfw_gen_set_bytes(rules ? rules : 1));
	if (!b->mem)
		die("no memory for the rules");
	kfw_gen_set_init(&b->set, b->mem, rules);
	kfw_gen_bench_init(&gen, SEED);
	for (i = 0; i < rules; i++) {
		kfw_gen_bench_rule(&gen, &match);
		if (!kfw_gen_set_add(&b->set, &match, i))
			die("the rule list is full");
	}

	/* The rules are in list order, as a table replace inserts them. */
	start = harness_now_ns();
	b->cls = kfw_cls_create();
	if (!b->cls)
		die("kfw_cls_create failed");
	for (i = 0; i < rules; i++)
		if (kfw_cls_insert(b->cls, kfw_gen_set_at(&b->set, i), i))
			die("kfw_cls_insert failed");
	kfw_cls_publish(b->cls);
	b->build_ns = harness_now_ns() - start;

	kfw_gen_seed(&pkts, SEED + rules);
	for (i = 0; i < PACKETS; i++) {
		kfw_gen_bench_probe(&pkts, &b->probe[i]);
		if (rules)
			kfw_gen_bench_packet(&pkts, kfw_gen_set_any(&pkts, &b->set),
					     &b->inside[i]);
		else
			kfw_gen_bench_probe(&pkts, &b->inside[i]);
	}
}

static void teardown(struct bench *b)
{
	kfw_cls_destroy(b->cls);
	free(b->mem);
}

/* Both lookups agree on (up to @max of) the packets, and the probes miss. */
static void verify(const struct bench *b, unsigned int max)
{
	unsigned int i, step = PACKETS / min(max, (unsigned int)PACKETS);

	for (i = 0; i < PACKETS; i += step) {
		if (!harness_check(b->cls, &b->set, &b->probe[i], NULL) ||
		    !harness_check(b->cls, &b->set, &b->inside[i], NULL))
			die("kfw_cls and the linear scan disagree");
		if (kfw_cls_lookup(b->cls, &b->probe[i]))
			die("a probe packet matched a rule");
	}
}

static int compare_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median ns per lookup over BATCHES batches of @per_batch packets. */
static double time_lookups(const struct bench *b, const struct kfw_packet *pkts,
			   bool linear, unsigned int per_batch)
{
	u64 ns[BATCHES], start;
	unsigned int batch, i, next = 0;
	unsigned long acc = 0;

	for (batch = 0; batch <= BATCHES; batch++) {
		start = harness_now_ns();
		for (i = 0; i < per_batch; i++, next = (next + 1) % PACKETS)
			acc += (unsigned long)(linear ?
				kfw_gen_set_lookup(&b->set, &pkts[next]) :
				kfw_cls_lookup(b->cls, &pkts[next]));
		/* The first batch warms the caches and is not counted. */
		if (batch)
			ns[batch - 1] = harness_now_ns() - start;
	}
	sink += acc;
	qsort(ns, BATCHES, sizeof(ns[0]), compare_u64);
	return (double)ns[BATCHES / 2] / per_batch;
}

static void bench(unsigned int rules)
{
	struct kfw_cls_stats stats;
	unsigned int linear_batch;
	struct bench *b;

	b = calloc(1, sizeof(*b));
	if (!b)
		die("no memory");
	build(b, rules);
	verify(b, rules > 10000 ? 64 : PACKETS);
	kfw_cls_stats(b->cls, &stats);

	/* The linear scan gets about 2 ms a batch: few packets at 100k rules. */
	linear_batch = clamp(1000000U / (rules + 1), 16U, (unsigned int)PACKETS);

	printf("BENCH impl=kfw-native rules=%u cost_ns=%.1f\n", rules,
	       time_lookups(b, b->probe, false, PACKETS));
	printf("BENCH impl=linear-native rules=%u cost_ns=%.1f\n", rules,
	       time_lookups(b, b->probe, true, linear_batch));
	printf("BENCH-NATIVE impl=kfw-native rules=%u traffic=inside cost_ns=%.1f\n",
	       rules, time_lookups(b, b->inside, false, PACKETS));
	printf("BENCH-NATIVE impl=linear-native rules=%u traffic=inside cost_ns=%.1f\n",
	       rules, time_lookups(b, b->inside, true, linear_batch));
	printf("BENCH-NATIVE impl=kfw-native rules=%u build_ns_per_rule=%.0f bytes_per_rule=%.1f entries=%lu nodes=%lu bytes=%lu\n",
	       rules, rules ? (double)b->build_ns / rules : 0.0,
	       rules ? (double)stats.bytes / rules : 0.0, stats.entries,
	       stats.nodes, stats.bytes);
	fflush(stdout);
	teardown(b);
	free(b);
}

/* A fixed number of lookups, for callgrind to count the instructions of. */
static int count_mode(unsigned int rules, unsigned long lookups, const char *traffic)
{
	const struct kfw_packet *pkts;
	unsigned long i, acc = 0;
	struct bench *b;

	b = calloc(1, sizeof(*b));
	if (!b)
		die("no memory");
	build(b, rules);
	if (!strcmp(traffic, "probe"))
		pkts = b->probe;
	else if (!strcmp(traffic, "inside"))
		pkts = b->inside;
	else
		die("traffic is probe or inside");
	for (i = 0; i < lookups; i++)
		acc += (unsigned long)kfw_cls_lookup(b->cls, &pkts[i % PACKETS]);
	sink += acc;
	printf("classifier_bench: %lu lookups of %s packets over %u rules\n",
	       lookups, traffic, rules);
	teardown(b);
	free(b);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int sizes[] = { 0, 100, 1000, 10000, 100000 };
	unsigned int i;

	if (argc == 5 && !strcmp(argv[1], "-c"))
		return count_mode(strtoul(argv[2], NULL, 0),
				  strtoul(argv[3], NULL, 0), argv[4]);
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "Usage: %s [RULES]...\n       %s -c RULES LOOKUPS probe|inside\n",
			argv[0], argv[0]);
		return 2;
	}
	print_cpu();
	if (argc > 1)
		for (i = 1; i < (unsigned int)argc; i++)
			bench(strtoul(argv[i], NULL, 0));
	else
		for (i = 0; i < ARRAY_SIZE(sizes); i++)
			bench(sizes[i]);
	return 0;
}
