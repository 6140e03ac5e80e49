/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DURATION of a timed rule: `timeout 30s`, `10m`, `2h`, `1d`, or a bare
 * number of seconds. Nothing here talks to the kernel.
 */
#ifndef FWCTL_DURATION_H
#define FWCTL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Room for any duration's text: "31536000s" at most, and its NUL. */
#define DURATION_TEXT_MAX	24

int duration_parse(const char *s, uint64_t *ms);
int duration_format(uint64_t ms, char *buf, size_t len);

#endif /* FWCTL_DURATION_H */
