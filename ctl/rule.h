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

/* Room for any error message the parsers produce, bad token included. */
#define RULE_ERR_MAX	256
/* Room for the canonical text of any rule, "in drop" and matches included. */
#define RULE_TEXT_MAX	256
/* Room for the JSON object of any rule, counters and escapes included. */
#define RULE_JSON_MAX	512

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

	/* Filled in only for rules read back from the kernel. */
	uint64_t handle;
	uint64_t packets;
	uint64_t bytes;
};

const char *rule_dir_name(uint8_t dir);
const char *rule_verdict_name(uint8_t verdict);
int rule_parse_dir(const char *s, uint8_t *dir);
int rule_parse_verdict(const char *s, uint8_t *verdict);

int rule_parse_handle(const char *s, uint64_t *handle, char *err, size_t errlen);
int rule_parse_position(const char *s, uint32_t *pos, char *err, size_t errlen);
int rule_parse_policy(int argc, char *const argv[], uint8_t *dir,
		      uint8_t *verdict, char *err, size_t errlen);
int rule_parse(struct rule *r, int argc, char *const argv[],
	       char *err, size_t errlen);
int rule_format(const struct rule *r, char *buf, size_t len);
int rule_format_match(const struct rule *r, char *buf, size_t len);
int rule_format_json(const struct rule *r, char *buf, size_t len);
int rule_json_string(char *buf, size_t len, const char *s);

#endif /* FWCTL_RULE_H */
