/* `sbp bench`: benchmarks that print measured figures (never pass/fail). */
#ifndef SBP_BENCH_H
#define SBP_BENCH_H

#include <stddef.h>
#include <stdio.h>

#include "sbp/sbp.h"

/* Optional probes into a network's private counters. The `sbp` tool uses
 * only the public API and leaves them NULL; bench/spike-events, which links
 * the library's private core, passes sbp__spike_events / sbp__spike_count
 * (lib/spike.h) so that the same benchmark also reports synaptic events. */
typedef size_t (*sbp_bench_events_fn)(const sbp_net *net);
typedef size_t (*sbp_bench_spikes_fn)(const sbp_net *net, size_t layer);

typedef struct sbp_bench_opts {
    const char *data_dir;  /* MNIST directory */
    size_t samples;        /* training samples timed (0: the benchmark's default) */
    size_t naive_samples;  /* relax: samples timed on the naive path (0: default) */
    unsigned threads;      /* net.threads (0: one per core) */
    size_t batch;          /* ann, rbm: mini-batch (0: scikit-learn's default, 200 / 10) */
    int json;
    int sbp_off;           /* spread disabled (relax: with the symmetric base rule) */
    sbp_bench_events_fn events; /* NULL: events not reported */
    sbp_bench_spikes_fn spikes; /* NULL: spikes per layer not reported */
} sbp_bench_opts;

/* Relax engine on MNIST 784-500-10, batch 50: seconds per training epoch
 * on the fast and the naive (per-step recomputation) paths, measured in one
 * run, and achieved GFLOP/s against the machine's sgemm rate measured in
 * the same run. Returns an exit status. */
int sbp_tool_bench_relax(const sbp_bench_opts *o, FILE *out, FILE *err);

/* Spike engine on MNIST 784-500-10 with its defaults (Poisson input at
 * spike.max_rate 200 Hz, 50 steps of 1 ms, supervised STDP on the output
 * projection, SBP spread on unless sbp_off): one training pass over the
 * first `samples` training images (default 2000), timed; then the same
 * pass at spike.max_rate 25, 50, 100, 200 and 400 Hz. Prints seconds and
 * samples/s, and synaptic events and events/s when o->events is set.
 * Returns an exit status. */
int sbp_tool_bench_spike(const sbp_bench_opts *o, FILE *out, FILE *err);

#define SBP_BENCH_SPIKE_DEFAULT_SAMPLES 2000

/* Dense engines on MNIST, one pass timed per epoch over the first
 * `samples` training images (default: all), SBP_BENCH_DENSE_EPOCHS epochs
 * on one network, fastest epoch reported; FLOPs of the matrix products of
 * one epoch counted, achieved GFLOP/s against the sgemm rate measured in
 * the same run (tools/bench_dense.c; bench/run-dense-vs-sklearn runs them
 * beside scikit-learn).
 * ann: 784-500-10 MLP, ReLU, softmax cross-entropy, SGD (rate 0.1,
 *   momentum 0.9), batch 200 (MLPClassifier's 'auto'); hidden layer by BP
 *   (MLPClassifier's algorithm), then by SBP unless sbp_off.
 * rbm: 500 hidden units, rate 0.1, batch 10 (BernoulliRBM's default): the
 *   unsupervised 784-500 RBM with persistent CD-1, no momentum, weight decay
 *   or reconstruction error (BernoulliRBM's algorithm and work), the
 *   classification RBM (784 + 10
 *   visible) with CD-1 and the engine's momentum 0.5 and weight decay
 *   1e-4, then the same with the SBP spread unless sbp_off.
 * Return an exit status. */
int sbp_tool_bench_ann(const sbp_bench_opts *o, FILE *out, FILE *err);
int sbp_tool_bench_rbm(const sbp_bench_opts *o, FILE *out, FILE *err);

#define SBP_BENCH_DENSE_EPOCHS 2
#define SBP_BENCH_ANN_DEFAULT_BATCH 200
#define SBP_BENCH_RBM_DEFAULT_BATCH 10

/* Shared by the benchmarks (tools/bench.c). */
double sbp_tool_bench_now(void);     /* monotonic seconds */
double sbp_tool_sgemm_peak(void);    /* GFLOP/s of a 1024^3 sgemm, best of 3; NaN: no CBLAS */
int sbp_tool_blas_threads(void);     /* OpenBLAS's thread count; -1 when not known */

#endif
