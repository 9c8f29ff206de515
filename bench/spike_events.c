/* bench/spike-events: `sbp bench spike` with the synaptic event counter.
 *
 * The `sbp` tool uses only the public API, which has no event counter, so
 * it reports seconds and samples/s. This program runs the same benchmark
 * (tools/bench.c) but links the library's private core, so it can pass
 * sbp__spike_events and sbp__spike_count (lib/spike.h) as probes and also
 * report synaptic events, events/s and spikes per layer. It is built with
 * the project (build/bench/spike-events), never installed.
 *
 * Usage: spike-events [--data DIR] [--train-limit N] [--threads N]
 *                     [--sbp on|off] [--json]
 * Data: --data, else $SBP_DATA, else the source tree's data/mnist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "spike.h"

#ifndef SBP_SOURCE_DIR
#define SBP_SOURCE_DIR "."
#endif

static int usage(const char *what)
{
    fprintf(stderr,
            "spike-events: %s\n"
            "usage: spike-events [--data DIR] [--train-limit N] [--threads N] [--sbp on|off] "
            "[--json]\n",
            what);
    return 2;
}

static int parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static char data[4096];
    const char *env = getenv("SBP_DATA");
    snprintf(data, sizeof data, "%s", env && *env ? env : SBP_SOURCE_DIR "/data/mnist");
    sbp_bench_opts o;
    memset(&o, 0, sizeof o);
    o.data_dir = data;
    o.events = sbp__spike_events;
    o.spikes = sbp__spike_count;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long n;
        if (strcmp(a, "--json") == 0) {
            o.json = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: spike-events [--data DIR] [--train-limit N] [--threads N] "
                   "[--sbp on|off] [--json]\n"
                   "`sbp bench spike` plus synaptic events/s from the library's counter.\n");
            return 0;
        } else if (!v) {
            return usage("missing value or unknown option");
        } else if (strcmp(a, "--data") == 0) {
            snprintf(data, sizeof data, "%s", v);
            i++;
        } else if (strcmp(a, "--train-limit") == 0) {
            if (parse_count(v, 100000000ULL, &n) || n == 0) return usage("--train-limit: bad value");
            o.samples = (size_t)n;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (parse_count(v, 1024, &n)) return usage("--threads: bad value");
            o.threads = (unsigned)n;
            i++;
        } else if (strcmp(a, "--sbp") == 0) {
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) return usage("--sbp: on or off");
            o.sbp_off = strcmp(v, "off") == 0;
            i++;
        } else {
            return usage("unknown option");
        }
    }
    return sbp_tool_bench_spike(&o, stdout, stderr);
}
