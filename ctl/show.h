/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The outputs of stats and test, in text and JSON. They write to any
 * stream, so the unit tests can check them without a kernel.
 */
#ifndef FWCTL_SHOW_H
#define FWCTL_SHOW_H

#include <stdio.h>

#include "netlink.h"

void show_stats_text(FILE *out, const struct fwnl_info *info);
void show_stats_json(FILE *out, const struct fwnl_info *info);
void show_stats_prometheus(FILE *out, const struct fwnl_info *info,
			   const struct rule *rules, size_t count);
void show_test_text(FILE *out, uint8_t dir, const struct fwnl_test_result *res);
void show_test_json(FILE *out, uint8_t dir, const struct fwnl_test_result *res);

#endif /* FWCTL_SHOW_H */
