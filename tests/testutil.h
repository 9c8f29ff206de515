/* Helpers shared by the Check suites. */
#ifndef SBP_TESTUTIL_H
#define SBP_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Runs one suite and returns a process exit status. */
int sbp_test_run(Suite *s);
/* Path of a fresh temporary directory for this test process (removed by
 * the caller with sbp_test_rmtree). */
const char *sbp_test_tmpdir(void);
void sbp_test_rmtree(const char *dir);
/* Writes len bytes to dir/name and returns the full path (static buffer
 * rotated over 8 slots). */
const char *sbp_test_write(const char *dir, const char *name, const void *data, size_t len);
/* Gzip-compresses data into dir/name; returns the path as above. */
const char *sbp_test_write_gz(const char *dir, const char *name, const void *data, size_t len);
/* The shared real-data directory (../shared/data), or NULL with a printed
 * "skipped: ..." line when it is absent. */
const char *sbp_test_shared_data(void);

#endif
