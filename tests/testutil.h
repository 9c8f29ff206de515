/* Helpers shared by the Check suites. */
#ifndef SBP_TESTUTIL_H
#define SBP_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

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
/* A toy classification set: n samples of d features, class i % k; the
 * features of block c (features c*block .. c*block+block-1) are near `on`
 * for class c and near `off` elsewhere, plus uniform noise in [0, noise).
 * Fails the current test on error. */
struct sbp_dataset;
struct sbp_net;
struct sbp_dataset *sbp_test_prototypes(uint64_t seed, size_t n, size_t d, size_t k,
                                        size_t block, float on, float off, float noise);

/* Progress callback for cancellation tests: records `done` in *(size_t
 * *)user and asks to stop once 20 samples are done. */
int sbp_test_stop_at_20(void *user, size_t done, size_t total);

/* Trains net one epoch on ds with the n-th allocation from now failing:
 * the call must succeed or say SBP_E_NOMEM, and a second epoch without
 * failures must then succeed (the network is still usable). */
void sbp_test_train_despite_alloc_failure(struct sbp_net *net, const struct sbp_dataset *ds,
                                          long n);

/* The shared real-data directory (../shared/data), or NULL with a printed
 * "skipped: ..." line when it is absent. */
const char *sbp_test_shared_data(void);

#endif
