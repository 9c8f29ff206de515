/* `sbp bench events` (tools/bench_events.c): events per second read and
 * binned into frames, for a large synthetic AEDAT 3.1 file and the real
 * N-MNIST and DVS128 recordings. */
#ifndef SBP_BENCH_EVENTS_H
#define SBP_BENCH_EVENTS_H

#include <stddef.h>
#include <stdio.h>

typedef struct sbp_bench_events_opts {
    const char *nmnist_dir; /* <id>.bs2 + labels.txt; NULL: skipped */
    const char *dvs_dir;    /* holds slayer_1..4.bs2 (128 x 128); NULL: skipped */
    size_t aedat_events;    /* events in the synthetic AEDAT file (0: default) */
    int json;
} sbp_bench_events_opts;

#define SBP_BENCH_EVENTS_DEFAULT_AEDAT 10000000u

/* Prints the figures (or one JSON object) to out; returns an exit status. */
int sbp_tool_bench_events(const sbp_bench_events_opts *o, FILE *out, FILE *err);

/* `sbp bench events [--data DIR] [--json]`: N-MNIST from nmnist_dir (NULL:
 * ../shared/data/nmnist/train beside the source tree, when present), the
 * DVS128 recordings from the dvs128_gesture folder next to it. */
int sbp_tool_bench_events_run(const char *nmnist_dir, int json, FILE *out, FILE *err);

#endif
