/* Model files (lib/io.c, lib/crc32c.c): round trips for every engine with
 * rules attached and after training (bit-identical predictions and
 * bit-identical continued training), memory and file variants, atomic
 * saves, and hostile data: every truncation, wrong magic, newer versions,
 * 1 000 random single-bit flips and crafted files with valid checksums.
 * Set SBP_TEST_VERBOSE=1 to print each diagnostic. */
#define _XOPEN_SOURCE 700 /* setrlimit, SIGXFSZ */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "io.h"
#include "net.h"
#include "rng.h"
#include "sbp/sbp.h"
#include "testutil.h"

static char dir[256];

static void setup(void)
{
    const char *d = sbp_test_tmpdir();
    ck_assert_ptr_nonnull(d);
    snprintf(dir, sizeof dir, "%s", d);
}

static void teardown(void)
{
    sbp__alloc_fail_after(-1);
    chmod(dir, 0700);
    sbp_test_rmtree(dir);
}

static void verbose(const char *name, sbp_status st, const sbp_diag *d)
{
    const char *v = getenv("SBP_TEST_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        printf("CASE %s | %s | offset=%llu expected=%llu found=%llu | %s\n", name,
               sbp_status_name(st), (unsigned long long)d->offset,
               (unsigned long long)d->expected, (unsigned long long)d->found, d->message);
}

/* ---- networks of every engine -------------------------------------------- */

enum model {
    M_RELAX,
    M_SPIKE,
    M_ANN_ADAM,
    M_ANN_SGD,
    M_RBM,
    M_RBM_MULT,
    M_RBM_UNSUP,
    M_COUNT
};

static const char *const model_names[M_COUNT] = {
    "relax", "spike", "ann-adam", "ann-sgd", "rbm", "rbm-mult", "rbm-unsup",
};

#define D 16
#define K 4
#define NS 44 /* not a multiple of the batch: the last batch is partial */

static void set_int(sbp_net *net, sbp_param p, int64_t v)
{
    ck_assert_msg(sbp_net_set_int(net, p, v) == SBP_OK, "%s", sbp_net_errmsg(net));
}

static void set_real(sbp_net *net, sbp_param p, double v)
{
    ck_assert_msg(sbp_net_set_real(net, p, v) == SBP_OK, "%s", sbp_net_errmsg(net));
}

static void add_layers(sbp_net *net, const size_t *sizes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sbp_layer *l = NULL;
        ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
}

/* Attaches a rule of `kind` to layer l with up to three parameters. */
static void rule(sbp_net *net, size_t l, sbp_rule_kind kind, sbp_param p1, double v1,
                 sbp_param p2, double v2, sbp_param p3, double v3)
{
    sbp_rule *r = NULL;
    ck_assert_int_eq(sbp_rule_create(kind, &r), SBP_OK);
    sbp_param ps[3] = {p1, p2, p3};
    double vs[3] = {v1, v2, v3};
    for (int i = 0; i < 3; i++) {
        if (!ps[i]) continue;
        sbp_param_desc d;
        ck_assert_int_eq(sbp_param_info(ps[i], &d), SBP_OK);
        sbp_status st = d.type == SBP_PARAM_INT ? sbp_rule_set_int(r, ps[i], (int64_t)vs[i])
                                                : sbp_rule_set_real(r, ps[i], vs[i]);
        ck_assert_msg(st == SBP_OK, "%s", sbp_rule_errmsg(r));
    }
    ck_assert_msg(sbp_net_attach_rule(net, l, r) == SBP_OK, "%s", sbp_net_errmsg(net));
    sbp_rule_free(r);
}

#define NONE 0, 0.0

static sbp_net *make_model(enum model m, uint64_t seed)
{
    static const sbp_engine engines[M_COUNT] = {
        SBP_ENGINE_RELAX, SBP_ENGINE_SPIKE, SBP_ENGINE_ANN, SBP_ENGINE_ANN,
        SBP_ENGINE_RBM,   SBP_ENGINE_RBM,   SBP_ENGINE_RBM};
    sbp_net *net = NULL;
    ck_assert_int_eq(sbp_net_create(engines[m], seed, &net), SBP_OK);
    set_int(net, SBP_NET_BATCH_SIZE, 8);
    set_int(net, SBP_NET_THREADS, 1);
    switch (m) {
    case M_RELAX: {
        size_t s[] = {D, 12, K};
        add_layers(net, s, 3);
        set_int(net, SBP_RELAX_FREE_ITERS, 8);
        set_real(net, SBP_RELAX_T, 2.0);
        rule(net, 1, SBP_RULE_SBP_SPREAD, SBP_SPREAD_LAMBDA_P, 0.6, NONE, NONE);
        rule(net, 2, SBP_RULE_SBP_SPREAD, NONE, NONE, NONE);
        rule(net, 1, SBP_RULE_STP, SBP_STP_U, 0.3, NONE, NONE);
        break;
    }
    case M_SPIKE: {
        size_t s[] = {D, 12, K};
        add_layers(net, s, 3);
        set_int(net, SBP_SPIKE_STEPS, 20);
        rule(net, 1, SBP_RULE_SBP_SPREAD, SBP_SPREAD_RETRO_WEIGHT, SBP_RETRO_RANDOM,
             SBP_SPREAD_LAMBDA_P, 0.7, NONE);
        rule(net, 1, SBP_RULE_STDP, SBP_STDP_A_PLUS, 0.005, NONE, NONE);
        rule(net, 1, SBP_RULE_HOMEOSTASIS, SBP_HOMEO_THETA_PLUS, 0.02, NONE, NONE);
        rule(net, 2, SBP_RULE_HOMEOSTASIS, NONE, NONE, NONE);
        rule(net, 2, SBP_RULE_STP, NONE, NONE, NONE);
        rule(net, 2, SBP_RULE_SUPERVISED_STDP, SBP_STDP_ETA, 0.01, NONE, NONE);
        break;
    }
    case M_ANN_ADAM: {
        size_t s[] = {D, 10, 8, K};
        add_layers(net, s, 4);
        set_int(net, SBP_ANN_OPTIMIZER, SBP_OPT_ADAM);
        set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_MIXED);
        set_real(net, SBP_ANN_REPLACE_BP, 0.5);
        rule(net, 1, SBP_RULE_SBP_SPREAD, SBP_SPREAD_FORM, SBP_SPREAD_FEEDBACK, NONE, NONE);
        rule(net, 2, SBP_RULE_SBP_SPREAD, SBP_SPREAD_RETRO_WEIGHT, SBP_RETRO_RANDOM,
             SBP_SPREAD_LAMBDA_P, 0.5, NONE);
        rule(net, 3, SBP_RULE_SBP_SPREAD, SBP_SPREAD_LAMBDA_P, 0.8, NONE, NONE);
        break;
    }
    case M_ANN_SGD: {
        size_t s[] = {D, 10, K};
        add_layers(net, s, 3);
        set_int(net, SBP_ANN_LOSS, SBP_LOSS_MSE);
        set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_SBP);
        set_real(net, SBP_ANN_MOMENTUM, 0.8);
        rule(net, 1, SBP_RULE_SBP_SPREAD, SBP_SPREAD_LAMBDA_P, 0.7, NONE, NONE);
        rule(net, 2, SBP_RULE_SBP_SPREAD, SBP_SPREAD_LAMBDA_P, 0.9, NONE, NONE);
        break;
    }
    case M_RBM:
    case M_RBM_MULT: {
        size_t s[] = {D, 12, K};
        add_layers(net, s, 3);
        if (m == M_RBM) {
            rule(net, 1, SBP_RULE_RBM_CD, SBP_CD_K, 2, SBP_CD_PERSISTENT, 1, SBP_CD_MOMENTUM,
                 0.6);
            rule(net, 1, SBP_RULE_SBP_SPREAD, SBP_SPREAD_RETRO_WEIGHT, SBP_RETRO_RANDOM,
                 SBP_SPREAD_SPLIT_LTP_LTD, 1, SBP_SPREAD_LAMBDA_P, 0.5);
        } else {
            rule(net, 1, SBP_RULE_SBP_SPREAD, SBP_SPREAD_FORM, SBP_SPREAD_MULTIPLICATIVE,
                 SBP_SPREAD_LAMBDA_P, 0.6, NONE);
        }
        break;
    }
    case M_RBM_UNSUP: {
        size_t s[] = {D, 8};
        add_layers(net, s, 2);
        rule(net, 1, SBP_RULE_RBM_CD, SBP_CD_PERSISTENT, 1, NONE, NONE);
        break;
    }
    case M_COUNT: break;
    }
    return net;
}

static sbp_dataset *model_data(uint64_t seed)
{
    return sbp_test_prototypes(seed, NS, D, K, 4, 0.9f, 0.1f, 0.1f);
}

static void train(sbp_net *net, const sbp_dataset *ds, double *err)
{
    double e = -1.0;
    sbp_status st = sbp_net_train_epoch(net, ds, &e);
    ck_assert_msg(st == SBP_OK, "train: %s", sbp_net_errmsg(net));
    if (err) *err = e;
}

/* ---- bytes ------------------------------------------------------------------ */

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static bytes save_mem(sbp_net *net)
{
    void *data = NULL;
    size_t size = 0;
    sbp_status st = sbp_net_save_mem(net, &data, &size);
    ck_assert_msg(st == SBP_OK, "save_mem: %s", sbp_net_errmsg(net));
    ck_assert_ptr_nonnull(data);
    bytes b = {malloc(size), size};
    ck_assert_ptr_nonnull(b.p);
    memcpy(b.p, data, size);
    sbp_free(data);
    return b;
}

static sbp_net *load_mem(bytes b)
{
    sbp_diag d;
    sbp_net *net = NULL;
    sbp_status st = sbp_net_load_mem(b.p, b.n, &d, &net);
    ck_assert_msg(st == SBP_OK, "load_mem: %s", d.message);
    ck_assert_ptr_nonnull(net);
    ck_assert_str_eq(sbp_net_errmsg(net), "");
    return net;
}

static bytes read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    bytes b = {NULL, 0};
    size_t cap = 0;
    for (;;) {
        if (b.n == cap) {
            cap = cap ? 2 * cap : 65536;
            b.p = realloc(b.p, cap);
            ck_assert_ptr_nonnull(b.p);
        }
        size_t k = fread(b.p + b.n, 1, cap - b.n, f);
        if (k == 0) break;
        b.n += k;
    }
    fclose(f);
    return b;
}

static void assert_same(bytes a, bytes b, const char *what)
{
    ck_assert_msg(a.n == b.n, "%s: %zu bytes vs %zu", what, a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        ck_assert_msg(a.p[i] == b.p[i], "%s: first difference at byte %zu", what, i);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Recomputes the trailing CRC-32C after an edit, as a forger would. */
static void refix(bytes b)
{
    wr32(b.p + b.n - 4, sbp__crc32c(0, b.p, b.n - 4));
}

static bytes copy_bytes(bytes b)
{
    bytes c = {malloc(b.n ? b.n : 1), b.n};
    ck_assert_ptr_nonnull(c.p);
    memcpy(c.p, b.p, b.n);
    return c;
}

/* Offset of the payload of the section with this tag (walking the section
 * headers from byte 24), or 0. */
static size_t section(bytes b, const char *tag)
{
    size_t pos = 24;
    while (pos + 12 <= b.n - 4) {
        uint64_t len = rd64(b.p + pos + 4);
        if (memcmp(b.p + pos, tag, 4) == 0) return pos + 12;
        pos += 12 + (size_t)len;
    }
    return 0;
}

/* ---- predictions ------------------------------------------------------------- */

typedef struct prediction {
    int32_t labels[NS];
    float *out;
    size_t n_out;
} prediction;

static prediction predict(sbp_net *net, const sbp_dataset *ds)
{
    size_t L = sbp_net_layer_count(net), k = sbp_net_layer_size(net, L - 1);
    float *x = malloc(NS * D * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
    prediction p;
    memset(p.labels, 0, sizeof p.labels);
    p.n_out = NS * k;
    p.out = malloc(p.n_out * sizeof *p.out);
    ck_assert_ptr_nonnull(p.out);
    sbp_status st = sbp_net_predict(net, NS, x, p.labels, p.out);
    ck_assert_msg(st == SBP_OK, "predict: %s", sbp_net_errmsg(net));
    free(x);
    return p;
}

static void assert_same_prediction(const prediction *a, const prediction *b, const char *what)
{
    ck_assert_msg(memcmp(a->labels, b->labels, sizeof a->labels) == 0, "%s: labels differ",
                  what);
    ck_assert_uint_eq(a->n_out, b->n_out);
    ck_assert_msg(memcmp(a->out, b->out, a->n_out * sizeof *a->out) == 0,
                  "%s: outputs differ", what);
}

/* ---- round trips ---------------------------------------------------------------- */

/* Save after two epochs, load; the copy re-saves to the same bytes,
 * predicts the same bits, and one more epoch on both gives the same bits
 * (weights, biases, state: the saves compare everything). */
START_TEST(roundtrip_every_engine)
{
    enum model m = (enum model)_i;
    const char *name = model_names[m];
    sbp_dataset *ds = model_data(5);
    sbp_net *net = make_model(m, 11);
    if (m % 2) set_int(net, SBP_NET_THREADS, 2); /* saved; results do not depend on it */
    double e0, e1;
    train(net, ds, NULL);
    ck_assert_int_eq(sbp_dataset_shuffle(ds, 3), SBP_OK);
    train(net, ds, NULL);

    bytes a = save_mem(net);
    sbp_net *copy = load_mem(a);
    ck_assert_int_eq(sbp_net_get_engine(copy), sbp_net_get_engine(net));
    ck_assert_uint_eq(sbp_net_layer_count(copy), sbp_net_layer_count(net));
    for (size_t l = 0; l < sbp_net_layer_count(net); l++)
        ck_assert_uint_eq(sbp_net_layer_size(copy, l), sbp_net_layer_size(net, l));
    int64_t batch = 0;
    ck_assert_int_eq(sbp_net_get_int(copy, SBP_NET_BATCH_SIZE, &batch), SBP_OK);
    ck_assert_int_eq(batch, 8);
    int64_t threads = -1; /* not part of the model */
    ck_assert_int_eq(sbp_net_get_int(copy, SBP_NET_THREADS, &threads), SBP_OK);
    ck_assert_int_eq(threads, 0);
    bytes a2 = save_mem(copy);
    assert_same(a, a2, name);

    /* file variant: the same bytes, and it loads to the same network */
    char path[512];
    snprintf(path, sizeof path, "%s/%s.sbpm", dir, name);
    ck_assert_msg(sbp_net_save(net, path) == SBP_OK, "%s", sbp_net_errmsg(net));
    bytes f = read_file(path);
    assert_same(a, f, "file vs memory");
    sbp_diag d;
    sbp_net *from_file = NULL;
    ck_assert_msg(sbp_net_load(path, &d, &from_file) == SBP_OK, "%s", d.message);
    bytes f2 = save_mem(from_file);
    assert_same(a, f2, "loaded from the file");

    prediction p0 = predict(net, ds), p1 = predict(copy, ds), p2 = predict(from_file, ds);
    assert_same_prediction(&p0, &p1, name);
    assert_same_prediction(&p0, &p2, name);
    if (K == sbp_net_layer_size(net, sbp_net_layer_count(net) - 1) && m != M_RBM_UNSUP) {
        double ea = -1, eb = -2;
        ck_assert_int_eq(sbp_net_evaluate(net, ds, &ea), SBP_OK);
        ck_assert_int_eq(sbp_net_evaluate(copy, ds, &eb), SBP_OK);
        ck_assert(ea == eb);
    }

    /* continued training */
    ck_assert_int_eq(sbp_dataset_shuffle(ds, 4), SBP_OK);
    train(net, ds, &e0);
    train(copy, ds, &e1);
    ck_assert_msg(e0 == e1 || (isnan(e0) && isnan(e1)), "%s: train error %g vs %g", name, e0,
                  e1);
    bytes b0 = save_mem(net), b1 = save_mem(copy);
    assert_same(b0, b1, "after one more epoch");
    ck_assert_msg(b0.n != a.n || memcmp(b0.p, a.p, a.n) != 0, "%s: the epoch changed nothing",
                  name);
    prediction q0 = predict(net, ds), q1 = predict(copy, ds);
    assert_same_prediction(&q0, &q1, name);

    free(p0.out);
    free(p1.out);
    free(p2.out);
    free(q0.out);
    free(q1.out);
    free(a.p);
    free(a2.p);
    free(f.p);
    free(f2.p);
    free(b0.p);
    free(b1.p);
    sbp_net_free(from_file);
    sbp_net_free(copy);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* An unbuilt network saves its description; it loads unbuilt and then
 * trains exactly as the original. */
START_TEST(roundtrip_unbuilt)
{
    enum model m = (enum model)_i;
    sbp_dataset *ds = model_data(6);
    sbp_net *net = make_model(m, 12);
    bytes a = save_mem(net);
    sbp_net *copy = load_mem(a);
    bytes a2 = save_mem(copy);
    assert_same(a, a2, "unbuilt");
    ck_assert_uint_eq(section(a, "WGHT"), 0);
    /* still open for changes, as an unbuilt network */
    set_int(copy, SBP_NET_BATCH_SIZE, 8);
    train(net, ds, NULL);
    train(copy, ds, NULL);
    bytes b0 = save_mem(net), b1 = save_mem(copy);
    assert_same(b0, b1, "trained after loading");
    free(a.p);
    free(a2.p);
    free(b0.p);
    free(b1.p);
    sbp_net_free(copy);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(crc32c_vectors)
{
    ck_assert_uint_eq(sbp__crc32c(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(sbp__crc32c(0, "", 0), 0);
    unsigned char buf[32];
    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(sbp__crc32c(0, buf, 32), 0x8A9136AAu); /* RFC 3720 B.4 */
    memset(buf, 0xFF, sizeof buf);
    ck_assert_uint_eq(sbp__crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
    ck_assert_uint_eq(sbp__crc32c(0, buf, 32), 0x46DD794Eu);
    /* chaining */
    ck_assert_uint_eq(sbp__crc32c(sbp__crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}
END_TEST

/* The header as docs/file-format.md describes it. */
START_TEST(layout)
{
    sbp_dataset *ds = model_data(7);
    sbp_net *net = make_model(M_ANN_SGD, 3);
    train(net, ds, NULL);
    bytes b = save_mem(net);
    ck_assert(memcmp(b.p, "SBPMODEL", 8) == 0);
    ck_assert_uint_eq(rd32(b.p + 8), 1);
    ck_assert_uint_eq(rd32(b.p + 12), 0);
    ck_assert_uint_eq(rd64(b.p + 16), b.n);
    ck_assert_uint_eq(rd32(b.p + b.n - 4), sbp__crc32c(0, b.p, b.n - 4));
    size_t netw = section(b, "NETW"), layr = section(b, "LAYR"), wght = section(b, "WGHT"),
           stat = section(b, "STAT");
    ck_assert_uint_eq(netw, 36);
    ck_assert(netw < layr && layr < wght && wght < stat);
    ck_assert_uint_eq(rd32(b.p + netw), SBP_ENGINE_ANN);
    ck_assert_uint_eq(rd64(b.p + netw + 4), 3); /* seed */
    ck_assert_uint_eq(b.p[netw + 44], 1);       /* built */
    ck_assert_uint_eq(rd32(b.p + layr), 3);     /* layers */
    ck_assert_uint_eq(rd64(b.p + layr + 4), D);
    ck_assert_uint_eq(rd32(b.p + wght), 2); /* projections */
    ck_assert_uint_eq(rd64(b.p + wght + 4), D);
    ck_assert_uint_eq(rd64(b.p + wght + 12), 10);
    ck_assert_uint_eq(rd64(b.p + wght + 20), D * 10);
    float w[D * 10];
    ck_assert_int_eq(sbp_net_get_weights(net, 1, w, D * 10), SBP_OK);
    for (size_t i = 0; i < D * 10; i++) {
        uint32_t u;
        memcpy(&u, &w[i], 4);
        ck_assert_uint_eq(rd32(b.p + wght + 28 + 4 * i), u);
    }
    free(b.p);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* ---- hostile data ----------------------------------------------------------------- */

/* A small built model (ann with Adam, spread rules, after training). */
static bytes small_model(void)
{
    sbp_dataset *ds = model_data(8);
    sbp_net *net = make_model(M_ANN_ADAM, 9);
    train(net, ds, NULL);
    bytes b = save_mem(net);
    sbp_net_free(net);
    sbp_dataset_free(ds);
    return b;
}

/* Loads b (memory) and expects failure with `want` (0: any failure),
 * message containing `substring` (may be NULL). Returns the diag. */
static sbp_diag expect_bad(const char *name, bytes b, sbp_status want, const char *substring)
{
    sbp_diag d;
    memset(&d, 0x55, sizeof d);
    sbp_net *net = (sbp_net *)(uintptr_t)1;
    sbp_status st = sbp_net_load_mem(b.p, b.n, &d, &net);
    verbose(name, st, &d);
    ck_assert_msg(st != SBP_OK, "%s: loaded", name);
    if (want) ck_assert_msg(st == want, "%s: status %s, expected %s (%s)", name,
                            sbp_status_name(st), sbp_status_name(want), d.message);
    ck_assert_ptr_null(net);
    ck_assert_int_eq(d.status, st);
    ck_assert_msg(d.message[0] != '\0', "%s: empty message", name);
    ck_assert_msg(strchr(d.message, '\n') == NULL, "%s: message is not one line", name);
    ck_assert_str_eq(d.file, "");
    if (substring)
        ck_assert_msg(strstr(d.message, substring) != NULL, "%s: message '%s' lacks '%s'", name,
                      d.message, substring);
    return d;
}

START_TEST(truncated_everywhere)
{
    bytes b = small_model();
    for (size_t len = 0; len < b.n; len++) {
        bytes t = {b.p, len};
        char name[64];
        snprintf(name, sizeof name, "truncated to %zu", len);
        sbp_diag d = expect_bad(name, t, SBP_E_TRUNCATED, NULL);
        ck_assert_uint_eq(d.offset, len);
        ck_assert_uint_eq(d.found, len);
        if (len >= 24) {
            ck_assert_uint_eq(d.expected, b.n);
            ck_assert_ptr_nonnull(strstr(d.message, "truncated"));
        }
    }
    /* files cut at a stride (the file loader checks the size before it
     * allocates the content) */
    for (size_t len = 0; len < b.n; len += 211) {
        const char *path = sbp_test_write(dir, "cut.sbpm", b.p, len);
        ck_assert_ptr_nonnull(path);
        sbp_diag d;
        sbp_net *net = NULL;
        sbp__alloc_fail_after(0);
        sbp_status st = sbp_net_load(path, &d, &net);
        sbp__alloc_fail_after(-1);
        ck_assert_msg(st == SBP_E_TRUNCATED, "file cut at %zu: %s", len, d.message);
        ck_assert_ptr_null(net);
        ck_assert_str_eq(d.file, path);
        ck_assert_ptr_nonnull(strstr(d.message, "cut.sbpm"));
    }
    free(b.p);
}
END_TEST

START_TEST(header_errors)
{
    bytes b = small_model();
    bytes c = copy_bytes(b);
    c.p[0] = 'X';
    sbp_diag d = expect_bad("wrong magic", c, SBP_E_FORMAT, "not a libsbp model file");
    ck_assert_uint_eq(d.offset, 0);
    bytes idx = {(unsigned char *)"\0\0\x08\x03\0\0\0\x01", 8};
    expect_bad("an IDX file", idx, SBP_E_FORMAT, "SBPMODEL");
    bytes txt = {(unsigned char *)"hello", 5};
    expect_bad("text", txt, SBP_E_FORMAT, NULL);

    memcpy(c.p, b.p, b.n);
    wr32(c.p + 8, 2);
    d = expect_bad("newer version", c, SBP_E_VERSION, "newer libsbp");
    ck_assert_uint_eq(d.offset, 8);
    ck_assert_uint_eq(d.expected, 1);
    ck_assert_uint_eq(d.found, 2);
    wr32(c.p + 8, 0xFFFFFFFFu);
    expect_bad("far newer version", c, SBP_E_VERSION, "version 4294967295");
    /* refused on the version alone: a newer file may be shorter than a header */
    bytes shortv = {c.p, 12};
    expect_bad("newer version, short", shortv, SBP_E_VERSION, NULL);
    wr32(c.p + 8, 0);
    expect_bad("version 0", c, SBP_E_FORMAT, "version 0");

    memcpy(c.p, b.p, b.n);
    wr32(c.p + 12, 1);
    expect_bad("header flags", c, SBP_E_FORMAT, "flags");
    memcpy(c.p, b.p, b.n);
    wr64(c.p + 16, b.n + 1);
    d = expect_bad("announced length too long", c, SBP_E_TRUNCATED, NULL);
    ck_assert_uint_eq(d.expected, b.n + 1);
    wr64(c.p + 16, b.n - 1);
    expect_bad("announced length too short", c, SBP_E_FORMAT, "unexpected bytes");
    wr64(c.p + 16, 10);
    expect_bad("announced length tiny", c, SBP_E_FORMAT, "shorter than the header");
    wr64(c.p + 16, (uint64_t)1 << 50);
    expect_bad("announced length huge", c, SBP_E_TOO_LARGE, NULL);

    memcpy(c.p, b.p, b.n);
    c.p[100] ^= 0x10;
    d = expect_bad("checksum", c, SBP_E_CHECKSUM, "CRC-32C mismatch");
    ck_assert_uint_eq(d.offset, b.n - 4);

    /* trailing bytes after a complete file */
    bytes longer = {malloc(b.n + 3), b.n + 3};
    memcpy(longer.p, b.p, b.n);
    memset(longer.p + b.n, 0, 3);
    d = expect_bad("trailing bytes", longer, SBP_E_FORMAT, "3 unexpected bytes");
    ck_assert_uint_eq(d.offset, b.n);
    free(longer.p);

    /* NULL arguments */
    sbp_net *net = NULL;
    ck_assert_int_eq(sbp_net_load_mem(NULL, 10, &d, &net), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load_mem(b.p, b.n, &d, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load_mem(b.p, b.n, NULL, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load_mem(NULL, 0, NULL, &net), SBP_E_TRUNCATED);
    ck_assert_int_eq(sbp_net_load(NULL, &d, &net), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load("", &d, &net), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load(dir, &d, &net), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "is a directory"));
    char missing[512];
    snprintf(missing, sizeof missing, "%s/missing.sbpm", dir);
    ck_assert_int_eq(sbp_net_load(missing, &d, &net), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "No such file"));
    ck_assert_ptr_null(net);
    free(b.p);
    free(c.p);
}
END_TEST

/* 1 000 random single-bit flips: the magic, version, flags and length
 * fields refuse some, the checksum the rest. The format has no padding, so
 * none may load. */
START_TEST(bit_flips)
{
    bytes b = small_model();
    bytes c = copy_bytes(b);
    sbp__rng rng;
    sbp__rng_init(&rng, 2024, 1);
    size_t by_status[32] = {0};
    for (int i = 0; i < 1000; i++) {
        size_t bit = (size_t)sbp__rng_below(&rng, (uint64_t)b.n * 8);
        c.p[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        sbp_diag d;
        sbp_net *net = NULL;
        sbp_status st = sbp_net_load_mem(c.p, c.n, &d, &net);
        ck_assert_msg(st != SBP_OK, "flip of bit %zu loaded", bit);
        ck_assert_ptr_null(net);
        ck_assert(d.message[0] != '\0');
        by_status[st < 32 ? st : 31]++;
        c.p[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    ck_assert_uint_gt(by_status[SBP_E_CHECKSUM], 900);
    const char *v = getenv("SBP_TEST_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        for (int s = 0; s < 32; s++)
            if (by_status[s]) printf("bit flips: %zu x %s\n", by_status[s], sbp_status_name(s));
    /* the same through files, a few of them */
    for (int i = 0; i < 20; i++) {
        size_t bit = (size_t)sbp__rng_below(&rng, (uint64_t)b.n * 8);
        c.p[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        const char *path = sbp_test_write(dir, "flip.sbpm", c.p, c.n);
        sbp_diag d;
        sbp_net *net = NULL;
        ck_assert_int_ne(sbp_net_load(path, &d, &net), SBP_OK);
        ck_assert_ptr_null(net);
        c.p[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    free(b.p);
    free(c.p);
}
END_TEST

/* Files whose checksum is right but whose content is not (forged or
 * written by a buggy tool): every check behind the checksum. */
START_TEST(forged_content)
{
    bytes b = small_model();
    bytes c = copy_bytes(b);
    size_t netw = section(b, "NETW"), layr = section(b, "LAYR"), wght = section(b, "WGHT"),
           stat = section(b, "STAT");
    ck_assert(netw && layr && wght && stat);
    sbp_diag d;
#define RESET() memcpy(c.p, b.p, b.n)

    RESET();
    wr32(c.p + netw, 9);
    refix(c);
    d = expect_bad("unknown engine", c, SBP_E_FORMAT, "unknown engine id 9");
    ck_assert_uint_eq(d.offset, netw);
    RESET();
    memset(c.p + netw + 12, 0, 32);
    refix(c);
    expect_bad("zero random state", c, SBP_E_FORMAT, "all zero");
    RESET();
    c.p[netw + 44] = 2;
    refix(c);
    expect_bad("built flag 2", c, SBP_E_FORMAT, "expected 0 or 1");

    /* network parameters: count at +45, then (u32 id, f64 value) pairs; the
     * first is net.batch_size */
    size_t p0 = netw + 49;
    ck_assert_uint_eq(rd32(b.p + p0), SBP_NET_BATCH_SIZE);
    RESET();
    wr32(c.p + p0, 0x9999);
    refix(c);
    expect_bad("unknown parameter", c, SBP_E_FORMAT, "unknown parameter id 0x9999");
    RESET();
    wr32(c.p + p0, SBP_RELAX_BETA);
    refix(c);
    expect_bad("parameter of another engine", c, SBP_E_FORMAT, "does not apply");
    RESET();
    wr32(c.p + p0 + 12, SBP_NET_BATCH_SIZE);
    refix(c);
    expect_bad("parameter twice", c, SBP_E_FORMAT, "stored twice");
    double v = 0.0;
    uint64_t u;
    RESET();
    memcpy(&u, &v, 8);
    wr64(c.p + p0 + 4, u);
    refix(c);
    d = expect_bad("batch size 0", c, SBP_E_RANGE, "net.batch_size");
    ck_assert_uint_eq(d.offset, p0 + 4);
    v = 2.5;
    memcpy(&u, &v, 8);
    wr64(c.p + p0 + 4, u);
    refix(c);
    expect_bad("batch size 2.5", c, SBP_E_RANGE, "not a whole number");
    v = NAN;
    memcpy(&u, &v, 8);
    wr64(c.p + p0 + 4, u);
    refix(c);
    expect_bad("batch size NaN", c, SBP_E_NUMERIC, "NaN");
    v = INFINITY;
    memcpy(&u, &v, 8);
    wr64(c.p + p0 + 4, u);
    refix(c);
    expect_bad("batch size Inf", c, SBP_E_NUMERIC, NULL);
    RESET();
    wr32(c.p + netw + 45, 500);
    refix(c);
    expect_bad("parameter count", c, SBP_E_FORMAT, "parameters stored");

    /* layers: count, then layer 0: u64 size ... */
    RESET();
    wr32(c.p + layr, 65);
    refix(c);
    expect_bad("65 layers", c, SBP_E_TOO_LARGE, "at most 64");
    RESET();
    wr64(c.p + layr + 4, 0);
    refix(c);
    expect_bad("layer size 0", c, SBP_E_FORMAT, "0 neurons");
    RESET();
    wr64(c.p + layr + 4, (uint64_t)1 << 40);
    refix(c);
    expect_bad("huge layer", c, SBP_E_TOO_LARGE, NULL);
    RESET();
    wr64(c.p + layr + 4, D + 1);
    refix(c);
    d = expect_bad("layer size vs weights", c, SBP_E_MISMATCH, "stored as 16 x 10");
    ck_assert_uint_eq(d.offset, wght + 4);
    RESET();
    wr32(c.p + layr, 2);
    refix(c);
    expect_bad("layer count vs data", c, SBP_E_FORMAT, NULL);

    /* weights: projections, then rows, cols, count, floats */
    RESET();
    wr32(c.p + wght, 2);
    refix(c);
    expect_bad("projection count", c, SBP_E_MISMATCH, "projections stored");
    RESET();
    wr64(c.p + wght + 20, D * 10 + 1);
    refix(c);
    expect_bad("weight count", c, SBP_E_MISMATCH, "the weights into layer 1");
    RESET();
    wr32(c.p + wght + 28 + 4 * 7, 0x7FC00000u); /* NaN */
    refix(c);
    d = expect_bad("NaN weight", c, SBP_E_NUMERIC, "value 7 is NaN");
    ck_assert_uint_eq(d.offset, wght + 28 + 4 * 7);
    RESET();
    wr32(c.p + wght + 28 + 4 * D * 10 + 8, 0xFF800000u); /* -Inf, first bias */
    refix(c);
    expect_bad("infinite bias", c, SBP_E_NUMERIC, "the biases of layer 1: value 0 is infinite");

    /* engine state (ann): optimizer, counters, layer count, moments */
    RESET();
    wr32(c.p + stat, 7);
    refix(c);
    expect_bad("unknown optimizer", c, SBP_E_FORMAT, "unknown optimizer 7");
    RESET();
    wr64(c.p + stat + 20, 9);
    refix(c);
    expect_bad("state layer count", c, SBP_E_MISMATCH, "layer count");
    RESET();
    wr32(c.p + stat + 28 + 16 + 8, 0x7F800000u); /* first moment of layer 1 */
    refix(c);
    expect_bad("infinite moment", c, SBP_E_NUMERIC, "first moments of layer 1");

    /* sections */
    RESET();
    memcpy(c.p + layr - 12, "LAYX", 4);
    refix(c);
    expect_bad("section tag", c, SBP_E_FORMAT, "expected the 'LAYR' section");
    RESET();
    wr64(c.p + layr - 8, b.n);
    refix(c);
    expect_bad("section length", c, SBP_E_FORMAT, "runs past the end");
    RESET();
    wr64(c.p + netw - 8, rd64(b.p + netw - 8) - 1);
    refix(c);
    expect_bad("section length short", c, SBP_E_FORMAT, NULL);

    /* a byte after the last section (length and checksum fixed) */
    bytes e = {malloc(b.n + 1), b.n + 1};
    memcpy(e.p, b.p, b.n - 4);
    e.p[b.n - 4] = 0;
    wr64(e.p + 16, e.n);
    refix(e);
    expect_bad("data after the last section", e, SBP_E_FORMAT, "after the last section");
    free(e.p);

#undef RESET
    free(b.p);
    free(c.p);
}
END_TEST

/* Random damage behind a valid checksum (what a fuzzer with the checksum
 * fixed up would try): 1-4 bytes overwritten anywhere after the header.
 * Every load must end in a clean refusal or in a network that saves again
 * to the same bytes; nothing may crash or leak. */
START_TEST(forged_random)
{
    enum model m = (enum model)_i;
    sbp_dataset *ds = model_data(12);
    sbp_net *net = make_model(m, 14);
    train(net, ds, NULL);
    bytes b = save_mem(net);
    sbp_net_free(net);
    bytes c = copy_bytes(b);
    sbp__rng rng;
    sbp__rng_init(&rng, 77, (uint64_t)m);
    int loaded = 0;
    for (int i = 0; i < 40; i++) {
        memcpy(c.p, b.p, b.n);
        int n = 1 + (int)sbp__rng_below(&rng, 4);
        for (int k = 0; k < n; k++) {
            size_t pos = 24 + (size_t)sbp__rng_below(&rng, b.n - 28);
            uint64_t how = sbp__rng_below(&rng, 4);
            unsigned v = how == 0   ? c.p[pos] ^ (1u << sbp__rng_below(&rng, 8))
                         : how == 1 ? (unsigned)sbp__rng_u64(&rng)
                         : how == 2 ? 0u
                                    : 0xFFu;
            c.p[pos] = (unsigned char)v;
        }
        refix(c);
        sbp_diag d;
        sbp_net *out = NULL;
        sbp_status st = sbp_net_load_mem(c.p, c.n, &d, &out);
        if (st != SBP_OK) {
            ck_assert_ptr_null(out);
            ck_assert(d.message[0] != '\0');
            continue;
        }
        loaded++;
        bytes again = save_mem(out);
        sbp_net *twice = load_mem(again);
        bytes third = save_mem(twice);
        assert_same(again, third, "a loaded forgery saves and loads again");
        free(again.p);
        free(third.p);
        sbp_net_free(twice);
        sbp_net_free(out);
    }
    ck_assert_int_gt(loaded, 0); /* some damage lands in weights: still a network */
    free(b.p);
    free(c.p);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(loader_memory_limit)
{
    /* batch_size x neurons beyond max(2^20, 32 x the file length) */
    sbp_net *net = NULL;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_ANN, 1, &net), SBP_OK);
    size_t s[] = {30, 2, 2};
    add_layers(net, s, 3);
    float w[60] = {0};
    ck_assert_int_eq(sbp_net_set_weights(net, 1, w, 60), SBP_OK); /* builds */
    bytes b = save_mem(net);
    size_t p0 = section(b, "NETW") + 49;
    double v = 40000; /* x 34 neurons = 1.36e6 > 2^20 */
    uint64_t u;
    memcpy(&u, &v, 8);
    wr64(b.p + p0 + 4, u);
    refix(b);
    /* refused before the network is built: the description takes 5
     * allocations (the network, 3 layers, the layer array), the build more */
    sbp__alloc_fail_after(6);
    sbp_diag d = expect_bad("engine buffers", b, SBP_E_TOO_LARGE, "loader's limit");
    sbp__alloc_fail_after(-1);
    ck_assert_uint_eq(d.expected, (uint64_t)1 << 20);
    ck_assert_uint_eq(d.found, (uint64_t)40000 * 34);
    /* within the limit: loads */
    v = 30000; /* 1.02e6 */
    memcpy(&u, &v, 8);
    wr64(b.p + p0 + 4, u);
    refix(b);
    sbp_net *big = NULL;
    ck_assert_msg(sbp_net_load_mem(b.p, b.n, &d, &big) == SBP_OK, "%s", d.message);
    sbp_net_free(big);
    free(b.p);
    sbp_net_free(net);
}
END_TEST

/* Every allocation of a load failing in turn: SBP_E_NOMEM, no leak, no
 * crash (ASan / valgrind check the leaks). */
START_TEST(load_out_of_memory)
{
    enum model m = (enum model)_i;
    sbp_dataset *ds = model_data(10);
    sbp_net *net = make_model(m, 13);
    train(net, ds, NULL);
    bytes b = save_mem(net);
    int ok = 0;
    for (long k = 0; k < 10000 && !ok; k++) {
        sbp_diag d;
        sbp_net *out = NULL;
        sbp__alloc_fail_after(k);
        sbp_status st = sbp_net_load_mem(b.p, b.n, &d, &out);
        sbp__alloc_fail_after(-1);
        if (st == SBP_OK) {
            ok = 1;
            bytes c = save_mem(out);
            assert_same(b, c, "loaded after the failures");
            free(c.p);
            sbp_net_free(out);
        } else {
            ck_assert_msg(st == SBP_E_NOMEM, "%s: allocation %ld: %s (%s)", model_names[m], k,
                          sbp_status_name(st), d.message);
            ck_assert_ptr_null(out);
        }
    }
    ck_assert(ok);
    /* saving: the same */
    ok = 0;
    for (long k = 0; k < 100 && !ok; k++) {
        void *data = NULL;
        size_t size = 7;
        sbp__alloc_fail_after(k);
        sbp_status st = sbp_net_save_mem(net, &data, &size);
        sbp__alloc_fail_after(-1);
        if (st == SBP_OK) {
            ok = 1;
            ck_assert_uint_eq(size, b.n);
            sbp_free(data);
        } else {
            ck_assert_int_eq(st, SBP_E_NOMEM);
            ck_assert_ptr_null(data);
            ck_assert_uint_eq(size, 0);
        }
    }
    ck_assert(ok);
    free(b.p);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* ---- atomic saves ------------------------------------------------------------- */

/* Number of entries of dir whose name contains ".tmp.". */
static int temp_files(const char *d)
{
    DIR *dh = opendir(d);
    ck_assert_ptr_nonnull(dh);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh)))
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(dh);
    return n;
}

START_TEST(atomic_save)
{
    sbp_dataset *ds = model_data(11);
    sbp_net *a = make_model(M_ANN_SGD, 1), *big = make_model(M_ANN_ADAM, 2);
    train(a, ds, NULL);
    train(big, ds, NULL);
    bytes ab = save_mem(a), bigb = save_mem(big);
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/model.sbpm", dir);

    /* a new file: 0666 less the umask */
    mode_t old_mask = umask(027);
    ck_assert_int_eq(sbp_net_save(a, path), SBP_OK);
    umask(old_mask);
    struct stat st_;
    ck_assert_int_eq(stat(path, &st_), 0);
    ck_assert_uint_eq(st_.st_mode & 0777, 0640);
    /* a replaced file keeps its mode */
    ck_assert_int_eq(chmod(path, 0604), 0);
    ck_assert_int_eq(sbp_net_save(a, path), SBP_OK);
    ck_assert_int_eq(stat(path, &st_), 0);
    ck_assert_uint_eq(st_.st_mode & 0777, 0604);
    bytes f = read_file(path);
    assert_same(ab, f, "saved");
    free(f.p);

    /* a directory that does not exist */
    snprintf(bad, sizeof bad, "%s/missing/model.sbpm", dir);
    ck_assert_int_eq(sbp_net_save(big, bad), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(big), "No such file or directory"));
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(big), "model.sbpm"));

    /* the destination is a directory: the rename fails, the temporary file
     * goes away */
    snprintf(bad, sizeof bad, "%s/sub", dir);
    ck_assert_int_eq(mkdir(bad, 0700), 0);
    ck_assert_int_eq(sbp_net_save(big, bad), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(big), "cannot replace"));
    ck_assert_int_eq(temp_files(dir), 0);

    /* a write that fails half-way (file size limit): old file intact */
    struct rlimit old_lim, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old_lim;
    lim.rlim_cur = (rlim_t)(bigb.n / 2);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    sbp_status st = sbp_net_save(big, path);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    signal(SIGXFSZ, old_sig);
    ck_assert_int_eq(st, SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(big), "writing the temporary file"));
    f = read_file(path);
    assert_same(ab, f, "after a failed write");
    free(f.p);
    ck_assert_int_eq(temp_files(dir), 0);

    /* allocation failures: refused before any temporary file exists */
    int ok = 0;
    for (long k = 0; k < 100 && !ok; k++) {
        sbp__alloc_fail_after(k);
        st = sbp_net_save(big, path);
        sbp__alloc_fail_after(-1);
        ck_assert_int_eq(temp_files(dir), 0);
        if (st == SBP_OK) {
            ok = 1;
            break;
        }
        ck_assert_int_eq(st, SBP_E_NOMEM);
        f = read_file(path);
        assert_same(ab, f, "after an allocation failure");
        free(f.p);
    }
    ck_assert(ok);
    f = read_file(path);
    assert_same(bigb, f, "replaced");
    free(f.p);

    /* a read-only directory (root may write anyway) */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(dir, 0500), 0);
        ck_assert_int_eq(sbp_net_save(a, path), SBP_E_IO);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(a), "Permission denied"));
        ck_assert_int_eq(chmod(dir, 0700), 0);
        f = read_file(path);
        assert_same(bigb, f, "read-only directory");
        free(f.p);
    }

    /* a path without a directory part saves in the current directory */
    char cwd[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    st = sbp_net_save(a, "plain.sbpm");
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_int_eq(st, SBP_OK);

    ck_assert_int_eq(sbp_net_save(NULL, path), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_save(a, ""), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_save(a, NULL), SBP_E_INVALID);
    void *data = NULL;
    ck_assert_int_eq(sbp_net_save_mem(a, &data, NULL), SBP_E_INVALID);
    sbp_free(NULL);

    free(ab.p);
    free(bigb.p);
    sbp_net_free(a);
    sbp_net_free(big);
    sbp_dataset_free(ds);
}
END_TEST

/* A diverged network cannot be saved (no loader would take the file). */
START_TEST(save_refuses_nonfinite)
{
    sbp_net *net = NULL;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_ANN, 1, &net), SBP_OK);
    size_t s[] = {3, 2};
    add_layers(net, s, 2);
    float w[6] = {0};
    ck_assert_int_eq(sbp_net_set_weights(net, 1, w, 6), SBP_OK);
    /* sbp_net_set_weights refuses NaN: reach in as a divergence would */
    net->w[1][4] = NAN;
    void *data = (void *)1;
    size_t size = 5;
    ck_assert_int_eq(sbp_net_save_mem(net, &data, &size), SBP_E_NUMERIC);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(size, 0);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "weight 4 of the projection into layer 1"));
    char path[512];
    snprintf(path, sizeof path, "%s/nan.sbpm", dir);
    ck_assert_int_eq(sbp_net_save(net, path), SBP_E_NUMERIC);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(temp_files(dir), 0);
    net->w[1][4] = 0.0f;
    net->b[1][1] = INFINITY;
    ck_assert_int_eq(sbp_net_save_mem(net, &data, &size), SBP_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "bias 1"));
    net->b[1][1] = 0.0f;
    ck_assert_int_eq(sbp_net_save_mem(net, &data, &size), SBP_OK);
    sbp_free(data);
    sbp_net_free(net);
}
END_TEST

static Suite *io_suite(void)
{
    Suite *s = suite_create("io");
    TCase *rt = tcase_create("roundtrip");
    tcase_add_checked_fixture(rt, setup, teardown);
    tcase_set_timeout(rt, 300);
    tcase_add_loop_test(rt, roundtrip_every_engine, 0, M_COUNT);
    tcase_add_loop_test(rt, roundtrip_unbuilt, 0, M_COUNT);
    tcase_add_test(rt, crc32c_vectors);
    tcase_add_test(rt, layout);
    suite_add_tcase(s, rt);

    TCase *bad = tcase_create("hostile");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_set_timeout(bad, 300);
    tcase_add_test(bad, truncated_everywhere);
    tcase_add_test(bad, header_errors);
    tcase_add_test(bad, bit_flips);
    tcase_add_test(bad, forged_content);
    tcase_add_test(bad, loader_memory_limit);
    tcase_add_loop_test(bad, forged_random, 0, M_COUNT);
    tcase_add_loop_test(bad, load_out_of_memory, 0, M_COUNT);
    suite_add_tcase(s, bad);

    TCase *at = tcase_create("atomic");
    tcase_add_checked_fixture(at, setup, teardown);
    tcase_set_timeout(at, 300);
    tcase_add_test(at, atomic_save);
    tcase_add_test(at, save_refuses_nonfinite);
    suite_add_tcase(s, at);
    return s;
}

int main(void)
{
    return sbp_test_run(io_suite());
}
