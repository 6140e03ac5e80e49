// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite kfw_limit: rates over a limit (limit.c) and the lookup that
 * passes a packet within the rate on to the rules after (table.c).
 *
 * Time is an argument of every call, so the cases run on a clock of their
 * own: the arithmetic of the generic cell rate algorithm is checked to the
 * nanosecond, without sleeping.
 */

#include <kunit/test.h>

#include "limit.h"
#include "table.h"
#include "test_util.h"

/* A clock well away from 0, as the monotonic clock of a running system. */
#define T0	(1000 * NSEC_PER_SEC)

static struct kfw_limit *kfw_limit_test_make(struct kunit *test, u32 rate,
					     u32 period, u32 burst,
					     bool per_src, unsigned int sources)
{
	struct kfw_limit_conf conf = {
		.rate = rate, .period = period, .burst = burst, .per_src = per_src,
	};
	struct kfw_limit *limit = kfw_limit_create(&conf, sources);

	KUNIT_ASSERT_NOT_NULL(test, limit);
	return limit;
}

static void kfw_limit_test_packet(struct kunit *test, struct kfw_packet *pkt,
				  const char *src)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = kfw_test_addr(test, src, &pkt->src);
	pkt->has_proto = true;
	pkt->proto = IPPROTO_TCP;
	pkt->has_ports = true;
	pkt->sport = 40000;
	pkt->dport = 22;
	pkt->state = KFW_STATE_NEW;
}

/* How many of @n packets at @now are over the rate. */
static unsigned int kfw_limit_test_burst(struct kfw_limit *limit,
					 const struct kfw_packet *pkt,
					 unsigned int n, u64 now)
{
	unsigned int over = 0;

	while (n--)
		over += kfw_limit_over(limit, pkt, now);
	return over;
}

/*
 * 6/m with a burst of 6, the ufw limit: six at once pass, the seventh is
 * over; then one every 10 s, to the nanosecond; packets over the rate
 * spend nothing; a long pause gives the whole burst back, never more.
 */
static void kfw_limit_test_gcra(struct kunit *test)
{
	struct kfw_limit *limit = kfw_limit_test_make(test, 6, 60, 6, false, 0);
	const u64 ten = 10 * NSEC_PER_SEC;
	struct kfw_packet pkt;
	unsigned int i;

	kfw_limit_test_packet(test, &pkt, "192.0.2.7");
	KUNIT_EXPECT_EQ(test, limit->interval, ten);
	KUNIT_EXPECT_EQ(test, limit->tolerance, 5 * ten);
	for (i = 0; i < 6; i++)
		KUNIT_EXPECT_FALSE_MSG(test, kfw_limit_over(limit, &pkt, T0),
				       "packet %u of the burst", i + 1);
	KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &pkt, T0));
	/* Over the rate spends nothing: many tries, then one passes on time. */
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &pkt, 100, T0 + 1), 100);
	KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &pkt, T0 + ten - 1));
	KUNIT_EXPECT_FALSE(test, kfw_limit_over(limit, &pkt, T0 + ten));
	KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &pkt, T0 + ten));
	KUNIT_EXPECT_FALSE(test, kfw_limit_over(limit, &pkt, T0 + 2 * ten));
	/* An hour later: the burst of 6 again, and no more. */
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &pkt, 7, T0 + 360 * ten), 1);
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0), 0);
	kfw_limit_destroy(limit);

	/* 1/s, burst 1: one packet a second, whatever the sources. */
	limit = kfw_limit_test_make(test, 1, 1, 1, false, 0);
	KUNIT_EXPECT_EQ(test, limit->tolerance, 0);
	KUNIT_EXPECT_FALSE(test, kfw_limit_over(limit, &pkt, T0));
	kfw_limit_test_packet(test, &pkt, "2001:db8::7");
	KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &pkt, T0 + NSEC_PER_SEC - 1));
	KUNIT_EXPECT_FALSE(test, kfw_limit_over(limit, &pkt, T0 + NSEC_PER_SEC));
	kfw_limit_destroy(limit);

	/* The largest rate and burst: no overflow of the tolerance. */
	limit = kfw_limit_test_make(test, 1, 3600, KFW_OVER_BURST_MAX, false, 0);
	KUNIT_EXPECT_EQ(test, limit->tolerance,
			3600 * NSEC_PER_SEC * (u64)(KFW_OVER_BURST_MAX - 1));
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &pkt, 1000, T0), 0);
	kfw_limit_destroy(limit);
	limit = kfw_limit_test_make(test, KFW_OVER_RATE_MAX, 1, 1, false, 0);
	KUNIT_EXPECT_EQ(test, limit->interval, 1000);
	kfw_limit_destroy(limit);
}

/*
 * Per source: one source over its rate leaves the others, of either
 * family, their whole burst; each is tracked until its burst is back.
 */
static void kfw_limit_test_per_src(struct kunit *test)
{
	struct kfw_limit *limit = kfw_limit_test_make(test, 2, 1, 2, true, 64);
	struct kfw_packet a, b, c;

	kfw_limit_test_packet(test, &a, "192.0.2.2");
	kfw_limit_test_packet(test, &b, "198.51.100.2");
	kfw_limit_test_packet(test, &c, "2001:db8:1::2");
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0), 0);
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &a, 5, T0), 3);
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0), 1);
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &b, 2, T0), 0);
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &c, 3, T0), 1);
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0), 3);
	/* a is still over, and b has nothing left either. */
	KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &a, T0 + 1));
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &b, 1, T0 + 1), 1);
	/* One second on, every allowance is whole: none is tracked. */
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0 + NSEC_PER_SEC), 0);
	KUNIT_EXPECT_EQ(test, kfw_limit_test_burst(limit, &a, 3, T0 + NSEC_PER_SEC), 1);
	kfw_limit_destroy(limit);
}

/*
 * A table of one bucket: a fifth source takes the cell of the source whose
 * allowance comes back first (the least recently used, at one rate), which
 * so starts afresh; the others stay over their rate.
 */
static void kfw_limit_test_evict(struct kunit *test)
{
	struct kfw_limit *limit = kfw_limit_test_make(test, 1, 60, 1, true, 4);
	static const char *const src[] = {
		"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5",
	};
	struct kfw_packet pkt[ARRAY_SIZE(src)];
	unsigned int i;

	KUNIT_ASSERT_EQ(test, limit->mask, 0);
	for (i = 0; i < ARRAY_SIZE(src); i++)
		kfw_limit_test_packet(test, &pkt[i], src[i]);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_FALSE(test, kfw_limit_over(limit, &pkt[i],
							T0 + i * NSEC_PER_SEC));
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &pkt[i],
						       T0 + 4 * NSEC_PER_SEC));
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0 + 4 * NSEC_PER_SEC), 4);
	/* The fifth source is new, and the first is forgotten for it. */
	KUNIT_EXPECT_FALSE(test, kfw_limit_over(limit, &pkt[4], T0 + 4 * NSEC_PER_SEC));
	KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &pkt[4], T0 + 4 * NSEC_PER_SEC));
	KUNIT_EXPECT_TRUE(test, kfw_limit_over(limit, &pkt[1], T0 + 5 * NSEC_PER_SEC));
	KUNIT_EXPECT_FALSE(test, kfw_limit_over(limit, &pkt[0], T0 + 5 * NSEC_PER_SEC));
	/* ...for which the second was forgotten; the others stay over. */
	for (i = 0; i < ARRAY_SIZE(src); i++)
		if (i != 1)
			KUNIT_EXPECT_TRUE_MSG(test, kfw_limit_over(limit, &pkt[i],
								   T0 + 5 * NSEC_PER_SEC),
					      "source %u", i + 1);
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0 + 5 * NSEC_PER_SEC), 4);
	/* A minute after the last, every cell is as good as empty. */
	KUNIT_EXPECT_EQ(test, kfw_limit_sources(limit, T0 + 65 * NSEC_PER_SEC), 0);
	kfw_limit_destroy(limit);
}

static void kfw_limit_test_equal(struct kunit *test)
{
	struct kfw_limit *a = kfw_limit_test_make(test, 6, 60, 6, true, 4);
	struct kfw_limit *b = kfw_limit_test_make(test, 6, 60, 6, true, 8);
	struct kfw_limit *c = kfw_limit_test_make(test, 6, 60, 6, false, 0);
	struct kfw_limit *d = kfw_limit_test_make(test, 6, 60, 5, true, 4);
	struct kfw_limit *e = kfw_limit_test_make(test, 6, 1, 6, true, 4);

	KUNIT_EXPECT_TRUE(test, kfw_limit_equal(a, b));
	KUNIT_EXPECT_TRUE(test, kfw_limit_equal(NULL, NULL));
	KUNIT_EXPECT_FALSE(test, kfw_limit_equal(a, NULL));
	KUNIT_EXPECT_FALSE(test, kfw_limit_equal(NULL, a));
	KUNIT_EXPECT_FALSE(test, kfw_limit_equal(a, c));
	KUNIT_EXPECT_FALSE(test, kfw_limit_equal(a, d));
	KUNIT_EXPECT_FALSE(test, kfw_limit_equal(a, e));
	kfw_limit_destroy(a);
	kfw_limit_destroy(b);
	kfw_limit_destroy(c);
	kfw_limit_destroy(d);
	kfw_limit_destroy(e);
}

/* --- The lookup ------------------------------------------------------------ */

/*
 * Inserts "in ACTION [src SRC] proto tcp dport 22 [over ...]" at @index of
 * the table of @kn; @conf NULL for no over.
 */
static struct kfw_rule *kfw_limit_test_rule(struct kunit *test,
					    struct kfw_net *kn, u8 action,
					    const char *src,
					    const struct kfw_limit_conf *conf,
					    unsigned int index)
{
	struct kfw_rule_spec spec = {
		.dir = KFW_DIR_IN,
		.action = action,
		.log_rate = KFW_LOG_RATE_DEFAULT,
		.log_burst = KFW_LOG_BURST_DEFAULT,
		.match = {
			.fields = KFW_MATCH_PROTO | KFW_MATCH_DPORT,
			.proto = IPPROTO_TCP,
			.dport = { 22, 22 },
		},
	};
	struct kfw_match *m = &spec.match;
	struct kfw_rule *rule;
	int err;

	if (src) {
		m->family = kfw_test_prefix(test, src, &m->src, &m->src_prefix);
		kfw_test_mask(&m->src_mask, m->family, m->src_prefix);
		m->fields |= KFW_MATCH_SRC;
	}
	if (conf) {
		spec.over = kfw_limit_create(conf, 64);
		KUNIT_ASSERT_NOT_NULL(test, spec.over);
	}
	mutex_lock(&kn->lock);
	rule = kfw_rule_alloc(kn, &spec);
	if (!rule) {
		kfw_rule_spec_release(&spec);
		mutex_unlock(&kn->lock);
		KUNIT_ASSERT_FAILURE(test, "no memory for a rule");
	}
	err = kfw_table_insert(kn, rule, index);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	return rule;
}

static struct kfw_rule *kfw_limit_test_classify(struct kfw_net *kn,
						const struct kfw_packet *pkt,
						bool spend, u64 now)
{
	const struct kfw_table *table;
	struct kfw_rule *rule;

	rcu_read_lock();
	table = rcu_dereference(kn->table);
	rule = kfw_table_classify_over(table, KFW_DIR_IN, pkt, spend, now);
	rcu_read_unlock();
	return rule;
}

/*
 * in accept src 203.0.113.0/24 proto tcp dport 22      (never these packets)
 * in drop proto tcp dport 22 over 2/s                   (A)
 * in reject proto tcp dport 22 over 1/s per-src         (B)
 * in accept src 192.0.2.0/24 proto tcp dport 22         (C, another shape)
 *
 * A packet within A's rate goes on to B, within B's on to C, and one that
 * C does not match either to the policy. A what-if spends nothing and
 * reports C.
 */
static void kfw_limit_test_lookup(struct kunit *test)
{
	static const struct kfw_limit_conf two = { .rate = 2, .period = 1, .burst = 2 };
	static const struct kfw_limit_conf one = {
		.rate = 1, .period = 1, .burst = 1, .per_src = true,
	};
	struct kfw_net *kn = test->priv;
	struct kfw_rule *a, *b, *c;
	struct kfw_packet p, q;
	const u64 t1 = T0 + NSEC_PER_SEC, t2 = T0 + 10 * NSEC_PER_SEC;
	unsigned int i;

	kfw_limit_test_rule(test, kn, KFW_VERDICT_ACCEPT, "203.0.113.0/24", NULL, 0);
	c = kfw_limit_test_rule(test, kn, KFW_VERDICT_ACCEPT, "192.0.2.0/24", NULL, 1);
	a = kfw_limit_test_rule(test, kn, KFW_VERDICT_DROP, NULL, &two, 1);
	b = kfw_limit_test_rule(test, kn, KFW_VERDICT_REJECT, NULL, &one, 2);
	kfw_limit_test_packet(test, &p, "192.0.2.7");
	kfw_limit_test_packet(test, &q, "198.51.100.9");

	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, true, T0), c);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, true, T0), b);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, true, T0), a);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, true, T0), a);
	/*
	 * A second on, A lets two through again; B is new for q, and C is
	 * not for q: the policy.
	 */
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, true, t1), NULL);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, true, t1), b);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, true, t1), a);

	/* What-ifs, however many, spend nothing and pass every over rule. */
	for (i = 0; i < 10; i++) {
		KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, false, t2), c);
		KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, false, t2), NULL);
	}
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, true, t2), c);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, true, t2), b);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, true, t2), a);
	/* kfw_table_what_if() is the same what-if. */
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, kfw_table_what_if(rcu_dereference(kn->table),
						    KFW_DIR_IN, &p), c);
	rcu_read_unlock();
}

/*
 * Packets that an earlier rule decides on spend nothing of a later over
 * rule's allowance, even where the classifier looks at both.
 */
static void kfw_limit_test_earlier_rule(struct kunit *test)
{
	static const struct kfw_limit_conf two = { .rate = 2, .period = 60, .burst = 2 };
	struct kfw_net *kn = test->priv;
	struct kfw_rule *early, *a;
	struct kfw_packet p, q;
	unsigned int i;

	early = kfw_limit_test_rule(test, kn, KFW_VERDICT_ACCEPT, "192.0.2.7/32", NULL, 0);
	a = kfw_limit_test_rule(test, kn, KFW_VERDICT_DROP, NULL, &two, 1);
	kfw_limit_test_packet(test, &p, "192.0.2.7");
	kfw_limit_test_packet(test, &q, "192.0.2.8");
	for (i = 0; i < 20; i++)
		KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &p, true, T0), early);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, true, T0), NULL);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, true, T0), NULL);
	KUNIT_EXPECT_PTR_EQ(test, kfw_limit_test_classify(kn, &q, true, T0), a);
}

static int kfw_limit_test_init(struct kunit *test)
{
	test->priv = kfw_test_net_new(test);
	return 0;
}

static void kfw_limit_test_exit(struct kunit *test)
{
	kfw_test_net_free(test->priv);
}

static struct kunit_case kfw_limit_test_cases[] = {
	KUNIT_CASE(kfw_limit_test_gcra),
	KUNIT_CASE(kfw_limit_test_per_src),
	KUNIT_CASE(kfw_limit_test_evict),
	KUNIT_CASE(kfw_limit_test_equal),
	KUNIT_CASE(kfw_limit_test_lookup),
	KUNIT_CASE(kfw_limit_test_earlier_rule),
	{}
};

static struct kunit_suite kfw_limit_test_suite = {
	.suite_init = kfw_test_suite_init,
	.suite_exit = kfw_test_suite_exit,
	.name = "kfw_limit",
	.init = kfw_limit_test_init,
	.exit = kfw_limit_test_exit,
	.test_cases = kfw_limit_test_cases,
};

kunit_test_suite(kfw_limit_test_suite);
