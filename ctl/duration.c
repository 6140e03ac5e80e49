// SPDX-License-Identifier: GPL-2.0
/*
 * Durations of timed rules, as the user writes them and as fwctl prints
 * the time a rule has left.
 *
 * A duration is a positive whole number and one unit: s, m, h or d. A bare
 * number means seconds, as in ipset and nft. The kernel counts in
 * milliseconds, up to KFW_TIMEOUT_MAX_MS (365 days).
 *
 * The kernel replies with the milliseconds left. They print rounded up to
 * whole seconds, so that a rule about to go never shows 0 (which would not
 * restore) and a restore never shortens a rule's life, in the largest unit
 * that divides them exactly: a rule added with `timeout 1h` lists and saves
 * as 1h at first, as 3599s to 3541s in the minute after, then as 59m. Any
 * coarser rounding would lie about the time left, and a finer form would
 * need two units.
 */
#include <string.h>

#include "duration.h"
#include "uapi/kfw.h"

static const struct {
	char unit;
	uint64_t seconds;
} units[] = {
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/**
 * duration_parse() - milliseconds of a duration
 * @s: e.g. "30s", "10m", "2h", "1d" or "45"
 * @ms: the milliseconds, 1000 to KFW_TIMEOUT_MAX_MS
 *
 * Strict: no sign, blank, fraction, second unit or leading "+".
 *
 * Return: 0, -1 if @s is no duration, -2 if it is longer than the kernel
 * takes.
 */
int duration_parse(const char *s, uint64_t *ms)
{
	size_t n = strlen(s), i;
	uint64_t unit = 1000, v = 0;

	if (n && (s[n - 1] < '0' || s[n - 1] > '9')) {
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (s[n - 1] == units[i].unit)
				break;
		if (i == ARRAY_SIZE(units))
			return -1;
		unit = units[i].seconds * 1000;
		n--;
	}
	if (!n)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	for (i = 0; i < n; i++) {
		/* Past the maximum in any unit, and far from overflowing. */
		if (v > KFW_TIMEOUT_MAX_MS)
			return -2;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!v)
		return -1;
	if (v > KFW_TIMEOUT_MAX_MS / unit)
		return -2;
	*ms = v * unit;
	return 0;
}

/**
 * duration_format() - the time left, as a duration
 * @ms: milliseconds, not 0
 * @buf: output, e.g. "1h" or "3599s"
 * @len: size of @buf; DURATION_TEXT_MAX always suffices
 *
 * Return: the length of the text, or -1 (and "" in @buf) if @buf is too small.
 */
int duration_format(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000 + (ms % 1000 != 0), v;
	size_t u, i, n = 0;
	char digits[24];

	if (!s)
		s = 1;
	/* Seconds divide every number: the loop stops at the last unit. */
	for (u = 0; u + 1 < ARRAY_SIZE(units); u++)
		if (!(s % units[u].seconds))
			break;
	/* By hand, as rule.c formats: `save` prints every rule of the table. */
	v = s / units[u].seconds;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (n + 2 > len) {
		if (len)
			buf[0] = '\0';
		return -1;
	}
	for (i = 0; i < n; i++)
		buf[i] = digits[n - 1 - i];
	buf[n] = units[u].unit;
	buf[n + 1] = '\0';
	return (int)n + 1;
}
