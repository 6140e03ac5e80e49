/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_PACKET_H
#define _KFW_PACKET_H

#include <linux/skbuff.h>

#include "match.h"

void kfw_packet_parse(const struct sk_buff *skb, u8 family, bool with_state,
		      struct kfw_packet *pkt);

#endif /* _KFW_PACKET_H */
