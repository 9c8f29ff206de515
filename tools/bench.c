/* sbp bench relax / spike: speed of the engines, measured, never asserted.
 *
 * relax: figures come from one process run so that they can be compared:
 * the machine's single-precision GEMM rate (the ceiling for the engine's
 * matrix work), the fast path and the naive path (the input product
 * recomputed at every LIF step, as the authors' code does). The naive
 * path is timed on a subset and scaled to a full epoch.
 *
 * spike: one training pass of the event-driven engine, then the same pass
 * at several input rates. Only the public API is used here; the synaptic
 * event counter is private to the library, so events are reported only
 * when the caller passes a probe (bench/spike_events.c does). */
#include "bench.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sbp/sbp.h"

#if SBP_TOOL_HAVE_CBLAS
#include <cblas.h>
#endif

double sbp_tool_bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double now(void)
{
    return sbp_tool_bench_now();
}

int sbp_tool_blas_threads(void)
{
#if SBP_TOOL_HAVE_CBLAS && defined(OPENBLAS_VERSION)
    return openblas_get_num_threads();
#else
    return -1;
#endif
}

/* GFLOP/s of a 1024^3 sgemm through the same BLAS the library uses (best
 * of three), or NaN without a CBLAS. */
double sbp_tool_sgemm_peak(void)
{
#if SBP_TOOL_HAVE_CBLAS
    const int n = 1024;
    float *a = malloc(sizeof(float) * (size_t)n * (size_t)n);
    float *b = malloc(sizeof(float) * (size_t)n * (size_t)n);
    float *c = malloc(sizeof(float) * (size_t)n * (size_t)n);
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return NAN;
    }
    for (size_t i = 0; i < (size_t)n * (size_t)n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    double best = 0.0;
    for (int rep = 0; rep < 4; rep++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        double dt = now() - t0;
        double gf = 2.0 * n * (double)n * n / dt * 1e-9;
        if (rep > 0 && gf > best) best = gf; /* first call warms up the pool */
    }
    free(a);
    free(b);
    free(c);
    return best;
#else
    return NAN;
#endif
}

/* Matrix-product FLOPs of one batch of B samples of the relax engine with
 * sizes m-n-k (fast path); the naive path adds the input product at each
 * of the remaining LIF steps. Elementwise work is not counted. */
static double batch_flops(double B, double m, double n, double k, int naive)
{
    double steps = 100, free_it = 20, nudge_it = 5;
    double f = 2 * B * m * n;                      /* x W0, once */
    if (naive) f += (steps - 1) * 2 * B * m * n;   /* ... or at every step */
    f += steps * 2 * B * n * k;                    /* s1 W1 at every LIF step */
    f += (free_it + nudge_it) * 2 * (2 * B * n * k); /* s2 W1' and s1 W1 per sweep */
    f += 2 * m * B * n + 2 * n * B * k;            /* weight changes */
    return f;
}

static sbp_status build_net(unsigned threads, int naive, int sbp_off, sbp_net **out, char *msg,
                            size_t len)
{
    sbp_net *net;
    sbp_status st = sbp_net_create(SBP_ENGINE_RELAX, 0, &net);
    if (st != SBP_OK) {
        snprintf(msg, len, "%s", sbp_status_str(st));
        return st;
    }
    size_t sizes[3] = {784, 500, 10};
    for (int i = 0; i < 3 && st == SBP_OK; i++) {
        sbp_layer *l;
        st = sbp_layer_create(sizes[i], &l);
        if (st == SBP_OK) st = sbp_net_add_layer(net, l);
        sbp_layer_free(l);
    }
    sbp_rule *r = NULL;
    if (st == SBP_OK) st = sbp_rule_create(SBP_RULE_SBP_SPREAD, &r);
    if (st == SBP_OK) st = sbp_rule_set_int(r, SBP_SPREAD_ENABLED, sbp_off ? 0 : 1);
    for (size_t l = 1; l < 3 && st == SBP_OK; l++) st = sbp_net_attach_rule(net, l, r);
    sbp_rule_free(r);
    if (st == SBP_OK)
        st = sbp_net_set_int(net, SBP_RELAX_BASE_RULE, sbp_off ? SBP_BASE_SYMMETRIC : SBP_BASE_SBP);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_NET_THREADS, threads);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_RELAX_NAIVE, naive);
    if (st != SBP_OK) {
        snprintf(msg, len, "%s", sbp_net_errmsg(net));
        sbp_net_free(net);
        return st;
    }
    *out = net;
    return SBP_OK;
}

/* Seconds of one training pass over `data`. */
static int time_epoch(const sbp_bench_opts *o, int naive, const sbp_dataset *data, double *sec,
                      FILE *err)
{
    char msg[512];
    sbp_net *net;
    if (build_net(o->threads, naive, o->sbp_off, &net, msg, sizeof msg) != SBP_OK) {
        fprintf(err, "sbp: bench relax: %s\n", msg);
        return 1;
    }
    double t0 = now(), train_err;
    sbp_status st = sbp_net_train_epoch(net, data, &train_err);
    *sec = now() - t0;
    if (st != SBP_OK) fprintf(err, "sbp: bench relax: %s\n", sbp_net_errmsg(net));
    sbp_net_free(net);
    return st == SBP_OK ? 0 : 1;
}

int sbp_tool_bench_relax(const sbp_bench_opts *o, FILE *out, FILE *err)
{
    sbp_diag diag;
    sbp_dataset *all = NULL, *fast = NULL, *slow = NULL;
    if (sbp_dataset_load_mnist(o->data_dir, SBP_MNIST_TRAIN, &diag, &all) != SBP_OK) {
        fprintf(err, "sbp: bench relax: %s\n", diag.message);
        return 1;
    }
    size_t n_all = sbp_dataset_count(all);
    size_t n_fast = o->samples && o->samples < n_all ? o->samples : n_all;
    size_t n_slow = o->naive_samples ? o->naive_samples : 1000;
    if (n_slow > n_fast) n_slow = n_fast;
    int rc = 1;
    if (sbp_dataset_subset(all, 0, n_fast, &fast) != SBP_OK ||
        sbp_dataset_subset(all, 0, n_slow, &slow) != SBP_OK) {
        fprintf(err, "sbp: bench relax: %s\n", sbp_dataset_errmsg(all));
        goto done;
    }
    if (!o->json)
        fprintf(err, "sbp: bench relax: measuring sgemm, then %zu samples fast, %zu naive\n",
                n_fast, n_slow);
    double peak = sbp_tool_sgemm_peak();
    double t_fast, t_slow, t_fast_small;
    if (time_epoch(o, 0, fast, &t_fast, err) || time_epoch(o, 0, slow, &t_fast_small, err) ||
        time_epoch(o, 1, slow, &t_slow, err))
        goto done;
    const double epoch = 60000.0, B = 50.0;
    double per_epoch_fast = t_fast / (double)n_fast * epoch;
    double per_epoch_naive = t_slow / (double)n_slow * epoch;
    double batches_fast = ceil((double)n_fast / B), batches_slow = ceil((double)n_slow / B);
    double gf_fast = batches_fast * batch_flops(B, 784, 500, 10, 0) / t_fast * 1e-9;
    double gf_naive = batches_slow * batch_flops(B, 784, 500, 10, 1) / t_slow * 1e-9;
    unsigned threads = o->threads ? o->threads : sbp_default_threads();
    if (o->json) {
        fprintf(out,
                "{\"benchmark\":\"relax\",\"network\":\"784-500-10\",\"batch\":50,"
                "\"sbp\":%s,\"threads\":%u,\"blas\":\"%s\",\"sgemm_gflops\":%.2f,"
                "\"fast_samples\":%zu,\"fast_seconds\":%.3f,\"fast_seconds_per_epoch\":%.2f,"
                "\"fast_gflops\":%.2f,\"naive_samples\":%zu,\"naive_seconds\":%.3f,"
                "\"naive_seconds_per_epoch\":%.2f,\"naive_gflops\":%.2f,"
                "\"speedup_same_samples\":%.2f}\n",
                o->sbp_off ? "false" : "true", threads, sbp_blas_name(), peak, n_fast, t_fast,
                per_epoch_fast, gf_fast, n_slow, t_slow, per_epoch_naive, gf_naive,
                t_slow / t_fast_small);
    } else {
        fprintf(out, "relax engine, MNIST 784-500-10, batch 50, %s\n",
                o->sbp_off ? "symmetric rule, SBP spread off" : "sbp rule + SBP spread");
        fprintf(out, "  BLAS                %s\n", sbp_blas_name());
        fprintf(out, "  net.threads         %u\n", threads);
        fprintf(out, "  sgemm 1024^3        %.1f GFLOP/s (this machine, this run)\n", peak);
        fprintf(out, "  fast path           %.2f s for %zu samples = %.1f s per 60000-sample epoch\n",
                t_fast, n_fast, per_epoch_fast);
        fprintf(out, "                      %.1f GFLOP/s of matrix work = %.0f %% of sgemm\n",
                gf_fast, 100.0 * gf_fast / peak);
        fprintf(out, "  naive path          %.2f s for %zu samples = %.1f s per epoch (scaled)\n",
                t_slow, n_slow, per_epoch_naive);
        fprintf(out, "                      %.1f GFLOP/s of matrix work = %.0f %% of sgemm\n",
                gf_naive, 100.0 * gf_naive / peak);
        fprintf(out, "  speed-up            %.1fx (fast vs naive on the same %zu samples)\n",
                t_slow / t_fast_small, n_slow);
    }
    rc = 0;
done:
    sbp_dataset_free(fast);
    sbp_dataset_free(slow);
    sbp_dataset_free(all);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* sbp bench spike                                                           */
/* ------------------------------------------------------------------------ */

/* Input rates of the scaling table (spike.max_rate, Hz); 200 is the default. */
static const double spike_rates[] = {25.0, 50.0, 100.0, 200.0, 400.0};
#define N_SPIKE_RATES (sizeof spike_rates / sizeof spike_rates[0])
#define SPIKE_LAYERS 3

typedef struct spike_run {
    double max_rate;
    double seconds;
    double train_error;
    size_t events;                /* synaptic events of the pass (with a probe) */
    size_t spikes[SPIKE_LAYERS];  /* spikes per layer of the pass (with a probe) */
} spike_run;

/* 784-500-10 spike network, engine defaults, seed 1, the SBP spread rule on
 * both projections (enabled unless sbp_off), input rate max_rate. */
static sbp_status build_spike(const sbp_bench_opts *o, double max_rate, sbp_net **out,
                              char *msg, size_t len)
{
    sbp_net *net;
    sbp_status st = sbp_net_create(SBP_ENGINE_SPIKE, 1, &net);
    if (st != SBP_OK) {
        snprintf(msg, len, "%s", sbp_status_str(st));
        return st;
    }
    size_t sizes[SPIKE_LAYERS] = {784, 500, 10};
    for (int i = 0; i < SPIKE_LAYERS && st == SBP_OK; i++) {
        sbp_layer *l;
        st = sbp_layer_create(sizes[i], &l);
        if (st == SBP_OK) st = sbp_net_add_layer(net, l);
        sbp_layer_free(l);
    }
    sbp_rule *r = NULL;
    if (st == SBP_OK) st = sbp_rule_create(SBP_RULE_SBP_SPREAD, &r);
    if (st == SBP_OK) st = sbp_rule_set_int(r, SBP_SPREAD_ENABLED, o->sbp_off ? 0 : 1);
    for (size_t l = 1; l < SPIKE_LAYERS && st == SBP_OK; l++) st = sbp_net_attach_rule(net, l, r);
    sbp_rule_free(r);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_NET_THREADS, o->threads);
    if (st == SBP_OK) st = sbp_net_set_real(net, SBP_SPIKE_MAX_RATE, max_rate);
    if (st != SBP_OK) {
        snprintf(msg, len, "%s", sbp_net_errmsg(net));
        sbp_net_free(net);
        return st;
    }
    *out = net;
    return SBP_OK;
}

/* One training pass over `data` on a fresh network; the clock covers
 * sbp_net_train_epoch only (which also builds the network's state). */
static int time_spike(const sbp_bench_opts *o, double max_rate, const sbp_dataset *data,
                      spike_run *r, int64_t *batch, FILE *err)
{
    char msg[512];
    sbp_net *net;
    memset(r, 0, sizeof *r);
    r->max_rate = max_rate;
    if (build_spike(o, max_rate, &net, msg, sizeof msg) != SBP_OK) {
        fprintf(err, "sbp: bench spike: %s\n", msg);
        return 1;
    }
    if (batch) sbp_net_get_int(net, SBP_NET_BATCH_SIZE, batch);
    size_t e0 = o->events ? o->events(net) : 0, s0[SPIKE_LAYERS] = {0};
    for (size_t l = 0; o->spikes && l < SPIKE_LAYERS; l++) s0[l] = o->spikes(net, l);
    double t0 = now();
    sbp_status st = sbp_net_train_epoch(net, data, &r->train_error);
    r->seconds = now() - t0;
    if (o->events) r->events = o->events(net) - e0;
    for (size_t l = 0; o->spikes && l < SPIKE_LAYERS; l++) r->spikes[l] = o->spikes(net, l) - s0[l];
    if (st != SBP_OK) fprintf(err, "sbp: bench spike: %s\n", sbp_net_errmsg(net));
    sbp_net_free(net);
    return st == SBP_OK ? 0 : 1;
}

static void json_run(FILE *out, const sbp_bench_opts *o, const spike_run *r, size_t n)
{
    fprintf(out, "\"max_rate\":%g,\"seconds\":%.4f,\"samples_per_second\":%.1f", r->max_rate,
            r->seconds, (double)n / r->seconds);
    if (o->events)
        fprintf(out, ",\"events\":%zu,\"events_per_second\":%.4g,\"events_per_sample\":%.1f",
                r->events, (double)r->events / r->seconds, (double)r->events / (double)n);
    else
        fprintf(out, ",\"events\":null,\"events_per_second\":null,\"events_per_sample\":null");
    if (o->spikes)
        fprintf(out, ",\"spikes_per_sample\":[%.1f,%.1f,%.1f]", (double)r->spikes[0] / (double)n,
                (double)r->spikes[1] / (double)n, (double)r->spikes[2] / (double)n);
    else
        fprintf(out, ",\"spikes_per_sample\":null");
}

int sbp_tool_bench_spike(const sbp_bench_opts *o, FILE *out, FILE *err)
{
    sbp_diag diag;
    sbp_dataset *all = NULL, *data = NULL;
    if (sbp_dataset_load_mnist(o->data_dir, SBP_MNIST_TRAIN, &diag, &all) != SBP_OK) {
        fprintf(err, "sbp: bench spike: %s\n", diag.message);
        return 1;
    }
    size_t n_all = sbp_dataset_count(all);
    size_t n = o->samples ? o->samples : SBP_BENCH_SPIKE_DEFAULT_SAMPLES;
    if (n > n_all) n = n_all;
    int rc = 1;
    if (sbp_dataset_subset(all, 0, n, &data) != SBP_OK) {
        fprintf(err, "sbp: bench spike: %s\n", sbp_dataset_errmsg(all));
        goto done;
    }
    if (!o->json)
        fprintf(err, "sbp: bench spike: %zu samples at 200 Hz, then at %zu input rates\n", n,
                N_SPIKE_RATES);
    spike_run main_run, runs[N_SPIKE_RATES];
    int64_t batch = 0;
    if (time_spike(o, 200.0, data, &main_run, &batch, err)) goto done;
    for (size_t i = 0; i < N_SPIKE_RATES; i++)
        if (time_spike(o, spike_rates[i], data, &runs[i], NULL, err)) goto done;
    unsigned threads = o->threads ? o->threads : sbp_default_threads();
    const char *spread = o->sbp_off ? "off" : "on";
    if (o->json) {
        fprintf(out,
                "{\"benchmark\":\"spike\",\"network\":\"784-500-10\",\"steps\":50,\"dt_ms\":1,"
                "\"batch\":%" PRId64 ",\"sbp\":%s,\"threads\":%u,\"samples\":%zu,",
                batch, o->sbp_off ? "false" : "true", threads, n);
        json_run(out, o, &main_run, n);
        fprintf(out, ",\"rates\":[");
        for (size_t i = 0; i < N_SPIKE_RATES; i++) {
            fprintf(out, "%s{", i ? "," : "");
            json_run(out, o, &runs[i], n);
            fprintf(out, "}");
        }
        fprintf(out, "]}\n");
        rc = 0;
        goto done;
    }
    fprintf(out, "spike engine, MNIST 784-500-10, 50 steps of 1 ms, Poisson input, supervised "
                 "STDP on the output, SBP spread %s\n", spread);
    fprintf(out, "  net.threads         %u\n", threads);
    fprintf(out, "  training pass       %zu samples, batch %" PRId64 ", spike.max_rate 200 Hz\n",
            n, batch);
    fprintf(out, "  time                %.3f s = %.0f samples/s\n", main_run.seconds,
            (double)n / main_run.seconds);
    if (o->events)
        fprintf(out, "  synaptic events     %.4g = %.4g events/s (%.3g per sample)\n",
                (double)main_run.events, (double)main_run.events / main_run.seconds,
                (double)main_run.events / (double)n);
    else
        fprintf(out, "  synaptic events     not visible through the public API; "
                     "build/bench/spike-events reports them\n");
    if (o->spikes)
        fprintf(out, "  spikes per sample   input %.0f, hidden %.0f, output %.1f\n",
                (double)main_run.spikes[0] / (double)n, (double)main_run.spikes[1] / (double)n,
                (double)main_run.spikes[2] / (double)n);
    fprintf(out, "  input-rate scaling  (the same %zu samples, a fresh network each)\n", n);
    fprintf(out, "    max_rate   seconds  samples/s");
    if (o->events) fprintf(out, "   events/sample     events/s");
    fprintf(out, "\n");
    for (size_t i = 0; i < N_SPIKE_RATES; i++) {
        const spike_run *r = &runs[i];
        fprintf(out, "    %5.0f Hz  %8.3f  %9.0f", r->max_rate, r->seconds,
                (double)n / r->seconds);
        if (o->events)
            fprintf(out, "   %13.4g  %11.4g", (double)r->events / (double)n,
                    (double)r->events / r->seconds);
        fprintf(out, "\n");
    }
    rc = 0;
done:
    sbp_dataset_free(data);
    sbp_dataset_free(all);
    return rc;
}
