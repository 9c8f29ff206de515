/* sbp bench ann / rbm: seconds per training epoch of the dense engines,
 * with the FLOPs of their matrix products and the machine's sgemm rate
 * measured in the same process. Measured, never asserted.
 *
 * The settings are those of scikit-learn's MLPClassifier and BernoulliRBM
 * (bench/sklearn_dense.py writes the same networks there), so that
 * bench/run-dense-vs-sklearn can print both sides from one run on the same
 * data: see bench/README.md for what is the same and what differs.
 *
 * FLOPs count the GEMMs only (2 m n k each); elementwise work (activations,
 * sampling, optimizer steps) is not counted, on either side. Per sample,
 * with m = 784 inputs, n = 500 hidden, k = 10 outputs / labels:
 *   ann, BP:   forward 2(mn + nk); output gradient 2nk, hidden error
 *              2nk (E W2'), hidden gradient 2mn: 4mn + 6nk. SBP mode:
 *              the hidden error S = A (.) (E Omega') is 2nk too, the same.
 *   rbm, CD-1: x W, v = h W', h_k = v W, x'h0 and v'h_k: 10mn; the
 *              classification RBM adds the label products: + 10nk; the
 *              additive spread adds X'S: + 2mn; the unsupervised persistent
 *              chain would add the data's reconstruction h0 W' (+ 2mn), but
 *              it runs with cd.monitor 0 here, as BernoulliRBM computes no
 *              training error.
 * Only the public API is used. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "sbp/sbp.h"

#define M_IN 784
#define N_HID 500
#define K_OUT 10
#define NET_SEED 1
#define ANN_RATE 0.1
#define ANN_MOMENTUM 0.9
#define RBM_RATE 0.1
#define MAX_RUNS 3

typedef struct dense_run {
    const char *name;   /* JSON key */
    const char *label;  /* text table */
    const char *sklearn;/* the scikit-learn row it compares with, or NULL */
    double flops_per_sample;
    double seconds[SBP_BENCH_DENSE_EPOCHS];
    double best;        /* fastest epoch */
    double train_error; /* last epoch (rbm unsupervised: reconstruction error) */
    double test_error;  /* after the timed epochs; NaN: not measured */
} dense_run;

/* What a benchmark needs from its engine: a network builder per run. */
typedef sbp_status (*build_fn)(const sbp_bench_opts *o, size_t batch, int variant,
                               sbp_net **out, char *msg, size_t len);

/* Adds layers of the given sizes; on the hidden layer (index 1) sets the
 * activation when act > 0; every layer after the input gets `rate`. */
static sbp_status add_layers(sbp_net *net, const size_t *sizes, size_t count, int act,
                             double rate)
{
    sbp_status st = SBP_OK;
    for (size_t i = 0; i < count && st == SBP_OK; i++) {
        sbp_layer *l;
        st = sbp_layer_create(sizes[i], &l);
        if (st == SBP_OK && i > 0) st = sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, rate);
        if (st == SBP_OK && i == 1 && act > 0)
            st = sbp_layer_set_int(l, SBP_LAYER_ACTIVATION, act);
        if (st == SBP_OK) st = sbp_net_add_layer(net, l);
        sbp_layer_free(l);
    }
    return st;
}

/* An enabled SBP spread rule (the engine's defaults) on layer 1. */
static sbp_status attach_spread(sbp_net *net)
{
    sbp_rule *r = NULL;
    sbp_status st = sbp_rule_create(SBP_RULE_SBP_SPREAD, &r);
    if (st == SBP_OK) st = sbp_rule_set_int(r, SBP_SPREAD_ENABLED, 1);
    if (st == SBP_OK) st = sbp_net_attach_rule(net, 1, r);
    sbp_rule_free(r);
    return st;
}

static sbp_status finish(sbp_net *net, sbp_status st, sbp_net **out, char *msg, size_t len)
{
    if (st != SBP_OK) {
        snprintf(msg, len, "%s", sbp_net_errmsg(net));
        sbp_net_free(net);
        return st;
    }
    *out = net;
    return SBP_OK;
}

/* ann variants: 0 hidden layer by BP, 1 by SBP. */
static sbp_status build_ann(const sbp_bench_opts *o, size_t batch, int variant, sbp_net **out,
                            char *msg, size_t len)
{
    sbp_net *net;
    sbp_status st = sbp_net_create(SBP_ENGINE_ANN, NET_SEED, &net);
    if (st != SBP_OK) {
        snprintf(msg, len, "%s", sbp_status_str(st));
        return st;
    }
    const size_t sizes[3] = {M_IN, N_HID, K_OUT};
    st = add_layers(net, sizes, 3, SBP_ACT_RELU, ANN_RATE);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_NET_BATCH_SIZE, (int64_t)batch);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_NET_THREADS, o->threads);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_ANN_LOSS, SBP_LOSS_SOFTMAX_XENT);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_ANN_OPTIMIZER, SBP_OPT_SGD);
    if (st == SBP_OK) st = sbp_net_set_real(net, SBP_ANN_MOMENTUM, ANN_MOMENTUM);
    if (st == SBP_OK)
        st = sbp_net_set_int(net, SBP_ANN_HIDDEN_MODE, variant ? SBP_HIDDEN_SBP : SBP_HIDDEN_BP);
    if (st == SBP_OK && variant) st = attach_spread(net);
    return finish(net, st, out, msg, len);
}

/* rbm variants: 0 unsupervised 784-500, persistent CD-1, no momentum or
 * decay; 1 classification RBM, CD-1 with the engine's momentum and decay;
 * 2 the same with the SBP spread. */
static sbp_status build_rbm(const sbp_bench_opts *o, size_t batch, int variant, sbp_net **out,
                            char *msg, size_t len)
{
    sbp_net *net;
    sbp_status st = sbp_net_create(SBP_ENGINE_RBM, NET_SEED, &net);
    if (st != SBP_OK) {
        snprintf(msg, len, "%s", sbp_status_str(st));
        return st;
    }
    const size_t sizes[3] = {M_IN, N_HID, K_OUT};
    st = add_layers(net, sizes, variant == 0 ? 2 : 3, 0, RBM_RATE);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_NET_BATCH_SIZE, (int64_t)batch);
    if (st == SBP_OK) st = sbp_net_set_int(net, SBP_NET_THREADS, o->threads);
    sbp_rule *cd = NULL;
    if (st == SBP_OK) st = sbp_rule_create(SBP_RULE_RBM_CD, &cd);
    if (st == SBP_OK) st = sbp_rule_set_int(cd, SBP_CD_K, 1);
    if (st == SBP_OK && variant == 0) st = sbp_rule_set_int(cd, SBP_CD_PERSISTENT, 1);
    if (st == SBP_OK && variant == 0) st = sbp_rule_set_real(cd, SBP_CD_MOMENTUM, 0.0);
    if (st == SBP_OK && variant == 0) st = sbp_rule_set_real(cd, SBP_CD_WEIGHT_DECAY, 0.0);
    /* BernoulliRBM.fit computes no training error either */
    if (st == SBP_OK && variant == 0) st = sbp_rule_set_int(cd, SBP_CD_MONITOR, 0);
    if (st == SBP_OK) st = sbp_net_attach_rule(net, 1, cd);
    sbp_rule_free(cd);
    if (st == SBP_OK && variant == 2) st = attach_spread(net);
    return finish(net, st, out, msg, len);
}

/* SBP_BENCH_DENSE_EPOCHS timed epochs on one fresh network, then the test
 * error (classifiers only, when a test set is given). */
static int time_run(const char *bench, const sbp_bench_opts *o, build_fn build, size_t batch,
                    int variant, const sbp_dataset *train, const sbp_dataset *test,
                    int classifies, dense_run *r, FILE *err)
{
    char msg[512];
    sbp_net *net;
    if (build(o, batch, variant, &net, msg, sizeof msg) != SBP_OK) {
        fprintf(err, "sbp: bench %s: %s\n", bench, msg);
        return 1;
    }
    sbp_status st = SBP_OK;
    r->best = INFINITY;
    for (int e = 0; e < SBP_BENCH_DENSE_EPOCHS && st == SBP_OK; e++) {
        double t0 = sbp_tool_bench_now();
        st = sbp_net_train_epoch(net, train, &r->train_error);
        r->seconds[e] = sbp_tool_bench_now() - t0;
        if (r->seconds[e] < r->best) r->best = r->seconds[e];
    }
    r->test_error = NAN;
    if (st == SBP_OK && classifies && test) st = sbp_net_evaluate(net, test, &r->test_error);
    if (st != SBP_OK) fprintf(err, "sbp: bench %s: %s\n", bench, sbp_net_errmsg(net));
    sbp_net_free(net);
    return st == SBP_OK ? 0 : 1;
}

static void json_num(FILE *out, const char *key, double v, const char *fmt)
{
    fprintf(out, ",\"%s\":", key);
    if (isfinite(v))
        fprintf(out, fmt, v);
    else
        fprintf(out, "null");
}

static void print_report(const char *bench, const char *title, const sbp_bench_opts *o,
                         size_t batch, size_t n, double peak, const dense_run *runs,
                         size_t n_runs, int have_test, FILE *out)
{
    unsigned threads = o->threads ? o->threads : sbp_default_threads();
    int blas_threads = sbp_tool_blas_threads();
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    if (o->json) {
        fprintf(out,
                "{\"benchmark\":\"%s\",\"batch\":%zu,\"samples\":%zu,\"epochs\":%d,"
                "\"net_threads\":%u,\"openblas_num_threads\":",
                bench, batch, n, SBP_BENCH_DENSE_EPOCHS, threads);
        if (env)
            fprintf(out, "\"%s\"", env);
        else
            fprintf(out, "null");
        fprintf(out, ",\"blas_threads\":%d,\"blas\":\"%s\"", blas_threads, sbp_blas_name());
        json_num(out, "sgemm_gflops", peak, "%.2f");
        fprintf(out, ",\"runs\":[");
        for (size_t i = 0; i < n_runs; i++) {
            const dense_run *r = &runs[i];
            double flops = r->flops_per_sample * (double)n;
            fprintf(out, "%s{\"name\":\"%s\",\"sklearn\":", i ? "," : "", r->name);
            if (r->sklearn)
                fprintf(out, "\"%s\"", r->sklearn);
            else
                fprintf(out, "null");
            fprintf(out, ",\"seconds\":[");
            for (int e = 0; e < SBP_BENCH_DENSE_EPOCHS; e++)
                fprintf(out, "%s%.4f", e ? "," : "", r->seconds[e]);
            fprintf(out, "],\"seconds_per_epoch\":%.4f,\"flops_per_epoch\":%.6g", r->best, flops);
            json_num(out, "gflops", flops / r->best * 1e-9, "%.2f");
            json_num(out, "train_error", r->train_error, "%.6f");
            json_num(out, "test_error", r->test_error, "%.6f");
            fprintf(out, "}");
        }
        fprintf(out, "]}\n");
        return;
    }
    fprintf(out, "%s\n", title);
    fprintf(out, "  data                %zu training samples, batch %zu, %d epochs timed on one "
                 "network, seed %d\n", n, batch, SBP_BENCH_DENSE_EPOCHS, NET_SEED);
    fprintf(out, "  BLAS                %s\n", sbp_blas_name());
    fprintf(out, "  threads             net.threads %u; OPENBLAS_NUM_THREADS %s", threads,
            env ? env : "unset");
    if (blas_threads > 0) fprintf(out, " (OpenBLAS runs %d)", blas_threads);
    fprintf(out, "\n");
    fprintf(out, "  sgemm 1024^3        %.1f GFLOP/s (this machine, this run)\n", peak);
    fprintf(out, "  %-44s %9s %9s %9s %7s %6s %9s\n", "run", "s/epoch", "epochs(s)", "GFLOP",
            "GFLOP/s", "sgemm", "test err");
    for (size_t i = 0; i < n_runs; i++) {
        const dense_run *r = &runs[i];
        double flops = r->flops_per_sample * (double)n, gf = flops / r->best * 1e-9;
        char each[64] = "";
        size_t used = 0;
        for (int e = 0; e < SBP_BENCH_DENSE_EPOCHS && used < sizeof each; e++)
            used += (size_t)snprintf(each + used, sizeof each - used, "%s%.2f", e ? "/" : "",
                                     r->seconds[e]);
        fprintf(out, "  %-44s %9.3f %9s %9.1f %7.1f %5.0f%%", r->label, r->best, each,
                flops * 1e-9, gf, 100.0 * gf / peak);
        if (isfinite(r->test_error))
            fprintf(out, " %8.2f%%\n", 100.0 * r->test_error);
        else
            fprintf(out, " %9s\n", have_test ? "-" : "no data");
    }
    fprintf(out, "  s/epoch is the fastest of the %d epochs (each listed); GFLOP counts the "
                 "GEMMs of one epoch\n", SBP_BENCH_DENSE_EPOCHS);
}

typedef struct dense_spec {
    const char *bench;
    build_fn build;
    size_t default_batch;
} dense_spec;

/* Loads the data, measures sgemm, times every run, prints the report. */
static int run_dense(const dense_spec *spec, const sbp_bench_opts *o, dense_run *runs,
                     const int *variants, const int *classifies, size_t n_runs, const char *title,
                     FILE *out, FILE *err)
{
    sbp_diag diag;
    sbp_dataset *all = NULL, *train = NULL, *test = NULL;
    if (sbp_dataset_load_mnist(o->data_dir, SBP_MNIST_TRAIN, &diag, &all) != SBP_OK) {
        fprintf(err, "sbp: bench %s: %s\n", spec->bench, diag.message);
        return 1;
    }
    if (sbp_dataset_load_mnist(o->data_dir, SBP_MNIST_TEST, &diag, &test) != SBP_OK) test = NULL;
    size_t n_all = sbp_dataset_count(all);
    size_t n = o->samples && o->samples < n_all ? o->samples : n_all;
    size_t batch = o->batch ? o->batch : spec->default_batch;
    int rc = 1;
    if (sbp_dataset_subset(all, 0, n, &train) != SBP_OK) {
        fprintf(err, "sbp: bench %s: %s\n", spec->bench, sbp_dataset_errmsg(all));
        goto done;
    }
    if (!o->json)
        fprintf(err, "sbp: bench %s: measuring sgemm, then %zu run(s) of %d epochs on %zu "
                     "samples\n", spec->bench, n_runs, SBP_BENCH_DENSE_EPOCHS, n);
    double peak = sbp_tool_sgemm_peak();
    for (size_t i = 0; i < n_runs; i++)
        if (time_run(spec->bench, o, spec->build, batch, variants[i], train, test, classifies[i],
                     &runs[i], err))
            goto done;
    print_report(spec->bench, title, o, batch, n, peak, runs, n_runs, test != NULL, out);
    rc = 0;
done:
    sbp_dataset_free(train);
    sbp_dataset_free(test);
    sbp_dataset_free(all);
    return rc;
}

int sbp_tool_bench_ann(const sbp_bench_opts *o, FILE *out, FILE *err)
{
    const double m = M_IN, n = N_HID, k = K_OUT;
    const double per_sample = 4 * m * n + 6 * n * k;
    dense_run runs[MAX_RUNS] = {
        {"bp", "hidden by BP (MLPClassifier's algorithm)", "MLPClassifier", per_sample,
         {0}, 0, 0, 0},
        {"sbp", "hidden by SBP (spread of the output change)", NULL, per_sample, {0}, 0, 0, 0},
    };
    const int variants[] = {0, 1}, classifies[] = {1, 1};
    const dense_spec spec = {"ann", build_ann, SBP_BENCH_ANN_DEFAULT_BATCH};
    return run_dense(&spec, o, runs, variants, classifies, o->sbp_off ? 1 : 2,
                     "ann engine, MNIST 784-500-10 MLP, ReLU, softmax cross-entropy, SGD rate "
                     "0.1 momentum 0.9",
                     out, err);
}

int sbp_tool_bench_rbm(const sbp_bench_opts *o, FILE *out, FILE *err)
{
    const double m = M_IN, n = N_HID, k = K_OUT;
    dense_run runs[MAX_RUNS] = {
        {"unsupervised_pcd", "784-500, PCD-1, no momentum (BernoulliRBM's)", "BernoulliRBM",
         10 * m * n, {0}, 0, 0, 0},
        {"classification_cd", "784+10 visible, CD-1, momentum 0.5, decay", NULL,
         10 * m * n + 10 * n * k, {0}, 0, 0, 0},
        {"classification_cd_sbp", "784+10 visible, CD-1 + SBP spread (additive)", NULL,
         12 * m * n + 10 * n * k, {0}, 0, 0, 0},
    };
    const int variants[] = {0, 1, 2}, classifies[] = {0, 1, 1};
    const dense_spec spec = {"rbm", build_rbm, SBP_BENCH_RBM_DEFAULT_BATCH};
    return run_dense(&spec, o, runs, variants, classifies, o->sbp_off ? 2 : 3,
                     "rbm engine, MNIST, 500 binary hidden units, learning rate 0.1", out, err);
}
