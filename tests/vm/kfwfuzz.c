// SPDX-License-Identifier: GPL-2.0
/*
 * kfwfuzz: throws random and mutated generic netlink messages at the kfw
 * family and checks every answer the kernel gives.
 *
 * Usage: kfwfuzz [-s SEED] [-n COUNT] [-w WORKER] [-v] [-d]
 *
 *   -s SEED    seed of the run (decimal or 0x hex; default: from the clock)
 *   -n COUNT   netlink messages to send in all (default 10000)
 *   -w WORKER  run only that worker, for COUNT messages of its own: replays
 *              its part of a full run (a failure prints the command)
 *   -v         print every datagram sent (twice: with a hex dump)
 *   -d         dry run: generate the datagrams, send nothing (to test the
 *              generator itself, say under ASan, without the module)
 *
 * Five workers, forked processes, fuzz at once, each with its own socket
 * set and its own stream of the seeded generator (splitmix64):
 *
 *   0 root           root in the VM's initial namespace
 *   1 root-again     the same, racing worker 0 for the namespace's one
 *                    transaction and interrupting its dumps
 *   2 root-netns     root in a namespace of its own, swapped for a new one
 *                    every few thousand messages, so that namespaces die
 *                    holding rules, transactions and sockets
 *   3 nobody         uid 65534 without capabilities, in the initial
 *                    namespace, also through a socket opened while still
 *                    root: every command that changes state must fail EPERM
 *   4 nobody-userns  uid 65534 in a user namespace of its own with a network
 *                    namespace it owns (CAP_NET_ADMIN there only), and a
 *                    socket in the initial namespace that must stay refused
 *
 * Most messages are built from the protocol's attribute tree (uapi/kfw.h),
 * mostly valid so that they reach deep into the module, then often mutated:
 * attributes dropped, duplicated, swapped, retyped, resized, given a false
 * nla_len; header fields and flags changed; bytes flipped, datagrams cut or
 * extended. Some datagrams hold several messages, some are random bytes.
 * Transactions are begun, fed, committed, aborted, fed from another socket,
 * fed after their commit and abandoned by closing the socket.
 *
 * Every reply is parsed as fwctl would and checked against the protocol: a
 * datagram that is not well-formed netlink, an acknowledgement of a message
 * never sent or echoing it wrongly, an attribute of the wrong size or out of
 * range, non-zero padding (a leak of kernel memory), a rule that breaks what
 * the kernel validates on input, a dump listing a rule twice, a privileged
 * command that succeeds without the privilege: each is a failure. At the end
 * every command must have succeeded at least once (for runs of at least
 * 10000 messages), or the generator is not reaching the module.
 *
 * The workers share COUNT, each sending until they have all sent that many,
 * so that none idles while a slower one finishes. The exit status is 0 when
 * no failure was seen, 1 otherwise. The seed is printed first; a worker's
 * messages depend only on the seed and on the replies it gets, so -w replays
 * them (replies that depend on racing workers may differ).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../../kmod/uapi/kfw.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK	12
#endif

#define NR_WORKERS	5
#define NR_SOCKS	3
#define RING_SIZE	512
#define RECV_SIZE	(512 * 1024)
#define DGRAM_MAX	(256 * 1024)
#define ARENA_SIZE	(64UL << 20)
#define NR_ERRNOS	160		/* errnos counted one by one; the rest together */
#define NR_CMD_SLOTS	(KFW_CMD_MAX + 2)	/* every command, then "other" */
#define OTHER_CMD	(KFW_CMD_MAX + 1)
#define NR_HANDLES	256
#define MAX_REPORTS	10
#define PROGRESS_EVERY	10000
#define COVERAGE_MIN	10000
#define NOBODY		65534

/* --- Counters, shared by the workers and the parent ----------------------- */

struct stats {
	uint64_t messages, datagrams, random_datagrams, mutated;
	uint64_t acks, replies, dones, dump_intr, other_replies;
	uint64_t errors[NR_ERRNOS + 1];
	uint64_t send_errors[NR_ERRNOS + 1];
	uint64_t recv_enobufs;
	uint64_t cmd_sent[NR_CMD_SLOTS], cmd_ok[NR_CMD_SLOTS], cmd_err[NR_CMD_SLOTS];
	uint64_t denied, netns_cycles, reopens, abandoned, proc_reads;
	uint64_t failures;
};

struct shared {
	uint64_t total;
	struct timespec start;
	struct stats st[NR_WORKERS + 1];	/* the last: the parent's checks */
};

static const struct persona {
	const char *name;
	bool nobody;		/* uid and gid 65534, no capabilities */
	bool own_userns;	/* then a user namespace of its own */
	bool own_netns;		/* a network namespace of its own, swapped now and then */
	bool pinned_root;	/* a socket opened as root before dropping privileges */
	bool pinned_init;	/* a socket left in the initial namespace */
} personas[NR_WORKERS] = {
	{ "root", false, false, false, false, false },
	{ "root-again", false, false, false, false, false },
	{ "root-netns", false, false, true, false, false },
	{ "nobody", true, false, false, true, false },
	{ "nobody-userns", true, true, true, false, true },
};

/* --- One worker's state (each worker is a process of its own) ------------- */

/* A message as the kernel will have cut it out of a datagram we sent. */
struct sent {
	uint32_t seq;
	uint16_t type, flags;
	uint32_t len;
	uint8_t cmd;
	bool kfw_req;		/* a request to kfw with a whole genl header */
	bool admin;		/* ... for a command that needs CAP_NET_ADMIN */
	bool bad_genl;		/* ... whose header genl refuses before the permission */
	uint64_t dgram;		/* the datagram it came in */
	size_t off;		/* its offset there */
	unsigned char hdr[NLMSG_HDRLEN];
};

struct sock {
	int fd;
	uint32_t portid;
	bool must_deny;		/* this socket must never change state */
	bool pinned;		/* never closed: it cannot be made again */
	bool cap_ack;
	unsigned int ring_next;
	struct sent ring[RING_SIZE];
	/* The dump being read, to find a rule listed twice. */
	bool dump_active, dump_intr;
	uint32_t dump_seq;
	size_t ndump, dump_cap;
	uint64_t *dump_handles;
};

struct plan_item {
	uint8_t cmd;
	int8_t sock;
	bool close_after;
};

static struct {
	int id, only;
	const struct persona *p;
	uint64_t seed, rng, count;
	unsigned int nmsgs;	/* in the datagram being sent */
	bool verbose, hexdump, dry;
	bool clean;		/* generate no deliberately invalid value */
	struct shared *sh;
	struct stats *st;
	uint16_t family;
	uint32_t seq;
	struct sock socks[NR_SOCKS];
	uint64_t handles[NR_HANDLES];
	unsigned int nhandles;
	uint32_t rule_count;
	uint64_t dgram;
	unsigned char *dg;
	size_t dglen;
	int cur_sock;
	unsigned int reports;
	uint64_t next_cycle;
	struct plan_item plan[12];
	unsigned int plan_len, plan_pos;
	unsigned char *arena;
	size_t arena_used;
	bool overflow;
	unsigned char *rbuf;
} fz;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kfwfuzz: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* --- The seeded generator ------------------------------------------------- */

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	return splitmix(&fz.rng);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(uint32_t num, uint32_t den)
{
	return below(den) < num;
}

/* A deliberately invalid choice: never while generating clean messages. */
static bool bad(uint32_t num, uint32_t den)
{
	return !fz.clean && chance(num, den);
}

static void fill(void *p, size_t n)
{
	unsigned char *b = p;

	while (n--)
		*b++ = rnd();
}

/* --- Attribute trees, built in an arena emptied for every datagram -------- */

struct node {
	uint16_t type;
	bool nested;
	int32_t bad_len;	/* nla_len to write instead of the true one, or -1 */
	uint32_t nkids, cap;
	struct node *kids;
	uint32_t len;
	unsigned char *data;
};

static void *arena_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (fz.arena_used + n > ARENA_SIZE)
		die("arena exhausted");
	p = fz.arena + fz.arena_used;
	fz.arena_used += n;
	return p;
}

/* The pointer stays valid until the next kid of the same parent. */
static struct node *add_kid(struct node *parent)
{
	struct node *n, *kids;
	uint32_t cap;

	if (parent->nkids == parent->cap) {
		cap = parent->cap ? parent->cap * 2 : 8;
		kids = arena_alloc(cap * sizeof(*kids));
		if (parent->nkids)
			memcpy(kids, parent->kids, parent->nkids * sizeof(*kids));
		parent->kids = kids;
		parent->cap = cap;
	}
	n = &parent->kids[parent->nkids++];
	memset(n, 0, sizeof(*n));
	n->bad_len = -1;
	return n;
}

static void put(struct node *p, uint16_t type, const void *data, uint32_t len)
{
	struct node *n = add_kid(p);

	n->type = type;
	n->len = len;
	n->data = arena_alloc(len ? len : 1);
	if (len)
		memcpy(n->data, data, len);
}

static void put_u8(struct node *p, uint16_t type, uint8_t v)
{
	put(p, type, &v, sizeof(v));
}

static void put_u16(struct node *p, uint16_t type, uint16_t v)
{
	put(p, type, &v, sizeof(v));
}

static void put_u32(struct node *p, uint16_t type, uint32_t v)
{
	put(p, type, &v, sizeof(v));
}

static void put_u64(struct node *p, uint16_t type, uint64_t v)
{
	put(p, type, &v, sizeof(v));
}

/* A flag attribute: empty, or malformed with one byte of payload. */
static void put_flag(struct node *p, uint16_t type, bool with_payload)
{
	uint8_t byte = (uint8_t)rnd();

	put(p, type, &byte, with_payload ? 1 : 0);
}

/* Nests carry NLA_F_NESTED, which strict validation wants, mostly. */
static struct node *nest(struct node *p, uint16_t type)
{
	struct node *n = add_kid(p);

	n->type = type | (bad(1, 40) ? 0 : NLA_F_NESTED);
	n->nested = true;
	return n;
}

static void clone_into(struct node *dst, const struct node *src)
{
	uint32_t i;

	*dst = *src;
	if (!src->nested)
		return;
	dst->cap = src->nkids;
	dst->kids = src->nkids ? arena_alloc(src->nkids * sizeof(*dst->kids)) : NULL;
	for (i = 0; i < src->nkids; i++)
		clone_into(&dst->kids[i], &src->kids[i]);
}

/* An attribute of no particular meaning, sometimes a nest of such. */
static void put_random(struct node *p, uint16_t max_type, int depth)
{
	static const uint32_t sizes[] = { 0, 1, 2, 3, 4, 8, 16, 5, 6 };
	uint16_t type = below(max_type + 4);
	unsigned char buf[128];
	struct node *n;
	uint32_t len, i, kids;

	if (chance(1, 40))
		type |= NLA_F_NET_BYTEORDER;
	if (depth < 3 && chance(1, 5)) {
		n = nest(p, type);
		kids = below(4);
		for (i = 0; i < kids; i++)
			put_random(n, max_type, depth + 1);
		return;
	}
	len = chance(3, 4) ? sizes[below(sizeof(sizes) / sizeof(sizes[0]))] : below(sizeof(buf));
	fill(buf, len);
	put(p, chance(1, 20) ? type | NLA_F_NESTED : type, buf, len);
}

/* --- The protocol's attribute tree, mostly valid --------------------------- */

static const uint8_t protos[] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, 0, 255,
};

static uint8_t pick_proto(void)
{
	return chance(1, 10) ? rnd() : protos[below(sizeof(protos))];
}

static void put_string(struct node *p, uint16_t type, unsigned int max, bool printable)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789-._";
	char s[300];
	unsigned int len, i;

	len = 1 + below(max - 1);
	for (i = 0; i < len; i++) {
		if (printable)
			s[i] = 0x20 + below(0x5f);
		else
			s[i] = alnum[below(sizeof(alnum) - 1)];
		if (s[i] == '"' || s[i] == '\\')
			s[i] = '_';
	}
	/* What the kernel must refuse: empty, too long, unterminated, bytes it forbids. */
	switch (bad(1, 12) ? below(5) : 5) {
	case 0:
		len = 0;
		break;
	case 1:
		len = max + below(20);
		for (i = 0; i < len; i++)
			s[i] = 'a' + below(26);
		break;
	case 2:
		put(p, type, s, len);	/* no NUL */
		return;
	case 3:
		s[below(len)] = "\"\\\x01\x7f\x80\xff"[below(6)];
		break;
	case 4:
		s[below(len)] = '\0';
		break;
	}
	s[len] = '\0';
	put(p, type, s, len + 1);
}

/* An address in the documentation networks, mostly, where rules and test packets meet. */
static void doc_addr(unsigned char *addr, bool v6)
{
	static const unsigned char nets[3][3] = { { 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 } };
	static const unsigned char net6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	fill(addr, v6 ? 16 : 4);
	if (chance(1, 10))
		return;
	if (v6) {
		memcpy(addr, net6, sizeof(net6));
		if (chance(1, 2))
			memset(addr + 4, 0, 11);
	} else {
		memcpy(addr, nets[below(3)], 3);
	}
}

static void put_addr(struct node *r, bool v6, uint16_t a4, uint16_t a6, uint16_t ap)
{
	unsigned int bits = v6 ? 128 : 32, plen, i, r8 = below(100);
	unsigned char addr[16];

	doc_addr(addr, v6);
	if (r8 < 40)
		plen = bits;
	else if (r8 < 60)
		plen = v6 ? 64 : 24;
	else if (r8 < 95 || fz.clean)
		plen = below(bits + 1);
	else
		plen = bits + 1 + below(256 - bits - 1);
	/* The kernel refuses host bits beyond the prefix; clear them mostly. */
	if (plen < bits && !bad(1, 20)) {
		for (i = plen; i < bits; i++)
			addr[i / 8] &= ~(0x80 >> (i % 8));
	}
	put(r, v6 ? a6 : a4, addr, v6 ? 16 : 4);
	if (chance(2, 3))
		put_u8(r, ap, plen);
}

static void put_ports(struct node *r, uint16_t first_type, uint16_t last_type)
{
	uint16_t first = chance(1, 4) ? below(1024) : rnd(), last = first;

	if (chance(1, 2))
		last = bad(1, 20) ? rnd() : first + below(65536 - first);
	if (!bad(1, 40))
		put_u16(r, first_type, first);
	if (first != last || chance(1, 4))
		put_u16(r, last_type, last);
}

/*
 * A list of @type: mostly 1 to 64 elements of its kind, sometimes none, too
 * many, mixed families or elements of another kind.
 */
static void put_list(struct node *r, uint16_t type, bool v6)
{
	struct node *list = nest(r, type), *elem;
	unsigned int n = bad(1, 20) ? below(80) : 1 + below(64), i;

	for (i = 0; i < n; i++) {
		elem = nest(list, bad(1, 60) ? below(3) : KFW_LIST_A_ELEM);
		switch (bad(1, 30) ? below(3) : type == KFW_RULE_A_PROTO_LIST ? 2 :
			type == KFW_RULE_A_SRC_LIST || type == KFW_RULE_A_DST_LIST ? 0 : 1) {
		case 0:
			put_addr(elem, bad(1, 30) ? !v6 : v6, KFW_ELEM_A_IP4, KFW_ELEM_A_IP6,
				 KFW_ELEM_A_PREFIX);
			break;
		case 1:
			put_ports(elem, KFW_ELEM_A_FIRST, KFW_ELEM_A_LAST);
			break;
		default:
			put_u8(elem, KFW_ELEM_A_PROTO, chance(1, 2) ? IPPROTO_TCP : rnd());
		}
		if (bad(1, 80))
			put_random(elem, KFW_ELEM_A_MAX, 1);
	}
}

/*
 * Lists, negations and owners; @ports: the rule's protocol allows ports,
 * @has_proto: it has one.
 */
static void gen_rule_more(struct node *r, bool v6, bool ports, bool has_proto)
{
	if (chance(1, 8))
		put_list(r, KFW_RULE_A_SRC_LIST, v6);
	if (chance(1, 10))
		put_list(r, KFW_RULE_A_DST_LIST, v6);
	if (chance(1, 8) && (ports || bad(1, 10)))
		put_list(r, KFW_RULE_A_DPORT_LIST, v6);
	if (chance(1, 12) && (ports || bad(1, 10)))
		put_list(r, KFW_RULE_A_SPORT_LIST, v6);
	if ((!has_proto && chance(1, 10)) || bad(1, 30))
		put_list(r, KFW_RULE_A_PROTO_LIST, v6);
	if (chance(1, 8))
		put_u8(r, KFW_RULE_A_NEGATE, bad(1, 20) ? rnd() : below(32));
	if (chance(1, 12)) {
		put_u32(r, KFW_RULE_A_UID_FIRST, chance(1, 2) ? below(2000) : rnd());
		if (chance(1, 2))
			put_u32(r, KFW_RULE_A_UID_LAST, chance(1, 2) ? 1000 + below(2000) : rnd());
	}
	if (chance(1, 12)) {
		put_u32(r, KFW_RULE_A_GID_FIRST, below(2000));
		if (chance(1, 2))
			put_u32(r, KFW_RULE_A_GID_LAST, bad(1, 10) ? rnd() : 2000);
	}
}

/*
 * A rate's over, now and then with a period that is none of 1, 60 and 3600,
 * a part without the rate, or bounds crossed. Few are per-src: each of
 * those takes a table of sources (1 MiB by default) in the VM's memory.
 */
static void gen_over(struct node *r)
{
	static const uint32_t periods[] = { 1, 60, 3600 };

	if (chance(1, 10)) {
		if (!bad(1, 30))
			put_u32(r, KFW_RULE_A_OVER_RATE,
				bad(1, 20) ? (uint32_t)rnd() : 1 + below(KFW_OVER_RATE_MAX));
		if (!bad(1, 30))
			put_u32(r, KFW_RULE_A_OVER_PERIOD,
				bad(1, 20) ? below(4000) : periods[below(3)]);
		if (chance(1, 2))
			put_u32(r, KFW_RULE_A_OVER_BURST,
				bad(1, 20) ? (uint32_t)rnd() : 1 + below(KFW_OVER_BURST_MAX));
		if (chance(1, 8))
			put(r, KFW_RULE_A_OVER_PER_SRC, NULL, 0);
	} else if (bad(1, 60)) {
		put(r, chance(1, 2) ? KFW_RULE_A_OVER_PER_SRC : KFW_RULE_A_OVER_BURST,
		    "\1\0\0\0", chance(1, 2) ? 0 : 4);
	}
	/* Reply-only. */
	if (bad(1, 80))
		put_u32(r, KFW_RULE_A_OVER_SOURCES, rnd());
}

/*
 * A timeout: mostly a few seconds at most, so that rules expire while the
 * fuzzer goes on changing the table; sometimes hours; and, when bad, 0,
 * past KFW_TIMEOUT_MAX_MS, any 64 bits, or the wrong size.
 */
static void put_timeout(struct node *r)
{
	uint64_t ms = chance(1, 5) ? 1 + (uint64_t)below(KFW_TIMEOUT_MAX_MS / 1000) * 1000 :
				      1 + below(5000);

	if (bad(1, 10)) {
		switch (below(4)) {
		case 0:
			ms = 0;
			break;
		case 1:
			ms = KFW_TIMEOUT_MAX_MS + 1 + below(1000);
			break;
		case 2:
			ms = rnd();
			break;
		default:
			put_u32(r, KFW_RULE_A_TIMEOUT, (uint32_t)ms);
			return;
		}
	}
	put_u64(r, KFW_RULE_A_TIMEOUT, ms);
}

/* A rule nest: @simple rules are small, for chunks of hundreds. */
static void gen_rule(struct node *parent, bool simple)
{
	struct node *r = nest(parent, KFW_A_RULE);
	bool v6 = chance(1, 2), has_proto = false, ports, icmp;
	unsigned char payload[256];
	uint8_t proto = 0;
	uint32_t len;

	if (!bad(1, 60))
		put_u8(r, KFW_RULE_A_DIR, bad(1, 40) ? rnd() : below(2));
	if (!bad(1, 60))
		put_u8(r, KFW_RULE_A_ACTION, bad(1, 40) ? rnd() : below(3));
	if (chance(1, 2)) {
		proto = pick_proto();
		has_proto = true;
		put_u8(r, KFW_RULE_A_PROTO, proto);
	}
	ports = has_proto && (proto == IPPROTO_TCP || proto == IPPROTO_UDP);
	icmp = has_proto && (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6);
	if (simple) {
		if (chance(1, 2))
			put_addr(r, v6, KFW_RULE_A_SRC_IP4, KFW_RULE_A_SRC_IP6, KFW_RULE_A_SRC_PREFIX);
		if (ports && chance(1, 2))
			put_ports(r, KFW_RULE_A_DPORT_FIRST, KFW_RULE_A_DPORT_LAST);
		if (chance(1, 8))
			put_timeout(r);
		return;
	}
	if (chance(3, 10))
		put_addr(r, v6, KFW_RULE_A_SRC_IP4, KFW_RULE_A_SRC_IP6, KFW_RULE_A_SRC_PREFIX);
	if (chance(3, 10))
		put_addr(r, bad(1, 15) ? !v6 : v6, KFW_RULE_A_DST_IP4, KFW_RULE_A_DST_IP6,
			 KFW_RULE_A_DST_PREFIX);
	if (bad(1, 40))
		put_u8(r, KFW_RULE_A_SRC_PREFIX, below(130));
	if ((ports && chance(1, 3)) || bad(1, 40))
		put_ports(r, KFW_RULE_A_SPORT_FIRST, KFW_RULE_A_SPORT_LAST);
	if ((ports && chance(1, 2)) || bad(1, 40))
		put_ports(r, KFW_RULE_A_DPORT_FIRST, KFW_RULE_A_DPORT_LAST);
	if (chance(1, 10))
		put_string(r, KFW_RULE_A_IFACE, 16, false);
	if (chance(1, 10))
		put_u8(r, KFW_RULE_A_STATE, bad(1, 20) ? rnd() : 1 + below(15));
	if ((icmp && chance(1, 2)) || bad(1, 40)) {
		put_u8(r, KFW_RULE_A_ICMP_TYPE, rnd());
		if (chance(1, 3))
			put_u8(r, KFW_RULE_A_ICMP_CODE, rnd());
	} else if (bad(1, 60)) {
		put_u8(r, KFW_RULE_A_ICMP_CODE, rnd());
	}
	if (chance(1, 12)) {
		len = 1 + below(KFW_PAYLOAD_MAX);
		if (bad(1, 20))
			len = chance(1, 2) ? 0 : KFW_PAYLOAD_MAX + 1 + below(100);
		fill(payload, len);
		if (chance(1, 3))
			memset(payload, 'a' + below(3), len);	/* KMP's worst case */
		put(r, KFW_RULE_A_PAYLOAD, payload, len);
		if (chance(1, 2))
			put_u16(r, KFW_RULE_A_PAYLOAD_WITHIN, bad(1, 20) ? 0 : 1 + below(2000));
	} else if (bad(1, 60)) {
		put_u16(r, KFW_RULE_A_PAYLOAD_WITHIN, rnd());
	}
	if (chance(1, 10)) {
		put(r, KFW_RULE_A_LOG, NULL, 0);
		if (chance(1, 2))
			put_u32(r, KFW_RULE_A_LOG_RATE,
				bad(1, 20) ? (uint32_t)rnd() : 1 + below(KFW_LOG_RATE_MAX));
		if (chance(1, 2))
			put_u32(r, KFW_RULE_A_LOG_BURST,
				bad(1, 20) ? (uint32_t)rnd() : 1 + below(KFW_LOG_BURST_MAX));
	} else if (bad(1, 60)) {
		put_u32(r, KFW_RULE_A_LOG_RATE, 1 + below(KFW_LOG_RATE_MAX));
	}
	if (chance(1, 10))
		put_string(r, KFW_RULE_A_COMMENT, KFW_COMMENT_MAX, true);
	gen_rule_more(r, v6, ports, has_proto);
	gen_over(r);
	if (chance(1, 6))
		put_timeout(r);
	/* Reply-only attributes, padding, and types past the end. */
	if (bad(1, 80))
		put_u64(r, KFW_RULE_A_HANDLE, rnd());
	if (bad(1, 80))
		put_u64(r, chance(1, 2) ? KFW_RULE_A_PACKETS : KFW_RULE_A_BYTES, rnd());
	if (bad(1, 80))
		put(r, chance(1, 2) ? KFW_RULE_A_PAD : KFW_RULE_A_UNSPEC, NULL, 0);
	if (bad(1, 60))
		put_random(r, KFW_RULE_A_MAX, 1);
}

/* A rule nest of hundreds of attributes, each valid on its own. */
static void gen_fat_rule(struct node *parent)
{
	struct node *r = nest(parent, KFW_A_RULE);
	unsigned int n = 100 + below(400), i;

	put_u8(r, KFW_RULE_A_DIR, below(2));
	put_u8(r, KFW_RULE_A_ACTION, below(3));
	for (i = 0; i < n; i++) {
		switch (below(7)) {
		case 0:
			put_u8(r, KFW_RULE_A_PROTO, IPPROTO_TCP);
			break;
		case 1:
			put_u16(r, KFW_RULE_A_DPORT_FIRST, rnd());
			break;
		case 2:
			put_string(r, KFW_RULE_A_COMMENT, KFW_COMMENT_MAX, true);
			break;
		case 3:
			put_u8(r, KFW_RULE_A_STATE, 1 + below(15));
			break;
		case 4:
			put(r, KFW_RULE_A_PAYLOAD, "fuzz", 4);
			break;
		case 5:
			put_u64(r, KFW_RULE_A_TIMEOUT, 1 + below(5000));
			break;
		default:
			put_u8(r, KFW_RULE_A_DIR, below(2));
			break;
		}
	}
}

static void gen_packet(struct node *top)
{
	struct node *p = nest(top, KFW_A_PACKET);
	bool v6 = chance(1, 2);
	unsigned char addr[16];
	uint8_t proto = pick_proto();

	if (!chance(1, 30))
		put_u8(p, KFW_PACKET_A_DIR, chance(1, 40) ? rnd() : below(2));
	if (chance(1, 3))
		put_u8(p, KFW_PACKET_A_FAMILY, chance(1, 30) ? rnd() : v6);
	if (chance(3, 4))
		put_u8(p, KFW_PACKET_A_PROTO, proto);
	if (chance(2, 3)) {
		doc_addr(addr, v6);
		put(p, v6 ? KFW_PACKET_A_SRC_IP6 : KFW_PACKET_A_SRC_IP4, addr, v6 ? 16 : 4);
	}
	if (chance(2, 3)) {
		if (chance(1, 20))
			v6 = !v6;
		doc_addr(addr, v6);
		put(p, v6 ? KFW_PACKET_A_DST_IP6 : KFW_PACKET_A_DST_IP4, addr, v6 ? 16 : 4);
	}
	if (chance(2, 3))
		put_u16(p, KFW_PACKET_A_SPORT, rnd());
	if (chance(2, 3))
		put_u16(p, KFW_PACKET_A_DPORT, chance(1, 2) ? below(1024) : rnd());
	if (chance(1, 8))
		put_string(p, KFW_PACKET_A_IFACE, 16, false);
	if (chance(1, 4))
		put_u8(p, KFW_PACKET_A_STATE, chance(1, 20) ? rnd() : 1U << below(4));
	if (chance(1, 4)) {
		put_u8(p, KFW_PACKET_A_ICMP_TYPE, rnd());
		if (chance(1, 2))
			put_u8(p, KFW_PACKET_A_ICMP_CODE, rnd());
	}
	if (chance(1, 50))
		put_random(p, KFW_PACKET_A_MAX, 1);
}

static uint32_t gen_position(void)
{
	uint32_t r = below(100);

	if (r < 25)
		return 1;
	if (r < 45)
		return 2;	/* the same gap again and again: renumbering */
	if (r < 60)
		return 1 + below(64);
	if (r < 75)
		return fz.rule_count + 1;
	if (r < 85)
		return fz.rule_count + 1 + below(3);
	if (r < 90)
		return 0;
	if (r < 95)
		return UINT32_MAX;
	return rnd();
}

static uint64_t gen_handle(void)
{
	unsigned int known = fz.nhandles < NR_HANDLES ? fz.nhandles : NR_HANDLES;
	uint32_t r = below(100);
	uint64_t h = 1;

	/* The newest handles are the likeliest to name a rule still there. */
	if (known && chance(2, 3))
		h = fz.handles[(fz.nhandles - 1 - below(known < 16 ? known : 16)) % NR_HANDLES];
	else if (known)
		h = fz.handles[below(known)];

	if (r < 60)
		return h;
	if (r < 70)
		return 0;
	if (r < 80)
		return 1 + below(100000);
	if (r < 90)
		return h + (chance(1, 2) ? 1 : -1);
	return rnd();
}

static void gen_chunk(struct node *top)
{
	struct node *rules = nest(top, KFW_A_RULES);
	unsigned int r = below(400), n, i;
	bool simple = false;

	/* Rules are what costs a debug kernel most: big chunks are rare. */
	if (r < 4) {
		/* About the limit of one chunk, either side of it. */
		n = KFW_REPLACE_CHUNK_MAX - 4 + below(12);
		simple = true;
	} else if (r < 5) {
		/* More than 64 KiB: the nest's nla_len wraps. */
		n = 1800 + below(600);
		simple = true;
	} else if (r < 20 && !fz.clean) {
		n = 0;
	} else {
		n = 1 + below(16);
	}
	for (i = 0; i < n; i++) {
		if (bad(1, 300))
			put_random(rules, KFW_A_MAX, 1);
		else
			gen_rule(rules, simple);
	}
}

static bool cmd_is_admin(uint8_t cmd)
{
	switch (cmd) {
	case KFW_CMD_ADD_RULE:
	case KFW_CMD_DEL_RULE:
	case KFW_CMD_FLUSH:
	case KFW_CMD_SET_POLICY:
	case KFW_CMD_ZERO:
	case KFW_CMD_REPLACE_BEGIN:
	case KFW_CMD_REPLACE_RULES:
	case KFW_CMD_REPLACE_COMMIT:
	case KFW_CMD_REPLACE_ABORT:
	case KFW_CMD_CONFIRM:
		return true;
	}
	return false;
}

static const char *const cmd_names[NR_CMD_SLOTS] = {
	[KFW_CMD_UNSPEC] = "UNSPEC",
	[KFW_CMD_GET_INFO] = "GET_INFO",
	[KFW_CMD_GET_RULES] = "GET_RULES",
	[KFW_CMD_ADD_RULE] = "ADD_RULE",
	[KFW_CMD_DEL_RULE] = "DEL_RULE",
	[KFW_CMD_FLUSH] = "FLUSH",
	[KFW_CMD_SET_POLICY] = "SET_POLICY",
	[KFW_CMD_ZERO] = "ZERO",
	[KFW_CMD_REPLACE_BEGIN] = "REPLACE_BEGIN",
	[KFW_CMD_REPLACE_RULES] = "REPLACE_RULES",
	[KFW_CMD_REPLACE_COMMIT] = "REPLACE_COMMIT",
	[KFW_CMD_REPLACE_ABORT] = "REPLACE_ABORT",
	[KFW_CMD_TEST] = "TEST",
	[KFW_CMD_CONFIRM] = "CONFIRM",
	[OTHER_CMD] = "other",
};

static unsigned int cmd_slot(uint8_t cmd)
{
	return cmd <= KFW_CMD_MAX ? cmd : OTHER_CMD;
}

/* --- Messages -------------------------------------------------------------- */

struct msg {
	uint16_t type, flags;
	uint32_t seq, pid;
	int64_t len_abs;	/* nlmsg_len to write, or -1 */
	int32_t len_delta;	/* added to the true nlmsg_len */
	bool genl;
	uint8_t cmd, version;
	uint16_t reserved;
	struct node attrs;	/* its kids are the top-level attributes */
	unsigned char *raw;	/* bytes after the genl header, in a random message */
	uint32_t rawlen;
};

static void msg_init(struct msg *m, uint8_t cmd, bool must_deny)
{
	memset(m, 0, sizeof(*m));
	m->type = fz.family;
	m->flags = NLM_F_REQUEST;
	/* Without an ack a success is silent; refused sockets want to see theirs. */
	if (chance(must_deny ? 97 : 90, 100))
		m->flags |= NLM_F_ACK;
	if (cmd == KFW_CMD_GET_RULES ? chance(19, 20) : chance(1, 50))
		m->flags |= NLM_F_DUMP;
	m->seq = ++fz.seq;
	m->len_abs = -1;
	m->genl = true;
	m->cmd = cmd;
	m->version = KFW_GENL_VERSION;
}

static void gen_body(struct msg *m)
{
	struct node *top = &m->attrs;

	switch (m->cmd) {
	case KFW_CMD_ADD_RULE:
		if (bad(1, 100))
			gen_fat_rule(top);
		else if (!bad(1, 30))
			gen_rule(top, false);
		if (bad(1, 50))
			gen_rule(top, false);
		if (chance(1, 2))
			put_u32(top, KFW_A_POSITION, gen_position());
		break;
	case KFW_CMD_DEL_RULE:
		if (!bad(1, 30))
			put_u64(top, KFW_A_HANDLE, gen_handle());
		break;
	case KFW_CMD_SET_POLICY:
		if (!bad(1, 30))
			put_u8(top, KFW_A_DIR, bad(1, 30) ? rnd() : below(2));
		if (!bad(1, 30))
			put_u8(top, KFW_A_VERDICT, bad(1, 15) ? rnd() % 4 : below(2));
		break;
	case KFW_CMD_TEST:
		if (!bad(1, 30))
			gen_packet(top);
		break;
	case KFW_CMD_REPLACE_BEGIN:
		if (chance(1, 2))
			put_u8(top, KFW_A_POLICY_IN, bad(1, 15) ? rnd() % 4 : below(2));
		if (chance(1, 2))
			put_u8(top, KFW_A_POLICY_OUT, bad(1, 15) ? rnd() % 4 : below(2));
		break;
	case KFW_CMD_REPLACE_RULES:
		if (!bad(1, 40))
			gen_chunk(top);
		break;
	case KFW_CMD_REPLACE_COMMIT:
		/* Trials short enough to revert, and to be confirmed, mid-run. */
		/* A flag with a payload is malformed; put() copies len bytes. */
		if (chance(1, 4))
			put_flag(top, KFW_A_CHECK, bad(1, 20));
		if (chance(1, 4))
			put_u32(top, KFW_A_CONFIRM, bad(1, 20) ? rnd() : 1 + below(3));
		if (chance(1, 4))
			put_flag(top, KFW_A_ZERO, bad(1, 20));
		break;
	}
	if (bad(1, 25))
		put_random(top, KFW_A_MAX, 0);
}

/* Where one attribute of a tree sits: its parent and index there. */
struct ref {
	struct node *parent;
	uint32_t index;
};

static void collect(struct node *n, struct ref *refs, size_t *count, size_t max)
{
	uint32_t i;

	for (i = 0; i < n->nkids && *count < max; i++) {
		refs[(*count)++] = (struct ref){ n, i };
		if (n->kids[i].nested)
			collect(&n->kids[i], refs, count, max);
	}
}

static uint32_t true_len(const struct node *n)
{
	uint32_t len = NLA_HDRLEN, i;

	if (!n->nested)
		return len + n->len;
	for (i = 0; i < n->nkids; i++)
		len += NLA_ALIGN(true_len(&n->kids[i]));
	return len;
}

static void insert_kid(struct node *parent, uint32_t at, const struct node *src)
{
	struct node copy;

	clone_into(&copy, src);
	add_kid(parent);
	memmove(&parent->kids[at + 1], &parent->kids[at],
		(parent->nkids - 1 - at) * sizeof(*parent->kids));
	parent->kids[at] = copy;
}

/* One structural change anywhere in the tree. */
static void mutate_tree(struct node *root)
{
	static const uint32_t lens[] = { 0, 1, 2, 3, 4, 8, 16, 17, 64, 300 };
	size_t max = 4096, count = 0;
	struct ref *refs = arena_alloc(max * sizeof(*refs)), ref;
	struct node *n, tmp;
	uint32_t j, len, newlen;
	unsigned char *data;

	collect(root, refs, &count, max);
	if (!count) {
		put_random(root, KFW_A_MAX, 0);
		return;
	}
	ref = refs[below(count)];
	n = &ref.parent->kids[ref.index];
	switch (below(10)) {
	case 0:		/* drop */
		memmove(n, n + 1, (ref.parent->nkids - ref.index - 1) * sizeof(*n));
		ref.parent->nkids--;
		break;
	case 1:		/* duplicate */
		tmp = *n;
		insert_kid(ref.parent, ref.index + (chance(1, 2) ? 1 : 0), &tmp);
		break;
	case 2:		/* swap with a sibling */
		j = below(ref.parent->nkids);
		tmp = ref.parent->kids[j];
		ref.parent->kids[j] = *n;
		*n = tmp;
		break;
	case 3:		/* retype */
		switch (below(5)) {
		case 0:
			n->type = below(40) | (n->type & NLA_F_NESTED);
			break;
		case 1:
			n->type ^= NLA_F_NESTED;
			break;
		case 2:
			n->type ^= NLA_F_NET_BYTEORDER;
			break;
		case 3:
			n->type += chance(1, 2) ? 1 : -1;
			break;
		default:
			n->type = rnd();
			break;
		}
		break;
	case 4:		/* resize */
		len = n->nested ? 0 : n->len;
		switch (below(4)) {
		case 0:
			newlen = len ? len - 1 : 1;
			break;
		case 1:
			newlen = len + 1 + below(8);
			break;
		case 2:
			newlen = len * 2;
			break;
		default:
			newlen = lens[below(sizeof(lens) / sizeof(lens[0]))];
			break;
		}
		data = arena_alloc(newlen ? newlen : 1);
		if (len)
			memcpy(data, n->data, len < newlen ? len : newlen);
		if (newlen > len)
			fill(data + len, newlen - len);
		n->nested = false;
		n->data = data;
		n->len = newlen;
		break;
	case 5:		/* new bytes */
		if (n->nested || !n->len) {
			put_random(n->nested ? n : ref.parent, KFW_RULE_A_MAX, 1);
			break;
		}
		data = arena_alloc(n->len);
		memcpy(data, n->data, n->len);
		if (chance(1, 2))
			data[below(n->len)] ^= 1 << below(8);
		else
			fill(data, n->len);
		n->data = data;
		break;
	case 6:		/* a false nla_len */
		len = true_len(n);
		switch (below(6)) {
		case 0:
			n->bad_len = below(4);
			break;
		case 1:
			n->bad_len = len - 1 - below(3);
			break;
		case 2:
			n->bad_len = len + 1 + below(8);
			break;
		case 3:
			n->bad_len = len + below(256);
			break;
		case 4:
			n->bad_len = 0xffff;
			break;
		default:
			n->bad_len = (uint16_t)rnd();
			break;
		}
		n->bad_len &= 0xffff;
		break;
	case 7:		/* a new attribute, here or inside */
		put_random(n->nested ? n : ref.parent, KFW_RULE_A_MAX, 1);
		break;
	case 8:		/* nest <-> leaf */
		if (n->nested) {
			n->nested = false;
			n->len = below(32);
			n->data = arena_alloc(n->len + 1);
			fill(n->data, n->len);
		} else {
			n->nested = true;
			n->nkids = n->cap = 0;
			n->kids = NULL;
			put_random(n, KFW_RULE_A_MAX, 2);
		}
		break;
	default:	/* an empty nest */
		if (n->nested)
			n->nkids = 0;
		else
			n->len = 0;
		break;
	}
}

static void mutate_header(struct msg *m)
{
	static const int64_t abs_lens[] = { 0, 1, 15, 16, 17, 19, 20, 0xffffffff, 0x10000 };

	switch (below(8)) {
	case 0:
		m->flags ^= 1 << below(16);
		break;
	case 1:
		m->flags = rnd();
		break;
	case 2:
		switch (below(5)) {
		case 0:
			m->type = GENL_ID_CTRL;
			break;
		case 1:
			m->type = below(NLMSG_MIN_TYPE + 2);
			break;
		case 2:
			m->type = fz.family + (chance(1, 2) ? 1 : -1);
			break;
		default:
			m->type = rnd();
			break;
		}
		break;
	case 3:
		if (chance(1, 2))
			m->len_abs = abs_lens[below(sizeof(abs_lens) / sizeof(abs_lens[0]))];
		else
			m->len_delta = (int32_t)below(17) - 8;
		break;
	case 4:
		m->cmd = chance(1, 2) ? below(KFW_CMD_MAX + 3) : rnd();
		break;
	case 5:
		m->version = rnd();
		break;
	case 6:
		m->reserved = rnd();
		break;
	default:
		m->pid = chance(1, 2) ? fz.socks[fz.cur_sock].portid : rnd();
		if (chance(1, 2))
			m->seq = chance(1, 2) ? fz.seq - 1 : rnd();
		break;
	}
}

/* --- Serialization --------------------------------------------------------- */

static void emit(size_t off, const void *p, size_t n)
{
	if (off + n <= DGRAM_MAX) {
		memcpy(fz.dg + off, p, n);
	} else {
		fz.overflow = true;
		if (off < DGRAM_MAX)
			memcpy(fz.dg + off, p, DGRAM_MAX - off);
	}
}

static void emit_zeros(size_t off, size_t n)
{
	static const unsigned char zeros[8];

	emit(off, zeros, n);
}

static size_t ser_node(size_t off, const struct node *n)
{
	size_t start = off;
	struct nlattr nla;
	uint32_t i, len;

	off += NLA_HDRLEN;
	if (n->nested) {
		for (i = 0; i < n->nkids; i++)
			off = ser_node(off, &n->kids[i]);
		len = off - start;
	} else {
		emit(off, n->data, n->len);
		off += n->len;
		len = off - start;
		emit_zeros(off, NLA_ALIGN(off) - off);
		off = NLA_ALIGN(off);
	}
	/* A nest past 64 KiB wraps its nla_len, as a careless sender's would. */
	nla.nla_len = n->bad_len >= 0 ? (uint16_t)n->bad_len : (uint16_t)len;
	nla.nla_type = n->type;
	emit(start, &nla, sizeof(nla));
	return off;
}

static size_t ser_msg(size_t off, const struct msg *m)
{
	struct genlmsghdr g = { .cmd = m->cmd, .version = m->version, .reserved = m->reserved };
	struct nlmsghdr h;
	size_t start = off;
	int64_t len;
	uint32_t i;

	off += NLMSG_HDRLEN;
	if (m->genl) {
		emit(off, &g, sizeof(g));
		off += GENL_HDRLEN;
	}
	for (i = 0; i < m->attrs.nkids; i++)
		off = ser_node(off, &m->attrs.kids[i]);
	if (m->rawlen) {
		emit(off, m->raw, m->rawlen);
		off += m->rawlen;
	}
	len = m->len_abs >= 0 ? m->len_abs : (int64_t)(off - start) + m->len_delta;
	h.nlmsg_len = len < 0 ? 0 : (uint32_t)len;
	h.nlmsg_type = m->type;
	h.nlmsg_flags = m->flags;
	h.nlmsg_seq = m->seq;
	h.nlmsg_pid = m->pid;
	emit(start, &h, sizeof(h));
	emit_zeros(off, NLMSG_ALIGN(off) - off);
	return NLMSG_ALIGN(off);
}

/* Bit flips, interesting values, cuts and insertions, anywhere. */
static size_t mutate_bytes(unsigned char *b, size_t len)
{
	static const uint8_t i8[] = { 0, 1, 0x7f, 0x80, 0xff, 0xfe, 4, 8, 16, 20 };
	static const uint16_t i16[] = { 0, 1, 4, 5, 8, 16, 20, 0x7fff, 0x8000, 0xffff, 0x10, 0x8004 };
	static const uint32_t i32[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 20, 0x10000 };
	unsigned int n = 1 + below(6), off, cnt;
	uint16_t v16;
	uint32_t v32;

	while (n--) {
		switch (below(8)) {
		case 0:
			if (len)
				b[below(len)] ^= 1 << below(8);
			break;
		case 1:
			if (len)
				b[below(len)] = i8[below(sizeof(i8))];
			break;
		case 2:
			if (len >= 2) {
				v16 = i16[below(sizeof(i16) / sizeof(i16[0]))];
				memcpy(b + (below(len - 1) & ~1U), &v16, 2);
			}
			break;
		case 3:
			if (len >= 4) {
				v32 = i32[below(sizeof(i32) / sizeof(i32[0]))];
				memcpy(b + (below(len - 3) & ~3U), &v32, 4);
			}
			break;
		case 4:
			len = below(len + 1);
			break;
		case 5:
			cnt = 1 + below(64);
			if (len + cnt <= DGRAM_MAX) {
				fill(b + len, cnt);
				len += cnt;
			}
			break;
		case 6:
			if (len) {
				off = below(len);
				cnt = 1 + below(len - off < 16 ? len - off : 16);
				memmove(b + off, b + off + cnt, len - off - cnt);
				len -= cnt;
			}
			break;
		default:
			cnt = 1 + below(16);
			if (len + cnt <= DGRAM_MAX) {
				off = below(len + 1);
				memmove(b + off + cnt, b + off, len - off);
				fill(b + off, cnt);
				len += cnt;
			}
			break;
		}
	}
	return len;
}

/* --- Sockets ----------------------------------------------------------------- */

static void failure(const unsigned char *reply, size_t rlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A socket with random options, unless @plain. */
static int open_socket(struct sock *s, bool must_deny, bool plain)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	socklen_t alen = sizeof(addr);
	bool cap_ack = !plain && chance(3, 10);
	int one = 1, size, fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (plain || chance(4, 5))
		setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (cap_ack)
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (!plain && chance(3, 10))
		setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	/* A small buffer overflows: replies are lost and recv says ENOBUFS. */
	size = !plain && chance(1, 10) ? 256 + (int)below(8192) : 1 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	size = 1 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (!plain && chance(1, 10))
		addr.nl_pid = rnd();
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		addr.nl_pid = 0;
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
			close(fd);
			return -errno;
		}
	}
	if (getsockname(fd, (struct sockaddr *)&addr, &alen)) {
		close(fd);
		return -errno;
	}
	free(s->dump_handles);
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->portid = addr.nl_pid;
	s->must_deny = must_deny;
	s->cap_ack = cap_ack;
	return 0;
}

static void reopen(int i)
{
	struct sock *s = &fz.socks[i];
	int err;

	if (s->pinned)
		return;
	close(s->fd);
	s->fd = -1;
	/* Only uid 65534 in the initial namespace is refused on every socket. */
	err = open_socket(s, fz.p->nobody && !fz.p->own_userns, false);
	if (err)
		die("worker %d: cannot open a netlink socket: %s", fz.id, strerror(-err));
	fz.st->reopens++;
}

/* The family's id, by name, from the controller, on a socket of its own. */
static int resolve_family(uint16_t *id)
{
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
		unsigned char attrs[16];
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	static unsigned char buf[16384];
	struct nlattr *nla;
	struct nlmsghdr *h;
	int fd, err;
	ssize_t n;
	size_t off;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 4;
	req.h.nlmsg_type = GENL_ID_CTRL;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = 1;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	nla = (struct nlattr *)req.attrs;
	nla->nla_len = NLA_HDRLEN + 4;
	nla->nla_type = CTRL_ATTR_FAMILY_NAME;
	memcpy(req.attrs + NLA_HDRLEN, KFW_GENL_NAME, 4);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		n = -1;
	else
		n = recv(fd, buf, sizeof(buf), 0);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	h = (struct nlmsghdr *)buf;
	if ((size_t)n < NLMSG_HDRLEN || h->nlmsg_len > (size_t)n)
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR)
		return h->nlmsg_len >= NLMSG_HDRLEN + 4 ? ((struct nlmsgerr *)NLMSG_DATA(h))->error : -EBADMSG;
	for (off = NLMSG_HDRLEN + GENL_HDRLEN; off + NLA_HDRLEN <= h->nlmsg_len;) {
		nla = (struct nlattr *)(buf + off);
		if (nla->nla_len < NLA_HDRLEN)
			break;
		if ((nla->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID && nla->nla_len >= NLA_HDRLEN + 2) {
			memcpy(id, buf + off + NLA_HDRLEN, 2);
			return 0;
		}
		off += NLA_ALIGN(nla->nla_len);
	}
	return -EBADMSG;
}

/* --- Reporting --------------------------------------------------------------- */

static void hexdump(const char *what, const unsigned char *p, size_t len)
{
	size_t i, max = len < 512 ? len : 512;

	printf("kfwfuzz:   %s, %zu bytes%s:\n", what, len, max < len ? " (first 512)" : "");
	for (i = 0; i < max; i++)
		printf("%s%02x%s", i % 16 ? "" : "kfwfuzz:     ", p[i],
		       i % 16 == 15 || i + 1 == max ? "\n" : i % 4 == 3 ? "  " : " ");
}

static void failure(const unsigned char *reply, size_t rlen, const char *fmt, ...)
{
	va_list ap;

	fz.st->failures++;
	if (++fz.reports > MAX_REPORTS) {
		if (fz.reports == MAX_REPORTS + 1)
			printf("kfwfuzz: worker %d: more failures, not shown\n", fz.id);
		return;
	}
	printf("kfwfuzz: FAIL: worker %d (%s), datagram %" PRIu64 ", socket %d: ",
	       fz.id, fz.p ? fz.p->name : "parent", fz.dgram, fz.cur_sock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (reply)
		hexdump("reply", reply, rlen);
	if (fz.dglen)
		hexdump("datagram sent", fz.dg, fz.dglen);
	if (fz.p)
		printf("kfwfuzz:   replay: kfwfuzz -s 0x%016" PRIx64 " -n %" PRIu64 " -w %d\n",
		       fz.seed, fz.st->messages + fz.nmsgs, fz.id);
	fflush(stdout);
}

static void count_errno(uint64_t *hist, int err)
{
	hist[err > 0 && err < NR_ERRNOS ? err : NR_ERRNOS]++;
}

static void remember_handle(uint64_t h)
{
	fz.handles[fz.nhandles++ % NR_HANDLES] = h;
}

/* --- Checking what the kernel says -------------------------------------------- */

/*
 * One attribute of a chain at @p with @rem bytes left: 1 and the attribute,
 * 0 at the end, -1 if malformed (too short, too long, or padding not zero:
 * kernel memory the reply should not carry).
 */
static int next_attr(const unsigned char **p, size_t *rem, uint16_t *type,
		     const unsigned char **data, uint16_t *len)
{
	struct nlattr nla;
	size_t step, i;

	if (!*rem)
		return 0;
	if (*rem < NLA_HDRLEN)
		return -1;
	memcpy(&nla, *p, sizeof(nla));
	step = NLA_ALIGN(nla.nla_len);
	if (nla.nla_len < NLA_HDRLEN || step > *rem)
		return -1;
	for (i = nla.nla_len; i < step; i++)
		if ((*p)[i])
			return -1;
	*type = nla.nla_type & NLA_TYPE_MASK;
	*data = *p + NLA_HDRLEN;
	*len = nla.nla_len - NLA_HDRLEN;
	*p += step;
	*rem -= step;
	return 1;
}

static uint8_t get_u8(const unsigned char *d)
{
	return d[0];
}

static uint16_t get_u16(const unsigned char *d)
{
	uint16_t v;

	memcpy(&v, d, sizeof(v));
	return v;
}

static uint32_t get_u32(const unsigned char *d)
{
	uint32_t v;

	memcpy(&v, d, sizeof(v));
	return v;
}

static uint64_t get_u64(const unsigned char *d)
{
	uint64_t v;

	memcpy(&v, d, sizeof(v));
	return v;
}

struct attr {
	const unsigned char *data;
	uint16_t len;
};

/*
 * Sorts a chain into @tb by type. The sizes are those the kernel puts:
 * @sizes[type] is the exact payload size, 0 for any, -1 for a type that must
 * not appear, -2 for a flag (empty).
 */
static const char *parse_chain(const unsigned char *p, size_t rem, struct attr *tb,
			       unsigned int max, const int *sizes)
{
	const unsigned char *data;
	uint16_t type, len;
	int r;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while ((r = next_attr(&p, &rem, &type, &data, &len)) > 0) {
		if (type > max || sizes[type] == -1)
			return "an attribute of a type the protocol does not have here";
		if (tb[type].data)
			return "an attribute twice";
		if ((sizes[type] > 0 && len != sizes[type]) || (sizes[type] == -2 && len))
			return "an attribute of the wrong size";
		tb[type].data = data;
		tb[type].len = len;
	}
	return r < 0 ? "malformed attributes (lengths, or padding not zero)" : NULL;
}

static bool prefix_clean(const unsigned char *addr, unsigned int bits, unsigned int plen)
{
	unsigned int i;

	for (i = plen; i < bits; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static const char *check_string(const struct attr *a, size_t max, bool comment)
{
	size_t i;

	if (a->len < 2 || a->len > max || a->data[a->len - 1] ||
	    strlen((const char *)a->data) != a->len - 1u)
		return "a string of the wrong length or not terminated";
	for (i = 0; i + 1 < a->len; i++)
		if (comment && (a->data[i] < 0x20 || a->data[i] > 0x7e ||
				a->data[i] == '"' || a->data[i] == '\\'))
			return "a comment with a forbidden byte";
	return NULL;
}

/* A rule's over, as the kernel lists it: whole, in range, sources with per-src. */
static const char *check_over(const struct attr *tb)
{
	const unsigned char *rate = tb[KFW_RULE_A_OVER_RATE].data;
	const unsigned char *period = tb[KFW_RULE_A_OVER_PERIOD].data;
	const unsigned char *burst = tb[KFW_RULE_A_OVER_BURST].data;

	if (!rate != !period || !rate != !burst)
		return "an over rate without its period or burst, or the reverse";
	if (!tb[KFW_RULE_A_OVER_PER_SRC].data != !tb[KFW_RULE_A_OVER_SOURCES].data)
		return "over sources without per-src, or the reverse";
	if (tb[KFW_RULE_A_OVER_PER_SRC].data && !rate)
		return "per-src without an over rate";
	if (!rate)
		return NULL;
	if (!get_u32(rate) || get_u32(rate) > KFW_OVER_RATE_MAX ||
	    (get_u32(period) != 1 && get_u32(period) != 60 && get_u32(period) != 3600) ||
	    !get_u32(burst) || get_u32(burst) > KFW_OVER_BURST_MAX)
		return "an over rate, period or burst out of range";
	return NULL;
}

/* A rule as the kernel lists it: everything it validated on input must hold. */
static const char *check_rule(const unsigned char *p, size_t len, uint64_t *handle, uint8_t *action)
{
	static const int sizes[KFW_RULE_A_MAX + 1] = {
		[KFW_RULE_A_UNSPEC] = -1, [KFW_RULE_A_PAD] = 0,
		[KFW_RULE_A_HANDLE] = 8, [KFW_RULE_A_DIR] = 1, [KFW_RULE_A_ACTION] = 1,
		[KFW_RULE_A_PROTO] = 1, [KFW_RULE_A_SRC_IP4] = 4, [KFW_RULE_A_SRC_IP6] = 16,
		[KFW_RULE_A_SRC_PREFIX] = 1, [KFW_RULE_A_DST_IP4] = 4, [KFW_RULE_A_DST_IP6] = 16,
		[KFW_RULE_A_DST_PREFIX] = 1, [KFW_RULE_A_SPORT_FIRST] = 2,
		[KFW_RULE_A_SPORT_LAST] = 2, [KFW_RULE_A_DPORT_FIRST] = 2,
		[KFW_RULE_A_DPORT_LAST] = 2, [KFW_RULE_A_IFACE] = 0, [KFW_RULE_A_PACKETS] = 8,
		[KFW_RULE_A_BYTES] = 8, [KFW_RULE_A_STATE] = 1, [KFW_RULE_A_ICMP_TYPE] = 1,
		[KFW_RULE_A_ICMP_CODE] = 1, [KFW_RULE_A_PAYLOAD] = 0,
		[KFW_RULE_A_PAYLOAD_WITHIN] = 2, [KFW_RULE_A_LOG] = -2,
		[KFW_RULE_A_LOG_RATE] = 4, [KFW_RULE_A_LOG_BURST] = 4, [KFW_RULE_A_COMMENT] = 0,
		[KFW_RULE_A_OVER_RATE] = 4, [KFW_RULE_A_OVER_PERIOD] = 4,
		[KFW_RULE_A_OVER_BURST] = 4, [KFW_RULE_A_OVER_PER_SRC] = -2,
		[KFW_RULE_A_OVER_SOURCES] = 4,
		[KFW_RULE_A_TIMEOUT] = 8,
	};
	struct attr tb[KFW_RULE_A_MAX + 1];
	const char *why;
	unsigned int i, bits = 0;
	uint8_t proto = 0;
	bool has_proto;

	why = parse_chain(p, len, tb, KFW_RULE_A_MAX, sizes);
	if (why)
		return why;
	if (!tb[KFW_RULE_A_HANDLE].data || !tb[KFW_RULE_A_DIR].data || !tb[KFW_RULE_A_ACTION].data ||
	    !tb[KFW_RULE_A_PACKETS].data || !tb[KFW_RULE_A_BYTES].data)
		return "a rule without its handle, direction, action or counters";
	*handle = get_u64(tb[KFW_RULE_A_HANDLE].data);
	*action = get_u8(tb[KFW_RULE_A_ACTION].data);
	if (!*handle)
		return "a rule with handle 0";
	if (get_u8(tb[KFW_RULE_A_DIR].data) > KFW_DIR_MAX || *action > KFW_VERDICT_MAX)
		return "a rule with a direction or action out of range";
	has_proto = tb[KFW_RULE_A_PROTO].data;
	if (has_proto)
		proto = get_u8(tb[KFW_RULE_A_PROTO].data);

	for (i = 0; i < 2; i++) {
		const struct attr *a4 = &tb[i ? KFW_RULE_A_DST_IP4 : KFW_RULE_A_SRC_IP4];
		const struct attr *a6 = &tb[i ? KFW_RULE_A_DST_IP6 : KFW_RULE_A_SRC_IP6];
		const struct attr *pl = &tb[i ? KFW_RULE_A_DST_PREFIX : KFW_RULE_A_SRC_PREFIX];
		unsigned int these = a4->data ? 32 : a6->data ? 128 : 0;

		if (a4->data && a6->data)
			return "a rule address in both families";
		if (!these != !pl->data)
			return "a rule address without its prefix length, or the reverse";
		if (!these)
			continue;
		if (bits && bits != these)
			return "a rule whose source and destination differ in family";
		bits = these;
		if (get_u8(pl->data) > bits)
			return "a prefix length past the address";
		if (!prefix_clean(a4->data ? a4->data : a6->data, bits, get_u8(pl->data)))
			return "an address with bits beyond its prefix";
	}
	for (i = 0; i < 2; i++) {
		const struct attr *first = &tb[i ? KFW_RULE_A_DPORT_FIRST : KFW_RULE_A_SPORT_FIRST];
		const struct attr *last = &tb[i ? KFW_RULE_A_DPORT_LAST : KFW_RULE_A_SPORT_LAST];

		if (!first->data != !last->data)
			return "a port range with one end";
		if (!first->data)
			continue;
		if (get_u16(first->data) > get_u16(last->data))
			return "a port range that ends before it starts";
		if (!has_proto || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
			return "ports without proto tcp or udp";
	}
	if (tb[KFW_RULE_A_STATE].data &&
	    (!get_u8(tb[KFW_RULE_A_STATE].data) || get_u8(tb[KFW_RULE_A_STATE].data) & ~__KFW_STATE_ALL))
		return "a state match out of range";
	if (tb[KFW_RULE_A_ICMP_TYPE].data &&
	    (!has_proto || (proto != IPPROTO_ICMP && proto != IPPROTO_ICMPV6)))
		return "an icmp type without proto icmp";
	if (tb[KFW_RULE_A_ICMP_CODE].data && !tb[KFW_RULE_A_ICMP_TYPE].data)
		return "an icmp code without a type";
	if (tb[KFW_RULE_A_IFACE].data && (why = check_string(&tb[KFW_RULE_A_IFACE], 16, false)))
		return why;
	if (tb[KFW_RULE_A_COMMENT].data &&
	    (why = check_string(&tb[KFW_RULE_A_COMMENT], KFW_COMMENT_MAX, true)))
		return why;
	if (tb[KFW_RULE_A_PAYLOAD].data &&
	    (!tb[KFW_RULE_A_PAYLOAD].len || tb[KFW_RULE_A_PAYLOAD].len > KFW_PAYLOAD_MAX))
		return "a payload of the wrong length";
	if (tb[KFW_RULE_A_PAYLOAD_WITHIN].data &&
	    (!tb[KFW_RULE_A_PAYLOAD].data || !get_u16(tb[KFW_RULE_A_PAYLOAD_WITHIN].data)))
		return "payload-within without a payload, or 0";
	if (!tb[KFW_RULE_A_LOG].data != !tb[KFW_RULE_A_LOG_RATE].data ||
	    !tb[KFW_RULE_A_LOG].data != !tb[KFW_RULE_A_LOG_BURST].data)
		return "log rate and burst without log, or log without them";
	if (tb[KFW_RULE_A_LOG].data &&
	    (!get_u32(tb[KFW_RULE_A_LOG_RATE].data) ||
	     get_u32(tb[KFW_RULE_A_LOG_RATE].data) > KFW_LOG_RATE_MAX ||
	     !get_u32(tb[KFW_RULE_A_LOG_BURST].data) ||
	     get_u32(tb[KFW_RULE_A_LOG_BURST].data) > KFW_LOG_BURST_MAX))
		return "a log rate or burst out of range";
	/* The time left: never 0, never more than a rule may be given. */
	if (tb[KFW_RULE_A_TIMEOUT].data &&
	    (!get_u64(tb[KFW_RULE_A_TIMEOUT].data) ||
	     get_u64(tb[KFW_RULE_A_TIMEOUT].data) > KFW_TIMEOUT_MAX_MS))
		return "a timeout left of 0 or past KFW_TIMEOUT_MAX_MS";
	return check_over(tb);
}

static const char *check_info(const unsigned char *p, size_t len)
{
	static const int sizes[KFW_A_MAX + 1] = {
		[KFW_A_UNSPEC] = -1, [KFW_A_PAD] = 0, [KFW_A_RULE] = -1, [KFW_A_RULES] = -1,
		[KFW_A_POSITION] = -1, [KFW_A_HANDLE] = -1, [KFW_A_DIR] = -1, [KFW_A_VERDICT] = -1,
		[KFW_A_POLICY_IN] = 1, [KFW_A_POLICY_OUT] = 1, [KFW_A_RULE_COUNT] = 4,
		[KFW_A_RULE_LIMIT] = 4, [KFW_A_GENERATION] = 4, [KFW_A_STATS] = 0,
		[KFW_A_HOOK] = -1, [KFW_A_LOG_SUPPRESSED] = 8, [KFW_A_PACKET] = -1,
	};
	static const int hook_sizes[KFW_HOOK_A_MAX + 1] = {
		[KFW_HOOK_A_UNSPEC] = -1, [KFW_HOOK_A_PAD] = 0, [KFW_HOOK_A_DIR] = 1,
		[KFW_HOOK_A_FAMILY] = 1, [KFW_HOOK_A_SEEN] = 8, [KFW_HOOK_A_ACCEPTED] = 8,
		[KFW_HOOK_A_DROPPED] = 8,
	};
	struct attr tb[KFW_A_MAX + 1], hb[KFW_HOOK_A_MAX + 1];
	const unsigned char *sp, *data;
	unsigned int seen = 0, bit, i;
	uint16_t type, dlen;
	const char *why;
	size_t srem;
	int r;

	why = parse_chain(p, len, tb, KFW_A_MAX, sizes);
	if (why)
		return why;
	for (i = KFW_A_POLICY_IN; i <= KFW_A_LOG_SUPPRESSED; i++)
		if (i != KFW_A_HOOK && !tb[i].data)
			return "GET_INFO without one of its attributes";
	if (get_u8(tb[KFW_A_POLICY_IN].data) > KFW_VERDICT_DROP ||
	    get_u8(tb[KFW_A_POLICY_OUT].data) > KFW_VERDICT_DROP)
		return "a policy out of range";
	if (get_u32(tb[KFW_A_RULE_COUNT].data) > get_u32(tb[KFW_A_RULE_LIMIT].data))
		return "more rules than the limit";
	fz.rule_count = get_u32(tb[KFW_A_RULE_COUNT].data);
	sp = tb[KFW_A_STATS].data;
	srem = tb[KFW_A_STATS].len;
	while ((r = next_attr(&sp, &srem, &type, &data, &dlen)) > 0) {
		if (type != KFW_A_HOOK)
			return "KFW_A_STATS holding something else than KFW_A_HOOK";
		why = parse_chain(data, dlen, hb, KFW_HOOK_A_MAX, hook_sizes);
		if (why)
			return why;
		for (i = KFW_HOOK_A_DIR; i <= KFW_HOOK_A_DROPPED; i++)
			if (!hb[i].data)
				return "a hook without one of its counters";
		if (get_u8(hb[KFW_HOOK_A_DIR].data) > KFW_DIR_MAX ||
		    get_u8(hb[KFW_HOOK_A_FAMILY].data) > KFW_FAMILY_MAX)
			return "a hook of a direction or family out of range";
		bit = 1U << (get_u8(hb[KFW_HOOK_A_DIR].data) * 2 + get_u8(hb[KFW_HOOK_A_FAMILY].data));
		if (seen & bit)
			return "a hook listed twice";
		seen |= bit;
	}
	if (r < 0)
		return "malformed KFW_A_STATS";
	return seen == 0xf ? NULL : "KFW_A_STATS without every hook";
}

static const char *check_test(const unsigned char *p, size_t len)
{
	static const int sizes[KFW_A_MAX + 1] = {
		[KFW_A_UNSPEC] = -1, [KFW_A_PAD] = -1, [KFW_A_RULE] = 0, [KFW_A_RULES] = -1,
		[KFW_A_POSITION] = -1, [KFW_A_HANDLE] = -1, [KFW_A_DIR] = -1, [KFW_A_VERDICT] = 1,
		[KFW_A_POLICY_IN] = -1, [KFW_A_POLICY_OUT] = -1, [KFW_A_RULE_COUNT] = -1,
		[KFW_A_RULE_LIMIT] = -1, [KFW_A_GENERATION] = -1, [KFW_A_STATS] = -1,
		[KFW_A_HOOK] = -1, [KFW_A_LOG_SUPPRESSED] = -1, [KFW_A_PACKET] = -1,
	};
	struct attr tb[KFW_A_MAX + 1];
	const char *why;
	uint64_t handle;
	uint8_t verdict, action;

	why = parse_chain(p, len, tb, KFW_A_MAX, sizes);
	if (why)
		return why;
	if (!tb[KFW_A_VERDICT].data)
		return "TEST without a verdict";
	verdict = get_u8(tb[KFW_A_VERDICT].data);
	if (!tb[KFW_A_RULE].data)
		return verdict > KFW_VERDICT_DROP ? "a policy verdict out of range" : NULL;
	why = check_rule(tb[KFW_A_RULE].data, tb[KFW_A_RULE].len, &handle, &action);
	if (why)
		return why;
	remember_handle(handle);
	return verdict == action ? NULL : "a TEST verdict that is not its rule's action";
}

/*
 * The newest message sent on @s with @seq and, if given, this header, this
 * type (-1: any) and this genl command (-1: any).
 */
static const struct sent *find_sent(const struct sock *s, uint32_t seq, const unsigned char *hdr,
				    int type, int cmd)
{
	const struct sent *e;
	unsigned int i;

	for (i = 1; i <= RING_SIZE; i++) {
		e = &s->ring[(s->ring_next - i) % RING_SIZE];
		if (e->dgram && e->seq == seq &&
		    (!hdr || !memcmp(e->hdr, hdr, NLMSG_HDRLEN)) &&
		    (type < 0 || e->type == type) && (cmd < 0 || (e->kfw_req && e->cmd == cmd)))
			return e;
	}
	return NULL;
}

static void dump_add(struct sock *s, uint32_t seq, bool intr, uint64_t handle)
{
	if (!s->dump_active || s->dump_seq != seq) {
		s->dump_active = true;
		s->dump_seq = seq;
		s->dump_intr = false;
		s->ndump = 0;
	}
	s->dump_intr |= intr;
	if (s->ndump == s->dump_cap) {
		s->dump_cap = s->dump_cap ? s->dump_cap * 2 : 1024;
		s->dump_handles = realloc(s->dump_handles, s->dump_cap * sizeof(*s->dump_handles));
		if (!s->dump_handles)
			die("out of memory");
	}
	s->dump_handles[s->ndump++] = handle;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void dump_done(struct sock *s, uint32_t seq, bool intr, const unsigned char *m, size_t len)
{
	size_t i;

	if (!s->dump_active || s->dump_seq != seq)
		return;
	s->dump_active = false;
	if (intr || s->dump_intr)
		return;
	qsort(s->dump_handles, s->ndump, sizeof(*s->dump_handles), cmp_u64);
	for (i = 1; i < s->ndump; i++) {
		if (s->dump_handles[i] == s->dump_handles[i - 1]) {
			failure(m, len, "a dump not marked NLM_F_DUMP_INTR lists handle %" PRIu64 " twice",
				s->dump_handles[i]);
			return;
		}
	}
}

static void check_ack(struct sock *s, const unsigned char *m, size_t len, const struct nlmsghdr *h)
{
	struct nlmsgerr e;
	const struct sent *req;
	const unsigned char *tp, *data;
	size_t tlv, trem;
	uint16_t type, dlen;
	int r;

	if (len < NLMSG_HDRLEN + sizeof(e)) {
		failure(m, len, "an NLMSG_ERROR too short for struct nlmsgerr");
		return;
	}
	memcpy(&e, m + NLMSG_HDRLEN, sizeof(e));
	if (e.error > 0 || e.error < -4095) {
		failure(m, len, "an NLMSG_ERROR with error %d", e.error);
		return;
	}
	req = find_sent(s, h->nlmsg_seq, (const unsigned char *)&e.msg, -1, -1);
	if (!req) {
		failure(m, len, "an acknowledgement of a message this socket did not send");
		return;
	}
	/* Refused requests come back whole unless capped; then the TLVs. */
	if (h->nlmsg_flags & NLM_F_CAPPED) {
		tlv = NLMSG_HDRLEN + sizeof(e);
	} else {
		tlv = NLMSG_HDRLEN + 4 + NLMSG_ALIGN(req->len);
		if (!e.error || s->cap_ack) {
			failure(m, len, "an acknowledgement not capped that should be");
			return;
		}
		if (tlv > len) {
			failure(m, len, "an NLMSG_ERROR too short for the request it echoes");
			return;
		}
		if (req->dgram == fz.dgram && memcmp(m + NLMSG_HDRLEN + 4, fz.dg + req->off, req->len)) {
			failure(m, len, "an NLMSG_ERROR echoing a request other than the one sent");
			return;
		}
	}
	if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
		tp = m + tlv;
		trem = len - tlv;
		while ((r = next_attr(&tp, &trem, &type, &data, &dlen)) > 0) {
			if (type == NLMSGERR_ATTR_MSG &&
			    (!dlen || data[dlen - 1] || strlen((const char *)data) + 1 != dlen)) {
				failure(m, len, "an extended ack message that is not a string");
				return;
			}
			if (type == NLMSGERR_ATTR_OFFS &&
			    (dlen != 4 || get_u32(data) >= req->len || get_u32(data) < NLMSG_HDRLEN)) {
				failure(m, len, "an extended ack pointing outside the request");
				return;
			}
		}
		if (r < 0) {
			failure(m, len, "malformed extended ack attributes");
			return;
		}
	} else if (tlv != len) {
		failure(m, len, "an NLMSG_ERROR with %zu bytes past its end", len - tlv);
		return;
	}

	if (e.error)
		count_errno(fz.st->errors, -e.error);
	else
		fz.st->acks++;
	if (!req->kfw_req)
		return;
	if (e.error)
		fz.st->cmd_err[cmd_slot(req->cmd)]++;
	else
		fz.st->cmd_ok[cmd_slot(req->cmd)]++;
	/*
	 * genl checks the header (genl_header_check()) and looks the command
	 * up, then the permission, before anything of kfw runs. A kernel that
	 * looks commands up by their flags may say EOPNOTSUPP to a dump.
	 */
	if (s->must_deny && req->admin) {
		if (e.error == (req->bad_genl ? -EINVAL : -EPERM))
			fz.st->denied += !req->bad_genl;
		else if (e.error != -EOPNOTSUPP || (req->flags & NLM_F_DUMP) != NLM_F_DUMP)
			failure(m, len, "%s without CAP_NET_ADMIN got error %d, not %s",
				cmd_names[req->cmd], e.error, req->bad_genl ? "EINVAL" : "EPERM");
	}
}

static void check_kfw(struct sock *s, const unsigned char *m, size_t len, const struct nlmsghdr *h)
{
	static const int add_sizes[KFW_A_MAX + 1] = {
		[KFW_A_UNSPEC] = -1, [KFW_A_PAD] = 0, [KFW_A_RULE] = -1, [KFW_A_RULES] = -1,
		[KFW_A_POSITION] = -1, [KFW_A_HANDLE] = 8, [KFW_A_DIR] = -1, [KFW_A_VERDICT] = -1,
		[KFW_A_POLICY_IN] = -1, [KFW_A_POLICY_OUT] = -1, [KFW_A_RULE_COUNT] = -1,
		[KFW_A_RULE_LIMIT] = -1, [KFW_A_GENERATION] = -1, [KFW_A_STATS] = -1,
		[KFW_A_HOOK] = -1, [KFW_A_LOG_SUPPRESSED] = -1, [KFW_A_PACKET] = -1,
	};
	const unsigned char *p, *data;
	struct attr tb[KFW_A_MAX + 1];
	size_t rem;
	const char *why = NULL;
	const struct sent *req;
	struct genlmsghdr g;
	uint16_t type, dlen;
	uint64_t handle;
	uint8_t action;
	bool multi = h->nlmsg_flags & NLM_F_MULTI;

	if (len < NLMSG_HDRLEN + GENL_HDRLEN) {
		failure(m, len, "a kfw message too short for its genl header");
		return;
	}
	memcpy(&g, m + NLMSG_HDRLEN, sizeof(g));
	p = m + NLMSG_HDRLEN + GENL_HDRLEN;
	rem = len - NLMSG_HDRLEN - GENL_HDRLEN;
	req = find_sent(s, h->nlmsg_seq, NULL, fz.family, g.cmd);
	if (!req) {
		failure(m, len, "a kfw reply (command %u) to no such request", g.cmd);
		return;
	}
	if (g.version != KFW_GENL_VERSION || g.reserved) {
		failure(m, len, "a kfw reply with genl version %u, reserved %u", g.version, g.reserved);
		return;
	}
	fz.st->replies++;
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		fz.st->dump_intr++;
	switch (g.cmd) {
	case KFW_CMD_GET_INFO:
		why = multi ? "a GET_INFO reply marked NLM_F_MULTI" : check_info(p, rem);
		break;
	case KFW_CMD_GET_RULES:
		if (!multi) {
			why = "a dump message not marked NLM_F_MULTI";
			break;
		}
		if (next_attr(&p, &rem, &type, &data, &dlen) <= 0 || type != KFW_A_RULE || rem) {
			why = "a dump message that is not one KFW_A_RULE";
			break;
		}
		why = check_rule(data, dlen, &handle, &action);
		if (!why) {
			remember_handle(handle);
			dump_add(s, h->nlmsg_seq, h->nlmsg_flags & NLM_F_DUMP_INTR, handle);
		}
		break;
	case KFW_CMD_ADD_RULE:
		why = parse_chain(p, rem, tb, KFW_A_MAX, add_sizes);
		if (!why && !tb[KFW_A_HANDLE].data)
			why = "an ADD_RULE reply without the handle";
		if (why)
			break;
		remember_handle(get_u64(tb[KFW_A_HANDLE].data));
		/* With NLM_F_ACK, the ack counts the success. */
		if (!(req->flags & NLM_F_ACK))
			fz.st->cmd_ok[KFW_CMD_ADD_RULE]++;
		if (s->must_deny)
			why = "ADD_RULE succeeded without CAP_NET_ADMIN";
		break;
	case KFW_CMD_TEST:
		why = check_test(p, rem);
		break;
	default:
		why = "a kfw reply of a command that has none";
		break;
	}
	if (why)
		failure(m, len, "%s", why);
}

static void check_done(struct sock *s, const unsigned char *m, size_t len, const struct nlmsghdr *h)
{
	const struct sent *req;
	int32_t v;

	if (len < NLMSG_HDRLEN + 4) {
		failure(m, len, "an NLMSG_DONE too short for its status");
		return;
	}
	memcpy(&v, m + NLMSG_HDRLEN, 4);
	req = find_sent(s, h->nlmsg_seq, NULL, -1, -1);
	if (!req) {
		failure(m, len, "an NLMSG_DONE of a dump this socket did not ask for");
		return;
	}
	if (v > 0 || v < -4095 || !(h->nlmsg_flags & NLM_F_MULTI)) {
		failure(m, len, "an NLMSG_DONE with status %d, flags 0x%x", v, h->nlmsg_flags);
		return;
	}
	fz.st->dones++;
	if (req->kfw_req && req->cmd == KFW_CMD_GET_RULES) {
		if (v)
			fz.st->cmd_err[KFW_CMD_GET_RULES]++;
		else
			fz.st->cmd_ok[KFW_CMD_GET_RULES]++;
		dump_done(s, h->nlmsg_seq, h->nlmsg_flags & NLM_F_DUMP_INTR, m, len);
	}
}

/* Every message of a datagram from the kernel. */
static void check_datagram(struct sock *s, const unsigned char *b, size_t n)
{
	struct nlmsghdr h;
	const struct sent *req;
	size_t off = 0;

	while (off < n) {
		if (n - off < NLMSG_HDRLEN) {
			failure(b, n, "%zu bytes after the last message of a reply", n - off);
			return;
		}
		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > n - off) {
			failure(b, n, "a reply message of length %u at offset %zu of %zu",
				h.nlmsg_len, off, n);
			return;
		}
		if (h.nlmsg_pid != s->portid) {
			failure(b + off, h.nlmsg_len, "a reply addressed to port %u, not %u",
				h.nlmsg_pid, s->portid);
			return;
		}
		switch (h.nlmsg_type) {
		case NLMSG_ERROR:
			check_ack(s, b + off, h.nlmsg_len, &h);
			break;
		case NLMSG_DONE:
			check_done(s, b + off, h.nlmsg_len, &h);
			break;
		default:
			if (h.nlmsg_type == fz.family) {
				check_kfw(s, b + off, h.nlmsg_len, &h);
				break;
			}
			/* The controller, or another family a random type found. */
			req = find_sent(s, h.nlmsg_seq, NULL, h.nlmsg_type, -1);
			if (h.nlmsg_type < NLMSG_MIN_TYPE || !req)
				failure(b + off, h.nlmsg_len, "a reply of type %u to no such request",
					h.nlmsg_type);
			else
				fz.st->other_replies++;
			break;
		}
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
}

/* Reads until the socket is empty: dumps continue as their parts are read. */
static void drain(struct sock *s)
{
	unsigned int i;
	ssize_t n;

	for (i = 0; i < 1000000; i++) {
		n = recv(s->fd, fz.rbuf, RECV_SIZE, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				fz.st->recv_enobufs++;
				continue;
			}
			failure(NULL, 0, "recv: %s", strerror(errno));
			return;
		}
		if (n > RECV_SIZE) {
			failure(fz.rbuf, RECV_SIZE, "a reply of %zd bytes, larger than any request", n);
			continue;
		}
		check_datagram(s, fz.rbuf, n);
	}
	failure(NULL, 0, "the socket never runs dry");
}

/* --- One worker ---------------------------------------------------------------- */

/* genl_header_check(): a reserved field, or flags beyond these, are refused. */
static bool genl_refuses(const struct nlmsghdr *h, const unsigned char *genl)
{
	uint16_t flags = h->nlmsg_flags, reserved;

	memcpy(&reserved, genl + 2, sizeof(reserved));
	if ((flags & NLM_F_DUMP) == NLM_F_DUMP)
		flags &= ~NLM_F_DUMP;
	return reserved || (flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO));
}

/* What the kernel will cut out of the datagram, as netlink_rcv_skb() does. */
static void record(struct sock *s)
{
	struct nlmsghdr h;
	struct sent *e;
	size_t off = 0;

	while (off + NLMSG_HDRLEN <= fz.dglen) {
		memcpy(&h, fz.dg + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > fz.dglen - off)
			break;
		e = &s->ring[s->ring_next++ % RING_SIZE];
		e->seq = h.nlmsg_seq;
		e->type = h.nlmsg_type;
		e->flags = h.nlmsg_flags;
		e->len = h.nlmsg_len;
		e->cmd = h.nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN ? fz.dg[off + NLMSG_HDRLEN] : 0;
		e->kfw_req = h.nlmsg_type == fz.family && (h.nlmsg_flags & NLM_F_REQUEST) &&
			     h.nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN;
		e->admin = e->kfw_req && cmd_is_admin(e->cmd);
		e->bad_genl = e->kfw_req && genl_refuses(&h, fz.dg + off + NLMSG_HDRLEN);
		e->dgram = fz.dgram;
		e->off = off;
		memcpy(e->hdr, &h, NLMSG_HDRLEN);
		if (e->kfw_req)
			fz.st->cmd_sent[cmd_slot(e->cmd)]++;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
}

static uint8_t pick_cmd(void)
{
	static const struct {
		uint8_t cmd, weight;
	} weights[] = {
		{ KFW_CMD_GET_INFO, 8 }, { KFW_CMD_GET_RULES, 5 }, { KFW_CMD_ADD_RULE, 25 },
		{ KFW_CMD_DEL_RULE, 10 }, { KFW_CMD_FLUSH, 1 }, { KFW_CMD_SET_POLICY, 4 },
		{ KFW_CMD_ZERO, 3 }, { KFW_CMD_TEST, 14 }, { KFW_CMD_REPLACE_BEGIN, 4 },
		{ KFW_CMD_REPLACE_RULES, 6 }, { KFW_CMD_REPLACE_COMMIT, 3 },
		{ KFW_CMD_REPLACE_ABORT, 3 }, { KFW_CMD_CONFIRM, 2 }, { KFW_CMD_UNSPEC, 1 },
		{ KFW_CMD_MAX + 1, 2 },
	};
	unsigned int total = 0, i, r;

	for (i = 0; i < sizeof(weights) / sizeof(weights[0]); i++)
		total += weights[i].weight;
	r = below(total);
	for (i = 0; r >= weights[i].weight; i++)
		r -= weights[i].weight;
	if (weights[i].cmd > KFW_CMD_MAX)
		return KFW_CMD_MAX + 1 + below(256 - KFW_CMD_MAX - 1);
	return weights[i].cmd;
}

/* A transaction from BEGIN to one of its ends, a message a datagram. */
static void make_plan(void)
{
	int sock = below(NR_SOCKS), other = (sock + 1 + below(NR_SOCKS - 1)) % NR_SOCKS;
	unsigned int chunks = chance(1, 10) ? 0 : 1 + below(4), i, r = below(100);

	fz.plan_len = fz.plan_pos = 0;
	fz.plan[fz.plan_len++] = (struct plan_item){ KFW_CMD_REPLACE_BEGIN, sock, false };
	for (i = 0; i < chunks; i++)
		fz.plan[fz.plan_len++] = (struct plan_item){
			KFW_CMD_REPLACE_RULES, chance(1, 20) ? other : sock, false };
	if (r < 60) {
		fz.plan[fz.plan_len++] = (struct plan_item){ KFW_CMD_REPLACE_COMMIT, sock, false };
	} else if (r < 72) {
		fz.plan[fz.plan_len++] = (struct plan_item){ KFW_CMD_REPLACE_ABORT, sock, false };
	} else if (r < 84) {
		/* A chunk after the commit, and a second commit. */
		fz.plan[fz.plan_len++] = (struct plan_item){ KFW_CMD_REPLACE_COMMIT, sock, false };
		fz.plan[fz.plan_len++] = (struct plan_item){ KFW_CMD_REPLACE_RULES, sock, false };
		fz.plan[fz.plan_len++] = (struct plan_item){ KFW_CMD_REPLACE_COMMIT, sock, false };
	} else if (r < 94) {
		/* Abandoned: the socket closes with the transaction open. */
		fz.plan[fz.plan_len - 1].close_after = true;
	}
	/* else: left open, for the next BEGIN or the namespace's end. */
}

static bool plan_next(int sock, uint8_t *cmd, bool *close_after)
{
	if (fz.plan_pos >= fz.plan_len || fz.plan[fz.plan_pos].sock != sock)
		return false;
	*cmd = fz.plan[fz.plan_pos].cmd;
	*close_after = fz.plan[fz.plan_pos].close_after;
	fz.plan_pos++;
	return true;
}

/* A datagram of random bytes, perhaps behind a valid header. */
static size_t random_datagram(void)
{
	struct nlmsghdr h;
	size_t len = chance(3, 4) ? below(64) : below(1024);

	fill(fz.dg, len);
	if (len >= NLMSG_HDRLEN + GENL_HDRLEN && chance(1, 2)) {
		h.nlmsg_len = len;
		h.nlmsg_type = fz.family;
		h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		h.nlmsg_seq = ++fz.seq;
		h.nlmsg_pid = 0;
		memcpy(fz.dg, &h, sizeof(h));
		fz.dg[NLMSG_HDRLEN] = below(KFW_CMD_MAX + 2);
		fz.dg[NLMSG_HDRLEN + 1] = KFW_GENL_VERSION;
	}
	return len;
}

/* A control message now and then: the controller answers in the same stream. */
static void gen_ctrl(struct msg *m)
{
	m->type = GENL_ID_CTRL;
	m->cmd = CTRL_CMD_GETFAMILY;
	m->version = 1;
	if (chance(1, 2))
		m->flags |= NLM_F_DUMP;
	else
		put(&m->attrs, CTRL_ATTR_FAMILY_NAME, KFW_GENL_NAME, sizeof(KFW_GENL_NAME));
}

static void progress(uint64_t total)
{
	struct timespec now;
	double secs;
	uint64_t fails = 0;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (now.tv_sec - fz.sh->start.tv_sec) + (now.tv_nsec - fz.sh->start.tv_nsec) / 1e9;
	for (i = 0; i <= NR_WORKERS; i++)
		fails += fz.sh->st[i].failures;
	printf("kfwfuzz: %" PRIu64 " messages in %.0f s (%.0f/s), %" PRIu64 " failures; by worker:",
	       total, secs, secs > 0 ? total / secs : 0.0, fails);
	for (i = 0; i < NR_WORKERS; i++)
		printf(" %" PRIu64, fz.sh->st[i].messages);
	putchar('\n');
	fflush(stdout);
}

static void drop_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		die("worker %d: cannot become uid %d: %s", fz.id, NOBODY, strerror(errno));
	if (syscall(SYS_capget, &hdr, data))
		die("worker %d: capget: %s", fz.id, strerror(errno));
	if (data[0].effective || data[1].effective || data[0].permitted || data[1].permitted)
		die("worker %d: still holds capabilities as uid %d", fz.id, NOBODY);
}

/* A new namespace; some sockets stay behind in the old one, keeping it alive a while. */
static void cycle_netns(void)
{
	int i;

	if (unshare(CLONE_NEWNET))
		die("worker %d: unshare(CLONE_NEWNET): %s", fz.id, strerror(errno));
	fz.st->netns_cycles++;
	for (i = 0; i < NR_SOCKS; i++)
		if (chance(7, 10))
			reopen(i);
	fz.next_cycle = fz.st->messages + 1500 + below(2500);
}

static void setup_worker(void)
{
	int i, err, first = 0;

	if (fz.p->pinned_root) {
		err = open_socket(&fz.socks[0], true, false);
		if (err)
			die("worker %d: socket: %s", fz.id, strerror(-err));
		fz.socks[0].pinned = true;
		first = 1;
	}
	if (fz.p->nobody)
		drop_privileges();
	if (fz.p->pinned_init) {
		err = open_socket(&fz.socks[0], true, false);
		if (err)
			die("worker %d: socket: %s", fz.id, strerror(-err));
		fz.socks[0].pinned = true;
		first = 1;
	}
	if (fz.p->own_userns) {
		/* CAP_NET_ADMIN over a namespace of its own, and nowhere else. */
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
			failure(NULL, 0, "unshare(CLONE_NEWUSER | CLONE_NEWNET) as uid %d: %s "
				"(kernel.unprivileged_userns_clone, user.max_user_namespaces?)",
				NOBODY, strerror(errno));
			exit(1);
		}
	} else if (fz.p->own_netns) {
		if (unshare(CLONE_NEWNET))
			die("worker %d: unshare(CLONE_NEWNET): %s", fz.id, strerror(errno));
	}
	if (fz.p->own_netns)
		fz.next_cycle = 300 + below(1200);
	for (i = first; i < NR_SOCKS; i++) {
		err = open_socket(&fz.socks[i], fz.p->nobody && !fz.p->own_userns, false);
		if (err)
			die("worker %d: socket: %s", fz.id, strerror(-err));
	}
	/* Changing credentials clears the parent-death signal: set it last. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		exit(1);
	err = resolve_family(&fz.family);
	if (err) {
		failure(NULL, 0, "cannot resolve the generic netlink family \"%s\": %s",
			KFW_GENL_NAME, strerror(-err));
		exit(1);
	}
}

static void verbose_line(int sock, unsigned int nmsgs, const uint8_t *cmds, bool random)
{
	unsigned int i;

	printf("kfwfuzz: w%d d%" PRIu64 " s%d %zu bytes:", fz.id, fz.dgram, sock, fz.dglen);
	if (random)
		printf(" random bytes");
	for (i = 0; !random && i < nmsgs; i++)
		printf(" %s", cmd_names[cmd_slot(cmds[i])]);
	putchar('\n');
	if (fz.hexdump)
		hexdump("datagram", fz.dg, fz.dglen);
}

/*
 * /proc/net/kfw, read whole while the table changes under it: what it says
 * is fwctl's business, but it must read, from its header on.
 */
static void read_proc(void)
{
	static const char header[] = "handle dir action packets bytes match\n";
	static const char *const files[] = { "/proc/net/kfw/rules", "/proc/net/kfw/stats" };
	char buf[4096];
	size_t total;
	ssize_t n;
	int i, fd;

	for (i = 0; i < 2; i++) {
		fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			failure(NULL, 0, "cannot open %s: %s", files[i], strerror(errno));
			return;
		}
		total = 0;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			if (!i && !total && ((size_t)n < sizeof(header) - 1 ||
					     memcmp(buf, header, sizeof(header) - 1)))
				failure((unsigned char *)buf, n, "%s does not start with its header",
					files[i]);
			total += n;
		}
		if (n < 0)
			failure(NULL, 0, "reading %s: %s", files[i], strerror(errno));
		close(fd);
	}
	fz.st->proc_reads++;
}

/* Generation alone, for testing the generator where there is no module. */
static void dry_setup(void)
{
	int i;

	fz.family = 0x20;
	for (i = 0; i < NR_SOCKS; i++)
		fz.socks[i].fd = -1;
}

/* Sends the datagram built, and reads and checks what comes back. */
static void send_and_check(struct sock *s, int sock, bool close_after)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	record(s);
	if (sendto(s->fd, fz.dg, fz.dglen, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		if (errno == EBADF || errno == EFAULT || errno == ENOTSOCK || errno == EINVAL)
			failure(NULL, 0, "sendto: %s", strerror(errno));
		count_errno(fz.st->send_errors, errno);
	}
	if (!s->pinned && chance(1, 200)) {
		/* Replies and a dump in progress left unread as the socket goes. */
		fz.st->abandoned++;
		reopen(sock);
		return;
	}
	drain(s);
	if (close_after)
		reopen(sock);
}

static void worker(void)
{
	unsigned int nmsgs, i;
	uint8_t cmds[8], cmd;
	bool from_plan, close_after, mutated, random;
	struct sock *s;
	struct msg m;
	size_t off;
	uint64_t before;
	int sock;

	if (fz.dry)
		dry_setup();
	else
		setup_worker();
	/* Alone, COUNT of its own; together, until all have sent COUNT. */
	while (fz.only >= 0 ? fz.st->messages < fz.count :
	       __atomic_load_n(&fz.sh->total, __ATOMIC_RELAXED) < fz.count) {
		alarm(300);
		if (!fz.dry && fz.p->own_netns && fz.st->messages >= fz.next_cycle)
			cycle_netns();
		if (!fz.dry && chance(1, 150))
			reopen(below(NR_SOCKS));
		if (!fz.dry && chance(1, 100))
			read_proc();
		fz.arena_used = 0;
		fz.overflow = false;
		fz.dgram++;
		if (fz.plan_pos >= fz.plan_len && chance(1, 15))
			make_plan();
		from_plan = fz.plan_pos < fz.plan_len && chance(85, 100);
		sock = from_plan ? fz.plan[fz.plan_pos].sock : (int)below(NR_SOCKS);
		fz.cur_sock = sock;
		s = &fz.socks[sock];
		close_after = false;
		mutated = false;
		random = chance(3, 100);

		if (random) {
			fz.dglen = random_datagram();
			nmsgs = 1;
			fz.st->random_datagrams++;
		} else {
			/*
			 * Several messages to a datagram, now and then: also
			 * fewer syscalls, which a debug kernel makes dear.
			 */
			nmsgs = chance(1, 4) ? 2 + below(4) : 1;
			off = 0;
			for (i = 0; i < nmsgs; i++) {
				bool planned = false, closing = false;

				if (from_plan && chance(i ? 70 : 100, 100))
					planned = plan_next(sock, &cmd, &closing);
				if (!planned)
					cmd = pick_cmd();
				close_after |= closing;
				msg_init(&m, cmd, s->must_deny);
				/* Transactions and adds must often get through, to reach deep. */
				fz.clean = chance(planned ? 85 : 30, 100);
				if (!planned && chance(1, 100))
					gen_ctrl(&m);
				else
					gen_body(&m);
				fz.clean = false;
				if (chance(planned ? 10 : 40, 100)) {
					unsigned int k = 1 + below(3);

					while (k--)
						mutate_tree(&m.attrs);
					mutated = true;
				}
				if (chance(planned ? 5 : 15, 100)) {
					mutate_header(&m);
					mutated = true;
				}
				cmds[i] = m.cmd;
				off = ser_msg(off, &m);
			}
			fz.dglen = off > DGRAM_MAX ? DGRAM_MAX : off;
			if (chance(from_plan ? 4 : 12, 100)) {
				fz.dglen = mutate_bytes(fz.dg, fz.dglen);
				mutated = true;
			}
		}
		fz.nmsgs = nmsgs;
		fz.st->mutated += mutated;
		if (fz.verbose)
			verbose_line(sock, nmsgs, cmds, random);
		if (!fz.dry)
			send_and_check(s, sock, close_after);
		fz.st->datagrams++;
		fz.st->messages += nmsgs;
		fz.nmsgs = 0;
		before = __atomic_fetch_add(&fz.sh->total, nmsgs, __ATOMIC_RELAXED);
		if ((before + nmsgs) / PROGRESS_EVERY != before / PROGRESS_EVERY)
			progress(before + nmsgs);
	}
	alarm(0);
}

/* --- The parent: start, wait, check the kernel once more, sum up --------------- */

/* After the fuzzing, the kernel must still answer well in the initial namespace. */
static void final_check(void)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t cmds[2] = { KFW_CMD_GET_INFO, KFW_CMD_GET_RULES };
	struct sock *s = &fz.socks[0];
	size_t off = 0;
	struct msg m;
	int err, i;

	err = open_socket(s, false, true);
	if (err)
		die("socket: %s", strerror(-err));
	err = resolve_family(&fz.family);
	if (err) {
		failure(NULL, 0, "after fuzzing, the family \"%s\" cannot be resolved: %s",
			KFW_GENL_NAME, strerror(-err));
		return;
	}
	fz.arena_used = 0;
	fz.dgram = 1;
	for (i = 0; i < 2; i++) {
		msg_init(&m, cmds[i], false);
		m.flags = NLM_F_REQUEST | NLM_F_ACK | (i ? NLM_F_DUMP : 0);
		off = ser_msg(off, &m);
	}
	fz.dglen = off;
	record(s);
	if (sendto(s->fd, fz.dg, fz.dglen, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		failure(NULL, 0, "after fuzzing, sendto: %s", strerror(errno));
		return;
	}
	drain(s);
	if (!fz.st->cmd_ok[KFW_CMD_GET_INFO] || !fz.st->cmd_ok[KFW_CMD_GET_RULES])
		failure(NULL, 0, "after fuzzing, GET_INFO or the GET_RULES dump fails");
	else
		printf("kfwfuzz: after fuzzing the initial namespace has %u rules and answers well\n",
		       fz.rule_count);
}

static void print_errnos(const char *what, const uint64_t *hist)
{
	const char *name;
	bool any = false;
	int e;

	printf("kfwfuzz: %s:", what);
	for (e = 1; e <= NR_ERRNOS; e++) {
		if (!hist[e])
			continue;
		name = e < NR_ERRNOS ? strerrorname_np(e) : NULL;
		if (name)
			printf(" %s %" PRIu64, name, hist[e]);
		else
			printf(" %s%d %" PRIu64, e < NR_ERRNOS ? "errno " : "other", e, hist[e]);
		any = true;
	}
	printf("%s\n", any ? "" : " none");
}

/* Every command succeeded somewhere, or the generator does not reach the module. */
static void check_coverage(const struct stats *sum)
{
	const struct stats *st = fz.sh->st;
	unsigned int cmd, w;
	uint64_t ok;

	for (cmd = KFW_CMD_GET_INFO; cmd <= KFW_CMD_MAX; cmd++) {
		ok = 0;
		for (w = 0; w < NR_WORKERS; w++)
			ok += st[w].cmd_ok[cmd];
		if (!ok)
			failure(NULL, 0, "coverage: %s never succeeded", cmd_names[cmd]);
	}
	if (!st[3].denied || !st[4].denied)
		failure(NULL, 0, "coverage: no command was refused to uid %d", NOBODY);
	if (!st[4].cmd_ok[KFW_CMD_ADD_RULE] || !st[4].cmd_ok[KFW_CMD_REPLACE_COMMIT])
		failure(NULL, 0, "coverage: the user namespace never changed its own table");
	if (!st[2].netns_cycles)
		failure(NULL, 0, "coverage: no namespace was replaced");
	if (!sum->dones || !sum->replies)
		failure(NULL, 0, "coverage: no dump finished or no kfw reply came");
}

static void summary(double secs)
{
	struct stats sum;
	unsigned int w, i, cmd;

	memset(&sum, 0, sizeof(sum));
	for (w = 0; w <= NR_WORKERS; w++) {
		const uint64_t *from = (const uint64_t *)&fz.sh->st[w];
		uint64_t *to = (uint64_t *)&sum;

		for (i = 0; i < sizeof(sum) / sizeof(uint64_t); i++)
			to[i] += from[i];
	}
	printf("kfwfuzz: %" PRIu64 " messages in %" PRIu64 " datagrams (%" PRIu64 " random, %" PRIu64
	       " mutated) in %.1f s: %.0f messages/s\n", sum.messages, sum.datagrams,
	       sum.random_datagrams, sum.mutated, secs, secs > 0 ? sum.messages / secs : 0.0);
	printf("kfwfuzz: replies: %" PRIu64 " acks, %" PRIu64 " kfw messages, %" PRIu64
	       " dumps done, %" PRIu64 " marked interrupted, %" PRIu64 " other, %" PRIu64
	       " overruns (ENOBUFS)\n", sum.acks, sum.replies, sum.dones, sum.dump_intr,
	       sum.other_replies, sum.recv_enobufs);
	printf("kfwfuzz: messages by worker:");
	for (w = 0; w < NR_WORKERS; w++)
		printf(" %s %" PRIu64, personas[w].name, fz.sh->st[w].messages);
	putchar('\n');
	print_errnos("errors", sum.errors);
	print_errnos("send errors", sum.send_errors);
	printf("kfwfuzz: commands (sent/ok/refused):");
	for (cmd = 0; cmd < NR_CMD_SLOTS; cmd++)
		printf(" %s %" PRIu64 "/%" PRIu64 "/%" PRIu64, cmd_names[cmd], sum.cmd_sent[cmd],
		       sum.cmd_ok[cmd], sum.cmd_err[cmd]);
	printf("\nkfwfuzz: %" PRIu64 " refused to uid %d as they must be, %" PRIu64
	       " namespaces replaced, %" PRIu64 " sockets reopened, %" PRIu64
	       " abandoned unread, /proc/net/kfw read %" PRIu64 " times\n",
	       sum.denied, NOBODY, sum.netns_cycles, sum.reopens, sum.abandoned, sum.proc_reads);
	if (fz.count >= COVERAGE_MIN && fz.only < 0 && !fz.dry)
		check_coverage(&sum);
}

int main(int argc, char **argv)
{
	uint64_t count = 10000;
	int only = -1, opt, w, status, verbose = 0;
	struct timespec end;
	bool bad = false;
	pid_t pids[NR_WORKERS];
	double secs;
	uint64_t fails = 0;
	char *endp;

	clock_gettime(CLOCK_REALTIME, &end);
	fz.seed = (uint64_t)end.tv_sec * 1000000007ULL ^ (uint64_t)end.tv_nsec ^
		  ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "s:n:w:vd")) != -1) {
		switch (opt) {
		case 's':
			fz.seed = strtoull(optarg, &endp, 0);
			if (*endp)
				die("invalid seed '%s'", optarg);
			break;
		case 'n':
			count = strtoull(optarg, &endp, 0);
			if (*endp || !count)
				die("invalid count '%s'", optarg);
			break;
		case 'w':
			only = strtol(optarg, &endp, 0);
			if (*endp || only < 0 || only >= NR_WORKERS)
				die("invalid worker '%s' (0-%d)", optarg, NR_WORKERS - 1);
			break;
		case 'v':
			verbose++;
			break;
		case 'd':
			fz.dry = true;
			break;
		default:
			fprintf(stderr, "Usage: kfwfuzz [-s SEED] [-n COUNT] [-w WORKER] [-v] [-d]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fz.sh = mmap(NULL, sizeof(*fz.sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fz.arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fz.dg = malloc(DGRAM_MAX + 64);
	fz.rbuf = malloc(RECV_SIZE);
	if (fz.sh == MAP_FAILED || fz.arena == MAP_FAILED || !fz.dg || !fz.rbuf)
		die("out of memory");
	fz.count = count;
	fz.only = only;

	fz.verbose = verbose > 0;
	fz.hexdump = verbose > 1;
	fz.id = -1;
	fz.st = &fz.sh->st[NR_WORKERS];
	for (w = 0; w < NR_SOCKS; w++)
		fz.socks[w].fd = -1;

	printf("kfwfuzz: seed 0x%016" PRIx64 ", %" PRIu64 " messages, %s (replay: kfwfuzz -s 0x%016"
	       PRIx64 " -n %" PRIu64 ")\n", fz.seed, count,
	       only < 0 ? "5 workers" : "one worker", fz.seed, count);
	clock_gettime(CLOCK_MONOTONIC, &fz.sh->start);
	for (w = 0; w < NR_WORKERS; w++) {
		pids[w] = 0;
		if (only >= 0 && w != only)
			continue;
		pids[w] = fork();
		if (pids[w] < 0)
			die("fork: %s", strerror(errno));
		if (!pids[w]) {
			fz.id = w;
			fz.p = &personas[w];
			fz.st = &fz.sh->st[w];
			fz.rng = fz.seed;
			fz.rng = splitmix(&fz.rng) ^ (0x5851f42d4c957f2dULL * (w + 1));
			worker();
			_exit(fz.st->failures ? 1 : 0);
		}
	}
	for (w = 0; w < NR_WORKERS; w++) {
		if (!pids[w])
			continue;
		if (waitpid(pids[w], &status, 0) < 0)
			die("waitpid: %s", strerror(errno));
		if (WIFSIGNALED(status)) {
			printf("kfwfuzz: FAIL: worker %d (%s) was killed by signal %d (%s)%s\n", w,
			       personas[w].name, WTERMSIG(status), strsignal(WTERMSIG(status)),
			       WTERMSIG(status) == SIGALRM ? ": stuck for 300 s in one datagram" : "");
			bad = true;
		} else if (WEXITSTATUS(status) == 2) {
			printf("kfwfuzz: FAIL: worker %d (%s) could not run\n", w, personas[w].name);
			bad = true;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	secs = (end.tv_sec - fz.sh->start.tv_sec) + (end.tv_nsec - fz.sh->start.tv_nsec) / 1e9;
	if (only < 0 && !fz.dry)
		final_check();
	summary(secs);
	for (w = 0; w <= NR_WORKERS; w++)
		fails += fz.sh->st[w].failures;
	printf("kfwfuzz: seed 0x%016" PRIx64 ": %" PRIu64 " failures%s\n", fz.seed, fails,
	       bad ? ", and a worker died" : "");
	return fails || bad ? 1 : 0;
}
