/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule model of fwctl: one firewall rule as the user writes it, and its
 * canonical text and JSON forms. Nothing here talks to the kernel, so the
 * parser and the formatters can be unit tested on any host.
 */
#ifndef FWCTL_RULE_H
#define FWCTL_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <netinet/in.h>

#include "uapi/kfw.h"

/*
 * Room for any error message the parsers produce, bad token included.
 * Tokens longer than RULE_TOKEN_SHOWN are cut short in the new messages.
 */
#define RULE_ERR_MAX	256
#define RULE_TOKEN_SHOWN 40
/*
 * Room for the canonical text of any rule, "in drop" and matches included:
 * at most about 7 KiB, most of it two lists of 64 IPv6 prefixes.
 */
#define RULE_TEXT_MAX	8192
/* Room for a `list` line: the canonical text and four numbers. */
#define RULE_LINE_MAX	(RULE_TEXT_MAX + 64)
/* Room for the JSON object of any rule, counters and escapes included. */
#define RULE_JSON_MAX	(RULE_TEXT_MAX + 1024)

/* An address match; family is 0 when the rule does not match on it. */
struct rule_addr {
	uint8_t family;		/* 0, AF_INET or AF_INET6 */
	uint8_t prefix;		/* 0-32 or 0-128 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t raw[16];	/* network byte order, either family */
	};
};

/* A port range; set is false when the rule does not match on it. */
struct rule_ports {
	bool set;
	uint16_t first;
	uint16_t last;
};

/* The fields that can hold a list, as indexes of struct rule_lists. */
enum rule_list_field {
	RULE_LIST_SRC,
	RULE_LIST_DST,
	RULE_LIST_SPORT,
	RULE_LIST_DPORT,
	RULE_LIST_PROTO,
	RULE_LISTS
};

/*
 * The values of the fields that hold more than one, with element 0 also in
 * the field itself (so that its family, protocol or presence read as for a
 * single value). Allocated only for rules that have such a field.
 */
struct rule_lists {
	uint8_t len[RULE_LISTS];	/* 0 or 1: the single value only */
	struct rule_addr addr[2][KFW_LIST_MAX];		/* src, dst */
	struct rule_ports port[2][KFW_LIST_MAX];	/* sport, dport */
	uint8_t proto[KFW_LIST_MAX];
};

struct rule {
	uint8_t dir;		/* enum kfw_dir */
	uint8_t action;		/* enum kfw_verdict */
	bool has_proto;
	uint8_t proto;		/* IPPROTO_* */
	struct rule_addr src;
	struct rule_addr dst;
	struct rule_ports sport;
	struct rule_ports dport;
	char iface[IFNAMSIZ];	/* "" when the rule matches any interface */
	uint8_t negate;		/* KFW_NEGATE_* bits */
	struct rule_lists *lists; /* NULL unless a field has a list; owned */
	bool has_uid;
	bool has_gid;
	uint32_t uid_first;	/* the sending socket's owner, out only */
	uint32_t uid_last;
	uint32_t gid_first;
	uint32_t gid_last;
	uint8_t state;		/* KFW_STATE_* bits, 0 for any state */
	bool has_icmp_type;
	uint8_t icmp_type;
	bool has_icmp_code;
	uint8_t icmp_code;
	uint8_t payload_len;	/* 0 when the rule does not match payload */
	uint8_t payload[KFW_PAYLOAD_MAX];
	uint16_t payload_within; /* 0 for the whole payload */
	uint32_t over_rate;	/* packets per over_period; 0: no over */
	uint32_t over_period;	/* seconds: 1, 60 or 3600 */
	uint32_t over_burst;	/* 0: not given, the default: over_rate */
	bool over_per_src;
	bool log;
	uint32_t log_rate;	/* lines per minute; 0: not given, the default */
	uint32_t log_burst;	/* 0: not given, the default */
	/* 0 for none; to live when sent, left when read back (duration.c) */
	uint64_t timeout_ms;
	char comment[KFW_COMMENT_MAX];	/* "" for none */

	/* Filled in only for rules read back from the kernel. */
	uint64_t handle;
	uint64_t packets;
	uint64_t bytes;
	uint32_t over_sources;	/* sources an over per-src rule tracks now */
};

/*
 * A packet for `fwctl test`: single addresses, single ports and one state.
 * Fields that are not set are unknown to the kernel.
 */
struct rule_packet {
	uint8_t dir;		/* enum kfw_dir */
	bool has_proto;
	uint8_t proto;
	struct rule_addr src;	/* prefix always the full length */
	struct rule_addr dst;
	bool has_sport;
	uint16_t sport;
	bool has_dport;
	uint16_t dport;
	char iface[IFNAMSIZ];
	uint8_t state;		/* one KFW_STATE_* bit, or 0 */
	bool has_icmp_type;
	uint8_t icmp_type;
	bool has_icmp_code;
	uint8_t icmp_code;
	bool has_uid;
	uint32_t uid;
	bool has_gid;
	uint32_t gid;
};

const char *rule_dir_name(uint8_t dir);
const char *rule_verdict_name(uint8_t verdict);
int rule_parse_dir(const char *s, uint8_t *dir);
int rule_parse_verdict(const char *s, uint8_t *verdict);

int rule_parse_handle(const char *s, uint64_t *handle, char *err, size_t errlen);
int rule_parse_position(const char *s, uint32_t *pos, char *err, size_t errlen);
int rule_parse_confirm(const char *s, uint32_t *seconds, char *err, size_t errlen);
int rule_parse_policy(int argc, char *const argv[], uint8_t *dir,
		      uint8_t *verdict, char *err, size_t errlen);
int rule_parse(struct rule *r, int argc, char *const argv[],
	       char *err, size_t errlen);
void rule_release(struct rule *r);
void rule_release_all(struct rule *rules, size_t count);
struct rule_lists *rule_lists(struct rule *r);
int rule_parse_packet(struct rule_packet *p, int argc, char *const argv[],
		      char *err, size_t errlen);
int rule_format(const struct rule *r, char *buf, size_t len);
int rule_format_line(const struct rule *r, char *buf, size_t len);
int rule_format_match(const struct rule *r, char *buf, size_t len);
int rule_format_json(const struct rule *r, char *buf, size_t len);
int rule_json_string(char *buf, size_t len, const char *s);
int rule_escape(char *buf, size_t len, const char *s);

#endif /* FWCTL_RULE_H */
