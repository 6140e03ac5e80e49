/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_PAYLOAD_H
#define _KFW_PAYLOAD_H

#include <linux/textsearch.h>

#include "match.h"
#include "uapi/kfw.h"

/**
 * struct kfw_payload - a pattern to find in packets' transport payload
 * @ts: the prepared search
 * @within: search only the first @within payload bytes; 0 for all
 * @len: length of @pattern
 * @pattern: the bytes, for listing the rule
 */
struct kfw_payload {
	struct ts_config *ts;
	u16 within;
	u8 len;
	u8 pattern[KFW_PAYLOAD_MAX];
};

struct kfw_payload *kfw_payload_create(const void *pattern, unsigned int len,
				       u16 within);
void kfw_payload_destroy(struct kfw_payload *payload);
bool kfw_payload_found(const struct kfw_payload *payload,
		       const struct kfw_packet *pkt);

#endif /* _KFW_PAYLOAD_H */
