// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite kfw_netlink: from KFW_A_RULE attributes to a rule's match.
 *
 * netlink.c includes this file at its end when kfw is built with its tests
 * (make KFW_KUNIT=1), so that the static kfw_nl_parse_rule() and the
 * policies can be tested as they are. Every malformed rule must be refused,
 * and every refusal must say why in the extended ack: either kfw's own
 * message, checked word for word, or the policy's.
 */

#include <kunit/test.h>
#include <linux/inet.h>

#include "test_util.h"

enum kfw_nl_kind {
	KFW_NL_END,
	KFW_NL_INT,		/* @len bytes of @val, host order */
	KFW_NL_IP4,		/* the address @str */
	KFW_NL_IP6,		/* the address @str */
	KFW_NL_STR,		/* @str and its NUL */
	KFW_NL_BYTES,		/* the first @len bytes of @str */
	KFW_NL_ZEROS,		/* @len zero bytes */
	KFW_NL_FLAG,		/* no payload */
	KFW_NL_TRAILING,	/* @len bytes of garbage, not an attribute */
};

struct kfw_nl_attr {
	enum kfw_nl_kind kind;
	u16 type;
	u16 len;
	u32 val;
	const char *str;
};

/* Room for the attributes of a case, and the KFW_NL_END after them. */
#define KFW_NL_MAX_ATTRS 10

/**
 * struct kfw_nl_case - a malformed rule
 * @desc: name of the case
 * @attrs: the attributes inside KFW_A_RULE, in order
 * @err: the error it must get, or 0 for any
 * @msg: the extack message it must get word for word, or NULL for any
 */
struct kfw_nl_case {
	const char *desc;
	struct kfw_nl_attr attrs[KFW_NL_MAX_ATTRS];
	int err;
	const char *msg;
};

#define U8(t, v)	{ KFW_NL_INT, KFW_RULE_A_##t, 1, v }
#define U16(t, v)	{ KFW_NL_INT, KFW_RULE_A_##t, 2, v }
#define U32(t, v)	{ KFW_NL_INT, KFW_RULE_A_##t, 4, v }
#define U64(t, v)	{ KFW_NL_INT, KFW_RULE_A_##t, 8, v }
#define IP4(t, a)	{ KFW_NL_IP4, KFW_RULE_A_##t, 4, 0, a }
#define IP6(t, a)	{ KFW_NL_IP6, KFW_RULE_A_##t, 16, 0, a }
#define STR(t, s)	{ KFW_NL_STR, KFW_RULE_A_##t, 0, 0, s }
#define BYTES(t, s, n)	{ KFW_NL_BYTES, KFW_RULE_A_##t, n, 0, s }
#define TYPE(t, n)	{ KFW_NL_ZEROS, t, n }
#define FLAG(t)		{ KFW_NL_FLAG, KFW_RULE_A_##t }
#define TRAILING(n)	{ KFW_NL_TRAILING, 0, n }
#define IN		U8(DIR, KFW_DIR_IN)
#define ACCEPT		U8(ACTION, KFW_VERDICT_ACCEPT)

#define MSG_FAMILIES	"source and destination are of different families"
#define MSG_EITHER	"an address is either IPv4 or IPv6"
#define MSG_HOST_BITS	"address has bits set beyond its prefix length"
#define MSG_TOO_LONG	"prefix too long for the address family"
#define MSG_NO_ADDR	"prefix length without an address"
#define MSG_PROTO	"ports need proto tcp or udp"
#define MSG_NO_FIRST	"port range without a first port"
#define MSG_INVERTED	"port range ends before it starts"
#define MSG_ICMP	"icmp type needs proto icmp or icmpv6"
#define MSG_LOG		"log rate and burst need log"
#define MSG_COMMENT	"comment must be printable ASCII without '\"' or '\\'"

/* KFW_COMMENT_MAX characters: one too many with the NUL. */
#define LONG_COMMENT	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const u8 kfw_nl_zeros[KFW_PAYLOAD_MAX + 8];

/* KFW_TIMEOUT_MAX_MS + 1, in host order, as KFW_NL_BYTES puts it. */
static const u64 kfw_nl_timeout_too_long_ms = KFW_TIMEOUT_MAX_MS + 1;
#define kfw_nl_timeout_too_long ((const char *)&kfw_nl_timeout_too_long_ms)

static const struct kfw_nl_case kfw_nl_cases[] = {
	/* Missing what is required. */
	{ "nothing", { }, -EINVAL, "rule has no direction" },
	{ "no direction", { ACCEPT }, -EINVAL, "rule has no direction" },
	{ "no action", { IN }, -EINVAL, "rule has no action" },
	{ "no action, but a match", { IN, U8(PROTO, IPPROTO_TCP) }, -EINVAL,
	  "rule has no action" },

	/* Out of range. */
	{ "direction 2", { U8(DIR, 2), ACCEPT }, -ERANGE },
	{ "direction 255", { U8(DIR, 255), ACCEPT }, -ERANGE },
	{ "action 3", { IN, U8(ACTION, 3) }, -ERANGE },
	{ "IPv6 prefix 129", { IN, ACCEPT, IP6(SRC_IP6, "::"), U8(SRC_PREFIX, 129) }, -ERANGE },
	{ "prefix 255", { IN, ACCEPT, IP6(DST_IP6, "::"), U8(DST_PREFIX, 255) }, -ERANGE },

	/* Attributes a request may not carry. */
	{ "unknown attribute", { IN, ACCEPT, TYPE(KFW_RULE_A_MAX + 1, 1) }, -EINVAL },
	{ "attribute 0", { IN, ACCEPT, TYPE(KFW_RULE_A_UNSPEC, 1) }, -EINVAL },
	{ "padding attribute", { IN, ACCEPT, TYPE(KFW_RULE_A_PAD, 4) }, -EINVAL },
	{ "handle", { IN, ACCEPT, U64(HANDLE, 7) }, -EINVAL, "handles are assigned by the kernel" },
	{ "packet counter", { IN, ACCEPT, U64(PACKETS, 0) }, -EINVAL, "counters are read-only" },
	{ "byte counter", { IN, ACCEPT, U64(BYTES, 0) }, -EINVAL, "counters are read-only" },

	/* Wrong lengths. */
	{ "direction as u16", { U16(DIR, 0), ACCEPT }, -EINVAL },
	{ "direction as u32", { U32(DIR, 0), ACCEPT }, -EINVAL },
	{ "direction empty", { TYPE(KFW_RULE_A_DIR, 0), ACCEPT }, -EINVAL },
	{ "action as u16", { IN, U16(ACTION, 0) }, -EINVAL },
	{ "protocol as u16", { IN, ACCEPT, U16(PROTO, IPPROTO_TCP) }, -EINVAL },
	{ "IPv4 source of 3 bytes", { IN, ACCEPT, BYTES(SRC_IP4, "\xc0\0\x02", 3) }, -ERANGE },
	{ "IPv4 source of 5 bytes", { IN, ACCEPT, BYTES(SRC_IP4, "\xc0\0\x02\x01\0", 5) },
	  -ERANGE },
	{ "IPv4 destination of 16 bytes", { IN, ACCEPT, TYPE(KFW_RULE_A_DST_IP4, 16) }, -ERANGE },
	{ "IPv6 source of 4 bytes", { IN, ACCEPT, TYPE(KFW_RULE_A_SRC_IP6, 4) }, -ERANGE },
	{ "IPv6 source of 15 bytes", { IN, ACCEPT, TYPE(KFW_RULE_A_SRC_IP6, 15) }, -ERANGE },
	{ "IPv6 destination of 17 bytes", { IN, ACCEPT, TYPE(KFW_RULE_A_DST_IP6, 17) }, -ERANGE },
	{ "empty IPv4 destination", { IN, ACCEPT, TYPE(KFW_RULE_A_DST_IP4, 0) }, -ERANGE },
	{ "prefix as u16", { IN, ACCEPT, IP4(SRC_IP4, "10.0.0.0"), U16(SRC_PREFIX, 8) }, -EINVAL },
	{ "port as u8", { IN, ACCEPT, U8(PROTO, IPPROTO_TCP), U8(DPORT_FIRST, 80) }, -EINVAL },
	{ "port as u32", { IN, ACCEPT, U8(PROTO, IPPROTO_TCP), U32(SPORT_FIRST, 80) }, -EINVAL },
	{ "last port as u32", { IN, ACCEPT, U8(PROTO, IPPROTO_UDP), U16(DPORT_FIRST, 80),
	  U32(DPORT_LAST, 90) }, -EINVAL },
	{ "interface without its NUL", { IN, ACCEPT, BYTES(IFACE, "eth0", 4) }, -EINVAL },
	{ "interface of 16 characters", { IN, ACCEPT, STR(IFACE, "abcdefghijklmnop") } },
	{ "interface of no bytes", { IN, ACCEPT, BYTES(IFACE, "", 0) }, -EINVAL },
	{ "interface empty", { IN, ACCEPT, STR(IFACE, "") }, -EINVAL, "invalid interface name" },
	/* Names are printed bare in /proc and by fwctl save: no line breaks. */
	{ "interface with a newline", { IN, ACCEPT, STR(IFACE, "x\nadd") }, -EINVAL,
	  "invalid interface name" },
	{ "interface with a space", { IN, ACCEPT, STR(IFACE, "a b") }, -EINVAL },
	{ "interface with a quote", { IN, ACCEPT, STR(IFACE, "a\"b") }, -EINVAL },
	{ "interface with a control byte", { IN, ACCEPT, STR(IFACE, "a\x1b") }, -EINVAL },
	{ "interface with a slash", { IN, ACCEPT, STR(IFACE, "a/b") }, -EINVAL },
	{ "interface named ..", { IN, ACCEPT, STR(IFACE, "..") }, -EINVAL },
	{ "garbage after the attributes", { IN, ACCEPT, TRAILING(2) }, -EINVAL },
	{ "truncated attribute", { IN, ACCEPT, TRAILING(6) }, -EINVAL },

	/* Families. */
	{ "IPv4 source, IPv6 destination",
	  { IN, ACCEPT, IP4(SRC_IP4, "10.0.0.1"), IP6(DST_IP6, "2001:db8::1") },
	  -EINVAL, MSG_FAMILIES },
	{ "IPv6 source, IPv4 destination",
	  { IN, ACCEPT, IP6(SRC_IP6, "2001:db8::1"), IP4(DST_IP4, "10.0.0.1") },
	  -EINVAL, MSG_FAMILIES },
	{ "IPv4 and IPv6 source",
	  { IN, ACCEPT, IP4(SRC_IP4, "10.0.0.1"), IP6(SRC_IP6, "2001:db8::1") },
	  -EINVAL, MSG_EITHER },
	{ "IPv4 and IPv6 destination",
	  { IN, ACCEPT, IP6(DST_IP6, "::1"), IP4(DST_IP4, "10.0.0.1") }, -EINVAL, MSG_EITHER },

	/* Host bits beyond the prefix. */
	{ "10.0.0.1/24", { IN, ACCEPT, IP4(SRC_IP4, "10.0.0.1"), U8(SRC_PREFIX, 24) },
	  -EINVAL, MSG_HOST_BITS },
	{ "10.0.0.128/24", { IN, ACCEPT, IP4(SRC_IP4, "10.0.0.128"), U8(SRC_PREFIX, 24) },
	  -EINVAL, MSG_HOST_BITS },
	{ "10.0.0.1/31", { IN, ACCEPT, IP4(DST_IP4, "10.0.0.1"), U8(DST_PREFIX, 31) },
	  -EINVAL, MSG_HOST_BITS },
	{ "0.0.0.1/0", { IN, ACCEPT, IP4(DST_IP4, "0.0.0.1"), U8(DST_PREFIX, 0) },
	  -EINVAL, MSG_HOST_BITS },
	{ "128.0.0.0/0", { IN, ACCEPT, IP4(DST_IP4, "128.0.0.0"), U8(DST_PREFIX, 0) },
	  -EINVAL, MSG_HOST_BITS },
	{ "2001:db8::1/64", { IN, ACCEPT, IP6(SRC_IP6, "2001:db8::1"), U8(SRC_PREFIX, 64) },
	  -EINVAL, MSG_HOST_BITS },
	{ "2001:db8:8000::/32", { IN, ACCEPT, IP6(SRC_IP6, "2001:db8:8000::"),
	  U8(SRC_PREFIX, 32) }, -EINVAL, MSG_HOST_BITS },
	{ "2001:db8::1/127", { IN, ACCEPT, IP6(DST_IP6, "2001:db8::1"), U8(DST_PREFIX, 127) },
	  -EINVAL, MSG_HOST_BITS },
	{ "::1/0", { IN, ACCEPT, IP6(DST_IP6, "::1"), U8(DST_PREFIX, 0) },
	  -EINVAL, MSG_HOST_BITS },

	/* Prefix lengths. */
	{ "IPv4 /33", { IN, ACCEPT, IP4(SRC_IP4, "10.0.0.0"), U8(SRC_PREFIX, 33) },
	  -EINVAL, MSG_TOO_LONG },
	{ "IPv4 /128", { IN, ACCEPT, IP4(DST_IP4, "10.0.0.0"), U8(DST_PREFIX, 128) },
	  -EINVAL, MSG_TOO_LONG },
	{ "source prefix alone", { IN, ACCEPT, U8(SRC_PREFIX, 8) }, -EINVAL, MSG_NO_ADDR },
	{ "source prefix with a destination",
	  { IN, ACCEPT, IP4(DST_IP4, "10.0.0.0"), U8(SRC_PREFIX, 8) }, -EINVAL, MSG_NO_ADDR },
	{ "destination prefix with a source",
	  { IN, ACCEPT, IP6(SRC_IP6, "::"), U8(DST_PREFIX, 0) }, -EINVAL, MSG_NO_ADDR },

	/* Ports. */
	{ "ports without a protocol", { IN, ACCEPT, U16(DPORT_FIRST, 80) }, -EINVAL, MSG_PROTO },
	{ "ports with ICMP", { IN, ACCEPT, U8(PROTO, IPPROTO_ICMP), U16(SPORT_FIRST, 80) },
	  -EINVAL, MSG_PROTO },
	{ "ports with SCTP", { IN, ACCEPT, U8(PROTO, IPPROTO_SCTP), U16(DPORT_FIRST, 80),
	  U16(DPORT_LAST, 81) }, -EINVAL, MSG_PROTO },
	{ "ports with protocol 0", { IN, ACCEPT, U8(PROTO, 0), U16(SPORT_FIRST, 1) },
	  -EINVAL, MSG_PROTO },
	{ "last source port alone", { IN, ACCEPT, U8(PROTO, IPPROTO_TCP), U16(SPORT_LAST, 80) },
	  -EINVAL, MSG_NO_FIRST },
	{ "last destination port alone",
	  { IN, ACCEPT, U8(PROTO, IPPROTO_UDP), U16(DPORT_LAST, 80) }, -EINVAL, MSG_NO_FIRST },
	{ "source ports 2000-1000", { IN, ACCEPT, U8(PROTO, IPPROTO_TCP), U16(SPORT_FIRST, 2000),
	  U16(SPORT_LAST, 1000) }, -EINVAL, MSG_INVERTED },
	{ "destination ports 81-80", { IN, ACCEPT, U8(PROTO, IPPROTO_UDP), U16(DPORT_FIRST, 81),
	  U16(DPORT_LAST, 80) }, -EINVAL, MSG_INVERTED },
	{ "destination ports 65535-0", { IN, ACCEPT, U8(PROTO, IPPROTO_UDP),
	  U16(DPORT_FIRST, 65535), U16(DPORT_LAST, 0) }, -EINVAL, MSG_INVERTED },

	/* States. */
	{ "state 0", { IN, ACCEPT, U8(STATE, 0) }, -EINVAL, "state match without a state" },
	{ "state 16", { IN, ACCEPT, U8(STATE, 16) } },
	{ "state 255", { IN, ACCEPT, U8(STATE, 255) } },
	{ "state as u16", { IN, ACCEPT, U16(STATE, 1) }, -EINVAL },

	/* ICMP. */
	{ "icmp code without a type", { IN, ACCEPT, U8(PROTO, IPPROTO_ICMP), U8(ICMP_CODE, 0) },
	  -EINVAL, "icmp code without an icmp type" },
	{ "icmp type without a protocol", { IN, ACCEPT, U8(ICMP_TYPE, 8) }, -EINVAL, MSG_ICMP },
	{ "icmp type with tcp", { IN, ACCEPT, U8(PROTO, IPPROTO_TCP), U8(ICMP_TYPE, 8) },
	  -EINVAL, MSG_ICMP },
	{ "icmp type as u16", { IN, ACCEPT, U8(PROTO, IPPROTO_ICMP), U16(ICMP_TYPE, 8) },
	  -EINVAL },

	/* Payloads. */
	{ "empty payload", { IN, ACCEPT, TYPE(KFW_RULE_A_PAYLOAD, 0) } },
	{ "payload of 129 bytes", { IN, ACCEPT, TYPE(KFW_RULE_A_PAYLOAD, KFW_PAYLOAD_MAX + 1) } },
	{ "payload-within without a payload", { IN, ACCEPT, U16(PAYLOAD_WITHIN, 10) },
	  -EINVAL, "payload-within needs a payload" },
	{ "payload-within 0", { IN, ACCEPT, BYTES(PAYLOAD, "abc", 3), U16(PAYLOAD_WITHIN, 0) },
	  -ERANGE },

	/* Logging. */
	{ "log rate without log", { IN, ACCEPT, U32(LOG_RATE, 10) }, -EINVAL, MSG_LOG },
	{ "log burst without log", { IN, ACCEPT, U32(LOG_BURST, 10) }, -EINVAL, MSG_LOG },
	{ "log rate 0", { IN, ACCEPT, FLAG(LOG), U32(LOG_RATE, 0) }, -ERANGE },
	{ "log rate too high", { IN, ACCEPT, FLAG(LOG), U32(LOG_RATE, KFW_LOG_RATE_MAX + 1) },
	  -ERANGE },
	{ "log burst 0", { IN, ACCEPT, FLAG(LOG), U32(LOG_BURST, 0) }, -ERANGE },
	{ "log burst too high", { IN, ACCEPT, FLAG(LOG), U32(LOG_BURST, KFW_LOG_BURST_MAX + 1) },
	  -ERANGE },
	{ "log flag with a value", { IN, ACCEPT, U8(LOG, 1) } },

	/* Negation and owners. */
	{ "negated source without one", { IN, ACCEPT, U8(NEGATE, KFW_NEGATE_SRC) }, -EINVAL,
	  "negation of a field the rule does not have" },
	{ "negated interface without one", { IN, ACCEPT, U8(NEGATE, KFW_NEGATE_IFACE) },
	  -EINVAL, "negated interface without an interface" },
	{ "negation of an unknown field", { IN, ACCEPT, U8(NEGATE, 1 << 5) }, -EINVAL },
	{ "negated port without tcp", { IN, ACCEPT, U16(DPORT_FIRST, 22),
	  U8(NEGATE, KFW_NEGATE_DPORT) }, -EINVAL, MSG_PROTO },
	{ "uid on in", { IN, ACCEPT, U32(UID_FIRST, 0) }, -EINVAL,
	  "uid and gid match only on out" },
	{ "gid range without a start", { U8(DIR, KFW_DIR_OUT), ACCEPT, U32(GID_LAST, 5) },
	  -EINVAL, "owner range without a start" },
	{ "a list not nested", { IN, ACCEPT, TYPE(KFW_RULE_A_SRC_LIST, 0) }, -EINVAL },

	/* Comments. */
	{ "comment with a quote", { IN, ACCEPT, STR(COMMENT, "say \"hi\"") },
	  -EINVAL, MSG_COMMENT },
	{ "comment with a backslash", { IN, ACCEPT, STR(COMMENT, "a\\b") }, -EINVAL, MSG_COMMENT },
	{ "comment with a newline", { IN, ACCEPT, STR(COMMENT, "a\nb") }, -EINVAL, MSG_COMMENT },
	{ "comment with DEL", { IN, ACCEPT, STR(COMMENT, "a\x7f") }, -EINVAL, MSG_COMMENT },
	{ "comment with UTF-8", { IN, ACCEPT, STR(COMMENT, "caf\xc3\xa9") }, -EINVAL, MSG_COMMENT },
	{ "empty comment", { IN, ACCEPT, STR(COMMENT, "") }, -EINVAL, MSG_COMMENT },
	{ "comment of 128 characters", { IN, ACCEPT, STR(COMMENT, LONG_COMMENT) } },
	{ "comment without its NUL", { IN, ACCEPT, BYTES(COMMENT, "abc", 3) } },

	/* Timeouts. */
	{ "timeout 0", { IN, ACCEPT, U64(TIMEOUT, 0) }, -ERANGE },
	{ "timeout past a year", { IN, ACCEPT, BYTES(TIMEOUT, kfw_nl_timeout_too_long, 8) },
	  -ERANGE },
	{ "timeout of 4 bytes", { IN, ACCEPT, U32(TIMEOUT, 1000) } },
};

static void kfw_nl_case_desc(const struct kfw_nl_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kfw_nl_cases, kfw_nl_cases, kfw_nl_case_desc);

static void kfw_nl_put(struct kunit *test, struct sk_buff *skb,
		       const struct kfw_nl_attr *a)
{
	union {
		u8 u8;
		u16 u16;
		u32 u32;
		u64 u64;
		struct in6_addr in6;
	} buf;
	int err = 0;

	switch (a->kind) {
	case KFW_NL_INT:
		if (a->len == 1)
			buf.u8 = a->val;
		else if (a->len == 2)
			buf.u16 = a->val;
		else if (a->len == 4)
			buf.u32 = a->val;
		else
			buf.u64 = a->val;
		err = nla_put(skb, a->type, a->len, &buf);
		break;
	case KFW_NL_IP4:
		KUNIT_ASSERT_EQ(test, in4_pton(a->str, -1, (u8 *)&buf.u32, -1, NULL), 1);
		err = nla_put(skb, a->type, 4, &buf);
		break;
	case KFW_NL_IP6:
		KUNIT_ASSERT_EQ(test, in6_pton(a->str, -1, buf.in6.s6_addr, -1, NULL), 1);
		err = nla_put(skb, a->type, 16, &buf);
		break;
	case KFW_NL_STR:
		err = nla_put_string(skb, a->type, a->str);
		break;
	case KFW_NL_BYTES:
		err = nla_put(skb, a->type, a->len, a->str);
		break;
	case KFW_NL_ZEROS:
		KUNIT_ASSERT_LE(test, a->len, sizeof(kfw_nl_zeros));
		err = nla_put(skb, a->type, a->len, kfw_nl_zeros);
		break;
	case KFW_NL_FLAG:
		err = nla_put_flag(skb, a->type);
		break;
	case KFW_NL_TRAILING:
		KUNIT_ASSERT_LE(test, a->len, skb_tailroom(skb));
		memset(skb_put(skb, a->len), 0xff, a->len);
		break;
	case KFW_NL_END:
		break;
	}
	KUNIT_ASSERT_EQ(test, err, 0);
}

/* A KFW_A_RULE nest of @attrs, up to KFW_NL_END, in an skb freed with the test. */
static struct nlattr *kfw_nl_rule(struct kunit *test, const struct kfw_nl_attr *attrs)
{
	struct sk_buff *skb;
	struct nlattr *nest;
	unsigned int i;

	skb = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	test->priv = skb;
	nest = nla_nest_start(skb, KFW_A_RULE);
	KUNIT_ASSERT_NOT_NULL(test, nest);
	for (i = 0; attrs[i].kind != KFW_NL_END; i++)
		kfw_nl_put(test, skb, &attrs[i]);
	nla_nest_end(skb, nest);
	return nest;
}

/* Frees the skb of the last kfw_nl_rule(). */
static void kfw_nl_test_exit(struct kunit *test)
{
	kfree_skb(test->priv);
	test->priv = NULL;
}

static void kfw_nl_test_reject(struct kunit *test)
{
	const struct kfw_nl_case *c = test->param_value;
	struct netlink_ext_ack extack = {};
	struct kfw_rule_spec spec;
	const struct nlattr *nest;
	int err;

	nest = kfw_nl_rule(test, c->attrs);
	err = kfw_nl_parse_rule(nest, &init_user_ns, &spec, &extack);
	kfw_rule_spec_release(&spec);
	if (c->err)
		KUNIT_EXPECT_EQ(test, err, c->err);
	else
		KUNIT_EXPECT_LT(test, err, 0);
	KUNIT_EXPECT_NOT_NULL_MSG(test, extack._msg, "refused without a message");
	if (c->msg && extack._msg)
		KUNIT_EXPECT_STREQ(test, extack._msg, c->msg);
	if (extack._msg)
		kunit_info(test, "%d, \"%s\"\n", err, extack._msg);
}

/* Parses @attrs, which must be accepted, into @spec. */
static void kfw_nl_accept_spec(struct kunit *test, const struct kfw_nl_attr *attrs,
			       struct kfw_rule_spec *spec)
{
	struct netlink_ext_ack extack = {};
	int err;

	err = kfw_nl_parse_rule(kfw_nl_rule(test, attrs), &init_user_ns, spec, &extack);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "refused: %s", extack._msg ?: "(no message)");
}

/* Parses @attrs, which must be accepted and own nothing. */
static void kfw_nl_accept(struct kunit *test, const struct kfw_nl_attr *attrs,
			  u8 *dir, u8 *action, struct kfw_match *match)
{
	struct kfw_rule_spec spec;

	kfw_nl_accept_spec(test, attrs, &spec);
	*dir = spec.dir;
	*action = spec.action;
	*match = spec.match;
	KUNIT_EXPECT_NULL(test, spec.comment);
	KUNIT_EXPECT_NULL(test, spec.match.payload);
	kfw_rule_spec_release(&spec);
	match->payload = NULL;
}

static void kfw_nl_expect_addr(struct kunit *test, const union nf_inet_addr *got,
			       const char *text)
{
	union nf_inet_addr want;

	kfw_test_addr(test, text, &want);
	KUNIT_EXPECT_TRUE_MSG(test, !memcmp(got, &want, sizeof(want)),
			      "%pI6c instead of %s", got, text);
}

static void kfw_nl_test_full_ipv4(struct kunit *test)
{
	static const struct kfw_nl_attr attrs[] = {
		U8(DIR, KFW_DIR_OUT), U8(ACTION, KFW_VERDICT_DROP), U8(PROTO, IPPROTO_TCP),
		IP4(SRC_IP4, "10.0.0.0"), U8(SRC_PREFIX, 8), IP4(DST_IP4, "192.0.2.1"),
		U16(SPORT_FIRST, 1000), U16(SPORT_LAST, 2000),
		{}
	};
	static const struct kfw_nl_attr more[] = {
		U8(DIR, KFW_DIR_OUT), U8(ACTION, KFW_VERDICT_DROP), U8(PROTO, IPPROTO_TCP),
		U16(DPORT_FIRST, 443), STR(IFACE, "abcdefghijklmno"),
		{}
	};
	struct kfw_match m;
	u8 dir, action;

	kfw_nl_accept(test, attrs, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, dir, KFW_DIR_OUT);
	KUNIT_EXPECT_EQ(test, action, KFW_VERDICT_DROP);
	KUNIT_EXPECT_EQ(test, m.fields, KFW_MATCH_PROTO | KFW_MATCH_SRC | KFW_MATCH_DST |
			KFW_MATCH_SPORT);
	KUNIT_EXPECT_EQ(test, m.family, NFPROTO_IPV4);
	KUNIT_EXPECT_EQ(test, m.proto, IPPROTO_TCP);
	kfw_nl_expect_addr(test, &m.src, "10.0.0.0");
	kfw_nl_expect_addr(test, &m.src_mask, "255.0.0.0");
	KUNIT_EXPECT_EQ(test, m.src_prefix, 8);
	kfw_nl_expect_addr(test, &m.dst, "192.0.2.1");
	kfw_nl_expect_addr(test, &m.dst_mask, "255.255.255.255");
	KUNIT_EXPECT_EQ(test, m.dst_prefix, 32);
	KUNIT_EXPECT_EQ(test, m.sport.first, 1000);
	KUNIT_EXPECT_EQ(test, m.sport.last, 2000);

	kfw_nl_test_exit(test);
	kfw_nl_accept(test, more, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, m.fields, KFW_MATCH_PROTO | KFW_MATCH_DPORT | KFW_MATCH_IFACE);
	KUNIT_EXPECT_EQ(test, m.family, NFPROTO_UNSPEC);
	/* The last port defaults to the first. */
	KUNIT_EXPECT_EQ(test, m.dport.first, 443);
	KUNIT_EXPECT_EQ(test, m.dport.last, 443);
	KUNIT_EXPECT_STREQ(test, m.iface, "abcdefghijklmno");
}

static void kfw_nl_test_full_ipv6(struct kunit *test)
{
	static const struct kfw_nl_attr attrs[] = {
		IN, ACCEPT, U8(PROTO, IPPROTO_UDP), IP6(SRC_IP6, "2001:db8::"),
		U8(SRC_PREFIX, 33), IP6(DST_IP6, "2001:db8::1"),
		U16(DPORT_FIRST, 0), U16(DPORT_LAST, 65535),
		{}
	};
	struct kfw_match m;
	u8 dir, action;

	kfw_nl_accept(test, attrs, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, dir, KFW_DIR_IN);
	KUNIT_EXPECT_EQ(test, action, KFW_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, m.fields, KFW_MATCH_PROTO | KFW_MATCH_SRC | KFW_MATCH_DST |
			KFW_MATCH_DPORT);
	KUNIT_EXPECT_EQ(test, m.family, NFPROTO_IPV6);
	kfw_nl_expect_addr(test, &m.src, "2001:db8::");
	kfw_nl_expect_addr(test, &m.src_mask, "ffff:ffff:8000::");
	KUNIT_EXPECT_EQ(test, m.src_prefix, 33);
	kfw_nl_expect_addr(test, &m.dst_mask, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	KUNIT_EXPECT_EQ(test, m.dst_prefix, 128);
	KUNIT_EXPECT_EQ(test, m.dport.first, 0);
	KUNIT_EXPECT_EQ(test, m.dport.last, 65535);
}

/* The edges that must still be accepted. */
static void kfw_nl_test_edges(struct kunit *test)
{
	static const struct kfw_nl_attr minimal[] = { IN, ACCEPT, {} };
	static const struct kfw_nl_attr zero4[] = {
		IN, ACCEPT, IP4(SRC_IP4, "0.0.0.0"), U8(SRC_PREFIX, 0),
		{}
	};
	static const struct kfw_nl_attr zero6[] = {
		IN, ACCEPT, IP6(DST_IP6, "::"), U8(DST_PREFIX, 0),
		{}
	};
	static const struct kfw_nl_attr full4[] = {
		IN, ACCEPT, IP4(SRC_IP4, "255.255.255.255"), U8(SRC_PREFIX, 32),
		IP4(DST_IP4, "10.0.0.2"), U8(DST_PREFIX, 31),
		{}
	};
	static const struct kfw_nl_attr full6[] = {
		IN, ACCEPT, IP6(SRC_IP6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
		U8(SRC_PREFIX, 128), IP6(DST_IP6, "2001:db8::2"), U8(DST_PREFIX, 127),
		{}
	};
	static const struct kfw_nl_attr one_port[] = {
		IN, ACCEPT, U8(PROTO, IPPROTO_UDP), U16(SPORT_FIRST, 65535),
		U16(SPORT_LAST, 65535),
		{}
	};
	static const struct kfw_nl_attr proto0[] = { IN, ACCEPT, U8(PROTO, 0), {} };
	struct kfw_match m;
	u8 dir, action;

	kfw_nl_accept(test, minimal, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, m.fields, 0);
	KUNIT_EXPECT_EQ(test, m.family, NFPROTO_UNSPEC);
	kfw_nl_test_exit(test);
	kfw_nl_accept(test, zero4, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, m.family, NFPROTO_IPV4);
	KUNIT_EXPECT_EQ(test, m.src_prefix, 0);
	kfw_nl_expect_addr(test, &m.src_mask, "0.0.0.0");
	kfw_nl_test_exit(test);
	kfw_nl_accept(test, zero6, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, m.family, NFPROTO_IPV6);
	KUNIT_EXPECT_EQ(test, m.fields, KFW_MATCH_DST);
	kfw_nl_test_exit(test);
	kfw_nl_accept(test, full4, &dir, &action, &m);
	kfw_nl_expect_addr(test, &m.dst_mask, "255.255.255.254");
	kfw_nl_test_exit(test);
	kfw_nl_accept(test, full6, &dir, &action, &m);
	kfw_nl_expect_addr(test, &m.dst_mask, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	kfw_nl_test_exit(test);
	kfw_nl_accept(test, one_port, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, m.sport.first, 65535);
	KUNIT_EXPECT_EQ(test, m.sport.last, 65535);
	kfw_nl_test_exit(test);
	kfw_nl_accept(test, proto0, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, m.fields, KFW_MATCH_PROTO);
	KUNIT_EXPECT_EQ(test, m.proto, 0);
}

/* States, ICMP, payload, logging and comment: what each becomes. */
static void kfw_nl_test_extras(struct kunit *test)
{
	static const struct kfw_nl_attr attrs[] = {
		IN, U8(ACTION, KFW_VERDICT_REJECT), U8(PROTO, IPPROTO_ICMP),
		U8(STATE, KFW_STATE_NEW | KFW_STATE_RELATED), U8(ICMP_TYPE, 3), U8(ICMP_CODE, 1),
		BYTES(PAYLOAD, "GET", 3), U16(PAYLOAD_WITHIN, 100), FLAG(LOG),
		STR(COMMENT, "web: allow (~all)"),
		{}
	};
	static const struct kfw_nl_attr logs[] = {
		IN, ACCEPT, FLAG(LOG), U32(LOG_RATE, KFW_LOG_RATE_MAX), U32(LOG_BURST, 1),
		U8(PROTO, IPPROTO_ICMPV6), U8(ICMP_TYPE, 128), STR(COMMENT, LONG_COMMENT + 1),
		U64(TIMEOUT, 90000),
		{}
	};
	const struct kfw_payload *payload;
	struct kfw_rule_spec spec;

	kfw_nl_accept_spec(test, attrs, &spec);
	KUNIT_EXPECT_EQ(test, spec.action, KFW_VERDICT_REJECT);
	KUNIT_EXPECT_EQ(test, spec.match.fields,
			KFW_MATCH_PROTO | KFW_MATCH_STATE | KFW_MATCH_ICMP_TYPE |
			KFW_MATCH_ICMP_CODE | KFW_MATCH_PAYLOAD);
	KUNIT_EXPECT_EQ(test, spec.match.states, KFW_STATE_NEW | KFW_STATE_RELATED);
	KUNIT_EXPECT_EQ(test, spec.match.icmp_type, 3);
	KUNIT_EXPECT_EQ(test, spec.match.icmp_code, 1);
	payload = spec.match.payload;
	KUNIT_EXPECT_NOT_NULL(test, payload);
	if (payload) {
		KUNIT_EXPECT_EQ(test, payload->len, 3);
		KUNIT_EXPECT_EQ(test, payload->within, 100);
		KUNIT_EXPECT_TRUE(test, !memcmp(payload->pattern, "GET", 3));
	}
	KUNIT_EXPECT_TRUE(test, spec.log);
	KUNIT_EXPECT_EQ(test, spec.log_rate, KFW_LOG_RATE_DEFAULT);
	KUNIT_EXPECT_EQ(test, spec.log_burst, KFW_LOG_BURST_DEFAULT);
	KUNIT_EXPECT_STREQ(test, spec.comment ?: "", "web: allow (~all)");
	KUNIT_EXPECT_EQ(test, spec.timeout, 0);
	kfw_rule_spec_release(&spec);
	KUNIT_EXPECT_NULL(test, spec.comment);
	KUNIT_EXPECT_NULL(test, spec.match.payload);

	kfw_nl_test_exit(test);
	kfw_nl_accept_spec(test, logs, &spec);
	KUNIT_EXPECT_EQ(test, spec.match.fields, KFW_MATCH_PROTO | KFW_MATCH_ICMP_TYPE);
	KUNIT_EXPECT_EQ(test, spec.log_rate, KFW_LOG_RATE_MAX);
	KUNIT_EXPECT_EQ(test, spec.log_burst, 1);
	KUNIT_EXPECT_EQ(test, strlen(spec.comment ?: ""), KFW_COMMENT_MAX - 1);
	KUNIT_EXPECT_EQ(test, spec.timeout, 90000);
	kfw_rule_spec_release(&spec);
}

#define P8(t, v)	{ KFW_NL_INT, KFW_PACKET_A_##t, 1, v }
#define P16(t, v)	{ KFW_NL_INT, KFW_PACKET_A_##t, 2, v }
#define PIP4(t, a)	{ KFW_NL_IP4, KFW_PACKET_A_##t, 4, 0, a }
#define PIP6(t, a)	{ KFW_NL_IP6, KFW_PACKET_A_##t, 16, 0, a }
#define PSTR(t, s)	{ KFW_NL_STR, KFW_PACKET_A_##t, 0, 0, s }

/* The packet of a KFW_CMD_TEST request; @iface holds its device name. */
static int kfw_nl_packet(struct kunit *test, const struct kfw_nl_attr *attrs, u8 *dir,
			 struct kfw_packet *pkt, char *iface, struct netlink_ext_ack *extack)
{
	kfw_nl_test_exit(test);
	memset(extack, 0, sizeof(*extack));
	return kfw_nl_parse_packet(kfw_nl_rule(test, attrs), &init_user_ns, dir, pkt,
				   iface, extack);
}

static void kfw_nl_test_packet_refused(struct kunit *test)
{
	static const struct kfw_nl_attr no_dir[] = { P8(PROTO, IPPROTO_TCP), {} };
	static const struct kfw_nl_attr mixed[] = {
		P8(DIR, KFW_DIR_IN), PIP4(SRC_IP4, "192.0.2.1"), PIP6(DST_IP6, "2001:db8::1"),
		{}
	};
	static const struct kfw_nl_attr both[] = {
		P8(DIR, KFW_DIR_IN), PIP4(SRC_IP4, "192.0.2.1"), PIP6(SRC_IP6, "2001:db8::1"),
		{}
	};
	static const struct kfw_nl_attr family[] = {
		P8(DIR, KFW_DIR_IN), P8(FAMILY, KFW_FAMILY_IPV6), PIP4(DST_IP4, "192.0.2.1"),
		{}
	};
	static const struct kfw_nl_attr bad_dir[] = { P8(DIR, 2), {} };
	static const struct kfw_nl_attr bad_family[] = { P8(DIR, KFW_DIR_IN), P8(FAMILY, 2), {} };
	static const struct kfw_nl_attr bad_state[] = { P8(DIR, KFW_DIR_IN), P8(STATE, 16), {} };
	static const struct kfw_nl_attr bad_port[] = {
		P8(DIR, KFW_DIR_IN), P8(PROTO, IPPROTO_TCP), P8(DPORT, 80),
		{}
	};
	static const struct {
		const char *desc;
		const struct kfw_nl_attr *attrs;
		const char *msg;
	} cases[] = {
		{ "no direction", no_dir, "test packet has no direction" },
		{ "IPv4 source, IPv6 destination", mixed, "packet addresses of another family" },
		{ "IPv4 and IPv6 source", both, "packet addresses of another family" },
		{ "IPv6 family, IPv4 address", family, "packet addresses of another family" },
		{ "direction 2", bad_dir },
		{ "family 2", bad_family },
		{ "state 16", bad_state },
		{ "port as u8", bad_port },
	};
	struct netlink_ext_ack extack;
	struct kfw_packet pkt;
	char iface[IFNAMSIZ];
	unsigned int i;
	u8 dir;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		KUNIT_EXPECT_LT_MSG(test, kfw_nl_packet(test, cases[i].attrs, &dir, &pkt,
							iface, &extack), 0,
				    "%s: accepted", cases[i].desc);
		KUNIT_EXPECT_NOT_NULL_MSG(test, extack._msg, "%s: no message", cases[i].desc);
		if (cases[i].msg && extack._msg)
			KUNIT_EXPECT_STREQ(test, extack._msg, cases[i].msg);
	}
}

static void kfw_nl_test_packet(struct kunit *test)
{
	static const struct kfw_nl_attr full[] = {
		P8(DIR, KFW_DIR_OUT), PIP6(SRC_IP6, "2001:db8::1"), P8(PROTO, IPPROTO_TCP),
		P16(DPORT, 443), PSTR(IFACE, "veth0"), P8(STATE, KFW_STATE_NEW),
		P8(ICMP_TYPE, 8),
		{}
	};
	static const struct kfw_nl_attr bare[] = { P8(DIR, KFW_DIR_IN), {} };
	static const struct kfw_nl_attr icmp[] = {
		P8(DIR, KFW_DIR_IN), P8(PROTO, IPPROTO_ICMP), P8(ICMP_TYPE, 3), P8(ICMP_CODE, 1),
		{}
	};
	static const struct kfw_nl_attr icmp_in_v6[] = {
		P8(DIR, KFW_DIR_IN), P8(FAMILY, KFW_FAMILY_IPV6), P8(PROTO, IPPROTO_ICMP),
		P8(ICMP_TYPE, 8),
		{}
	};
	struct netlink_ext_ack extack;
	struct kfw_packet pkt;
	char iface[IFNAMSIZ];
	u8 dir;

	KUNIT_ASSERT_EQ(test, kfw_nl_packet(test, full, &dir, &pkt, iface, &extack), 0);
	KUNIT_EXPECT_EQ(test, dir, KFW_DIR_OUT);
	KUNIT_EXPECT_EQ(test, pkt.family, NFPROTO_IPV6);
	kfw_nl_expect_addr(test, &pkt.src, "2001:db8::1");
	kfw_nl_expect_addr(test, &pkt.dst, "::");
	KUNIT_EXPECT_TRUE(test, pkt.has_proto);
	KUNIT_EXPECT_TRUE(test, pkt.has_ports);
	KUNIT_EXPECT_EQ(test, pkt.dport, 443);
	/* What the query left out is unknown, not 0. */
	KUNIT_EXPECT_EQ(test, pkt.unknown,
			KFW_PACKET_UNKNOWN_SPORT | KFW_PACKET_UNKNOWN_DST |
			KFW_PACKET_UNKNOWN_UID | KFW_PACKET_UNKNOWN_GID);
	KUNIT_EXPECT_FALSE(test, pkt.has_icmp);
	KUNIT_EXPECT_EQ(test, pkt.state, KFW_STATE_NEW);
	KUNIT_EXPECT_PTR_EQ(test, pkt.iface, (const char *)iface);
	KUNIT_EXPECT_STREQ(test, iface, "veth0");
	KUNIT_EXPECT_NULL(test, pkt.skb);

	KUNIT_ASSERT_EQ(test, kfw_nl_packet(test, bare, &dir, &pkt, iface, &extack), 0);
	KUNIT_EXPECT_EQ(test, pkt.family, NFPROTO_IPV4);
	KUNIT_EXPECT_FALSE(test, pkt.has_proto);
	KUNIT_EXPECT_FALSE(test, pkt.has_ports);
	KUNIT_EXPECT_NULL(test, pkt.iface);
	KUNIT_EXPECT_EQ(test, pkt.state, 0);

	KUNIT_ASSERT_EQ(test, kfw_nl_packet(test, icmp, &dir, &pkt, iface, &extack), 0);
	KUNIT_EXPECT_TRUE(test, pkt.has_icmp);
	KUNIT_EXPECT_EQ(test, pkt.icmp_type, 3);
	KUNIT_EXPECT_EQ(test, pkt.icmp_code, 1);
	KUNIT_EXPECT_FALSE(test, pkt.has_ports);
	KUNIT_EXPECT_EQ(test, pkt.unknown,
			KFW_PACKET_UNKNOWN_SRC | KFW_PACKET_UNKNOWN_DST |
			KFW_PACKET_UNKNOWN_UID | KFW_PACKET_UNKNOWN_GID);

	/* As on the packet path, only the family's own ICMP has types. */
	KUNIT_ASSERT_EQ(test, kfw_nl_packet(test, icmp_in_v6, &dir, &pkt, iface, &extack), 0);
	KUNIT_EXPECT_EQ(test, pkt.family, NFPROTO_IPV6);
	KUNIT_EXPECT_FALSE(test, pkt.has_icmp);
}

#undef P8
#undef P16
#undef PIP4
#undef PIP6
#undef PSTR

/*
 * Netlink's convention for a repeated attribute is that the last one
 * counts; kfw's policy does not refuse repeats. Pinned here so that a
 * change of mind is a deliberate one.
 */
static void kfw_nl_test_repeated(struct kunit *test)
{
	static const struct kfw_nl_attr attrs[] = {
		IN, ACCEPT, U8(DIR, KFW_DIR_OUT), U8(PROTO, IPPROTO_UDP), U8(PROTO, IPPROTO_TCP),
		{}
	};
	struct kfw_match m;
	u8 dir, action;

	kfw_nl_accept(test, attrs, &dir, &action, &m);
	KUNIT_EXPECT_EQ(test, dir, KFW_DIR_OUT);
	KUNIT_EXPECT_EQ(test, m.proto, IPPROTO_TCP);
}

/* Puts a KFW_A_RULE of direction @dir, flagged as a nest or not. */
static void kfw_nl_put_rule_dir(struct sk_buff *skb, int type, u8 dir, bool flag)
{
	struct nlattr *nest;

	nest = flag ? nla_nest_start(skb, type) : nla_nest_start_noflag(skb, type);
	nla_put_u8(skb, KFW_RULE_A_DIR, dir);
	nla_put_u8(skb, KFW_RULE_A_ACTION, KFW_VERDICT_DROP);
	nla_nest_end(skb, nest);
}

enum kfw_nl_request {
	KFW_REQ_GOOD_RULES,
	KFW_REQ_POSITION_0,
	KFW_REQ_RULE_COUNT,
	KFW_REQ_UNKNOWN,
	KFW_REQ_BAD_RULE,
	KFW_REQ_BAD_RULE_IN_RULES,
	KFW_REQ_NOT_NESTED,
	KFW_REQ_HANDLE_AS_U32,
	KFW_REQ_VERDICT_2,
	__KFW_REQ_MAX
};

static const char * const kfw_nl_requests[] = {
	[KFW_REQ_GOOD_RULES]		= "two good rules in KFW_A_RULES",
	[KFW_REQ_POSITION_0]		= "position 0",
	[KFW_REQ_RULE_COUNT]		= "KFW_A_RULE_COUNT in a request",
	[KFW_REQ_UNKNOWN]		= "unknown attribute",
	[KFW_REQ_BAD_RULE]		= "KFW_A_RULE with direction 2",
	[KFW_REQ_BAD_RULE_IN_RULES]	= "KFW_A_RULES with a rule of direction 7",
	[KFW_REQ_NOT_NESTED]		= "KFW_A_RULE without NLA_F_NESTED",
	[KFW_REQ_HANDLE_AS_U32]		= "KFW_A_HANDLE as u32",
	[KFW_REQ_VERDICT_2]		= "verdict 2",
};

static void kfw_nl_put_request(struct sk_buff *skb, enum kfw_nl_request req)
{
	struct nlattr *rules;

	switch (req) {
	case KFW_REQ_GOOD_RULES:
	case KFW_REQ_BAD_RULE_IN_RULES:
		rules = nla_nest_start(skb, KFW_A_RULES);
		kfw_nl_put_rule_dir(skb, KFW_A_RULE, KFW_DIR_IN, true);
		kfw_nl_put_rule_dir(skb, KFW_A_RULE,
				    req == KFW_REQ_GOOD_RULES ? KFW_DIR_OUT : 7, true);
		nla_nest_end(skb, rules);
		break;
	case KFW_REQ_POSITION_0:
		nla_put_u32(skb, KFW_A_POSITION, 0);
		break;
	case KFW_REQ_RULE_COUNT:
		nla_put_u32(skb, KFW_A_RULE_COUNT, 1);
		break;
	case KFW_REQ_UNKNOWN:
		nla_put_u32(skb, KFW_A_MAX + 1, 1);
		break;
	case KFW_REQ_BAD_RULE:
		kfw_nl_put_rule_dir(skb, KFW_A_RULE, 2, true);
		break;
	case KFW_REQ_NOT_NESTED:
		kfw_nl_put_rule_dir(skb, KFW_A_RULE, KFW_DIR_IN, false);
		break;
	case KFW_REQ_HANDLE_AS_U32:
		nla_put_u32(skb, KFW_A_HANDLE, 1);
		break;
	case KFW_REQ_VERDICT_2:
		nla_put_u8(skb, KFW_A_VERDICT, 2);
		break;
	default:
		break;
	}
}

/* Each rule of a KFW_A_RULES nest, as kfw_nl_replace_rules() takes them. */
static int kfw_nl_parse_rules(const struct nlattr *rules, struct netlink_ext_ack *extack)
{
	struct kfw_rule_spec spec;
	const struct nlattr *nest;
	int rem, err;

	nla_for_each_nested(nest, rules, rem) {
		err = kfw_nl_parse_rule(nest, &init_user_ns, &spec, extack);
		kfw_rule_spec_release(&spec);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The request level: what genetlink checks against kfw_policy before a
 * doit, and for replace chunks the rule-by-rule parse that follows.
 */
static void kfw_nl_test_request_policy(struct kunit *test)
{
	struct nlattr *tb[KFW_A_MAX + 1];
	struct netlink_ext_ack extack;
	enum kfw_nl_request req;
	const char *what;
	struct sk_buff *skb;
	int err;

	for (req = 0; req < __KFW_REQ_MAX; req++) {
		skb = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, skb);
		kfw_nl_put_request(skb, req);
		memset(&extack, 0, sizeof(extack));
		err = nla_parse(tb, KFW_A_MAX, (struct nlattr *)skb->data, skb->len,
				kfw_policy, &extack);
		/*
		 * The rules of a replace chunk may be left to the doit, which
		 * parses them one by one; what matters is that one is refused.
		 */
		if (!err && tb[KFW_A_RULES])
			err = kfw_nl_parse_rules(tb[KFW_A_RULES], &extack);
		kfree_skb(skb);
		if (req == KFW_REQ_GOOD_RULES) {
			KUNIT_EXPECT_EQ_MSG(test, err, 0, "%s: %s", kfw_nl_requests[req],
					    extack._msg ?: "");
			continue;
		}
		what = kfw_nl_requests[req];
		KUNIT_EXPECT_LT_MSG(test, err, 0, "%s: accepted", what);
		KUNIT_EXPECT_NOT_NULL_MSG(test, extack._msg, "%s: no message", what);
		kunit_info(test, "%s: %d, \"%s\"\n", what, err, extack._msg ?: "");
	}
}

/* --- Lists, negation and owners, from attributes to lookups ------------------ */

/* One element of a list: an address with its prefix, ports, or a protocol. */
struct kfw_nl_elem {
	const char *addr;
	u8 prefix;
	u16 first;
	u16 last;
	u8 proto;
};

static void kfw_nl_put_list(struct kunit *test, struct sk_buff *skb, int type,
			    const struct kfw_nl_elem *elems, unsigned int n)
{
	struct nlattr *list, *elem;
	union nf_inet_addr addr;
	unsigned int i;
	u8 family;

	list = nla_nest_start(skb, type);
	KUNIT_ASSERT_NOT_NULL(test, list);
	for (i = 0; i < n; i++) {
		elem = nla_nest_start(skb, KFW_LIST_A_ELEM);
		KUNIT_ASSERT_NOT_NULL(test, elem);
		if (elems[i].addr) {
			family = kfw_test_addr(test, elems[i].addr, &addr);
			KUNIT_ASSERT_EQ(test, family == NFPROTO_IPV4 ?
					nla_put_in_addr(skb, KFW_ELEM_A_IP4, addr.ip) :
					nla_put_in6_addr(skb, KFW_ELEM_A_IP6, &addr.in6), 0);
			KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_ELEM_A_PREFIX,
							 elems[i].prefix), 0);
		} else if (elems[i].first) {
			KUNIT_ASSERT_EQ(test, nla_put_u16(skb, KFW_ELEM_A_FIRST,
							  elems[i].first), 0);
			KUNIT_ASSERT_EQ(test, nla_put_u16(skb, KFW_ELEM_A_LAST,
							  elems[i].last ?: elems[i].first), 0);
		} else {
			KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_ELEM_A_PROTO,
							 elems[i].proto), 0);
		}
		nla_nest_end(skb, elem);
	}
	nla_nest_end(skb, list);
}

/*
 * Rule A of kfw_nl_test_lists: in drop proto tcp,udp
 * src 192.0.2.1/32,198.51.100.0/24 dport 22,8000-8100.
 */
static struct nlattr *kfw_nl_list_rule_a(struct kunit *test, struct sk_buff *skb)
{
	static const struct kfw_nl_elem protos[] = {
		{ .proto = IPPROTO_TCP }, { .proto = IPPROTO_UDP },
	};
	static const struct kfw_nl_elem srcs[] = {
		{ .addr = "192.0.2.1", .prefix = 32 },
		{ .addr = "198.51.100.0", .prefix = 24 },
	};
	static const struct kfw_nl_elem dports[] = {
		{ .first = 22 }, { .first = 8000, .last = 8100 },
	};
	struct nlattr *nest = nla_nest_start(skb, KFW_A_RULE);

	KUNIT_ASSERT_NOT_NULL(test, nest);
	KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_RULE_A_DIR, KFW_DIR_IN), 0);
	KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_RULE_A_ACTION, KFW_VERDICT_DROP), 0);
	kfw_nl_put_list(test, skb, KFW_RULE_A_PROTO_LIST, protos, ARRAY_SIZE(protos));
	kfw_nl_put_list(test, skb, KFW_RULE_A_SRC_LIST, srcs, ARRAY_SIZE(srcs));
	kfw_nl_put_list(test, skb, KFW_RULE_A_DPORT_LIST, dports, ARRAY_SIZE(dports));
	nla_nest_end(skb, nest);
	return nest;
}

/* Rule B: in accept proto tcp src != 203.0.113.0/24 dport != 22,80. */
static struct nlattr *kfw_nl_list_rule_b(struct kunit *test, struct sk_buff *skb)
{
	static const struct kfw_nl_elem dports[] = { { .first = 22 }, { .first = 80 } };
	struct nlattr *nest = nla_nest_start(skb, KFW_A_RULE);
	union nf_inet_addr net;

	KUNIT_ASSERT_NOT_NULL(test, nest);
	kfw_test_addr(test, "203.0.113.0", &net);
	KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_RULE_A_DIR, KFW_DIR_IN), 0);
	KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_RULE_A_ACTION, KFW_VERDICT_ACCEPT), 0);
	KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_RULE_A_PROTO, IPPROTO_TCP), 0);
	KUNIT_ASSERT_EQ(test, nla_put_in_addr(skb, KFW_RULE_A_SRC_IP4, net.ip), 0);
	KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_RULE_A_SRC_PREFIX, 24), 0);
	kfw_nl_put_list(test, skb, KFW_RULE_A_DPORT_LIST, dports, ARRAY_SIZE(dports));
	KUNIT_ASSERT_EQ(test, nla_put_u8(skb, KFW_RULE_A_NEGATE,
					 KFW_NEGATE_SRC | KFW_NEGATE_DPORT), 0);
	nla_nest_end(skb, nest);
	return nest;
}

/* Parses @nest into a rule of @kn and puts it at @index. */
static struct kfw_rule *kfw_nl_list_insert(struct kunit *test, struct kfw_net *kn,
					   const struct nlattr *nest, unsigned int index)
{
	struct netlink_ext_ack extack = {};
	struct kfw_rule_spec spec;
	struct kfw_rule *rule;
	int err;

	err = kfw_nl_parse_rule(nest, &init_user_ns, &spec, &extack);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "refused: %s", extack._msg ?: "(no message)");
	mutex_lock(&kn->lock);
	rule = kfw_rule_alloc(kn, &spec);
	if (!rule)
		kfw_rule_spec_release(&spec);
	err = rule ? kfw_table_insert(kn, rule, index) : -ENOMEM;
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	return rule;
}

/* Which rule of @kn's "in" a TCP or UDP packet hits: 'A', 'B' or '-'. */
static char kfw_nl_list_hit(struct kunit *test, struct kfw_net *kn,
			    const struct kfw_rule *a, u8 proto, const char *src,
			    u16 dport, bool sport_known)
{
	struct kfw_packet pkt = {
		.has_proto = true, .has_ports = true, .proto = proto,
		.sport = 40000, .dport = dport,
		.unknown = sport_known ? 0 : KFW_PACKET_UNKNOWN_SPORT,
	};
	const struct kfw_rule *rule;

	pkt.family = kfw_test_addr(test, src, &pkt.src);
	rule = kfw_test_classify(rcu_dereference_raw(kn->table), KFW_DIR_IN, &pkt);
	return !rule ? '-' : rule == a ? 'A' : 'B';
}

static unsigned long kfw_nl_list_entries(struct kfw_net *kn)
{
	struct kfw_cls_stats stats;

	kfw_cls_stats(rcu_dereference_raw(kn->table)->cls[KFW_DIR_IN], &stats);
	return stats.entries;
}

static void kfw_nl_test_lists(struct kunit *test)
{
	static const struct {
		u8 proto;
		const char *src;
		u16 dport;
		bool sport_known;
		char want;
	} cases[] = {
		{ IPPROTO_TCP, "192.0.2.1", 22, true, 'A' },
		{ IPPROTO_UDP, "198.51.100.7", 8100, true, 'A' },
		{ IPPROTO_TCP, "198.51.100.255", 8000, true, 'A' },
		/* A what-if that leaves the source port out still finds A. */
		{ IPPROTO_TCP, "192.0.2.1", 22, false, 'A' },
		/* Outside A's elements, and in neither negated list: B. */
		{ IPPROTO_TCP, "192.0.2.1", 23, true, 'B' },
		{ IPPROTO_TCP, "192.0.2.2", 22, true, '-' },
		{ IPPROTO_TCP, "192.0.2.2", 443, true, 'B' },
		{ IPPROTO_TCP, "192.0.2.1", 80, true, '-' },
		{ IPPROTO_TCP, "203.0.113.5", 23, true, '-' },
		{ IPPROTO_UDP, "192.0.2.2", 23, true, '-' },
		/* B's negated source is IPv4: other families never match it. */
		{ IPPROTO_TCP, "2001:db8::1", 23, true, '-' },
	};
	struct kfw_net *kn = kfw_test_net_new(test);
	struct kfw_rule_spec spec1, spec2;
	struct netlink_ext_ack extack = {};
	struct kfw_rule *a, *b;
	struct sk_buff *skb;
	unsigned int i;

	skb = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	test->priv = skb;
	b = kfw_nl_list_insert(test, kn, kfw_nl_list_rule_b(test, skb), 0);
	a = kfw_nl_list_insert(test, kn, kfw_nl_list_rule_a(test, skb), 0);

	/* A's two sources are indexed one by one; B, negated, is one entry. */
	KUNIT_EXPECT_EQ(test, a->nr_elems, 2);
	KUNIT_EXPECT_EQ(test, b->nr_elems, 0);
	KUNIT_EXPECT_EQ(test, kfw_nl_list_entries(kn), 3);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test, kfw_nl_list_hit(test, kn, a, cases[i].proto,
							  cases[i].src, cases[i].dport,
							  cases[i].sport_known),
				    cases[i].want, "case %u: %s port %u", i,
				    cases[i].src, cases[i].dport);

	/* Two parses of one list are equal, as the counter carry-over needs. */
	KUNIT_ASSERT_EQ(test, kfw_nl_parse_rule(kfw_nl_list_rule_a(test, skb),
						&init_user_ns, &spec1, &extack), 0);
	KUNIT_ASSERT_EQ(test, kfw_nl_parse_rule(kfw_nl_list_rule_b(test, skb),
						&init_user_ns, &spec2, &extack), 0);
	KUNIT_EXPECT_TRUE(test, kfw_match_equal(&spec1.match, &a->match));
	KUNIT_EXPECT_FALSE(test, kfw_match_equal(&spec2.match, &a->match));
	KUNIT_EXPECT_TRUE(test, kfw_match_equal(&spec2.match, &b->match));
	kfw_rule_spec_release(&spec1);
	kfw_rule_spec_release(&spec2);

	/* Deleting A takes every one of its entries out. */
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_table_delete(kn, a->handle), 0);
	mutex_unlock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_nl_list_entries(kn), 1);
	KUNIT_EXPECT_EQ(test, kfw_nl_list_hit(test, kn, NULL, IPPROTO_TCP, "192.0.2.1",
					      23, true), 'B');
	kfw_test_net_free(kn);
}

/* Owner ranges are numbered in the rule's user namespace, and out only. */
static void kfw_nl_test_owner(struct kunit *test)
{
	const struct kfw_nl_attr in_uid[] = {
		IN, ACCEPT, U32(UID_FIRST, 1000), { }
	};
	const struct kfw_nl_attr out_gid[] = {
		U8(DIR, KFW_DIR_OUT), ACCEPT, U32(GID_FIRST, 100), U32(GID_LAST, 199), { }
	};
	const struct kfw_nl_attr backwards[] = {
		U8(DIR, KFW_DIR_OUT), ACCEPT, U32(UID_FIRST, 10), U32(UID_LAST, 9), { }
	};
	struct kfw_packet pkt = { .family = NFPROTO_IPV4 };
	struct netlink_ext_ack extack = {};
	struct kfw_rule_spec spec;

	KUNIT_EXPECT_EQ(test, kfw_nl_parse_rule(kfw_nl_rule(test, in_uid), &init_user_ns,
						&spec, &extack), -EINVAL);
	KUNIT_EXPECT_STREQ(test, extack._msg, "uid and gid match only on out");
	kfw_nl_test_exit(test);
	KUNIT_EXPECT_EQ(test, kfw_nl_parse_rule(kfw_nl_rule(test, backwards), &init_user_ns,
						&spec, &extack), -EINVAL);
	KUNIT_EXPECT_STREQ(test, extack._msg, "owner range ends before it starts");
	kfw_nl_test_exit(test);

	kfw_nl_accept_spec(test, out_gid, &spec);
	KUNIT_ASSERT_TRUE(test, spec.match.fields & KFW_MATCH_MORE);
	pkt.unknown = KFW_PACKET_UNKNOWN_UID;
	pkt.gid = 150;
	KUNIT_EXPECT_TRUE(test, kfw_match_packet(&spec.match, &pkt));
	pkt.gid = 200;
	KUNIT_EXPECT_FALSE(test, kfw_match_packet(&spec.match, &pkt));
	pkt.unknown |= KFW_PACKET_UNKNOWN_GID;
	pkt.gid = 150;
	KUNIT_EXPECT_FALSE(test, kfw_match_packet(&spec.match, &pkt));
	kfw_rule_spec_release(&spec);
}

static struct kunit_case kfw_nl_test_cases[] = {
	KUNIT_CASE_PARAM(kfw_nl_test_reject, kfw_nl_cases_gen_params),
	KUNIT_CASE(kfw_nl_test_full_ipv4),
	KUNIT_CASE(kfw_nl_test_full_ipv6),
	KUNIT_CASE(kfw_nl_test_edges),
	KUNIT_CASE(kfw_nl_test_extras),
	KUNIT_CASE(kfw_nl_test_repeated),
	KUNIT_CASE(kfw_nl_test_request_policy),
	KUNIT_CASE(kfw_nl_test_packet_refused),
	KUNIT_CASE(kfw_nl_test_packet),
	KUNIT_CASE(kfw_nl_test_lists),
	KUNIT_CASE(kfw_nl_test_owner),
	{}
};

static struct kunit_suite kfw_nl_test_suite = {
	.name = "kfw_netlink",
	.suite_init = kfw_test_suite_init,
	.suite_exit = kfw_test_suite_exit,
	.exit = kfw_nl_test_exit,
	.test_cases = kfw_nl_test_cases,
};

kunit_test_suite(kfw_nl_test_suite);

#undef U8
#undef U16
#undef U32
#undef U64
#undef IP4
#undef IP6
#undef STR
#undef BYTES
#undef TYPE
#undef FLAG
#undef LONG_COMMENT
#undef TRAILING
#undef IN
#undef ACCEPT
