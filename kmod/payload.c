// SPDX-License-Identifier: GPL-2.0
/*
 * Payload matches: the kernel's textsearch over the transport payload, which
 * walks paged and fragmented skbs without linearizing them. Knuth-Morris-
 * Pratt carries its state from one block of the skb to the next, so it finds
 * a pattern that straddles two; Boyer-Moore (ts_bm) would miss it.
 */

#include <linux/skbuff.h>
#include <linux/slab.h>

#include "payload.h"

struct kfw_payload *kfw_payload_create(const void *pattern, unsigned int len,
				       u16 within)
{
	struct kfw_payload *payload;

	payload = kzalloc(sizeof(*payload), GFP_KERNEL_ACCOUNT);
	if (!payload)
		return ERR_PTR(-ENOMEM);
	payload->ts = textsearch_prepare("kmp", pattern, len, GFP_KERNEL_ACCOUNT,
					 TS_AUTOLOAD);
	if (IS_ERR(payload->ts)) {
		struct ts_config *ts = payload->ts;

		kfree(payload);
		return ERR_CAST(ts);
	}
	payload->within = within;
	payload->len = len;
	memcpy(payload->pattern, pattern, len);
	return payload;
}

void kfw_payload_destroy(struct kfw_payload *payload)
{
	if (!payload)
		return;
	textsearch_destroy(payload->ts);
	kfree(payload);
}

/**
 * kfw_payload_found() - does the packet's payload contain the pattern?
 * @payload: the pattern
 * @pkt: the packet; one without an skb (a test packet) has no payload
 *
 * Return: true if the pattern lies within the bounds the rule set.
 */
bool kfw_payload_found(const struct kfw_payload *payload,
		       const struct kfw_packet *pkt)
{
	unsigned int from = pkt->payload_offset, to;

	/* Offset 0 is the network header: the payload could not be found. */
	if (!pkt->skb || !from || from >= pkt->skb->len)
		return false;
	to = pkt->skb->len;
	if (payload->within)
		to = min(to, from + payload->within);
	/*
	 * skb_find_text() only sets the block callbacks of the shared config;
	 * the search state itself lives on this CPU's stack.
	 */
	return skb_find_text((struct sk_buff *)pkt->skb, from, to,
			     payload->ts) != UINT_MAX;
}
