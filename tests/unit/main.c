// SPDX-License-Identifier: GPL-2.0
/*
 * Runs every suite and ends with one line a script can grep:
 * "unit: N passed, N failed".
 */
#include <stdio.h>

#include "unit.h"

int main(void)
{
	int total = 0;
	int failed = 0;

	failed += rule_test_run(&total);
	failed += match_test_run(&total);
	failed += restore_test_run(&total);
	failed += show_test_run(&total);
	failed += shadow_test_run(&total);
	failed += cli_test_run(&total);
	failed += duration_test_run(&total);

	/* cmocka buffers nothing, but our line must come last. */
	fflush(stderr);
	printf("unit: %d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
