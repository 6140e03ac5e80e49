// SPDX-License-Identifier: GPL-2.0
/*
 * shadow-time: how long fwctl's shadow check takes on a restore file, on
 * the host, without the kernel.
 *
 *   gcc -O2 -D_GNU_SOURCE -Ictl -Ikmod -o shadow-time tests/bench/shadow-time.c \
 *       ctl/shadow.c ctl/restore.c ctl/rule.c
 *   ./shadow-time FILE
 *
 * prints the rule count, the time to parse the file, the time of
 * shadow_check() and how many rules it found shadowed.
 */
#include <stdio.h>
#include <time.h>

#include "restore.h"
#include "shadow.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void count_it(size_t rule, size_t by, void *data)
{
	(void)rule;
	(void)by;
	(void)data;
}

int main(int argc, char *argv[])
{
	char err[RESTORE_ERR_MAX];
	struct restore rs;
	double t0, t1, t2;
	FILE *in;
	int found;

	if (argc != 2 || !(in = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: shadow-time FILE\n");
		return 2;
	}
	t0 = now();
	if (restore_parse(&rs, in, argv[1], 0, err, sizeof(err))) {
		fprintf(stderr, "shadow-time: %s\n", err);
		return 1;
	}
	t1 = now();
	found = shadow_check(rs.rules, rs.count, count_it, NULL);
	t2 = now();
	printf("%zu rules: parse %.3f s, shadow check %.3f s, %d shadowed\n",
	       rs.count, t1 - t0, t2 - t1, found);
	restore_free(&rs);
	fclose(in);
	return found < 0;
}
