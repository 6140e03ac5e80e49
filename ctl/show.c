// SPDX-License-Identifier: GPL-2.0
/*
 * What `fwctl stats` and `fwctl test` print. The stats text is the same as
 * /proc/net/kfw/stats, one "name value" pair per line; the first line of a
 * test result is the matching rule exactly as `fwctl list` shows it, so
 * the two can be compared with a plain string match.
 */
#include <inttypes.h>

#include "show.h"

static const char *const family_names[] = {
	[KFW_FAMILY_IPV4] = "ipv4",
	[KFW_FAMILY_IPV6] = "ipv6",
};

/**
 * show_stats_text() - the counters as `fwctl stats` prints them
 * @out: where to write
 * @info: the counters
 */
void show_stats_text(FILE *out, const struct fwnl_info *info)
{
	uint8_t dir, fam;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		for (fam = 0; fam <= KFW_FAMILY_MAX; fam++) {
			const struct fwnl_hook_stats *h = &info->hook[dir][fam];
			const char *d = rule_dir_name(dir);
			const char *f = family_names[fam];

			fprintf(out, "%s_%s_seen %" PRIu64 "\n", d, f, h->seen);
			fprintf(out, "%s_%s_accepted %" PRIu64 "\n", d, f, h->accepted);
			fprintf(out, "%s_%s_dropped %" PRIu64 "\n", d, f, h->dropped);
		}
	}
	fprintf(out, "rules %" PRIu32 "\n", info->rule_count);
	fprintf(out, "rule_limit %" PRIu32 "\n", info->rule_limit);
	fprintf(out, "log_suppressed %" PRIu64 "\n", info->log_suppressed);
}

/**
 * show_stats_json() - the counters as `fwctl -j stats` prints them
 * @out: where to write
 * @info: the counters
 */
void show_stats_json(FILE *out, const struct fwnl_info *info)
{
	uint8_t dir, fam;

	fprintf(out, "{");
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		fprintf(out, "%s\"%s\":{", dir ? "," : "", rule_dir_name(dir));
		for (fam = 0; fam <= KFW_FAMILY_MAX; fam++) {
			const struct fwnl_hook_stats *h = &info->hook[dir][fam];

			fprintf(out, "%s\"%s\":{\"seen\":%" PRIu64 ",\"accepted\":%" PRIu64
				",\"dropped\":%" PRIu64 "}",
				fam ? "," : "", family_names[fam],
				h->seen, h->accepted, h->dropped);
		}
		fprintf(out, "}");
	}
	fprintf(out, ",\"rules\":%" PRIu32 ",\"rule_limit\":%" PRIu32
		",\"log_suppressed\":%" PRIu64 "}\n",
		info->rule_count, info->rule_limit, info->log_suppressed);
}

/**
 * show_test_text() - a test result: the deciding rule or policy, then the verdict
 * @out: where to write
 * @dir: the direction of the test packet, which names the policy
 * @res: what the kernel answered
 */
void show_test_text(FILE *out, uint8_t dir, const struct fwnl_test_result *res)
{
	char line[RULE_LINE_MAX];

	if (res->matched) {
		rule_format_line(&res->rule, line, sizeof(line));
		fprintf(out, "%s\n", line);
	} else {
		fprintf(out, "policy %s %s\n", rule_dir_name(dir),
			rule_verdict_name(res->verdict));
	}
	fprintf(out, "%s\n", rule_verdict_name(res->verdict));
}

/**
 * show_test_json() - a test result as one JSON object
 * @out: where to write
 * @dir: the direction of the test packet
 * @res: what the kernel answered
 *
 * {"rule":{...as in list...},"verdict":"drop"} when a rule matched, else
 * {"rule":null,"policy":"in","verdict":"accept"}.
 */
void show_test_json(FILE *out, uint8_t dir, const struct fwnl_test_result *res)
{
	char obj[RULE_JSON_MAX];

	if (res->matched) {
		rule_format_json(&res->rule, obj, sizeof(obj));
		fprintf(out, "{\"rule\":%s", obj);
	} else {
		fprintf(out, "{\"rule\":null,\"policy\":\"%s\"", rule_dir_name(dir));
	}
	fprintf(out, ",\"verdict\":\"%s\"}\n", rule_verdict_name(res->verdict));
}
