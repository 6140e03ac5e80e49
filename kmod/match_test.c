// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite kfw_match: does a rule match a packet, and which rule of a
 * table decides?
 *
 * Table-driven cases cover every field at its edges: prefixes /0, /1, the
 * word boundaries and the full length, with the first and last address
 * inside and the neighbours just outside; port ranges at both ends; the
 * separation of IPv4 and IPv6; wildcards. Then a randomized differential
 * test compares kfw_table_classify() over real tables with a deliberately
 * simple linear matcher written here from the protocol's description
 * (uapi/kfw.h), not from match.c.
 */

#include <kunit/test.h>
#include <linux/in.h>
#include <linux/slab.h>

#include "match.h"
#include "payload.h"
#include "table.h"
#include "test_util.h"

/* --- Building rules and packets from text --------------------------------- */

/**
 * struct kfw_test_rule - a rule as a test case writes it
 * @proto: IPPROTO_* to match, 0 for any
 * @src: "address/prefix" or NULL for any
 * @dst: likewise
 * @sport: "first-last" or "port", NULL for any
 * @dport: likewise
 * @iface: interface name or NULL for any
 * @states: KFW_STATE_* bits, 0 for any
 * @icmp: "type" or "type/code", NULL for any
 */
struct kfw_test_rule {
	u8 proto;
	const char *src;
	const char *dst;
	const char *sport;
	const char *dport;
	const char *iface;
	u8 states;
	const char *icmp;
};

/**
 * struct kfw_test_pkt - a packet as a test case writes it
 * @src: source address; its family is the packet's (IPv4 when NULL)
 * @dst: destination address, or NULL for the zero address
 * @proto: transport protocol
 * @no_proto: the protocol could not be determined
 * @no_ports: the ports could not be read (set for any non-TCP/UDP @proto)
 * @sport: source port
 * @dport: destination port
 * @iface: the device name, or NULL
 * @state: its KFW_STATE_* bit, or 0 for untracked
 * @icmp: "type/code" of its ICMP header, or NULL if that was not read
 */
struct kfw_test_pkt {
	const char *src;
	const char *dst;
	u8 proto;
	bool no_proto;
	bool no_ports;
	u16 sport;
	u16 dport;
	const char *iface;
	u8 state;
	const char *icmp;
};

/* "type" or "type/code"; *code is left alone without one. Return: has a code. */
static bool kfw_test_icmp(struct kunit *test, const char *text, u8 *type, u8 *code)
{
	char buf[8];
	char *slash;

	KUNIT_ASSERT_LT(test, strlen(text), sizeof(buf));
	strscpy(buf, text, sizeof(buf));
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	KUNIT_ASSERT_EQ(test, kstrtou8(buf, 10, type), 0);
	if (slash)
		KUNIT_ASSERT_EQ(test, kstrtou8(slash, 10, code), 0);
	return slash;
}

static void kfw_test_net(struct kunit *test, const char *text,
			 struct kfw_match *m, union nf_inet_addr *addr,
			 union nf_inet_addr *mask, u8 *prefix)
{
	u8 family = kfw_test_prefix(test, text, addr, prefix);

	KUNIT_ASSERT_TRUE(test, m->family == NFPROTO_UNSPEC || m->family == family);
	m->family = family;
	kfw_test_mask(mask, family, *prefix);
}

static void kfw_test_build_match(struct kunit *test,
				 const struct kfw_test_rule *r,
				 struct kfw_match *m)
{
	memset(m, 0, sizeof(*m));
	if (r->proto) {
		m->fields |= KFW_MATCH_PROTO;
		m->proto = r->proto;
	}
	if (r->src) {
		m->fields |= KFW_MATCH_SRC;
		kfw_test_net(test, r->src, m, &m->src, &m->src_mask, &m->src_prefix);
	}
	if (r->dst) {
		m->fields |= KFW_MATCH_DST;
		kfw_test_net(test, r->dst, m, &m->dst, &m->dst_mask, &m->dst_prefix);
	}
	if (r->sport) {
		m->fields |= KFW_MATCH_SPORT;
		kfw_test_ports(test, r->sport, &m->sport);
	}
	if (r->dport) {
		m->fields |= KFW_MATCH_DPORT;
		kfw_test_ports(test, r->dport, &m->dport);
	}
	if (r->iface) {
		m->fields |= KFW_MATCH_IFACE;
		strscpy(m->iface, r->iface, sizeof(m->iface));
	}
	if (r->states) {
		m->fields |= KFW_MATCH_STATE;
		m->states = r->states;
	}
	if (r->icmp) {
		m->fields |= KFW_MATCH_ICMP_TYPE;
		if (kfw_test_icmp(test, r->icmp, &m->icmp_type, &m->icmp_code))
			m->fields |= KFW_MATCH_ICMP_CODE;
	}
}

static void kfw_test_build_packet(struct kunit *test,
				  const struct kfw_test_pkt *p,
				  struct kfw_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = NFPROTO_IPV4;
	if (p->src)
		pkt->family = kfw_test_addr(test, p->src, &pkt->src);
	if (p->dst)
		KUNIT_ASSERT_EQ(test, kfw_test_addr(test, p->dst, &pkt->dst),
				pkt->family);
	pkt->has_proto = !p->no_proto;
	pkt->proto = p->proto;
	pkt->has_ports = pkt->has_proto && !p->no_ports &&
			 (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);
	if (pkt->has_ports) {
		pkt->sport = p->sport;
		pkt->dport = p->dport;
	}
	pkt->iface = p->iface;
	pkt->state = p->state;
	if (p->icmp) {
		pkt->has_icmp = true;
		kfw_test_icmp(test, p->icmp, &pkt->icmp_type, &pkt->icmp_code);
	}
}

/* --- kfw_match_prefix_mask ------------------------------------------------ */

static void kfw_match_test_prefix_mask(struct kunit *test)
{
	union nf_inet_addr got, want;
	unsigned int prefix;

	for (prefix = 0; prefix <= 32; prefix++) {
		kfw_match_prefix_mask(&got, NFPROTO_IPV4, prefix);
		kfw_test_mask(&want, NFPROTO_IPV4, prefix);
		KUNIT_EXPECT_EQ_MSG(test, ntohl(got.ip), ntohl(want.ip), "/%u", prefix);
		KUNIT_EXPECT_EQ_MSG(test, got.all[1] | got.all[2] | got.all[3], 0,
				    "IPv4 /%u sets bits beyond the first word", prefix);
	}
	for (prefix = 0; prefix <= 128; prefix++) {
		kfw_match_prefix_mask(&got, NFPROTO_IPV6, prefix);
		kfw_test_mask(&want, NFPROTO_IPV6, prefix);
		KUNIT_EXPECT_TRUE_MSG(test, !memcmp(&got, &want, sizeof(got)),
				      "IPv6 /%u: %pI6 instead of %pI6",
				      prefix, &got.in6, &want.in6);
	}
}

/* --- One rule, one packet: table-driven ----------------------------------- */

struct kfw_match_case {
	const char *desc;
	struct kfw_test_rule rule;
	struct kfw_test_pkt pkt;
	bool match;
};

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

static const struct kfw_match_case kfw_match_cases[] = {
	/* Wildcards: a rule without matches takes everything. */
	{ "empty rule, IPv4 TCP", {}, { "192.0.2.1", "198.51.100.1", TCP, .dport = 80 }, true },
	{ "empty rule, IPv6 UDP", {}, { "2001:db8::1", "2001:db8::2", UDP }, true },
	{ "empty rule, unknown protocol", {}, { "192.0.2.1", .no_proto = true }, true },
	{ "empty rule, no ports, no iface", {}, { "2001:db8::1", .proto = TCP, .no_ports = true },
	  true },

	/* Protocol. */
	{ "proto tcp vs tcp", { TCP }, { "192.0.2.1", .proto = TCP }, true },
	{ "proto tcp vs udp", { TCP }, { "192.0.2.1", .proto = UDP }, false },
	{ "proto tcp vs unknown", { TCP }, { "192.0.2.1", .proto = TCP, .no_proto = true }, false },
	{ "proto icmp vs icmp", { IPPROTO_ICMP }, { "192.0.2.1", .proto = IPPROTO_ICMP }, true },
	{ "proto 255 vs 255", { 255 }, { "2001:db8::1", .proto = 255 }, true },
	{ "proto 255 vs 254", { 255 }, { "2001:db8::1", .proto = 254 }, false },
	{ "proto only: both families", { UDP }, { "2001:db8::1", .proto = UDP }, true },

	/* Families: an address ties a rule to its family. */
	{ "v4 /0 vs IPv4", { .src = "0.0.0.0/0" }, { "203.0.113.7" }, true },
	{ "v4 /0 vs IPv6", { .src = "0.0.0.0/0" }, { "2001:db8::1" }, false },
	{ "v6 /0 vs IPv6", { .dst = "::/0" }, { "2001:db8::1", "2001:db8::2" }, true },
	{ "v6 /0 vs IPv4", { .dst = "::/0" }, { "192.0.2.1", "192.0.2.2" }, false },
	{ "v4 rule vs IPv6 with the same first word",
	  { .src = "10.0.0.1/32" }, { "a00:1::" }, false },
	{ "v6 rule vs IPv4 with the same first word",
	  { .src = "a00:1::/32" }, { "10.0.0.1" }, false },
	{ "v4 dst rule vs v4-mapped IPv6", { .dst = "192.0.2.0/24" },
	  { "::1", "::ffff:192.0.2.1" }, false },

	/* IPv4 prefixes: /32 and its neighbours. */
	{ "v4 /32 itself", { .src = "192.0.2.1/32" }, { "192.0.2.1" }, true },
	{ "v4 /32 minus one", { .src = "192.0.2.1/32" }, { "192.0.2.0" }, false },
	{ "v4 /32 plus one", { .src = "192.0.2.1/32" }, { "192.0.2.2" }, false },
	{ "v4 bare address is /32", { .src = "192.0.2.1" }, { "192.0.2.1" }, true },
	{ "v4 /0 lowest", { .src = "0.0.0.0/0" }, { "0.0.0.0" }, true },
	{ "v4 /0 highest", { .src = "0.0.0.0/0" }, { "255.255.255.255" }, true },
	{ "v4 /1 first", { .src = "128.0.0.0/1" }, { "128.0.0.0" }, true },
	{ "v4 /1 last", { .src = "128.0.0.0/1" }, { "255.255.255.255" }, true },
	{ "v4 /1 below", { .src = "128.0.0.0/1" }, { "127.255.255.255" }, false },
	{ "v4 /24 first", { .src = "10.1.2.0/24" }, { "10.1.2.0" }, true },
	{ "v4 /24 last", { .src = "10.1.2.0/24" }, { "10.1.2.255" }, true },
	{ "v4 /24 below", { .src = "10.1.2.0/24" }, { "10.1.1.255" }, false },
	{ "v4 /24 above", { .src = "10.1.2.0/24" }, { "10.1.3.0" }, false },
	{ "v4 /25 first", { .dst = "10.0.0.128/25" }, { "1.1.1.1", "10.0.0.128" }, true },
	{ "v4 /25 last", { .dst = "10.0.0.128/25" }, { "1.1.1.1", "10.0.0.255" }, true },
	{ "v4 /25 below", { .dst = "10.0.0.128/25" }, { "1.1.1.1", "10.0.0.127" }, false },
	{ "v4 /25 above", { .dst = "10.0.0.128/25" }, { "1.1.1.1", "10.0.1.0" }, false },
	{ "v4 /31 first", { .dst = "10.0.0.2/31" }, { "1.1.1.1", "10.0.0.2" }, true },
	{ "v4 /31 last", { .dst = "10.0.0.2/31" }, { "1.1.1.1", "10.0.0.3" }, true },
	{ "v4 /31 below", { .dst = "10.0.0.2/31" }, { "1.1.1.1", "10.0.0.1" }, false },
	{ "v4 /31 above", { .dst = "10.0.0.2/31" }, { "1.1.1.1", "10.0.0.4" }, false },
	{ "v4 /8 first", { .src = "10.0.0.0/8" }, { "10.0.0.0" }, true },
	{ "v4 /8 last", { .src = "10.0.0.0/8" }, { "10.255.255.255" }, true },
	{ "v4 /8 below", { .src = "10.0.0.0/8" }, { "9.255.255.255" }, false },
	{ "v4 /8 above", { .src = "10.0.0.0/8" }, { "11.0.0.0" }, false },
	{ "v4 src rule ignores dst", { .src = "10.0.0.0/8" }, { "10.0.0.1", "192.0.2.1" }, true },
	{ "v4 dst rule ignores src", { .dst = "10.0.0.0/8" }, { "192.0.2.1", "10.0.0.1" }, true },
	{ "v4 src and dst, both in", { .src = "10.0.0.0/8", .dst = "192.0.2.0/24" },
	  { "10.9.9.9", "192.0.2.200" }, true },
	{ "v4 src and dst, dst out", { .src = "10.0.0.0/8", .dst = "192.0.2.0/24" },
	  { "10.9.9.9", "192.0.3.0" }, false },
	{ "v4 src and dst swapped", { .src = "10.0.0.0/8", .dst = "192.0.2.0/24" },
	  { "192.0.2.200", "10.9.9.9" }, false },

	/* IPv6 prefixes. */
	{ "v6 /128 itself", { .src = "2001:db8::1/128" }, { "2001:db8::1" }, true },
	{ "v6 /128 minus one", { .src = "2001:db8::1/128" }, { "2001:db8::" }, false },
	{ "v6 /128 plus one", { .src = "2001:db8::1/128" }, { "2001:db8::2" }, false },
	{ "v6 /128 last word differs", { .src = "2001:db8::1:0:0:1/128" },
	  { "2001:db8::1:0:0:0" }, false },
	{ "v6 bare address is /128", { .src = "2001:db8::1" }, { "2001:db8::1" }, true },
	{ "v6 /0 lowest", { .src = "::/0" }, { "::" }, true },
	{ "v6 /0 highest", { .src = "::/0" }, { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" }, true },
	{ "v6 /1 first", { .src = "8000::/1" }, { "8000::" }, true },
	{ "v6 /1 last", { .src = "8000::/1" },
	  { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" }, true },
	{ "v6 /1 below", { .src = "8000::/1" }, { "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	  false },
	{ "v6 /32 first", { .src = "2001:db8::/32" }, { "2001:db8::" }, true },
	{ "v6 /32 last", { .src = "2001:db8::/32" },
	  { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" }, true },
	{ "v6 /32 below", { .src = "2001:db8::/32" },
	  { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff" }, false },
	{ "v6 /32 above", { .src = "2001:db8::/32" }, { "2001:db9::" }, false },
	{ "v6 /33 first", { .src = "2001:db8:8000::/33" }, { "2001:db8:8000::" }, true },
	{ "v6 /33 last", { .src = "2001:db8:8000::/33" },
	  { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" }, true },
	{ "v6 /33 below", { .src = "2001:db8:8000::/33" },
	  { "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff" }, false },
	{ "v6 /33 above", { .src = "2001:db8:8000::/33" }, { "2001:db9::" }, false },
	{ "v6 /64 first", { .dst = "2001:db8:0:1::/64" }, { "::1", "2001:db8:0:1::" }, true },
	{ "v6 /64 last", { .dst = "2001:db8:0:1::/64" },
	  { "::1", "2001:db8:0:1:ffff:ffff:ffff:ffff" }, true },
	{ "v6 /64 below", { .dst = "2001:db8:0:1::/64" },
	  { "::1", "2001:db8::ffff:ffff:ffff:ffff" }, false },
	{ "v6 /64 above", { .dst = "2001:db8:0:1::/64" }, { "::1", "2001:db8:0:2::" }, false },
	{ "v6 /65 first", { .dst = "2001:db8::8000:0:0:0/65" },
	  { "::1", "2001:db8::8000:0:0:0" }, true },
	{ "v6 /65 below", { .dst = "2001:db8::8000:0:0:0/65" },
	  { "::1", "2001:db8::7fff:ffff:ffff:ffff" }, false },
	{ "v6 /96 last", { .dst = "64:ff9b::/96" }, { "::1", "64:ff9b::ffff:ffff" }, true },
	{ "v6 /96 above", { .dst = "64:ff9b::/96" }, { "::1", "64:ff9b::1:0:0" }, false },
	{ "v6 /127 first", { .dst = "2001:db8::2/127" }, { "::1", "2001:db8::2" }, true },
	{ "v6 /127 last", { .dst = "2001:db8::2/127" }, { "::1", "2001:db8::3" }, true },
	{ "v6 /127 below", { .dst = "2001:db8::2/127" }, { "::1", "2001:db8::1" }, false },
	{ "v6 /127 above", { .dst = "2001:db8::2/127" }, { "::1", "2001:db8::4" }, false },

	/* Ports: both ends of a range, and the ports being unknown. */
	{ "sport range first", { TCP, .sport = "1000-2000" },
	  { .proto = TCP, .sport = 1000 }, true },
	{ "sport range last", { TCP, .sport = "1000-2000" },
	  { .proto = TCP, .sport = 2000 }, true },
	{ "sport range below", { TCP, .sport = "1000-2000" },
	  { .proto = TCP, .sport = 999 }, false },
	{ "sport range above", { TCP, .sport = "1000-2000" },
	  { .proto = TCP, .sport = 2001 }, false },
	{ "sport rule ignores dport", { TCP, .sport = "1000-2000" },
	  { .proto = TCP, .sport = 1500, .dport = 5 }, true },
	{ "dport single itself", { UDP, .dport = "53" }, { .proto = UDP, .dport = 53 }, true },
	{ "dport single below", { UDP, .dport = "53" }, { .proto = UDP, .dport = 52 }, false },
	{ "dport single above", { UDP, .dport = "53" }, { .proto = UDP, .dport = 54 }, false },
	{ "dport rule ignores sport", { UDP, .dport = "53" },
	  { .proto = UDP, .sport = 53, .dport = 1 }, false },
	{ "port 0-0 vs 0", { UDP, .dport = "0" }, { .proto = UDP, .dport = 0 }, true },
	{ "port 0-0 vs 1", { UDP, .dport = "0" }, { .proto = UDP, .dport = 1 }, false },
	{ "port 65535 vs 65535", { TCP, .sport = "65535" },
	  { .proto = TCP, .sport = 65535 }, true },
	{ "port 65535 vs 65534", { TCP, .sport = "65535" },
	  { .proto = TCP, .sport = 65534 }, false },
	{ "ports 0-65535 vs 0", { TCP, .dport = "0-65535" }, { .proto = TCP, .dport = 0 }, true },
	{ "ports 0-65535 vs 65535", { TCP, .dport = "0-65535" },
	  { .proto = TCP, .dport = 65535 }, true },
	{ "ports 0-65535 vs unread ports", { TCP, .dport = "0-65535" },
	  { .proto = TCP, .no_ports = true }, false },
	{ "sport 0-65535 vs unread ports", { UDP, .sport = "0-65535" },
	  { .proto = UDP, .no_ports = true }, false },
	{ "tcp ports vs udp packet", { TCP, .dport = "80" }, { .proto = UDP, .dport = 80 }, false },
	{ "sport and dport both in", { TCP, .sport = "1024-65535", .dport = "22" },
	  { .proto = TCP, .sport = 1024, .dport = 22 }, true },
	{ "sport and dport, sport out", { TCP, .sport = "1024-65535", .dport = "22" },
	  { .proto = TCP, .sport = 1023, .dport = 22 }, false },

	/* Interfaces. */
	{ "iface same", { .iface = "eth0" }, { .iface = "eth0" }, true },
	{ "iface other", { .iface = "eth0" }, { .iface = "eth1" }, false },
	{ "iface longer", { .iface = "eth0" }, { .iface = "eth00" }, false },
	{ "iface shorter", { .iface = "eth0" }, { .iface = "eth" }, false },
	{ "iface none", { .iface = "eth0" }, { "192.0.2.1" }, false },
	{ "iface 15 characters", { .iface = "abcdefghijklmno" },
	  { .iface = "abcdefghijklmno" }, true },
	{ "iface 15 characters, last differs", { .iface = "abcdefghijklmno" },
	  { .iface = "abcdefghijklmnp" }, false },

	/* Connection-tracking states. */
	{ "state new vs new", { .states = KFW_STATE_NEW }, { .state = KFW_STATE_NEW }, true },
	{ "state new vs established", { .states = KFW_STATE_NEW },
	  { .state = KFW_STATE_ESTABLISHED }, false },
	{ "state new,established vs established",
	  { .states = KFW_STATE_NEW | KFW_STATE_ESTABLISHED },
	  { .state = KFW_STATE_ESTABLISHED }, true },
	{ "state related vs related", { .states = KFW_STATE_RELATED },
	  { .state = KFW_STATE_RELATED }, true },
	{ "state all vs untracked", { .states = 15 }, { "192.0.2.1" }, false },
	{ "state established vs invalid", { .states = KFW_STATE_ESTABLISHED },
	  { .state = KFW_STATE_INVALID }, false },
	{ "state invalid vs invalid", { .states = KFW_STATE_INVALID },
	  { .state = KFW_STATE_INVALID }, true },

	/* ICMP types and codes. */
	{ "icmp type 8 vs 8/0", { IPPROTO_ICMP, .icmp = "8" },
	  { .proto = IPPROTO_ICMP, .icmp = "8/0" }, true },
	{ "icmp type 8 vs 0/0", { IPPROTO_ICMP, .icmp = "8" },
	  { .proto = IPPROTO_ICMP, .icmp = "0/0" }, false },
	{ "icmp type 3 vs 3/13", { IPPROTO_ICMP, .icmp = "3" },
	  { .proto = IPPROTO_ICMP, .icmp = "3/13" }, true },
	{ "icmp type 8 vs unread", { IPPROTO_ICMP, .icmp = "8" },
	  { .proto = IPPROTO_ICMP }, false },
	{ "icmp 3/1 vs 3/1", { IPPROTO_ICMP, .icmp = "3/1" },
	  { .proto = IPPROTO_ICMP, .icmp = "3/1" }, true },
	{ "icmp 3/1 vs 3/3", { IPPROTO_ICMP, .icmp = "3/1" },
	  { .proto = IPPROTO_ICMP, .icmp = "3/3" }, false },
	{ "icmp 3/1 vs 1/1", { IPPROTO_ICMP, .icmp = "3/1" },
	  { .proto = IPPROTO_ICMP, .icmp = "1/1" }, false },
	{ "icmp 0/0 vs 0/0", { IPPROTO_ICMP, .icmp = "0/0" },
	  { .proto = IPPROTO_ICMP, .icmp = "0/0" }, true },
	{ "icmp 0/0 vs 0/255", { IPPROTO_ICMP, .icmp = "0/0" },
	  { .proto = IPPROTO_ICMP, .icmp = "0/255" }, false },
	{ "icmpv6 128 vs 128/0", { IPPROTO_ICMPV6, .icmp = "128" },
	  { "2001:db8::1", .proto = IPPROTO_ICMPV6, .icmp = "128/0" }, true },
	{ "icmp type 8 vs icmpv6 8/0", { IPPROTO_ICMP, .icmp = "8" },
	  { "2001:db8::1", .proto = IPPROTO_ICMPV6, .icmp = "8/0" }, false },

	/* Everything at once, then each field failing alone. */
	{ "all fields",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0" },
	  { "10.1.1.1", "192.0.2.9", TCP, .sport = 1234, .dport = 443, .iface = "veth0" }, true },
	{ "all fields, proto differs",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0" },
	  { "10.1.1.1", "192.0.2.9", UDP, .sport = 1234, .dport = 443, .iface = "veth0" }, false },
	{ "all fields, src differs",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0" },
	  { "11.1.1.1", "192.0.2.9", TCP, .sport = 1234, .dport = 443, .iface = "veth0" }, false },
	{ "all fields, dst differs",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0" },
	  { "10.1.1.1", "192.0.3.9", TCP, .sport = 1234, .dport = 443, .iface = "veth0" }, false },
	{ "all fields, sport differs",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0" },
	  { "10.1.1.1", "192.0.2.9", TCP, .sport = 2001, .dport = 443, .iface = "veth0" }, false },
	{ "all fields, dport differs",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0" },
	  { "10.1.1.1", "192.0.2.9", TCP, .sport = 1234, .dport = 444, .iface = "veth0" }, false },
	{ "all fields, iface differs",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0" },
	  { "10.1.1.1", "192.0.2.9", TCP, .sport = 1234, .dport = 443, .iface = "veth1" }, false },
	{ "all fields v6",
	  { UDP, "2001:db8::/32", "fe80::/10", "53", "1-1024", "lo" },
	  { "2001:db8::53", "febf::1", UDP, .sport = 53, .dport = 1024, .iface = "lo" }, true },
	{ "all fields and a state",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0", KFW_STATE_NEW },
	  { "10.1.1.1", "192.0.2.9", TCP, .sport = 1234, .dport = 443, .iface = "veth0",
	    .state = KFW_STATE_NEW }, true },
	{ "all fields and a state, state differs",
	  { TCP, "10.0.0.0/8", "192.0.2.0/24", "1000-2000", "443", "veth0", KFW_STATE_NEW },
	  { "10.1.1.1", "192.0.2.9", TCP, .sport = 1234, .dport = 443, .iface = "veth0",
	    .state = KFW_STATE_RELATED }, false },
	{ "all fields v6, dst just outside",
	  { UDP, "2001:db8::/32", "fe80::/10", "53", "1-1024", "lo" },
	  { "2001:db8::53", "fec0::", UDP, .sport = 53, .dport = 1024, .iface = "lo" }, false },
};

#undef TCP
#undef UDP

static void kfw_match_case_desc(const struct kfw_match_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kfw_match_cases, kfw_match_cases, kfw_match_case_desc);

static void kfw_match_test_fields(struct kunit *test)
{
	const struct kfw_match_case *c = test->param_value;
	struct kfw_packet pkt;
	struct kfw_match m;

	kfw_test_build_match(test, &c->rule, &m);
	kfw_test_build_packet(test, &c->pkt, &pkt);
	KUNIT_EXPECT_EQ(test, kfw_match_packet(&m, &pkt), c->match);
}

/* A test packet (KFW_CMD_TEST) has no skb: payload rules never match it. */
static void kfw_match_test_payload_without_skb(struct kunit *test)
{
	struct kfw_packet pkt = {
		.family = NFPROTO_IPV4, .has_proto = true, .proto = IPPROTO_UDP,
		.payload_offset = 28,
	};
	struct kfw_match m = { .fields = KFW_MATCH_PAYLOAD };
	struct kfw_payload *payload;

	payload = kfw_payload_create("x", 1, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, payload);
	m.payload = payload;
	KUNIT_EXPECT_FALSE(test, kfw_match_packet(&m, &pkt));
	kfw_payload_destroy(payload);
}

/* --- First match in a table ----------------------------------------------- */

/*
 * A table of the given rules, built the way kfw_table_replace() builds one
 * and published to nobody: the tests below own it.
 */
static const struct kfw_table *
kfw_test_table(struct kunit *test, struct kfw_net *kn,
	       const struct kfw_test_rule *rules, const u8 *dirs,
	       unsigned int nr, u8 policy_in, u8 policy_out,
	       struct kfw_rule **out)
{
	u8 policy[KFW_DIR_MAX + 1] = { policy_in, policy_out };
	struct kfw_match m;
	unsigned int i;
	int err;

	mutex_lock(&kn->lock);
	for (i = 0; i < nr; i++) {
		kfw_test_build_match(test, &rules[i], &m);
		out[i] = kfw_test_rule_alloc(kn, dirs[i], i % 2 ? KFW_VERDICT_DROP :
					KFW_VERDICT_ACCEPT, &m);
		KUNIT_ASSERT_NOT_NULL(test, out[i]);
	}
	err = kfw_test_replace(kn, out, nr, policy, 0);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	return rcu_dereference_protected(kn->table, true);
}

/* The verdict the hooks apply: the first matching rule's, else the policy. */
static u8 kfw_test_verdict(const struct kfw_table *table, u8 dir,
			   const struct kfw_packet *pkt)
{
	const struct kfw_rule *rule = kfw_test_classify(table, dir, pkt);

	return rule ? rule->action : table->policy[dir];
}

static void kfw_match_test_first_match(struct kunit *test)
{
	static const struct kfw_test_rule rules[] = {
		{ IPPROTO_TCP, .dport = "22" },		/* 0: in */
		{ .src = "10.0.0.0/8" },		/* 1: out */
		{ .src = "10.0.0.0/8" },		/* 2: in */
		{ IPPROTO_TCP, .dport = "20-30" },	/* 3: in */
		{ },					/* 4: out, everything */
	};
	static const u8 dirs[] = { KFW_DIR_IN, KFW_DIR_OUT, KFW_DIR_IN, KFW_DIR_IN, KFW_DIR_OUT };
	static const struct kfw_test_pkt ssh_from_10 = {
		"10.1.1.1", "192.0.2.1", IPPROTO_TCP, .dport = 22 };
	static const struct kfw_test_pkt telnet_from_10 = {
		"10.1.1.1", "192.0.2.1", IPPROTO_TCP, .dport = 23 };
	static const struct kfw_test_pkt ftp_from_192 = {
		"192.0.2.7", "192.0.2.1", IPPROTO_TCP, .dport = 21 };
	static const struct kfw_test_pkt web_from_192 = {
		"192.0.2.7", "192.0.2.1", IPPROTO_TCP, .dport = 80 };
	static const struct kfw_test_pkt v6_web = {
		"2001:db8::7", "2001:db8::1", IPPROTO_TCP, .dport = 80 };
	struct kfw_net *kn = test->priv;
	const struct kfw_table *table;
	struct kfw_rule *r[ARRAY_SIZE(rules)];
	struct kfw_packet pkt;

	table = kfw_test_table(test, kn, rules, dirs, ARRAY_SIZE(rules),
			       KFW_VERDICT_DROP, KFW_VERDICT_ACCEPT, r);

	/* Two rules match: the earlier one decides. */
	kfw_test_build_packet(test, &ssh_from_10, &pkt);
	KUNIT_EXPECT_PTR_EQ(test, kfw_test_classify(table, KFW_DIR_IN, &pkt), r[0]);
	/* The first rule fails, the next two match: the second decides. */
	kfw_test_build_packet(test, &telnet_from_10, &pkt);
	KUNIT_EXPECT_PTR_EQ(test, kfw_test_classify(table, KFW_DIR_IN, &pkt), r[2]);
	/* Only the last rule of the direction matches. */
	kfw_test_build_packet(test, &ftp_from_192, &pkt);
	KUNIT_EXPECT_PTR_EQ(test, kfw_test_classify(table, KFW_DIR_IN, &pkt), r[3]);
	/* Nothing matches: the policy decides. */
	kfw_test_build_packet(test, &web_from_192, &pkt);
	KUNIT_EXPECT_NULL(test, kfw_test_classify(table, KFW_DIR_IN, &pkt));
	KUNIT_EXPECT_EQ(test, kfw_test_verdict(table, KFW_DIR_IN, &pkt), KFW_VERDICT_DROP);
	kfw_test_build_packet(test, &v6_web, &pkt);
	KUNIT_EXPECT_NULL(test, kfw_test_classify(table, KFW_DIR_IN, &pkt));

	/* Rules of the other direction never apply. */
	kfw_test_build_packet(test, &ssh_from_10, &pkt);
	KUNIT_EXPECT_PTR_EQ(test, kfw_test_classify(table, KFW_DIR_OUT, &pkt), r[1]);
	KUNIT_EXPECT_EQ(test, kfw_test_verdict(table, KFW_DIR_OUT, &pkt), r[1]->action);
	kfw_test_build_packet(test, &web_from_192, &pkt);
	KUNIT_EXPECT_PTR_EQ(test, kfw_test_classify(table, KFW_DIR_OUT, &pkt), r[4]);
	kfw_test_build_packet(test, &v6_web, &pkt);
	KUNIT_EXPECT_PTR_EQ(test, kfw_test_classify(table, KFW_DIR_OUT, &pkt), r[4]);
}

static void kfw_match_test_empty_table(struct kunit *test)
{
	static const struct kfw_test_pkt pkt4 = { "192.0.2.1", "192.0.2.2", IPPROTO_UDP };
	struct kfw_net *kn = test->priv;
	const struct kfw_table *table;
	struct kfw_rule *none[1];
	struct kfw_packet pkt;

	table = kfw_test_table(test, kn, NULL, NULL, 0, KFW_VERDICT_ACCEPT,
			       KFW_VERDICT_DROP, none);
	kfw_test_build_packet(test, &pkt4, &pkt);
	KUNIT_EXPECT_NULL(test, kfw_test_classify(table, KFW_DIR_IN, &pkt));
	KUNIT_EXPECT_NULL(test, kfw_test_classify(table, KFW_DIR_OUT, &pkt));
	KUNIT_EXPECT_EQ(test, kfw_test_verdict(table, KFW_DIR_IN, &pkt), KFW_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, kfw_test_verdict(table, KFW_DIR_OUT, &pkt), KFW_VERDICT_DROP);
}

/* --- Randomized: kfw against a linear reference --------------------------- */

/*
 * The reference keeps addresses as byte strings and compares prefixes bit by
 * bit; a rule is a list of optional conditions, all of which must hold.
 */
struct kfw_ref_rule {
	u8 dir;
	u8 action;
	u8 family;		/* 0: any, 4 or 6 */
	bool has_proto, has_src, has_dst, has_sport, has_dport, has_iface;
	bool has_state, has_icmp_type, has_icmp_code;
	u8 proto;
	u8 states, icmp_type, icmp_code;
	u8 src[16], dst[16];
	u8 src_len, dst_len;
	u16 sport_lo, sport_hi, dport_lo, dport_hi;
	char iface[IFNAMSIZ];
};

struct kfw_ref_pkt {
	u8 dir;
	u8 family;		/* 4 or 6 */
	bool has_proto, has_ports, has_icmp;
	u8 proto;
	u8 state, icmp_type, icmp_code;
	u16 sport, dport;
	u8 src[16], dst[16];
	const char *iface;
};

static bool kfw_ref_bit(const u8 *addr, unsigned int bit)
{
	return addr[bit / 8] & (0x80 >> (bit % 8));
}

static bool kfw_ref_prefix(const u8 *net, const u8 *addr, unsigned int len)
{
	unsigned int bit;

	for (bit = 0; bit < len; bit++)
		if (kfw_ref_bit(net, bit) != kfw_ref_bit(addr, bit))
			return false;
	return true;
}

static bool kfw_ref_match(const struct kfw_ref_rule *r, const struct kfw_ref_pkt *p)
{
	if (r->dir != p->dir)
		return false;
	if (r->family && r->family != p->family)
		return false;
	if (r->has_proto && (!p->has_proto || r->proto != p->proto))
		return false;
	if (r->has_src && !kfw_ref_prefix(r->src, p->src, r->src_len))
		return false;
	if (r->has_dst && !kfw_ref_prefix(r->dst, p->dst, r->dst_len))
		return false;
	if ((r->has_sport || r->has_dport) && !p->has_ports)
		return false;
	if (r->has_sport && (p->sport < r->sport_lo || p->sport > r->sport_hi))
		return false;
	if (r->has_dport && (p->dport < r->dport_lo || p->dport > r->dport_hi))
		return false;
	if (r->has_iface && (!p->iface || strcmp(r->iface, p->iface)))
		return false;
	if (r->has_state && !(r->states & p->state))
		return false;
	if (r->has_icmp_type && (!p->has_icmp || p->icmp_type != r->icmp_type))
		return false;
	if (r->has_icmp_code && (!p->has_icmp || p->icmp_code != r->icmp_code))
		return false;
	return true;
}

/* Index of the first rule that matches, or -1. */
static int kfw_ref_classify(const struct kfw_ref_rule *rules, unsigned int nr,
			    const struct kfw_ref_pkt *p)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (kfw_ref_match(&rules[i], p))
			return i;
	return -1;
}

/* Addresses, prefixes and ports near which mistakes would show. */
static const char * const kfw_ref_addr4[] = {
	"10.0.0.0", "10.1.2.3", "192.168.1.128", "255.255.255.255", "0.0.0.0",
};

static const char * const kfw_ref_addr6[] = {
	"2001:db8::", "2001:db8:1:2:3:4:5:6", "fe80::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"::", "a00:1::",
};

static const u8 kfw_ref_plen4[] = { 0, 1, 7, 8, 9, 16, 23, 24, 25, 31, 32 };
static const u8 kfw_ref_plen6[] = { 0, 1, 31, 32, 33, 63, 64, 65, 96, 120, 127, 128 };
static const u16 kfw_ref_ports[] = { 0, 1, 22, 79, 80, 81, 1023, 1024, 65534, 65535 };
static const u8 kfw_ref_protos[] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 0, 255,
};

static const u8 kfw_ref_families[] = { 0, 4, 6 };

static const u8 kfw_ref_states[] = {
	0, KFW_STATE_NEW, KFW_STATE_ESTABLISHED, KFW_STATE_RELATED, KFW_STATE_INVALID,
};

static const u8 kfw_ref_icmp_types[] = { 0, 3, 8, 11, 128, 129, 135 };
static const u8 kfw_ref_icmp_codes[] = { 0, 1, 3, 4 };

static const char * const kfw_ref_ifaces[] = { "eth0", "eth1", "veth0", "eth", "eth00" };

static void kfw_ref_addr(struct kunit *test, struct rnd_state *rnd, u8 family, u8 *addr)
{
	union nf_inet_addr a;
	unsigned int n = family == 4 ? ARRAY_SIZE(kfw_ref_addr4) : ARRAY_SIZE(kfw_ref_addr6);
	unsigned int i = kfw_test_rnd(rnd, n + 1);

	memset(addr, 0, 16);
	if (i == n) {
		/* Now and then anything at all. */
		for (i = 0; i < (family == 4 ? 4 : 16); i++)
			addr[i] = prandom_u32_state(rnd);
		return;
	}
	kfw_test_addr(test, family == 4 ? kfw_ref_addr4[i] : kfw_ref_addr6[i], &a);
	memcpy(addr, a.all, family == 4 ? 4 : 16);
}

static u16 kfw_ref_port(struct rnd_state *rnd)
{
	if (!kfw_test_rnd(rnd, 8))
		return prandom_u32_state(rnd);
	return kfw_ref_ports[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_ports))];
}

static void kfw_ref_range(struct rnd_state *rnd, u16 *lo, u16 *hi)
{
	u32 last;

	*lo = kfw_ref_port(rnd);
	switch (kfw_test_rnd(rnd, 4)) {
	case 0:
		last = *lo;
		break;
	case 1:
		last = *lo + 1;
		break;
	case 2:
		last = *lo + kfw_test_rnd(rnd, 2000);
		break;
	default:
		last = 65535;
		break;
	}
	*hi = min_t(u32, last, 65535);
}

static void kfw_ref_net(struct kunit *test, struct rnd_state *rnd, u8 family,
			u8 *net, u8 *len)
{
	unsigned int bit;

	kfw_ref_addr(test, rnd, family, net);
	if (kfw_test_rnd(rnd, 4))
		*len = family == 4 ? kfw_ref_plen4[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_plen4))] :
				     kfw_ref_plen6[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_plen6))];
	else
		*len = kfw_test_rnd(rnd, family == 4 ? 33 : 129);
	/* Host bits are zero in a rule, as netlink requires. */
	for (bit = *len; bit < (family == 4 ? 32 : 128); bit++)
		net[bit / 8] &= ~(0x80 >> (bit % 8));
}

static void kfw_ref_random_rule(struct kunit *test, struct rnd_state *rnd,
				struct kfw_ref_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->dir = kfw_test_rnd(rnd, KFW_DIR_MAX + 1);
	r->action = kfw_test_rnd(rnd, KFW_VERDICT_MAX + 1);
	r->family = kfw_ref_families[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_families))];
	if (r->family) {
		r->has_src = kfw_test_rnd(rnd, 3);
		r->has_dst = !r->has_src || kfw_test_rnd(rnd, 2);
		if (r->has_src)
			kfw_ref_net(test, rnd, r->family, r->src, &r->src_len);
		if (r->has_dst)
			kfw_ref_net(test, rnd, r->family, r->dst, &r->dst_len);
	}
	/* A rule of either family names a protocol, or it would take most packets. */
	r->has_proto = !r->family || kfw_test_rnd(rnd, 2);
	if (r->has_proto)
		r->proto = kfw_ref_protos[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_protos))];
	/* Ports only with TCP or UDP, as netlink requires. */
	if (r->has_proto && (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP)) {
		r->has_sport = !kfw_test_rnd(rnd, 3);
		r->has_dport = kfw_test_rnd(rnd, 2);
		if (r->has_sport)
			kfw_ref_range(rnd, &r->sport_lo, &r->sport_hi);
		if (r->has_dport)
			kfw_ref_range(rnd, &r->dport_lo, &r->dport_hi);
	}
	r->has_iface = !kfw_test_rnd(rnd, 5);
	if (r->has_iface)
		strscpy(r->iface, kfw_ref_ifaces[kfw_test_rnd(rnd, 3)], sizeof(r->iface));
	r->has_state = !kfw_test_rnd(rnd, 5);
	if (r->has_state)
		r->states = 1 + kfw_test_rnd(rnd, __KFW_STATE_ALL);
	/* ICMP types and codes only with ICMP or ICMPv6, as netlink requires. */
	if (r->has_proto && (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)) {
		r->has_icmp_type = kfw_test_rnd(rnd, 3);
		r->has_icmp_code = r->has_icmp_type && kfw_test_rnd(rnd, 2);
		r->icmp_type = kfw_ref_icmp_types[kfw_test_rnd(rnd,
							ARRAY_SIZE(kfw_ref_icmp_types))];
		r->icmp_code = kfw_ref_icmp_codes[kfw_test_rnd(rnd,
							ARRAY_SIZE(kfw_ref_icmp_codes))];
	}
}

/* A packet near a rule of the table, or anywhere. */
static void kfw_ref_random_pkt(struct kunit *test, struct rnd_state *rnd,
			       const struct kfw_ref_rule *rules, unsigned int nr,
			       struct kfw_ref_pkt *p)
{
	const struct kfw_ref_rule *near = nr ? &rules[kfw_test_rnd(rnd, nr)] : NULL;
	unsigned int bits;

	memset(p, 0, sizeof(*p));
	p->dir = kfw_test_rnd(rnd, 4) && near ? near->dir : kfw_test_rnd(rnd, KFW_DIR_MAX + 1);
	p->family = kfw_test_rnd(rnd, 2) ? 4 : 6;
	if (near && near->family && kfw_test_rnd(rnd, 4))
		p->family = near->family;
	bits = p->family == 4 ? 32 : 128;
	kfw_ref_addr(test, rnd, p->family, p->src);
	kfw_ref_addr(test, rnd, p->family, p->dst);
	if (near && near->family == p->family) {
		/* Inside the rule's networks, then maybe one bit off. */
		if (near->has_src && kfw_test_rnd(rnd, 4))
			memcpy(p->src, near->src, bits / 8);
		if (near->has_dst && kfw_test_rnd(rnd, 4))
			memcpy(p->dst, near->dst, bits / 8);
		if (!kfw_test_rnd(rnd, 3)) {
			unsigned int bit = kfw_test_rnd(rnd, bits);

			p->src[bit / 8] ^= 0x80 >> (bit % 8);
		}
		if (!kfw_test_rnd(rnd, 3)) {
			unsigned int bit = kfw_test_rnd(rnd, bits);

			p->dst[bit / 8] ^= 0x80 >> (bit % 8);
		}
	}
	p->has_proto = kfw_test_rnd(rnd, 10);
	if (near && near->has_proto && kfw_test_rnd(rnd, 2))
		p->proto = near->proto;
	else
		p->proto = kfw_ref_protos[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_protos))];
	p->has_ports = p->has_proto && kfw_test_rnd(rnd, 8) &&
		       (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);
	if (p->has_ports) {
		p->sport = kfw_ref_port(rnd);
		p->dport = kfw_ref_port(rnd);
		/* At and around the rule's range ends. */
		if (near && near->has_sport && kfw_test_rnd(rnd, 2))
			p->sport = (kfw_test_rnd(rnd, 2) ? near->sport_lo : near->sport_hi) +
				   (int)kfw_test_rnd(rnd, 3) - 1;
		if (near && near->has_dport && kfw_test_rnd(rnd, 2))
			p->dport = (kfw_test_rnd(rnd, 2) ? near->dport_lo : near->dport_hi) +
				   (int)kfw_test_rnd(rnd, 3) - 1;
	}
	if (kfw_test_rnd(rnd, 4))
		p->iface = kfw_ref_ifaces[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_ifaces))];
	p->state = kfw_ref_states[kfw_test_rnd(rnd, ARRAY_SIZE(kfw_ref_states))];
	p->has_icmp = p->has_proto && kfw_test_rnd(rnd, 8) &&
		      (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6);
	if (p->has_icmp) {
		p->icmp_type = kfw_ref_icmp_types[kfw_test_rnd(rnd,
							ARRAY_SIZE(kfw_ref_icmp_types))];
		p->icmp_code = kfw_ref_icmp_codes[kfw_test_rnd(rnd,
							ARRAY_SIZE(kfw_ref_icmp_codes))];
		if (near && near->has_icmp_type && kfw_test_rnd(rnd, 2)) {
			p->icmp_type = near->icmp_type;
			if (kfw_test_rnd(rnd, 2))
				p->icmp_code = near->icmp_code;
		}
	}
}

/* What kfw makes of a reference rule; netlink would make the same. */
static void kfw_ref_to_match(const struct kfw_ref_rule *r, struct kfw_match *m)
{
	u8 family = r->family == 4 ? NFPROTO_IPV4 : r->family == 6 ? NFPROTO_IPV6 :
		    NFPROTO_UNSPEC;

	memset(m, 0, sizeof(*m));
	m->family = family;
	if (r->has_proto) {
		m->fields |= KFW_MATCH_PROTO;
		m->proto = r->proto;
	}
	if (r->has_src) {
		m->fields |= KFW_MATCH_SRC;
		memcpy(m->src.all, r->src, r->family == 4 ? 4 : 16);
		m->src_prefix = r->src_len;
		kfw_test_mask(&m->src_mask, family, r->src_len);
	}
	if (r->has_dst) {
		m->fields |= KFW_MATCH_DST;
		memcpy(m->dst.all, r->dst, r->family == 4 ? 4 : 16);
		m->dst_prefix = r->dst_len;
		kfw_test_mask(&m->dst_mask, family, r->dst_len);
	}
	if (r->has_sport) {
		m->fields |= KFW_MATCH_SPORT;
		m->sport.first = r->sport_lo;
		m->sport.last = r->sport_hi;
	}
	if (r->has_dport) {
		m->fields |= KFW_MATCH_DPORT;
		m->dport.first = r->dport_lo;
		m->dport.last = r->dport_hi;
	}
	if (r->has_iface) {
		m->fields |= KFW_MATCH_IFACE;
		strscpy(m->iface, r->iface, sizeof(m->iface));
	}
	if (r->has_state) {
		m->fields |= KFW_MATCH_STATE;
		m->states = r->states;
	}
	if (r->has_icmp_type) {
		m->fields |= KFW_MATCH_ICMP_TYPE;
		m->icmp_type = r->icmp_type;
	}
	if (r->has_icmp_code) {
		m->fields |= KFW_MATCH_ICMP_CODE;
		m->icmp_code = r->icmp_code;
	}
}

static void kfw_ref_to_packet(const struct kfw_ref_pkt *p, struct kfw_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = p->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	pkt->has_proto = p->has_proto;
	pkt->has_ports = p->has_ports;
	pkt->proto = p->proto;
	pkt->sport = p->sport;
	pkt->dport = p->dport;
	memcpy(pkt->src.all, p->src, p->family == 4 ? 4 : 16);
	memcpy(pkt->dst.all, p->dst, p->family == 4 ? 4 : 16);
	pkt->iface = p->iface;
	pkt->state = p->state;
	pkt->has_icmp = p->has_icmp;
	pkt->icmp_type = p->icmp_type;
	pkt->icmp_code = p->icmp_code;
}

static void kfw_ref_log(struct kunit *test, const struct kfw_ref_rule *rules,
			int index, const char *who)
{
	const struct kfw_ref_rule *r = &rules[index];

	if (index < 0) {
		kunit_err(test, "  %s: no rule\n", who);
		return;
	}
	kunit_err(test, "  %s: rule %d dir %u fam %u proto %d/%u src %*phN/%u(%d) dst %*phN/%u(%d) sport %u-%u(%d) dport %u-%u(%d) iface %s(%d) states %x(%d) icmp %u(%d)/%u(%d)\n",
		  who, index, r->dir, r->family, r->has_proto, r->proto,
		  r->family == 4 ? 4 : 16, r->src, r->src_len, r->has_src,
		  r->family == 4 ? 4 : 16, r->dst, r->dst_len, r->has_dst,
		  r->sport_lo, r->sport_hi, r->has_sport,
		  r->dport_lo, r->dport_hi, r->has_dport, r->iface, r->has_iface,
		  r->states, r->has_state, r->icmp_type, r->has_icmp_type,
		  r->icmp_code, r->has_icmp_code);
}

static void kfw_match_test_random(struct kunit *test)
{
	unsigned int nr, round, i, checked = 0, matched = 0, failed = 0;
	struct kfw_net *kn = test->priv;
	struct kfw_ref_rule *ref;
	struct kfw_rule **rules;
	struct rnd_state rnd;

	kfw_test_rnd_init(test, &rnd, 1);
	nr = kfw_test_rules;
	ref = kunit_kcalloc(test, max(nr, 1U), sizeof(*ref), GFP_KERNEL);
	rules = kunit_kcalloc(test, max(nr, 1U), sizeof(*rules), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ref);
	KUNIT_ASSERT_NOT_NULL(test, rules);

	for (round = 0; round < kfw_test_rounds && failed < 5; round++) {
		u8 policy[KFW_DIR_MAX + 1];
		const struct kfw_table *table;
		struct kfw_match m;
		int err;

		/* Tables of every length up to the parameter. */
		unsigned int n = round ? kfw_test_rnd(&rnd, nr + 1) : nr;

		policy[KFW_DIR_IN] = kfw_test_rnd(&rnd, 2);
		policy[KFW_DIR_OUT] = kfw_test_rnd(&rnd, 2);
		mutex_lock(&kn->lock);
		for (i = 0; i < n; i++) {
			kfw_ref_random_rule(test, &rnd, &ref[i]);
			kfw_ref_to_match(&ref[i], &m);
			rules[i] = kfw_test_rule_alloc(kn, ref[i].dir, ref[i].action, &m);
			if (!rules[i])
				break;
		}
		err = i == n ? kfw_test_replace(kn, rules, n, policy, 0) : -ENOMEM;
		if (err)
			while (i--)
				kfw_rule_destroy(kn, rules[i]);
		mutex_unlock(&kn->lock);
		KUNIT_ASSERT_EQ(test, err, 0);
		table = rcu_dereference_protected(kn->table, true);

		for (i = 0; i < kfw_test_packets; i++) {
			const struct kfw_rule *got;
			struct kfw_packet pkt;
			struct kfw_ref_pkt p;
			int want, index;
			u8 verdict;

			kfw_ref_random_pkt(test, &rnd, ref, n, &p);
			kfw_ref_to_packet(&p, &pkt);
			want = kfw_ref_classify(ref, n, &p);
			got = kfw_test_classify(table, p.dir, &pkt);
			for (index = 0; got && index < n; index++)
				if (rules[index] == got)
					break;
			if (!got)
				index = -1;
			verdict = got ? got->action : table->policy[p.dir];
			checked++;
			matched += want >= 0;
			if (index == want &&
			    verdict == (want >= 0 ? ref[want].action : policy[p.dir]))
				continue;
			failed++;
			KUNIT_FAIL(test, "round %u packet %u: kfw chose rule %d, the reference %d",
				   round, i, index, want);
			kunit_err(test, "  packet: dir %u fam %u proto %d/%u ports %d/%u/%u src %*phN dst %*phN iface %s state %x icmp %d/%u/%u\n",
				  p.dir, p.family, p.has_proto, p.proto, p.has_ports,
				  p.sport, p.dport, p.family == 4 ? 4 : 16, p.src,
				  p.family == 4 ? 4 : 16, p.dst, p.iface ?: "-", p.state,
				  p.has_icmp, p.icmp_type, p.icmp_code);
			kfw_ref_log(test, ref, want, "reference");
			kfw_ref_log(test, ref, index, "kfw");
			if (failed >= 5)
				break;
		}
	}
	kunit_info(test, "%u packets over %u tables, %u matched a rule\n",
		   checked, round, matched);
	/* The generator must produce both outcomes, or it tests nothing. */
	if (kfw_test_rounds && kfw_test_packets && nr) {
		KUNIT_EXPECT_GT(test, matched, checked / 10);
		KUNIT_EXPECT_LT(test, matched, checked - checked / 10);
	}
}

static int kfw_match_test_init(struct kunit *test)
{
	test->priv = kfw_test_net_new(test);
	return 0;
}

static void kfw_match_test_exit(struct kunit *test)
{
	kfw_test_net_free(test->priv);
}

static struct kunit_case kfw_match_test_cases[] = {
	KUNIT_CASE(kfw_match_test_prefix_mask),
	KUNIT_CASE_PARAM(kfw_match_test_fields, kfw_match_cases_gen_params),
	KUNIT_CASE(kfw_match_test_payload_without_skb),
	KUNIT_CASE(kfw_match_test_first_match),
	KUNIT_CASE(kfw_match_test_empty_table),
	KUNIT_CASE(kfw_match_test_random),
	{}
};

static struct kunit_suite kfw_match_test_suite = {
	.suite_init = kfw_test_suite_init,
	.suite_exit = kfw_test_suite_exit,
	.name = "kfw_match",
	.init = kfw_match_test_init,
	.exit = kfw_match_test_exit,
	.test_cases = kfw_match_test_cases,
};

kunit_test_suite(kfw_match_test_suite);
