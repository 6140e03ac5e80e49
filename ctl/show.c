// SPDX-License-Identifier: GPL-2.0
/*
 * What `fwctl stats` and `fwctl test` print. The stats text is the same as
 * /proc/net/kfw/stats, one "name value" pair per line; the first line of a
 * test result is the matching rule exactly as `fwctl list` shows it, so
 * the two can be compared with a plain string match. `fwctl stats
 * --prometheus` writes the Prometheus text exposition format, for
 * node_exporter's textfile collector.
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

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void put_metric_head(FILE *out, const char *name, const char *type,
			    const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum hook_count { HOOK_SEEN, HOOK_ACCEPTED, HOOK_DROPPED, HOOK_COUNTS };

static const struct {
	const char *name;
	const char *help;
} hook_counts[HOOK_COUNTS] = {
	[HOOK_SEEN] = { "seen", "Packets that reached kfw's hooks." },
	[HOOK_ACCEPTED] = { "accepted", "Packets kfw's hooks accepted." },
	[HOOK_DROPPED] = { "dropped", "Packets kfw's hooks dropped." },
};

static uint64_t hook_count(const struct fwnl_hook_stats *h, enum hook_count which)
{
	return which == HOOK_SEEN ? h->seen : which == HOOK_ACCEPTED ? h->accepted : h->dropped;
}

static void put_hook_metric(FILE *out, const struct fwnl_info *info,
			    enum hook_count which)
{
	const char *what = hook_counts[which].name;
	uint8_t dir, fam;

	fprintf(out, "# HELP kfw_hook_%s_packets_total %s\n"
		"# TYPE kfw_hook_%s_packets_total counter\n", what,
		hook_counts[which].help, what);
	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		for (fam = 0; fam <= KFW_FAMILY_MAX; fam++)
			fprintf(out, "kfw_hook_%s_packets_total{dir=\"%s\",family=\"%s\"} %" PRIu64 "\n",
				what, rule_dir_name(dir), family_names[fam],
				hook_count(&info->hook[dir][fam], which));
}

static void put_rule_metric(FILE *out, const struct rule *rules, size_t count,
			    const char *what, bool bytes)
{
	size_t i;

	fprintf(out, "# HELP kfw_rule_%s_total %s that matched each kfw rule.\n"
		"# TYPE kfw_rule_%s_total counter\n", what,
		bytes ? "Bytes of the packets" : "Packets", what);
	for (i = 0; i < count; i++) {
		const struct rule *r = &rules[i];

		fprintf(out, "kfw_rule_%s_total{handle=\"%" PRIu64 "\",dir=\"%s\",action=\"%s\",comment=\"",
			what, r->handle, rule_dir_name(r->dir), rule_verdict_name(r->action));
		put_label_value(out, r->comment);
		fprintf(out, "\"} %" PRIu64 "\n", bytes ? r->bytes : r->packets);
	}
}

/**
 * show_stats_prometheus() - the counters in Prometheus' text format
 * @out: where to write
 * @info: the hook counters and the table's counts
 * @rules: the rules, with their counters
 * @count: how many
 *
 * Rules are labelled by handle, direction, action and comment, hooks by
 * direction and family. Counters are totals since the rule was made (or
 * carried over a restore), or since `fwctl zero`, which Prometheus takes
 * for a counter reset.
 */
void show_stats_prometheus(FILE *out, const struct fwnl_info *info,
			   const struct rule *rules, size_t count)
{
	enum hook_count which;

	put_rule_metric(out, rules, count, "packets", false);
	put_rule_metric(out, rules, count, "bytes", true);
	for (which = 0; which < HOOK_COUNTS; which++)
		put_hook_metric(out, info, which);
	put_metric_head(out, "kfw_rules", "gauge", "Rules in the table.");
	fprintf(out, "kfw_rules %" PRIu32 "\n", info->rule_count);
	put_metric_head(out, "kfw_rule_limit", "gauge",
			"Rules a table may hold (the max_rules module parameter).");
	fprintf(out, "kfw_rule_limit %" PRIu32 "\n", info->rule_limit);
	put_metric_head(out, "kfw_log_suppressed_total", "counter",
			"Log lines not written because of a rule's log rate.");
	fprintf(out, "kfw_log_suppressed_total %" PRIu64 "\n", info->log_suppressed);
	put_metric_head(out, "kfw_confirm_seconds_left", "gauge",
			"Seconds left to confirm a restore on trial, 0 if none is.");
	fprintf(out, "kfw_confirm_seconds_left %" PRIu32 ".%03" PRIu32 "\n",
		info->confirm_left_ms / 1000, info->confirm_left_ms % 1000);
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
