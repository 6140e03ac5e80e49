// SPDX-License-Identifier: GPL-2.0
/*
 * classifier_test: kfw_cls_lookup() against the linear reference on the host.
 *
 * Usage: classifier_test [-s SEED] [-r RULES] [-p PACKETS]
 *
 * Each step below is one test, passed when every packet it checks gets the
 * rule the linear reference gives (the same rule, not just a rule):
 *
 *  - RULES (default 20000) random rules of every shape (classify_gen.c)
 *    inserted at random priorities into a published classifier, then
 *    PACKETS (default 100000) packets, mostly made near a rule;
 *  - half the rules removed in five batches, then as many new ones inserted
 *    between the others in five batches, PACKETS / 20 packets after each;
 *  - a rule that was never inserted removed, which must change nothing;
 *  - new random rules in list order into an unpublished classifier, as a
 *    table replace builds it, then PACKETS / 2 packets;
 *  - 1500 rules in one network inserted into a published classifier and
 *    half of them removed, while every retirement is checked: no reader
 *    starting then may still reach the memory;
 *  - RULES rules with nothing to index appended to one vector, which may
 *    be copied only as it grows by half;
 *  - a thousand small rule sets of up to 64 rules, where every edge is
 *    likelier to decide.
 *
 * The last line is "classifier: N passed, N failed"; the exit status is 1
 * if any test failed. A mismatch prints the packet and both rules.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static unsigned int passed, failed;

struct state {
	struct kfw_gen gen;
	struct kfw_gen_set set;
	struct kfw_cls *cls;
	unsigned long checked;
	unsigned long matched;
	unsigned long earlier;
	unsigned int mismatches;
};

/* The published classifier whose retired memory retire_check() watches. */
static const struct kfw_cls *watched;
static unsigned long retired, reachable;

static void retire_check(const void *ptr)
{
	retired++;
	if (watched && kfw_cls_reaches(watched, ptr) && !reachable++)
		fprintf(stderr, "classifier_test: %p retired while a new reader can reach it\n",
			ptr);
}

static void die(const char *what)
{
	fprintf(stderr, "classifier_test: %s\n", what);
	printf("classifier: %u passed, %u failed\n", passed, failed + 1);
	exit(1);
}

static void result(bool ok, const char *name, const struct state *st)
{
	if (ok)
		passed++;
	else
		failed++;
	printf("%s %u %s: %u rules, %lu packets, %lu matched (%lu another rule than the one they were made for)\n",
	       ok ? "ok" : "not ok", passed + failed, name, st->set.nr,
	       st->checked, st->matched, st->earlier);
	fflush(stdout);
}

/* PACKETS packets near the rules; true if all agree. Counts into @st. */
static bool check_packets(struct state *st, unsigned long packets)
{
	unsigned int before = st->mismatches;
	const struct kfw_match *near, *want;
	struct kfw_packet pkt;
	unsigned long i;

	for (i = 0; i < packets; i++) {
		near = kfw_gen_set_any(&st->gen, &st->set);
		kfw_gen_packet(&st->gen, near, &pkt);
		st->checked++;
		if (harness_check(st->cls, &st->set, &pkt, &want)) {
			st->matched += !!want;
			st->earlier += want && want != near;
			continue;
		}
		if (++st->mismatches - before >= 5)
			break;
	}
	return st->mismatches == before;
}

static bool check_stats(struct state *st)
{
	struct kfw_cls_stats stats;

	kfw_cls_stats(st->cls, &stats);
	if (stats.rules == st->set.nr)
		return true;
	fprintf(stderr, "classifier: stats say %lu rules, the list holds %u\n",
		stats.rules, st->set.nr);
	return false;
}

static void insert(struct state *st, const struct kfw_match *match, u64 prio)
{
	struct kfw_match *m = kfw_gen_set_add(&st->set, match, prio);

	if (!m)
		die("the rule list is full");
	if (kfw_cls_insert(st->cls, m, prio))
		die("kfw_cls_insert failed");
}

static void start(struct state *st, u64 seed, u32 cap, void *mem)
{
	kfw_gen_seed(&st->gen, seed);
	kfw_gen_set_init(&st->set, mem, cap);
	st->cls = kfw_cls_create();
	if (!st->cls)
		die("kfw_cls_create failed");
	st->checked = 0;
	st->matched = 0;
	st->earlier = 0;
	st->mismatches = 0;
}

static void stop(struct state *st)
{
	kfw_cls_destroy(st->cls);
	st->cls = NULL;
}

int main(int argc, char **argv)
{
	unsigned long rules = 20000, packets = 100000, seed = 20261125;
	struct kfw_match match;
	struct state st;
	unsigned int i, batch, round;
	bool ok;
	void *mem;
	int opt;

	while ((opt = getopt(argc, argv, "s:r:p:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rules = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			packets = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "Usage: %s [-s SEED] [-r RULES] [-p PACKETS]\n",
				argv[0]);
			return 2;
		}
	}
	printf("classifier_test: seed %lu, %lu rules, %lu packets (-s %lu repeats this run)\n",
	       seed, rules, packets, seed);
	mem = malloc(kfw_gen_set_bytes(rules + rules / 2 + 64));
	if (!mem)
		die("no memory for the rule list");

	/* Random priorities, published from the start. */
	start(&st, seed, rules + rules / 2, mem);
	kfw_cls_publish(st.cls);
	for (i = 0; i < rules; i++) {
		kfw_gen_rule(&st.gen, &match);
		insert(&st, &match, kfw_gen_set_new_prio(&st.gen, &st.set));
	}
	ok = check_stats(&st) && check_packets(&st, packets);
	ok = ok && st.matched && st.matched < st.checked;
	result(ok, "random rules at random priorities", &st);

	/* Half of them away, and new ones between the rest. */
	for (batch = 0; batch < 10; batch++) {
		char name[64];

		st.checked = 0;
		st.matched = 0;
		st.earlier = 0;
		for (i = 0; i < rules / 10; i++) {
			if (batch < 5) {
				u32 pos = kfw_gen_below(&st.gen, st.set.nr);

				kfw_cls_remove(st.cls, kfw_gen_set_at(&st.set, pos),
					       kfw_gen_set_prio(&st.set, pos));
				kfw_gen_set_del(&st.set, pos);
			} else {
				kfw_gen_rule(&st.gen, &match);
				insert(&st, &match,
				       kfw_gen_set_new_prio(&st.gen, &st.set));
			}
		}
		snprintf(name, sizeof(name), "batch %u: %s %lu rules", batch + 1,
			 batch < 5 ? "removed" : "inserted", rules / 10);
		ok = check_stats(&st) && check_packets(&st, packets / 20);
		result(ok, name, &st);
	}

	/* A rule that is not there, at a priority no rule has. */
	st.checked = 0;
	st.matched = 0;
	st.earlier = 0;
	kfw_gen_rule(&st.gen, &match);
	kfw_cls_remove(st.cls, &match, kfw_gen_set_new_prio(&st.gen, &st.set));
	ok = check_stats(&st) && check_packets(&st, packets / 20);
	result(ok, "removing a rule never inserted", &st);
	stop(&st);

	/* In list order, built before it is published. */
	start(&st, seed ^ 1, rules, mem);
	for (i = 0; i < rules; i++) {
		kfw_gen_rule(&st.gen, &match);
		insert(&st, &match, (u64)i << 8);
	}
	kfw_cls_publish(st.cls);
	ok = check_stats(&st) && check_packets(&st, packets / 2);
	result(ok, "random rules in list order", &st);
	stop(&st);

	/*
	 * Nothing a new reader can reach is ever retired: rules in one
	 * network, 198.18.0.0/15, so that keys crowd, split and take new
	 * first rules, inserted and removed while published. Every retirement walks the
	 * whole classifier, so the set is small.
	 */
	{
		static const u8 lengths[] = { 32, 32, 32, 24, 24, 20, 19, 18, 17, 16, 15 };

		start(&st, seed ^ 3, 2000, mem);
		kfw_cls_publish(st.cls);
		watched = st.cls;
		kfw_host_retire_hook = retire_check;
		for (i = 0; i < 1500; i++) {
			u8 len = lengths[kfw_gen_below(&st.gen, sizeof(lengths))];
			u32 host = 0xc6120000 | kfw_gen_below(&st.gen, 1U << 17);

			memset(&match, 0, sizeof(match));
			match.family = NFPROTO_IPV4;
			match.fields = KFW_MATCH_SRC;
			match.src_prefix = len;
			kfw_match_prefix_mask(&match.src_mask, NFPROTO_IPV4, len);
			match.src.ip = htonl(host) & match.src_mask.ip;
			insert(&st, &match, kfw_gen_set_new_prio(&st.gen, &st.set));
		}
		for (i = 0; i < 750; i++) {
			u32 pos = kfw_gen_below(&st.gen, st.set.nr);

			kfw_cls_remove(st.cls, kfw_gen_set_at(&st.set, pos),
				       kfw_gen_set_prio(&st.set, pos));
			kfw_gen_set_del(&st.set, pos);
		}
		kfw_host_retire_hook = NULL;
		watched = NULL;
		ok = !reachable && retired && check_stats(&st) &&
		     check_packets(&st, packets / 20);
		printf("# %lu retirements, %lu of them still reachable\n", retired, reachable);
		result(ok, "no retired memory is reachable: 1500 rules in one network in, 750 out", &st);
		stop(&st);
	}

	/*
	 * Rules with nothing to index share one vector. Appending them to a
	 * published classifier must not copy the vector every time (O(n^2),
	 * and a vector past kmalloc's limit): it grows by half, so the copies
	 * it retires are few.
	 */
	{
		unsigned long n = rules;

		start(&st, seed ^ 4, n, mem);
		kfw_cls_publish(st.cls);
		retired = 0;
		kfw_host_retire_hook = retire_check;
		for (i = 0; i < n; i++) {
			memset(&match, 0, sizeof(match));
			match.fields = KFW_MATCH_PROTO | KFW_MATCH_ICMP_TYPE;
			match.proto = IPPROTO_ICMP;
			match.icmp_type = i % 256;
			insert(&st, &match, (u64)(i + 1) << 16);
		}
		kfw_host_retire_hook = NULL;
		printf("# %lu rules appended to one vector retired %lu copies of it\n", n, retired);
		ok = retired < 64 && check_stats(&st) && check_packets(&st, packets / 20);
		result(ok, "appended rules with nothing to index: the vector grows by half", &st);
		stop(&st);
	}

	/* Small sets, down to none, where each rule's edges matter more. */
	ok = true;
	start(&st, seed ^ 2, 64, mem);
	for (round = 0; round < 1000 && ok; round++) {
		unsigned int n = round % 65;

		for (i = 0; i < n; i++) {
			kfw_gen_rule(&st.gen, &match);
			insert(&st, &match, kfw_gen_set_new_prio(&st.gen, &st.set));
		}
		if (round % 2)
			kfw_cls_publish(st.cls);
		ok = check_stats(&st) && check_packets(&st, 200);
		while (ok && st.set.nr) {
			u32 pos = kfw_gen_below(&st.gen, st.set.nr);

			kfw_cls_remove(st.cls, kfw_gen_set_at(&st.set, pos),
				       kfw_gen_set_prio(&st.set, pos));
			kfw_gen_set_del(&st.set, pos);
			if (!kfw_gen_below(&st.gen, 4))
				ok = check_stats(&st) && check_packets(&st, 20);
		}
		stop(&st);
		st.cls = kfw_cls_create();
		if (!st.cls)
			die("kfw_cls_create failed");
	}
	result(ok, "1000 small rule sets, emptied one rule at a time", &st);
	stop(&st);

	free(mem);
	printf("classifier: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
