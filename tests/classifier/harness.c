// SPDX-License-Identifier: GPL-2.0
/*
 * Shared parts of the host programs, and the kernel functions match.c calls
 * that the host has no use for.
 */

#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "payload.h"

/* Called with what the classifier frees after a grace period; unset: nothing. */
void (*kfw_host_retire_hook)(const void *ptr);

unsigned long kfw_host_alloc_fails_after;

/* The generators make no payload rules: reaching this is a harness bug. */
bool kfw_payload_found(const struct kfw_payload *payload,
		       const struct kfw_packet *pkt)
{
	(void)payload;
	(void)pkt;
	fprintf(stderr, "kfw_payload_found() called: no rule has a payload\n");
	abort();
}

/* Nor owner rules. */
bool kfw_owner_found(const struct kfw_match_more *more,
		     const struct kfw_packet *pkt)
{
	(void)more;
	(void)pkt;
	fprintf(stderr, "kfw_owner_found() called: no rule has an owner\n");
	abort();
}

static void harness_print_addr(FILE *out, u8 family, const union nf_inet_addr *addr)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family == NFPROTO_IPV4 ? AF_INET : AF_INET6, addr, text,
		  sizeof(text));
	fputs(text, out);
}

void harness_print_match(FILE *out, const char *who,
			 const struct kfw_match *match, u64 prio)
{
	u16 f;

	fprintf(out, "  %s: ", who);
	if (!match) {
		fprintf(out, "no rule\n");
		return;
	}
	f = match->fields;
	fprintf(out, "prio %llu family %u fields 0x%x", (unsigned long long)prio,
		match->family, f);
	if (f & KFW_MATCH_PROTO)
		fprintf(out, " proto %u", match->proto);
	if (f & KFW_MATCH_SRC) {
		fprintf(out, " src ");
		harness_print_addr(out, match->family, &match->src);
		fprintf(out, "/%u", match->src_prefix);
	}
	if (f & KFW_MATCH_DST) {
		fprintf(out, " dst ");
		harness_print_addr(out, match->family, &match->dst);
		fprintf(out, "/%u", match->dst_prefix);
	}
	if (f & KFW_MATCH_SPORT)
		fprintf(out, " sport %u-%u", match->sport.first, match->sport.last);
	if (f & KFW_MATCH_DPORT)
		fprintf(out, " dport %u-%u", match->dport.first, match->dport.last);
	if (f & KFW_MATCH_IFACE)
		fprintf(out, " iface %.*s", IFNAMSIZ, match->iface);
	if (f & KFW_MATCH_STATE)
		fprintf(out, " states 0x%x", match->states);
	if (f & KFW_MATCH_ICMP_TYPE)
		fprintf(out, " icmp-type %u", match->icmp_type);
	if (f & KFW_MATCH_ICMP_CODE)
		fprintf(out, " icmp-code %u", match->icmp_code);
	fprintf(out, "\n");
}

void harness_print_packet(FILE *out, const struct kfw_packet *pkt)
{
	fprintf(out, "  packet: family %u src ", pkt->family);
	harness_print_addr(out, pkt->family, &pkt->src);
	fprintf(out, " dst ");
	harness_print_addr(out, pkt->family, &pkt->dst);
	fprintf(out, " proto %u%s", pkt->proto, pkt->has_proto ? "" : " (unknown)");
	if (pkt->has_ports)
		fprintf(out, " sport %u dport %u", pkt->sport, pkt->dport);
	else
		fprintf(out, " (no ports)");
	if (pkt->has_icmp)
		fprintf(out, " icmp %u/%u", pkt->icmp_type, pkt->icmp_code);
	fprintf(out, " iface %s state 0x%x\n", pkt->iface ? pkt->iface : "-",
		pkt->state);
}

u64 harness_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

u64 harness_prio_of(const struct kfw_gen_set *set, const struct kfw_match *match)
{
	u32 pos;

	for (pos = 0; pos < set->nr; pos++)
		if (kfw_gen_set_at(set, pos) == match)
			return kfw_gen_set_prio(set, pos);
	return U64_MAX;
}

/* The packet and both answers of a mismatch, after its headline. */
static void harness_report(const struct kfw_gen_set *set,
			   const struct kfw_packet *pkt,
			   const struct kfw_match *want,
			   const struct kfw_match *got)
{
	harness_print_packet(stderr, pkt);
	harness_print_match(stderr, "reference", want,
			    want ? harness_prio_of(set, want) : 0);
	harness_print_match(stderr, "kfw_cls", got,
			    got ? harness_prio_of(set, got) : 0);
}

/* The linear reference from priority @from on: the first rule there that matches. */
static u32 harness_lookup_from(const struct kfw_gen_set *set,
			       const struct kfw_packet *pkt, u64 from)
{
	u32 pos;

	for (pos = 0; pos < set->nr; pos++)
		if (kfw_gen_set_prio(set, pos) >= from &&
		    kfw_match_packet(kfw_gen_set_at(set, pos), pkt))
			return pos;
	return set->nr;
}

/*
 * kfw_cls_lookup_from() against the reference, as a rule with a rate uses
 * it: from the priority after each match, for the next few matches in list
 * order, and from a priority in the middle of the list, which no rule may
 * have.
 */
static bool harness_check_from(const struct kfw_cls *cls,
			       const struct kfw_gen_set *set,
			       const struct kfw_packet *pkt, u64 from)
{
	const struct kfw_match *want, *got;
	unsigned int step;
	u64 prio;
	u32 pos;

	for (step = 0; step < 4; step++) {
		pos = harness_lookup_from(set, pkt, from);
		want = pos < set->nr ? kfw_gen_set_at(set, pos) : NULL;
		got = kfw_cls_lookup_from(cls, pkt, from, &prio);
		if (got != want ||
		    prio != (want ? kfw_gen_set_prio(set, pos) : U64_MAX)) {
			fprintf(stderr, "classifier: MISMATCH of kfw_cls_lookup_from(%llu) over %u rules (priority %llu)\n",
				(unsigned long long)from, set->nr,
				(unsigned long long)prio);
			harness_report(set, pkt, want, got);
			return false;
		}
		if (!want)
			break;
		from = prio + 1;
	}
	return true;
}

bool harness_check(const struct kfw_cls *cls, const struct kfw_gen_set *set,
		   const struct kfw_packet *pkt, const struct kfw_match **wantp)
{
	const struct kfw_match *want = kfw_gen_set_lookup(set, pkt);
	const struct kfw_match *got = kfw_cls_lookup(cls, pkt);

	if (wantp)
		*wantp = want;
	if (got == want)
		return harness_check_from(cls, set, pkt, 0) &&
		       (!set->nr || harness_check_from(cls, set, pkt,
				kfw_gen_set_prio(set, set->nr / 2) - 1));
	fprintf(stderr, "classifier: MISMATCH over %u rules\n", set->nr);
	harness_report(set, pkt, want, got);
	return false;
}
