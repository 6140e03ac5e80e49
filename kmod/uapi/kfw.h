/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) */
/*
 * kfw: the generic netlink protocol between the kfw module and fwctl.
 *
 * The family is called "kfw" (KFW_GENL_NAME), version KFW_GENL_VERSION. It is
 * network-namespace aware: every command acts on the rule table of the
 * namespace the netlink socket belongs to. Commands that change state need
 * CAP_NET_ADMIN in the user namespace that owns that network namespace.
 *
 * THE TABLE
 *
 * A namespace holds one ordered list of rules and a default policy for each
 * direction. KFW_DIR_IN is every packet arriving at the host (PRE_ROUTING),
 * KFW_DIR_OUT is every packet the host sends (LOCAL_OUT). A packet is checked
 * against the rules of its direction in list order; the first rule that matches
 * decides, and if none does the direction's policy decides.
 *
 * Every rule gets a handle from the kernel: a u64 unique within its namespace
 * and never reused while the module stays loaded. Positions are 1-based
 * indexes into the whole list as KFW_CMD_GET_RULES returns it.
 *
 * COMMANDS
 *
 * KFW_CMD_GET_INFO (doit, unprivileged)
 *   Request:  no attributes.
 *   Reply:    KFW_A_POLICY_IN, KFW_A_POLICY_OUT (u8, enum kfw_verdict),
 *             KFW_A_RULE_COUNT, KFW_A_RULE_LIMIT, KFW_A_GENERATION (u32),
 *             KFW_A_LOG_SUPPRESSED (u64, log lines the rate limits dropped),
 *             KFW_A_STATS: a nest holding one KFW_A_HOOK nest per direction
 *             and family, each with every KFW_HOOK_A_* attribute.
 *
 * KFW_CMD_GET_RULES (dump only, NLM_F_DUMP, unprivileged)
 *   Request:  no attributes.
 *   Reply:    one message per rule, in list order, each carrying one
 *             KFW_A_RULE nest with KFW_RULE_A_HANDLE, the rule's match and
 *             action, KFW_RULE_A_PACKETS and KFW_RULE_A_BYTES. A large table
 *             spans many datagrams. If the table changes while a dump is in
 *             progress, the affected messages carry NLM_F_DUMP_INTR and the
 *             reader should start over.
 *
 * KFW_CMD_ADD_RULE (doit, admin)
 *   Request:  KFW_A_RULE (required); KFW_A_POSITION (optional u32). Without a
 *             position the rule is appended; with position P it becomes the
 *             P-th rule of the list (1 = first, count + 1 = last).
 *   Reply:    KFW_A_HANDLE, the new rule's handle.
 *
 * KFW_CMD_DEL_RULE (doit, admin)
 *   Request:  KFW_A_HANDLE (required).
 *
 * KFW_CMD_FLUSH (doit, admin)
 *   Deletes every rule. Policies and hook counters stay.
 *
 * KFW_CMD_SET_POLICY (doit, admin)
 *   Request:  KFW_A_DIR and KFW_A_VERDICT (both required).
 *
 * KFW_CMD_ZERO (doit, admin)
 *   Resets every rule counter and every hook counter of the namespace.
 *
 * KFW_CMD_TEST (doit, unprivileged)
 *   Asks which rule a packet would hit, without sending one, using the same
 *   matching code as the packet path.
 *   Request:  KFW_A_PACKET (required): a nest of KFW_PACKET_A_* describing
 *             the packet. Fields left out are unknown, so rules that need
 *             them do not match; a packet without addresses is IPv4 unless
 *             KFW_PACKET_A_FAMILY says otherwise. A test packet carries no
 *             payload: rules with KFW_RULE_A_PAYLOAD never match it. It
 *             is within the rate of every rule with KFW_RULE_A_OVER_RATE,
 *             so those never match it either, and it spends nothing.
 *   Reply:    KFW_A_VERDICT, and KFW_A_RULE (as in dumps) when a rule
 *             matched; without KFW_A_RULE the verdict is the policy's.
 *
 * KFW_CMD_REPLACE_BEGIN, KFW_CMD_REPLACE_RULES, KFW_CMD_REPLACE_COMMIT (admin)
 *   Atomic replacement of the whole table, for any number of rules. A single
 *   attribute cannot exceed 64 KiB, so the new rule list travels in chunks:
 *   - BEGIN opens a transaction owned by the sending socket. It may carry
 *     KFW_A_POLICY_IN and KFW_A_POLICY_OUT, the policies to install; a
 *     direction without one keeps its current policy. Only one transaction
 *     may be open per namespace (-EBUSY otherwise).
 *   - RULES appends the KFW_A_RULE nests inside its KFW_A_RULES nest to the
 *     transaction, in order. Each rule is validated as it arrives; the first
 *     invalid rule aborts the whole transaction.
 *   - COMMIT installs the policies and the staged rules in one step. Packets
 *     see either the old table or the new one, never a mix. Optional:
 *     KFW_A_CHECK builds the new table and discards it, changing nothing:
 *     a dry run that proves the commit would succeed. KFW_A_CONFIRM
 *     installs the new table on trial: the kernel keeps the old one and
 *     puts it back by itself unless KFW_CMD_CONFIRM comes within that many
 *     seconds (the sender may be gone by then). KFW_A_ZERO opts out of
 *     carried counters (below).
 *   Closing the socket, or KFW_CMD_REPLACE_ABORT, discards an open
 *   transaction. Until COMMIT succeeds the current table is untouched;
 *   a successful COMMIT, checking or not, ends the transaction. While a
 *   restore is on trial, BEGIN fails with -EBUSY.
 *   Rules installed this way get new handles. A new rule whose direction,
 *   action and match equal those of an old rule keeps the old rule's
 *   counters, when the rules so paired keep their relative order: each new
 *   rule pairs with the first equal old rule after the last one paired.
 *
 * KFW_CMD_CONFIRM (doit, admin)
 *   Makes a restore on trial final. -ENOENT if none is. KFW_CMD_GET_INFO
 *   replies KFW_A_CONFIRM_LEFT while one is.
 *
 * ERRORS
 *
 * Every request is validated strictly: unknown attributes, wrong lengths and
 * out-of-range values are refused. Each refusal is an NLMSG_ERROR with a
 * negative errno and, where the kernel can say more, an extended ack message
 * (NLMSGERR_ATTR_MSG) naming the problem.
 */
#ifndef _UAPI_KFW_H
#define _UAPI_KFW_H

#include <linux/types.h>

#define KFW_GENL_NAME		"kfw"
#define KFW_GENL_VERSION	1

/* Upper bound on the number of rules per KFW_CMD_REPLACE_RULES message. */
#define KFW_REPLACE_CHUNK_MAX	512

enum kfw_dir {
	KFW_DIR_IN,
	KFW_DIR_OUT,
	__KFW_DIR_MAX
};

#define KFW_DIR_MAX (__KFW_DIR_MAX - 1)

/*
 * A rule's action, or a direction's policy. REJECT drops the packet and
 * answers it (TCP RST, or ICMP/ICMPv6 port unreachable); it is not a policy.
 */
enum kfw_verdict {
	KFW_VERDICT_ACCEPT,
	KFW_VERDICT_DROP,
	KFW_VERDICT_REJECT,
	__KFW_VERDICT_MAX
};

#define KFW_VERDICT_MAX (__KFW_VERDICT_MAX - 1)

/* Connection-tracking states, as bits of KFW_RULE_A_STATE. */
enum kfw_state {
	KFW_STATE_NEW		= 1 << 0,
	KFW_STATE_ESTABLISHED	= 1 << 1,
	KFW_STATE_RELATED	= 1 << 2,
	KFW_STATE_INVALID	= 1 << 3,
	__KFW_STATE_ALL		= (1 << 4) - 1
};

#define KFW_PAYLOAD_MAX		128	/* bytes of a payload pattern */
#define KFW_COMMENT_MAX		128	/* bytes of a comment, with its NUL */
#define KFW_LOG_RATE_DEFAULT	300	/* log lines per minute: 5/s */
#define KFW_LOG_RATE_MAX	600000	/* 10000/s */
#define KFW_LOG_BURST_DEFAULT	10
#define KFW_LOG_BURST_MAX	10000
#define KFW_CONFIRM_MAX		86400	/* seconds a restore may stay on trial */
#define KFW_TIMEOUT_MAX_MS	31536000000ULL	/* 365 days, the longest timeout */
#define KFW_LIST_MAX		64	/* elements of one list */

/* The matches that KFW_RULE_A_NEGATE can turn around. */
enum kfw_negate {
	KFW_NEGATE_SRC		= 1 << 0,
	KFW_NEGATE_DST		= 1 << 1,
	KFW_NEGATE_SPORT	= 1 << 2,
	KFW_NEGATE_DPORT	= 1 << 3,
	KFW_NEGATE_IFACE	= 1 << 4,
	__KFW_NEGATE_ALL	= (1 << 5) - 1
};

#define KFW_OVER_RATE_MAX	1000000	/* packets per period of an over rule */
#define KFW_OVER_BURST_MAX	1000000

/* Address families as they appear in KFW_HOOK_A_FAMILY. */
enum kfw_family {
	KFW_FAMILY_IPV4,
	KFW_FAMILY_IPV6,
	__KFW_FAMILY_MAX
};

#define KFW_FAMILY_MAX (__KFW_FAMILY_MAX - 1)

enum kfw_cmd {
	KFW_CMD_UNSPEC,
	KFW_CMD_GET_INFO,
	KFW_CMD_GET_RULES,
	KFW_CMD_ADD_RULE,
	KFW_CMD_DEL_RULE,
	KFW_CMD_FLUSH,
	KFW_CMD_SET_POLICY,
	KFW_CMD_ZERO,
	KFW_CMD_REPLACE_BEGIN,
	KFW_CMD_REPLACE_RULES,
	KFW_CMD_REPLACE_COMMIT,
	KFW_CMD_REPLACE_ABORT,
	KFW_CMD_TEST,
	KFW_CMD_CONFIRM,
	__KFW_CMD_MAX
};

#define KFW_CMD_MAX (__KFW_CMD_MAX - 1)

/* Top-level attributes. */
enum kfw_attr {
	KFW_A_UNSPEC,
	KFW_A_PAD,
	KFW_A_RULE,		/* nest: KFW_RULE_A_* */
	KFW_A_RULES,		/* nest: up to KFW_REPLACE_CHUNK_MAX KFW_A_RULE */
	KFW_A_POSITION,		/* u32, 1-based */
	KFW_A_HANDLE,		/* u64 */
	KFW_A_DIR,		/* u8, enum kfw_dir */
	KFW_A_VERDICT,		/* u8, enum kfw_verdict */
	KFW_A_POLICY_IN,	/* u8, enum kfw_verdict */
	KFW_A_POLICY_OUT,	/* u8, enum kfw_verdict */
	KFW_A_RULE_COUNT,	/* u32 */
	KFW_A_RULE_LIMIT,	/* u32, the max_rules module parameter */
	KFW_A_GENERATION,	/* u32, bumped by every change to the table */
	KFW_A_STATS,		/* nest: KFW_A_HOOK, one per direction and family */
	KFW_A_HOOK,		/* nest: KFW_HOOK_A_* */
	KFW_A_LOG_SUPPRESSED,	/* u64 */
	KFW_A_PACKET,		/* nest: KFW_PACKET_A_* */
	KFW_A_CHECK,		/* flag */
	KFW_A_CONFIRM,		/* u32, seconds, 1 to KFW_CONFIRM_MAX */
	KFW_A_CONFIRM_LEFT,	/* u32, milliseconds */
	KFW_A_ZERO,		/* flag */
	__KFW_A_MAX
};

#define KFW_A_MAX (__KFW_A_MAX - 1)

/*
 * Attributes of one rule. KFW_RULE_A_DIR and KFW_RULE_A_ACTION are required.
 * Every match attribute is optional; a rule without any matches every packet
 * of its direction.
 *
 * Addresses are in network byte order. A source or destination is given as
 * either an IPv4 or an IPv6 address, with an optional prefix length that
 * defaults to the full length; bits of the address beyond the prefix must be
 * zero. A rule with an address matches only packets of that family, and its
 * source and destination must be of the same family.
 *
 * Ports are in host byte order, FIRST <= LAST; LAST defaults to FIRST. Ports
 * need KFW_RULE_A_PROTO to be IPPROTO_TCP or IPPROTO_UDP.
 *
 * KFW_RULE_A_STATE matches packets whose connection-tracking state is one of
 * the given KFW_STATE_* bits; a namespace tracks connections only while it
 * has such a rule. KFW_RULE_A_ICMP_TYPE (and KFW_RULE_A_ICMP_CODE, which
 * needs a type) need KFW_RULE_A_PROTO IPPROTO_ICMP or IPPROTO_ICMPV6.
 *
 * KFW_RULE_A_PAYLOAD matches packets whose transport payload (after the TCP,
 * UDP or ICMP header; after the network header for other protocols)
 * contains the pattern, searched in the first KFW_RULE_A_PAYLOAD_WITHIN
 * bytes if given. Fragments after the first never match.
 *
 * KFW_RULE_A_LOG logs every packet the rule decides on, at most
 * KFW_RULE_A_LOG_RATE lines a minute with bursts of KFW_RULE_A_LOG_BURST
 * (defaults KFW_LOG_RATE_DEFAULT and KFW_LOG_BURST_DEFAULT; both need LOG).
 * KFW_RULE_A_COMMENT is printable ASCII without '"' or '\'.
 *
 * Lists: KFW_RULE_A_SRC_LIST, _DST_LIST, _SPORT_LIST, _DPORT_LIST and
 * _PROTO_LIST each hold 1 to KFW_LIST_MAX KFW_LIST_A_ELEM nests, and match a
 * packet whose field is in any element. An element of an address list is
 * KFW_ELEM_A_IP4 or _IP6 with an optional KFW_ELEM_A_PREFIX, all elements of
 * one family; of a port list KFW_ELEM_A_FIRST and an optional _LAST; of a
 * protocol list KFW_ELEM_A_PROTO. A list and the single attribute of the
 * same field are exclusive. Port lists need every protocol of the rule to be
 * TCP or UDP. Replies give a field back the way the request gave it.
 *
 * KFW_RULE_A_NEGATE turns the match of each field it names around: the
 * packet must be in none of the field's elements. A negated address still
 * needs the packet to be of the address's family, and a negated port still
 * needs a packet with ports. The field itself, single or list, must be given.
 *
 * KFW_RULE_A_UID_FIRST and _LAST (and the GID pair) match packets sent by a
 * socket whose file was opened by a user (group) in that range, as numbered
 * in the user namespace that owns the rule's network namespace. Owners are
 * known only on KFW_DIR_OUT; packets with no full socket, or whose socket
 * has no file, never match. LAST defaults to FIRST.
 *
 * KFW_RULE_A_OVER_RATE and KFW_RULE_A_OVER_PERIOD (both or neither) make
 * the rule match only the packets that exceed a rate among those its other
 * fields match: RATE packets per PERIOD seconds (1, 60 or 3600), with
 * bursts of KFW_RULE_A_OVER_BURST packets (default: RATE, at most
 * KFW_OVER_BURST_MAX). A packet within the rate does not match the rule:
 * the lookup goes on to the next rule in list order that matches it, and
 * the packet spends one unit of the rule's allowance. Packets over the rate
 * spend nothing, so a sender that keeps trying gets through again at the
 * rate (the generic cell rate algorithm, as iptables' hashlimit above).
 * With KFW_RULE_A_OVER_PER_SRC the rate is counted per source address (/32
 * or /128) in a table of the over_sources module parameter's size per rule
 * (default 65536), charged to the memory cgroup of the process that made
 * the rule; when a source finds its bucket of the table full, the source
 * closest to having its whole burst back is forgotten. Replies carry
 * KFW_RULE_A_OVER_SOURCES, the sources whose allowance is not whole again
 * yet. KFW_CMD_TEST spends nothing and counts every packet within the rate:
 * it reports the rule an `over` rule would pass the packet on to. A
 * restore (KFW_CMD_REPLACE_*) starts every `over` rule with its whole
 * allowance, even one whose counters it carries over.
 *
 * KFW_RULE_A_HANDLE, KFW_RULE_A_PACKETS, KFW_RULE_A_BYTES and
 * KFW_RULE_A_OVER_SOURCES appear only in replies; the kernel refuses them
 * in requests.
 *
 * KFW_RULE_A_TIMEOUT makes a timed rule: in a request (KFW_CMD_ADD_RULE, or
 * a rule of KFW_CMD_REPLACE_RULES), the milliseconds it lives from the
 * moment the kernel reads it, 1 to KFW_TIMEOUT_MAX_MS; in replies (dumps,
 * KFW_CMD_TEST), the milliseconds it has left, at least 1. When its time
 * runs out the kernel deletes it by itself, as KFW_CMD_DEL_RULE would: the
 * table's generation moves on, and the handle is gone. The clock is
 * CLOCK_BOOTTIME: it counts time the machine spends suspended, and never
 * jumps with the wall clock. The timeout takes no part in matching, nor in the pairing of
 * carried counters: a restore of the same rule with a new timeout keeps its
 * counts. A rule of a table that a restore on trial replaced does not expire
 * while it is kept; if the kernel puts that table back, its rules whose time
 * ran out meanwhile are deleted at once.
 */
enum kfw_rule_attr {
	KFW_RULE_A_UNSPEC,
	KFW_RULE_A_PAD,
	KFW_RULE_A_HANDLE,	/* u64 */
	KFW_RULE_A_DIR,		/* u8, enum kfw_dir */
	KFW_RULE_A_ACTION,	/* u8, enum kfw_verdict */
	KFW_RULE_A_PROTO,	/* u8, an IPPROTO_* number */
	KFW_RULE_A_SRC_IP4,	/* 4 bytes */
	KFW_RULE_A_SRC_IP6,	/* 16 bytes */
	KFW_RULE_A_SRC_PREFIX,	/* u8, 0-32 or 0-128 */
	KFW_RULE_A_DST_IP4,	/* 4 bytes */
	KFW_RULE_A_DST_IP6,	/* 16 bytes */
	KFW_RULE_A_DST_PREFIX,	/* u8 */
	KFW_RULE_A_SPORT_FIRST,	/* u16 */
	KFW_RULE_A_SPORT_LAST,	/* u16 */
	KFW_RULE_A_DPORT_FIRST,	/* u16 */
	KFW_RULE_A_DPORT_LAST,	/* u16 */
	KFW_RULE_A_IFACE,	/* NUL-terminated string, < IFNAMSIZ */
	KFW_RULE_A_PACKETS,	/* u64 */
	KFW_RULE_A_BYTES,	/* u64 */
	KFW_RULE_A_STATE,	/* u8, KFW_STATE_* bits, not 0 */
	KFW_RULE_A_ICMP_TYPE,	/* u8 */
	KFW_RULE_A_ICMP_CODE,	/* u8 */
	KFW_RULE_A_PAYLOAD,	/* 1 to KFW_PAYLOAD_MAX bytes */
	KFW_RULE_A_PAYLOAD_WITHIN, /* u16, not 0 */
	KFW_RULE_A_LOG,		/* flag */
	KFW_RULE_A_LOG_RATE,	/* u32, lines per minute, 1 to KFW_LOG_RATE_MAX */
	KFW_RULE_A_LOG_BURST,	/* u32, 1 to KFW_LOG_BURST_MAX */
	KFW_RULE_A_COMMENT,	/* NUL-terminated string, < KFW_COMMENT_MAX */
	KFW_RULE_A_TIMEOUT,	/* u64, milliseconds to live (left, in replies) */
	KFW_RULE_A_OVER_RATE,	/* u32, packets per period, 1 to KFW_OVER_RATE_MAX */
	KFW_RULE_A_OVER_PERIOD,	/* u32, seconds: 1, 60 or 3600 */
	KFW_RULE_A_OVER_BURST,	/* u32, 1 to KFW_OVER_BURST_MAX */
	KFW_RULE_A_OVER_PER_SRC, /* flag */
	KFW_RULE_A_OVER_SOURCES, /* u32, sources tracked; replies only */
	KFW_RULE_A_NEGATE,	/* u8, KFW_NEGATE_* bits */
	KFW_RULE_A_SRC_LIST,	/* nest: KFW_LIST_A_ELEM nests */
	KFW_RULE_A_DST_LIST,	/* nest: KFW_LIST_A_ELEM nests */
	KFW_RULE_A_SPORT_LIST,	/* nest: KFW_LIST_A_ELEM nests */
	KFW_RULE_A_DPORT_LIST,	/* nest: KFW_LIST_A_ELEM nests */
	KFW_RULE_A_PROTO_LIST,	/* nest: KFW_LIST_A_ELEM nests */
	KFW_RULE_A_UID_FIRST,	/* u32 */
	KFW_RULE_A_UID_LAST,	/* u32 */
	KFW_RULE_A_GID_FIRST,	/* u32 */
	KFW_RULE_A_GID_LAST,	/* u32 */
	__KFW_RULE_A_MAX
};

#define KFW_RULE_A_MAX (__KFW_RULE_A_MAX - 1)

/* The elements of a list attribute (KFW_RULE_A_*_LIST). */
enum kfw_list_attr {
	KFW_LIST_A_UNSPEC,
	KFW_LIST_A_ELEM,	/* nest: KFW_ELEM_A_* */
	__KFW_LIST_A_MAX
};

#define KFW_LIST_A_MAX (__KFW_LIST_A_MAX - 1)

/* One element of a list. */
enum kfw_elem_attr {
	KFW_ELEM_A_UNSPEC,
	KFW_ELEM_A_IP4,		/* 4 bytes */
	KFW_ELEM_A_IP6,		/* 16 bytes */
	KFW_ELEM_A_PREFIX,	/* u8, 0-32 or 0-128 */
	KFW_ELEM_A_FIRST,	/* u16, a port */
	KFW_ELEM_A_LAST,	/* u16 */
	KFW_ELEM_A_PROTO,	/* u8 */
	__KFW_ELEM_A_MAX
};

#define KFW_ELEM_A_MAX (__KFW_ELEM_A_MAX - 1)

/*
 * A packet for KFW_CMD_TEST. KFW_PACKET_A_DIR is required. Addresses and
 * ports are as in rules; KFW_PACKET_A_STATE is KFW_STATE_* bits (a real
 * packet has one). KFW_PACKET_A_UID and _GID are the owner of the sending
 * socket's file, for KFW_DIR_OUT.
 */
enum kfw_packet_attr {
	KFW_PACKET_A_UNSPEC,
	KFW_PACKET_A_DIR,	/* u8, enum kfw_dir */
	KFW_PACKET_A_FAMILY,	/* u8, enum kfw_family */
	KFW_PACKET_A_PROTO,	/* u8 */
	KFW_PACKET_A_SRC_IP4,	/* 4 bytes */
	KFW_PACKET_A_SRC_IP6,	/* 16 bytes */
	KFW_PACKET_A_DST_IP4,	/* 4 bytes */
	KFW_PACKET_A_DST_IP6,	/* 16 bytes */
	KFW_PACKET_A_SPORT,	/* u16 */
	KFW_PACKET_A_DPORT,	/* u16 */
	KFW_PACKET_A_IFACE,	/* NUL-terminated string, < IFNAMSIZ */
	KFW_PACKET_A_STATE,	/* u8 */
	KFW_PACKET_A_ICMP_TYPE,	/* u8 */
	KFW_PACKET_A_ICMP_CODE,	/* u8 */
	KFW_PACKET_A_UID,	/* u32 */
	KFW_PACKET_A_GID,	/* u32 */
	__KFW_PACKET_A_MAX
};

#define KFW_PACKET_A_MAX (__KFW_PACKET_A_MAX - 1)

/* Counters of one hook: packets of one family in one direction. */
enum kfw_hook_attr {
	KFW_HOOK_A_UNSPEC,
	KFW_HOOK_A_PAD,
	KFW_HOOK_A_DIR,		/* u8, enum kfw_dir */
	KFW_HOOK_A_FAMILY,	/* u8, enum kfw_family */
	KFW_HOOK_A_SEEN,	/* u64 */
	KFW_HOOK_A_ACCEPTED,	/* u64 */
	KFW_HOOK_A_DROPPED,	/* u64 */
	__KFW_HOOK_A_MAX
};

#define KFW_HOOK_A_MAX (__KFW_HOOK_A_MAX - 1)

#endif /* _UAPI_KFW_H */
