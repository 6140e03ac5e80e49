// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite kfw_classify: does the classifier (classify.c) give the rule
 * the list gives?
 *
 * Table-driven cases check first match across tables (an earlier rule with
 * a shorter prefix, or on another field, beats a later, more specific one),
 * /0 prefixes and the whole port range, which no table keys on, port
 * ranges that no key can hold, the separation of IPv4 and IPv6 (an
 * IPv6 packet whose first word is an IPv4 rule's network), rules for either
 * family, the removal of a rule never inserted, and the statistics. Each is
 * built in list order and in reverse, published before or after.
 *
 * Then a randomized differential test compares kfw_cls_lookup() over at
 * least 10 000 rules of every shape (classify_gen.c) with the linear scan
 * of the same list, and goes on while rules are removed and inserted
 * between the others. The rules and packets come from the generator the
 * host harness tests/classifier/ uses too.
 */

#include <kunit/test.h>
#include <linux/in.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "classify.h"
#include "classify_gen.h"
#include "test_util.h"

/* --- Rules and packets from text ------------------------------------------ */

/* A copy of @text that lives as long as the test. */
static char *kfw_cls_test_strdup(struct kunit *test, const char *text)
{
	size_t len = strlen(text) + 1;
	char *buf = kunit_kmalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	memcpy(buf, text, len);
	return buf;
}

/*
 * "src NET dst NET proto N sport RANGE dport RANGE iface NAME state BITS
 * icmp TYPE[/CODE]", any of them, in any order; NET is "address[/prefix]".
 */
static void kfw_cls_test_rule(struct kunit *test, const char *text,
			      struct kfw_match *m)
{
	char *buf, *next, *key, *value, *dash;
	union nf_inet_addr *addr, *mask;
	u8 family, *prefix;

	memset(m, 0, sizeof(*m));
	buf = kfw_cls_test_strdup(test, text);
	next = buf;
	while ((key = strsep(&next, " ")) && (value = strsep(&next, " "))) {
		struct kfw_port_range *range = NULL;

		if (!strcmp(key, "src") || !strcmp(key, "dst")) {
			bool src = key[0] == 's';

			m->fields |= src ? KFW_MATCH_SRC : KFW_MATCH_DST;
			addr = src ? &m->src : &m->dst;
			mask = src ? &m->src_mask : &m->dst_mask;
			prefix = src ? &m->src_prefix : &m->dst_prefix;
			family = kfw_test_prefix(test, value, addr, prefix);
			KUNIT_ASSERT_TRUE(test, !m->family || m->family == family);
			m->family = family;
			kfw_test_mask(mask, family, *prefix);
			addr->all[0] &= mask->all[0];
			addr->all[1] &= mask->all[1];
			addr->all[2] &= mask->all[2];
			addr->all[3] &= mask->all[3];
		} else if (!strcmp(key, "proto")) {
			m->fields |= KFW_MATCH_PROTO;
			KUNIT_ASSERT_EQ(test, kstrtou8(value, 10, &m->proto), 0);
		} else if (!strcmp(key, "sport")) {
			m->fields |= KFW_MATCH_SPORT;
			range = &m->sport;
		} else if (!strcmp(key, "dport")) {
			m->fields |= KFW_MATCH_DPORT;
			range = &m->dport;
		} else if (!strcmp(key, "iface")) {
			m->fields |= KFW_MATCH_IFACE;
			strscpy(m->iface, value, sizeof(m->iface));
		} else if (!strcmp(key, "state")) {
			m->fields |= KFW_MATCH_STATE;
			KUNIT_ASSERT_EQ(test, kstrtou8(value, 0, &m->states), 0);
		} else if (!strcmp(key, "icmp")) {
			dash = strchr(value, '/');
			if (dash) {
				*dash++ = '\0';
				m->fields |= KFW_MATCH_ICMP_CODE;
				KUNIT_ASSERT_EQ(test, kstrtou8(dash, 10, &m->icmp_code), 0);
			}
			m->fields |= KFW_MATCH_ICMP_TYPE;
			KUNIT_ASSERT_EQ(test, kstrtou8(value, 10, &m->icmp_type), 0);
		} else {
			KUNIT_ASSERT_FAILURE(test, "bad key '%s' in rule '%s'", key, text);
		}
		if (range)
			kfw_test_ports(test, value, range);
	}
}

/*
 * "src ADDR dst ADDR proto N sport N dport N iface NAME state BITS icmp T/C
 * noports 1": the family is the addresses'; a TCP or UDP packet has ports
 * unless "noports", an ICMP one its type and code if "icmp" is given.
 */
static void kfw_cls_test_packet(struct kunit *test, const char *text,
				struct kfw_packet *pkt)
{
	char *buf, *next, *key, *value, *slash;

	memset(pkt, 0, sizeof(*pkt));
	pkt->has_proto = true;
	buf = kfw_cls_test_strdup(test, text);
	next = buf;
	while ((key = strsep(&next, " ")) && (value = strsep(&next, " "))) {
		if (!strcmp(key, "src")) {
			pkt->family = kfw_test_addr(test, value, &pkt->src);
		} else if (!strcmp(key, "dst")) {
			pkt->family = kfw_test_addr(test, value, &pkt->dst);
		} else if (!strcmp(key, "proto")) {
			KUNIT_ASSERT_EQ(test, kstrtou8(value, 10, &pkt->proto), 0);
			pkt->has_ports = pkt->proto == IPPROTO_TCP ||
					 pkt->proto == IPPROTO_UDP;
		} else if (!strcmp(key, "sport")) {
			KUNIT_ASSERT_EQ(test, kstrtou16(value, 10, &pkt->sport), 0);
		} else if (!strcmp(key, "dport")) {
			KUNIT_ASSERT_EQ(test, kstrtou16(value, 10, &pkt->dport), 0);
		} else if (!strcmp(key, "iface")) {
			/* The packet lives as long as the test: so does @buf. */
			pkt->iface = value;
		} else if (!strcmp(key, "state")) {
			KUNIT_ASSERT_EQ(test, kstrtou8(value, 0, &pkt->state), 0);
		} else if (!strcmp(key, "icmp")) {
			slash = strchr(value, '/');
			KUNIT_ASSERT_NOT_NULL(test, slash);
			*slash++ = '\0';
			pkt->has_icmp = true;
			KUNIT_ASSERT_EQ(test, kstrtou8(value, 10, &pkt->icmp_type), 0);
			KUNIT_ASSERT_EQ(test, kstrtou8(slash, 10, &pkt->icmp_code), 0);
		} else if (!strcmp(key, "noports")) {
			pkt->has_ports = false;
		} else {
			KUNIT_ASSERT_FAILURE(test, "bad key '%s' in packet '%s'", key, text);
		}
	}
	KUNIT_ASSERT_NE_MSG(test, pkt->family, 0, "packet '%s' has no address", text);
}

static const struct kfw_match *kfw_cls_test_lookup(const struct kfw_cls *cls,
						   const struct kfw_packet *pkt)
{
	const struct kfw_match *match;

	rcu_read_lock();
	match = kfw_cls_lookup(cls, pkt);
	rcu_read_unlock();
	return match;
}

/* --- Table-driven cases ----------------------------------------------------- */

#define KFW_CLS_CASE_RULES	6
#define KFW_CLS_CASE_PACKETS	8

/**
 * struct kfw_cls_case - rules in list order and packets with their rule
 * @name: what the case shows
 * @rules: the rules in list order, with priorities 10, 20, ...
 * @pkts: packets and the index in @rules of the rule they must get, -1 for
 *	none
 */
struct kfw_cls_case {
	const char *name;
	const char *rules[KFW_CLS_CASE_RULES];
	struct {
		const char *pkt;
		int want;
	} pkts[KFW_CLS_CASE_PACKETS];
};

static const struct kfw_cls_case kfw_cls_cases[] = {
	{
		.name = "an earlier shorter prefix beats a later longer one in another table",
		.rules = {
			"dst 198.18.0.0/15 proto 17",
			"src 198.18.1.2/32",
			"src 198.18.1.0/24 dport 53",
		},
		.pkts = {
			{ "src 198.18.1.2 dst 198.19.5.5 proto 17 sport 1 dport 53", 0 },
			{ "src 198.18.1.2 dst 198.19.5.5 proto 6 sport 1 dport 53", 1 },
			{ "src 198.18.1.3 dst 198.19.5.5 proto 6 sport 1 dport 53", 2 },
			{ "src 198.18.1.3 dst 10.0.0.1 proto 6 sport 1 dport 54", -1 },
			{ "src 198.18.1.3 dst 198.20.0.1 proto 17 sport 1 dport 53", 2 },
		},
	},
	{
		.name = "an earlier port rule beats a later /32, a later rest rule loses",
		.rules = {
			"proto 17 dport 53",
			"src 192.0.2.1/32 dst 192.0.2.2/32",
			"proto 17",
			"proto 6 sport 1000-1999",
		},
		.pkts = {
			{ "src 192.0.2.1 dst 192.0.2.2 proto 17 sport 1 dport 53", 0 },
			{ "src 192.0.2.1 dst 192.0.2.2 proto 17 sport 1 dport 54", 1 },
			{ "src 192.0.2.1 dst 192.0.2.3 proto 17 sport 1 dport 54", 2 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 17 dport 53", 0 },
			{ "src 192.0.2.1 dst 192.0.2.2 proto 6 sport 1500 dport 54", 1 },
			{ "src 192.0.2.9 dst 192.0.2.2 proto 6 sport 1500 dport 54", 3 },
			{ "src 192.0.2.9 dst 192.0.2.2 proto 6 sport 999 dport 54", -1 },
		},
	},
	{
		.name = "/0 prefixes",
		.rules = {
			"src 0.0.0.0/0 proto 6",
			"src 192.0.2.0/24",
			"dst ::/0 proto 17",
			"src 0.0.0.0/0 dst 0.0.0.0/0",
		},
		.pkts = {
			{ "src 192.0.2.1 dst 10.0.0.1 proto 6 dport 80", 0 },
			{ "src 192.0.2.1 dst 10.0.0.1 proto 17 dport 80", 1 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 17 dport 80", 2 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 6 dport 80", -1 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 1", 3 },
		},
	},
	{
		.name = "the whole port range, which a fragment without ports misses",
		.rules = {
			"proto 6 dport 0-65535",
			"src 198.18.0.0/16 proto 17 sport 0-65535 dport 0-65535",
		},
		.pkts = {
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 0 dport 0", 0 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 65535 dport 65535", 0 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 dport 80 noports 1", -1 },
			{ "src 198.18.3.4 dst 10.0.0.2 proto 17 sport 7 dport 9", 1 },
			{ "src 198.18.3.4 dst 10.0.0.2 proto 17 dport 80 noports 1", -1 },
			{ "src 198.18.3.4 dst 10.0.0.2 proto 1 icmp 8/0", -1 },
		},
	},
	{
		.name = "port ranges off the nibble boundaries",
		.rules = {
			"proto 6 dport 4081-4099",
			"proto 6 sport 255-256",
			"proto 17 dport 1-65534",
		},
		.pkts = {
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 1 dport 4080", -1 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 1 dport 4081", 0 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 1 dport 4095", 0 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 1 dport 4099", 0 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 256 dport 4100", 1 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 6 sport 257 dport 4100", -1 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 17 sport 1 dport 0", -1 },
			{ "src 10.0.0.1 dst 10.0.0.2 proto 17 sport 1 dport 65534", 2 },
		},
	},
	{
		.name = "IPv4 rules and IPv6 packets stay apart",
		.rules = {
			"dst 192.0.2.0/24",
			"src 192.0.2.0/23",
			"dst 2001:db8::/33",
			"src 2001:db8::1/127",
		},
		.pkts = {
			/* c000:0201:: begins with the bits of 192.0.2.1. */
			{ "src c000:0201::1 dst c000:0201::1 proto 6 dport 1", -1 },
			{ "src 10.0.0.1 dst 192.0.2.77 proto 6 dport 1", 0 },
			{ "src 192.0.3.1 dst 10.0.0.1 proto 6 dport 1", 1 },
			{ "src 32.1.13.184 dst 32.1.13.184 proto 6 dport 1", -1 },
			{ "src ::1 dst 2001:db8:7fff::1 proto 6 dport 1", 2 },
			{ "src ::1 dst 2001:db8:8000::1 proto 6 dport 1", -1 },
			{ "src 2001:db8::1 dst ::1 proto 6 dport 1", 3 },
			{ "src 2001:db8::2 dst ::1 proto 6 dport 1", -1 },
		},
	},
	{
		.name = "rules for either family",
		.rules = {
			"proto 17 dport 53 iface eth0",
			"proto 58 icmp 128/0",
			"proto 1 icmp 8",
			"proto 6 state 3",
		},
		.pkts = {
			{ "src 192.0.2.1 dst 192.0.2.2 proto 17 dport 53 iface eth0", 0 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 17 dport 53 iface eth0", 0 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 17 dport 53 iface eth1", -1 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 58 icmp 128/0", 1 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 58 icmp 128/1", -1 },
			{ "src 192.0.2.1 dst 192.0.2.2 proto 1 icmp 8/5", 2 },
			{ "src 2001:db8::1 dst 2001:db8::2 proto 6 dport 1 state 2", 3 },
			{ "src 192.0.2.1 dst 192.0.2.2 proto 6 dport 1 state 4", -1 },
		},
	},
};

static void kfw_cls_case_desc(const struct kfw_cls_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kfw_cls_cases, kfw_cls_cases, kfw_cls_case_desc);

static void kfw_cls_test_case(struct kunit *test)
{
	const struct kfw_cls_case *c = test->param_value;
	struct kfw_match rules[KFW_CLS_CASE_RULES];
	unsigned int nr, i, way;
	struct kfw_packet pkt;

	for (nr = 0; nr < KFW_CLS_CASE_RULES && c->rules[nr]; nr++)
		kfw_cls_test_rule(test, c->rules[nr], &rules[nr]);

	/* Inserted first to last or last to first, published before or after. */
	for (way = 0; way < 4; way++) {
		struct kfw_cls_stats stats;
		struct kfw_cls *cls;

		cls = kfw_cls_create();
		KUNIT_ASSERT_NOT_NULL(test, cls);
		if (way & 2)
			kfw_cls_publish(cls);
		for (i = 0; i < nr; i++) {
			unsigned int r = way & 1 ? nr - 1 - i : i;

			KUNIT_ASSERT_EQ(test, kfw_cls_insert(cls, &rules[r], 10 * (r + 1)), 0);
		}
		if (!(way & 2))
			kfw_cls_publish(cls);
		kfw_cls_stats(cls, &stats);
		KUNIT_EXPECT_EQ(test, stats.rules, nr);
		KUNIT_EXPECT_GE(test, stats.entries, nr);

		for (i = 0; i < KFW_CLS_CASE_PACKETS && c->pkts[i].pkt; i++) {
			const struct kfw_match *got;
			int want = c->pkts[i].want;
			unsigned int ref;

			kfw_cls_test_packet(test, c->pkts[i].pkt, &pkt);
			got = kfw_cls_test_lookup(cls, &pkt);
			KUNIT_EXPECT_PTR_EQ_MSG(test, got, want < 0 ? NULL : &rules[want],
						"packet '%s' (way %u): got rule %d, want %d",
						c->pkts[i].pkt, way,
						got ? (int)(got - rules) : -1, want);
			/* The linear scan agrees, or the case is wrong. */
			for (ref = 0; ref < nr; ref++)
				if (kfw_match_packet(&rules[ref], &pkt))
					break;
			KUNIT_EXPECT_EQ_MSG(test, ref < nr ? (int)ref : -1, want,
					    "the case is wrong for packet '%s'",
					    c->pkts[i].pkt);
		}
		kfw_cls_destroy(cls);
	}
}

/* Removing what is not there changes nothing; statistics count rules. */
static void kfw_cls_test_remove_absent(struct kunit *test)
{
	struct kfw_match a, b, c;
	struct kfw_cls_stats stats;
	struct kfw_packet pkt;
	struct kfw_cls *cls;

	kfw_cls_test_rule(test, "src 192.0.2.0/25 proto 6 dport 22", &a);
	kfw_cls_test_rule(test, "src 192.0.2.0/25 proto 6 dport 22", &b);
	kfw_cls_test_rule(test, "proto 17", &c);
	kfw_cls_test_packet(test, "src 192.0.2.1 dst 10.0.0.1 proto 6 sport 1 dport 22", &pkt);

	cls = kfw_cls_create();
	KUNIT_ASSERT_NOT_NULL(test, cls);
	kfw_cls_stats(cls, &stats);
	KUNIT_EXPECT_EQ(test, stats.rules, 0);
	KUNIT_EXPECT_EQ(test, stats.entries, 0);
	KUNIT_EXPECT_EQ(test, stats.nodes, 0);
	KUNIT_EXPECT_GT(test, stats.bytes, 0);
	KUNIT_EXPECT_NULL(test, kfw_cls_test_lookup(cls, &pkt));
	/* From an empty classifier, and from a table with no such rule. */
	kfw_cls_remove(cls, &a, 1);
	kfw_cls_remove(cls, &c, 3);
	kfw_cls_publish(cls);

	KUNIT_ASSERT_EQ(test, kfw_cls_insert(cls, &a, 1), 0);
	KUNIT_ASSERT_EQ(test, kfw_cls_insert(cls, &c, 3), 0);
	/* The same match at another priority, an equal match, a third rule. */
	kfw_cls_remove(cls, &a, 2);
	kfw_cls_remove(cls, &b, 1);
	kfw_cls_remove(cls, &c, 1);
	kfw_cls_remove(cls, &b, 3);
	kfw_cls_stats(cls, &stats);
	KUNIT_EXPECT_EQ(test, stats.rules, 2);
	KUNIT_EXPECT_GE(test, stats.entries, 2);
	KUNIT_EXPECT_GT(test, stats.nodes, 0);
	KUNIT_EXPECT_PTR_EQ(test, kfw_cls_test_lookup(cls, &pkt), &a);

	KUNIT_ASSERT_EQ(test, kfw_cls_insert(cls, &b, 2), 0);
	kfw_cls_stats(cls, &stats);
	KUNIT_EXPECT_EQ(test, stats.rules, 3);
	kfw_cls_remove(cls, &a, 1);
	KUNIT_EXPECT_PTR_EQ(test, kfw_cls_test_lookup(cls, &pkt), &b);
	kfw_cls_remove(cls, &a, 1);
	kfw_cls_remove(cls, &b, 2);
	KUNIT_EXPECT_NULL(test, kfw_cls_test_lookup(cls, &pkt));
	kfw_cls_stats(cls, &stats);
	KUNIT_EXPECT_EQ(test, stats.rules, 1);
	kfw_cls_remove(cls, &c, 3);
	kfw_cls_stats(cls, &stats);
	KUNIT_EXPECT_EQ(test, stats.rules, 0);
	KUNIT_EXPECT_EQ(test, stats.entries, 0);
	kfw_cls_destroy(cls);
	kfw_cls_destroy(NULL);
}

/* --- Randomized: against the linear scan ---------------------------------- */

/**
 * struct kfw_cls_test_run - a random rule list and its classifier
 * @gen: the rules' and packets' random numbers
 * @set: the list, the reference
 * @mem: the list's memory
 * @cls: the classifier under test
 * @checked: packets checked
 * @matched: of those, how many a rule matched
 * @other: of those, how many another rule than the one they were made near
 * @failed: mismatches
 */
struct kfw_cls_test_run {
	struct kfw_gen gen;
	struct kfw_gen_set set;
	void *mem;
	struct kfw_cls *cls;
	unsigned long checked;
	unsigned long matched;
	unsigned long other;
	unsigned int failed;
};

/* Rules in the random tests: rules=N (the kfw_match scale) times 200, >= 10000. */
static unsigned int kfw_cls_test_nr_rules(void)
{
	return max_t(unsigned int, 10000, kfw_test_rules * 200);
}

static void kfw_cls_test_log(struct kunit *test, const char *who,
			     const struct kfw_match *m, u64 prio)
{
	bool v4 = m && m->family == NFPROTO_IPV4;

	if (!m) {
		kunit_err(test, "  %s: no rule\n", who);
		return;
	}
	kunit_err(test, "  %s: prio %llu family %u fields %#x proto %u src %pI6c/%u %pI4/%u dst %pI6c/%u %pI4/%u sport %u-%u dport %u-%u iface %.16s states %#x icmp %u/%u\n",
		  who, prio, m->family, m->fields, m->proto,
		  v4 ? NULL : &m->src.in6, m->src_prefix, v4 ? &m->src.ip : NULL,
		  m->src_prefix,
		  v4 ? NULL : &m->dst.in6, m->dst_prefix, v4 ? &m->dst.ip : NULL,
		  m->dst_prefix,
		  m->sport.first, m->sport.last, m->dport.first, m->dport.last,
		  m->iface, m->states, m->icmp_type, m->icmp_code);
}

static u64 kfw_cls_test_prio(const struct kfw_gen_set *set,
			     const struct kfw_match *m)
{
	u32 pos;

	for (pos = 0; pos < set->nr; pos++)
		if (kfw_gen_set_at(set, pos) == m)
			return kfw_gen_set_prio(set, pos);
	return U64_MAX;
}

static void kfw_cls_test_packets(struct kunit *test, struct kfw_cls_test_run *run,
				 unsigned int packets, const char *when)
{
	const struct kfw_match *near, *want, *got;
	struct kfw_packet pkt;
	unsigned int i;

	for (i = 0; i < packets && run->failed < 5; i++) {
		near = kfw_gen_set_any(&run->gen, &run->set);
		kfw_gen_packet(&run->gen, near, &pkt);
		want = kfw_gen_set_lookup(&run->set, &pkt);
		got = kfw_cls_test_lookup(run->cls, &pkt);
		run->checked++;
		run->matched += !!want;
		run->other += want && want != near;
		if (!(i % 256))
			cond_resched();
		if (got == want)
			continue;
		run->failed++;
		KUNIT_FAIL(test, "%s, packet %u: kfw_cls_lookup() disagrees (%u rules)",
			   when, i, run->set.nr);
		kunit_err(test, "  packet: family %u proto %u/%d ports %u/%u/%d src %pI6c %pI4 dst %pI6c %pI4 iface %s state %#x icmp %u/%u/%d\n",
			  pkt.family, pkt.proto, pkt.has_proto, pkt.sport, pkt.dport,
			  pkt.has_ports, &pkt.src.in6, &pkt.src.ip, &pkt.dst.in6,
			  &pkt.dst.ip, pkt.iface ?: "-", pkt.state, pkt.icmp_type,
			  pkt.icmp_code, pkt.has_icmp);
		kfw_cls_test_log(test, "list", want, want ? kfw_cls_test_prio(&run->set, want) : 0);
		kfw_cls_test_log(test, "kfw_cls", got, got ? kfw_cls_test_prio(&run->set, got) : 0);
	}
}

static void kfw_cls_test_stats(struct kunit *test, struct kfw_cls_test_run *run)
{
	struct kfw_cls_stats stats;

	kfw_cls_stats(run->cls, &stats);
	KUNIT_EXPECT_EQ(test, stats.rules, run->set.nr);
	KUNIT_EXPECT_GE(test, stats.entries, stats.rules);
}

static void kfw_cls_test_insert(struct kunit *test, struct kfw_cls_test_run *run)
{
	struct kfw_match match, *m;
	u64 prio;

	kfw_gen_rule(&run->gen, &match);
	prio = kfw_gen_set_new_prio(&run->gen, &run->set);
	m = kfw_gen_set_add(&run->set, &match, prio);
	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_EQ(test, kfw_cls_insert(run->cls, m, prio), 0);
}

/*
 * A run of @nr random rules inserted at random priorities into @run->cls,
 * published before the first (readers could see every change) or after the
 * last (what the changes replace is freed at once).
 */
static void kfw_cls_test_start(struct kunit *test, struct kfw_cls_test_run *run,
			       u32 salt, unsigned int nr, unsigned int cap,
			       bool publish_first)
{
	struct rnd_state rnd;
	unsigned int i;

	kfw_test_rnd_init(test, &rnd, salt);
	kfw_gen_seed(&run->gen, kfw_test_seed ^ ((u64)salt << 32));
	run->mem = kvmalloc(kfw_gen_set_bytes(cap), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run->mem);
	kfw_gen_set_init(&run->set, run->mem, cap);
	run->cls = kfw_cls_create();
	KUNIT_ASSERT_NOT_NULL(test, run->cls);
	if (publish_first)
		kfw_cls_publish(run->cls);
	for (i = 0; i < nr; i++) {
		kfw_cls_test_insert(test, run);
		if (!(i % 256))
			cond_resched();
	}
	kfw_cls_publish(run->cls);
	kfw_cls_test_stats(test, run);
}

static void kfw_cls_test_report(struct kunit *test, struct kfw_cls_test_run *run)
{
	kunit_info(test, "%lu packets checked, %lu matched a rule (%lu another than the one they were made near), %u mismatches\n",
		   run->checked, run->matched, run->other, run->failed);
	/* The generator must produce both outcomes, or it tests nothing. */
	KUNIT_EXPECT_GT(test, run->matched, run->checked / 10);
	KUNIT_EXPECT_LT(test, run->matched, run->checked - run->checked / 10);
	KUNIT_EXPECT_GT(test, run->other, 0);
}

static void kfw_cls_test_random(struct kunit *test)
{
	struct kfw_cls_test_run *run = test->priv;
	unsigned int nr = kfw_cls_test_nr_rules();

	kfw_cls_test_start(test, run, 11, nr, nr, false);
	kunit_info(test, "%u random rules\n", nr);
	kfw_cls_test_packets(test, run, max(kfw_test_packets * 20, 1U), "built");
	kfw_cls_test_report(test, run);
}

/* Half the rules removed, then new ones inserted between the rest. */
static void kfw_cls_test_incremental(struct kunit *test)
{
	struct kfw_cls_test_run *run = test->priv;
	unsigned int nr = kfw_cls_test_nr_rules();
	unsigned int batch, i, packets = max(kfw_test_packets * 4, 1U);
	char when[32];

	kfw_cls_test_start(test, run, 12, nr, nr, true);
	for (batch = 0; batch < 10 && !run->failed; batch++) {
		for (i = 0; i < nr / 10; i++) {
			if (batch < 5) {
				u32 pos = kfw_gen_below(&run->gen, run->set.nr);

				kfw_cls_remove(run->cls, kfw_gen_set_at(&run->set, pos),
					       kfw_gen_set_prio(&run->set, pos));
				kfw_gen_set_del(&run->set, pos);
			} else {
				kfw_cls_test_insert(test, run);
			}
			if (!(i % 256))
				cond_resched();
		}
		kfw_cls_test_stats(test, run);
		snprintf(when, sizeof(when), "%s batch %u", batch < 5 ? "removal" : "insertion",
			 batch % 5 + 1);
		kfw_cls_test_packets(test, run, packets, when);
	}
	kunit_info(test, "%u rules, half removed and as many inserted in 10 batches\n", nr);
	kfw_cls_test_report(test, run);
}

static int kfw_cls_test_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct kfw_cls_test_run), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static void kfw_cls_test_exit(struct kunit *test)
{
	struct kfw_cls_test_run *run = test->priv;

	/* No reader is left, and no vector left behind points to a rule. */
	kfw_cls_destroy(run->cls);
	kvfree(run->mem);
}

static struct kunit_case kfw_cls_test_cases[] = {
	KUNIT_CASE_PARAM(kfw_cls_test_case, kfw_cls_cases_gen_params),
	KUNIT_CASE(kfw_cls_test_remove_absent),
	KUNIT_CASE(kfw_cls_test_random),
	KUNIT_CASE(kfw_cls_test_incremental),
	{}
};

static struct kunit_suite kfw_cls_test_suite = {
	.name = "kfw_classify",
	.init = kfw_cls_test_init,
	.exit = kfw_cls_test_exit,
	.test_cases = kfw_cls_test_cases,
};

kunit_test_suite(kfw_cls_test_suite);
