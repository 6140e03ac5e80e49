/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The suites of the fwctl unit tests. Each runs its cmocka group and adds
 * its number of tests to *total; the return value is how many failed.
 */
#ifndef FWCTL_UNIT_H
#define FWCTL_UNIT_H

int rule_test_run(int *total);
int restore_test_run(int *total);
int cli_test_run(int *total);

#endif /* FWCTL_UNIT_H */
