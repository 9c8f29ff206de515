/* `sbp bench`: benchmarks that print measured figures (never pass/fail). */
#ifndef SBP_BENCH_H
#define SBP_BENCH_H

#include <stddef.h>
#include <stdio.h>

typedef struct sbp_bench_opts {
    const char *data_dir;  /* MNIST directory */
    size_t samples;        /* training samples timed on the fast path (0: all) */
    size_t naive_samples;  /* samples timed on the naive path (0: default) */
    unsigned threads;      /* net.threads (0: one per core) */
    int json;
} sbp_bench_opts;

/* Relax engine on MNIST 784-500-10, batch 50: seconds per training epoch
 * on the fast and the naive (per-step recomputation) paths, measured in one
 * run, and achieved GFLOP/s against the machine's sgemm rate measured in
 * the same run. Returns an exit status. */
int sbp_tool_bench_relax(const sbp_bench_opts *o, FILE *out, FILE *err);

#endif
