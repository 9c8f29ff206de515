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

#endif
