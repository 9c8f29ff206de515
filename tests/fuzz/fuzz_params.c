/* Fuzz target: the parameter and topology API. The input is a program:
 * each operation byte picks one call (create, free, set/get int/real,
 * add_layer, attach/detach rule, build through the weight accessors,
 * parameter lookups) on small pools of networks, layers and rules, with
 * arbitrary parameter ids and values (NaN, Inf, huge, bounds +- one ulp),
 * arbitrary sizes and indices, NULL and wrong-kind handles.
 *
 * Checked promises: every status is a pinned value; a setter that returns
 * SBP_OK stored exactly the value given and a getter reads it back; a
 * refused set leaves the value unchanged; values outside the documented
 * bounds or non-finite are refused; wrong-kind and NULL handles give
 * SBP_E_INVALID; messages are NUL-terminated; and nothing crashes, leaks or
 * touches memory it does not own (ASan, UBSan).
 *
 * Training is not run here (its cost depends on the parameters); a build
 * (weights + engine state) is attempted only when its memory is small, or
 * when it must be refused as too large before allocating (then that is
 * checked). */
#include <float.h>
#include <math.h>

#include "fuzz.h"
#include "param.h"
#include "sbp/sbp.h"

#define POOL 4

typedef struct world {
    sbp_net *net[POOL];
    sbp_layer *layer[POOL];
    sbp_rule *rule[POOL];
    sbp_dataset *ds; /* only used as a wrong-kind handle */
} world;

/* ---- choosing arguments ------------------------------------------------ */

static sbp_param pick_param(fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    if (b < 224) {
        const sbp__param_row *r = sbp__param_row_at(b % sbp__param_count());
        return r->id;
    }
    return (sbp_param)fuzz_u32(in); /* anything, mostly unknown */
}

static size_t pick_size(fuzz_in *in)
{
    static const size_t special[] = {0, 1, 2, 3, 10, 784, (size_t)1 << 16, ((size_t)1 << 16) + 1,
                                     (size_t)1 << 28, ((size_t)1 << 28) + 1, (size_t)1 << 32,
                                     SIZE_MAX / 2, SIZE_MAX};
    uint8_t b = fuzz_u8(in);
    if (b < 192) return (size_t)(b % 12) + 1;
    if (b < 240) return special[b % (sizeof special / sizeof special[0])];
    return (size_t)fuzz_u64(in);
}

/* A bound as an integer, saturated (a real parameter's bound may be 1e30). */
static int64_t to_i64(double v)
{
    if (!(v > -9.2e18)) return INT64_MIN;
    if (!(v < 9.2e18)) return INT64_MAX;
    return (int64_t)v;
}

static int64_t pick_int(fuzz_in *in, sbp_param p)
{
    sbp_param_desc d;
    int known = sbp_param_info(p, &d) == SBP_OK;
    uint8_t b = fuzz_u8(in);
    switch (b % 8) {
    case 0: return known ? to_i64(d.min) : 0;
    case 1: return known ? to_i64(d.max) : 1;
    case 2: return known && to_i64(d.min) > INT64_MIN ? to_i64(d.min) - 1 : -1;
    case 3: return known && to_i64(d.max) < INT64_MAX ? to_i64(d.max) + 1 : 2;
    case 4: return b & 8 ? INT64_MAX : INT64_MIN;
    case 5: return (int64_t)(b >> 3);
    default: return (int64_t)fuzz_u64(in);
    }
}

static double pick_real(fuzz_in *in, sbp_param p)
{
    sbp_param_desc d;
    int known = sbp_param_info(p, &d) == SBP_OK;
    double lo = known ? d.min : 0.0, hi = known ? d.max : 1.0;
    uint8_t b = fuzz_u8(in);
    switch (b % 12) {
    case 0: return lo;
    case 1: return hi;
    case 2: return nextafter(lo, -INFINITY);
    case 3: return nextafter(hi, INFINITY);
    case 4: return NAN;
    case 5: return b & 16 ? INFINITY : -INFINITY;
    case 6: return b & 16 ? DBL_MAX : -DBL_MAX;
    case 7: return b & 16 ? DBL_MIN : -0.0;
    case 8: return lo + (hi - lo) * (double)(b >> 4) / 15.0;
    default: return fuzz_f64_bits(in);
    }
}

/* A network argument: a pool slot (maybe NULL), NULL, or another kind of
 * handle passed as a network. */
static sbp_net *pick_net(fuzz_in *in, world *w, int *real)
{
    uint8_t b = fuzz_u8(in) % 8;
    *real = b < POOL && w->net[b] != NULL;
    switch (b) {
    case 4: return NULL;
    case 5: return w->layer[0] ? (sbp_net *)(void *)w->layer[0] : (sbp_net *)(void *)w->ds;
    case 6: return w->rule[0] ? (sbp_net *)(void *)w->rule[0] : NULL;
    case 7: return (sbp_net *)(void *)w->ds;
    default: return w->net[b];
    }
}

static sbp_layer *pick_layer(fuzz_in *in, world *w, int *real)
{
    uint8_t b = fuzz_u8(in) % 8;
    *real = b < POOL && w->layer[b] != NULL;
    switch (b) {
    case 4: return NULL;
    case 5: return w->net[0] ? (sbp_layer *)(void *)w->net[0] : NULL;
    case 6: return w->rule[0] ? (sbp_layer *)(void *)w->rule[0] : NULL;
    case 7: return (sbp_layer *)(void *)w->ds;
    default: return w->layer[b];
    }
}

static sbp_rule *pick_rule(fuzz_in *in, world *w, int *real)
{
    uint8_t b = fuzz_u8(in) % 8;
    *real = b < POOL && w->rule[b] != NULL;
    switch (b) {
    case 4: return NULL;
    case 5: return w->net[0] ? (sbp_rule *)(void *)w->net[0] : NULL;
    case 6: return w->layer[0] ? (sbp_rule *)(void *)w->layer[0] : NULL;
    case 7: return (sbp_rule *)(void *)w->ds;
    default: return w->rule[b];
    }
}

/* ---- parameters ---------------------------------------------------------- */

enum { ON_NET, ON_LAYER, ON_RULE };

static sbp_status set_int(int kind, void *h, sbp_param p, int64_t v)
{
    switch (kind) {
    case ON_NET: return sbp_net_set_int(h, p, v);
    case ON_LAYER: return sbp_layer_set_int(h, p, v);
    default: return sbp_rule_set_int(h, p, v);
    }
}

static sbp_status set_real(int kind, void *h, sbp_param p, double v)
{
    switch (kind) {
    case ON_NET: return sbp_net_set_real(h, p, v);
    case ON_LAYER: return sbp_layer_set_real(h, p, v);
    default: return sbp_rule_set_real(h, p, v);
    }
}

static sbp_status get_int(int kind, const void *h, sbp_param p, int64_t *v)
{
    switch (kind) {
    case ON_NET: return sbp_net_get_int(h, p, v);
    case ON_LAYER: return sbp_layer_get_int(h, p, v);
    default: return sbp_rule_get_int(h, p, v);
    }
}

static sbp_status get_real(int kind, const void *h, sbp_param p, double *v)
{
    switch (kind) {
    case ON_NET: return sbp_net_get_real(h, p, v);
    case ON_LAYER: return sbp_layer_get_real(h, p, v);
    default: return sbp_rule_get_real(h, p, v);
    }
}

static const char *errmsg(int kind, const void *h)
{
    switch (kind) {
    case ON_NET: return sbp_net_errmsg(h);
    case ON_LAYER: return sbp_layer_errmsg(h);
    default: return sbp_rule_errmsg(h);
    }
}

static void *pick_owner(fuzz_in *in, world *w, int *kind, int *real)
{
    *kind = fuzz_u8(in) % 3;
    switch (*kind) {
    case ON_NET: return pick_net(in, w, real);
    case ON_LAYER: return pick_layer(in, w, real);
    default: return pick_rule(in, w, real);
    }
}

static void op_set(fuzz_in *in, world *w, int is_int)
{
    int kind, real;
    void *h = pick_owner(in, w, &kind, &real);
    sbp_param p = pick_param(in);
    double before = NAN;
    int had = real && get_real(kind, h, p, &before) == SBP_OK;
    int64_t iv = 0;
    double rv = 0;
    sbp_status st;
    if (is_int) {
        iv = pick_int(in, p);
        st = set_int(kind, h, p, iv);
    } else {
        rv = pick_real(in, p);
        st = set_real(kind, h, p, rv);
    }
    FUZZ_CHECK(fuzz_known_status(st));
    if (!real) {
        FUZZ_CHECK(st == SBP_E_INVALID);
        return;
    }
    FUZZ_CHECK(fuzz_terminated(errmsg(kind, h), 512));
    sbp_param_desc d;
    double after = NAN;
    int has = get_real(kind, h, p, &after) == SBP_OK;
    FUZZ_CHECK(has == had);
    if (st == SBP_OK) {
        FUZZ_CHECK(sbp_param_info(p, &d) == SBP_OK);
        double v = is_int ? (double)iv : rv;
        FUZZ_CHECK(d.type == (is_int ? SBP_PARAM_INT : SBP_PARAM_REAL));
        FUZZ_CHECK(isfinite(v) && v >= d.min && v <= d.max);
        FUZZ_CHECK(has && after == v);
        if (is_int) {
            int64_t back = 0;
            FUZZ_CHECK(get_int(kind, h, p, &back) == SBP_OK && back == iv);
        }
    } else if (has) {
        /* refused: unchanged (NaN == NaN for engine defaults) */
        FUZZ_CHECK(after == before || (isnan(after) && isnan(before)));
    }
}

static void op_get(fuzz_in *in, world *w, int is_int)
{
    int kind, real;
    void *h = pick_owner(in, w, &kind, &real);
    sbp_param p = pick_param(in);
    int null_out = (fuzz_u8(in) & 7) == 0;
    sbp_status st;
    if (is_int) {
        int64_t v;
        st = get_int(kind, h, p, null_out ? NULL : &v);
    } else {
        double v;
        st = get_real(kind, h, p, null_out ? NULL : &v);
    }
    FUZZ_CHECK(fuzz_known_status(st));
    if (!real || null_out) FUZZ_CHECK(st == SBP_E_INVALID);
}

/* ---- building ---------------------------------------------------------------- */

/* Whether building this network stays small (in floats), or must be refused
 * by the synapse limit before any large allocation. */
static int build_plan(sbp_net *net, int *must_refuse)
{
    *must_refuse = 0;
    size_t L = sbp_net_layer_count(net);
    int64_t B = 0, threads = 0;
    if (sbp_net_get_int(net, SBP_NET_BATCH_SIZE, &B) != SBP_OK) return 0;
    if (sbp_net_get_int(net, SBP_NET_THREADS, &threads) != SBP_OK) return 0;
    if (threads > 4) return 0; /* each build may start that many threads */
    double est = 0, neurons = 0, max_syn = 0;
    for (size_t l = 0; l < L; l++) {
        double n = (double)sbp_net_layer_size(net, l);
        neurons += n;
        if (l == 0) continue;
        double prev = (double)sbp_net_layer_size(net, l - 1), syn = prev * n;
        if (syn > 4294967296.0) {
            /* build() checks projections in order: refused here if all the
             * ones before were small */
            *must_refuse = est < (double)(1 << 22);
            return *must_refuse;
        }
        est += 8 * syn;
        if (syn > max_syn) max_syn = syn;
    }
    est += (double)B * (16 * neurons + max_syn);
    return est <= (double)(1 << 22);
}

static void op_build(fuzz_in *in, world *w)
{
    int real;
    sbp_net *net = pick_net(in, w, &real);
    size_t l = (size_t)(fuzz_u8(in) % 4);
    int set = fuzz_u8(in) & 1;
    if (!real) {
        float f[1];
        FUZZ_CHECK(sbp_net_get_weights(net, l, f, 1) == SBP_E_INVALID);
        return;
    }
    int must_refuse;
    if (!build_plan(net, &must_refuse)) return;
    size_t rows = sbp_net_layer_size(net, l ? l - 1 : 0), cols = sbp_net_layer_size(net, l);
    /* layer 0 has no projection into it: rows * cols would be its size
     * squared (up to 2^64), a buffer the call must refuse anyway */
    size_t count = must_refuse || l == 0 ? 1 : rows * cols;
    if (count == 0 || fuzz_u8(in) == 0) count = 1 + fuzz_u8(in) % 3; /* likely wrong */
    float *buf = calloc(count, sizeof *buf);
    FUZZ_CHECK(buf != NULL);
    if (set)
        for (size_t i = 0; i < count && fuzz_more(in); i++) buf[i] = fuzz_f32_bits(in);
    sbp_status st = set ? sbp_net_set_weights(net, l, buf, count)
                        : sbp_net_get_weights(net, l, buf, count);
    FUZZ_CHECK(fuzz_known_status(st));
    FUZZ_CHECK(st != SBP_E_INTERNAL);
    FUZZ_CHECK(fuzz_terminated(sbp_net_errmsg(net), 512));
    if (must_refuse && l >= 1 && l < sbp_net_layer_count(net))
        FUZZ_CHECK(st == SBP_E_TOO_LARGE || st == SBP_E_UNSUPPORTED || st == SBP_E_STATE ||
                   st == SBP_E_RANGE);
    if (st == SBP_OK && set) {
        float *back = calloc(count, sizeof *back);
        FUZZ_CHECK(back != NULL);
        FUZZ_CHECK(sbp_net_get_weights(net, l, back, count) == SBP_OK);
        FUZZ_CHECK(memcmp(back, buf, count * sizeof *buf) == 0);
        free(back);
    }
    free(buf);
}

/* ---- the program ------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    world w;
    memset(&w, 0, sizeof w);
    float x[2] = {0.25f, 0.75f};
    int32_t lab[2] = {0, 1};
    FUZZ_CHECK(sbp_dataset_create(2, 1, x, lab, 2, &w.ds) == SBP_OK);

    for (int steps = 0; fuzz_more(&in) && steps < 256; steps++) {
        uint8_t op = fuzz_u8(&in);
        size_t slot = fuzz_u8(&in) % POOL;
        int real;
        sbp_status st;
        switch (op % 16) {
        case 0: {
            sbp_engine e = (sbp_engine)(fuzz_u8(&in) % 6);
            sbp_net_free(w.net[slot]);
            w.net[slot] = NULL;
            st = sbp_net_create(e, fuzz_u64(&in), &w.net[slot]);
            FUZZ_CHECK((st == SBP_OK) == (w.net[slot] != NULL));
            FUZZ_CHECK((st == SBP_OK) == (e >= 1 && e <= 4));
            if (st == SBP_OK) FUZZ_CHECK(sbp_net_get_engine(w.net[slot]) == e);
            break;
        }
        case 1:
            sbp_net_free(w.net[slot]);
            w.net[slot] = NULL;
            break;
        case 2: {
            size_t n = pick_size(&in);
            sbp_layer_free(w.layer[slot]);
            w.layer[slot] = NULL;
            st = sbp_layer_create(n, &w.layer[slot]);
            FUZZ_CHECK((st == SBP_OK) == (w.layer[slot] != NULL));
            FUZZ_CHECK((st == SBP_OK) == (n >= 1 && n <= ((size_t)1 << 28)));
            if (st == SBP_OK) FUZZ_CHECK(sbp_layer_size(w.layer[slot]) == n);
            break;
        }
        case 3:
            sbp_layer_free(w.layer[slot]);
            w.layer[slot] = NULL;
            break;
        case 4: {
            sbp_rule_kind k = (sbp_rule_kind)(fuzz_u8(&in) % 8);
            sbp_rule_free(w.rule[slot]);
            w.rule[slot] = NULL;
            st = sbp_rule_create(k, &w.rule[slot]);
            FUZZ_CHECK((st == SBP_OK) == (w.rule[slot] != NULL));
            FUZZ_CHECK((st == SBP_OK) == (k >= 1 && k <= 6));
            if (st == SBP_OK) FUZZ_CHECK(sbp_rule_get_kind(w.rule[slot]) == k);
            break;
        }
        case 5:
            sbp_rule_free(w.rule[slot]);
            w.rule[slot] = NULL;
            break;
        case 6: op_set(&in, &w, 1); break;
        case 7: op_set(&in, &w, 0); break;
        case 8: op_get(&in, &w, 1); break;
        case 9: op_get(&in, &w, 0); break;
        case 10: {
            int lreal;
            sbp_net *net = pick_net(&in, &w, &real);
            sbp_layer *layer = pick_layer(&in, &w, &lreal);
            size_t before = sbp_net_layer_count(net);
            st = sbp_net_add_layer(net, layer);
            FUZZ_CHECK(fuzz_known_status(st));
            if (!real || !lreal) FUZZ_CHECK(st == SBP_E_INVALID);
            FUZZ_CHECK(sbp_net_layer_count(net) == before + (st == SBP_OK));
            if (st == SBP_OK)
                FUZZ_CHECK(sbp_net_layer_size(net, before) == sbp_layer_size(layer));
            break;
        }
        case 11: {
            int rreal;
            sbp_net *net = pick_net(&in, &w, &real);
            sbp_rule *rule = pick_rule(&in, &w, &rreal);
            size_t l = fuzz_u8(&in) < 240 ? fuzz_u8(&in) % 5 : (size_t)fuzz_u64(&in);
            st = sbp_net_attach_rule(net, l, rule);
            FUZZ_CHECK(fuzz_known_status(st));
            if (!real || !rreal) FUZZ_CHECK(st == SBP_E_INVALID);
            if (real && rreal && (l == 0 || l >= sbp_net_layer_count(net)))
                FUZZ_CHECK(st == SBP_E_RANGE);
            break;
        }
        case 12: {
            sbp_net *net = pick_net(&in, &w, &real);
            size_t l = fuzz_u8(&in) % 5;
            sbp_rule_kind k = (sbp_rule_kind)(int8_t)fuzz_u8(&in);
            st = sbp_net_detach_rule(net, l, k);
            FUZZ_CHECK(fuzz_known_status(st));
            if (!real) FUZZ_CHECK(st == SBP_E_INVALID);
            if (st == SBP_OK) FUZZ_CHECK(k >= 1 && k <= 6);
            break;
        }
        case 13: op_build(&in, &w); break;
        case 14: {
            sbp_param p = pick_param(&in);
            sbp_param_desc d;
            st = sbp_param_info(p, &d);
            if (st == SBP_OK) {
                sbp_param q;
                FUZZ_CHECK(sbp_param_by_name(d.name, &q) == SBP_OK && q == p);
                FUZZ_CHECK(d.min <= d.max);
                FUZZ_CHECK(isnan(d.default_value) ||
                           (d.default_value >= d.min && d.default_value <= d.max));
            } else {
                FUZZ_CHECK(st == SBP_E_INVALID);
            }
            char name[32];
            const uint8_t *s;
            size_t n = fuzz_take(&in, fuzz_u8(&in) % sizeof name, &s);
            memcpy(name, s, n);
            name[n] = '\0';
            sbp_param q;
            st = sbp_param_by_name(name, &q);
            FUZZ_CHECK(st == SBP_OK || st == SBP_E_INVALID);
            if (st == SBP_OK) FUZZ_CHECK(sbp_param_info(q, &d) == SBP_OK && !strcmp(d.name, name));
            break;
        }
        default: {
            /* shape queries on any handle */
            sbp_net *net = pick_net(&in, &w, &real);
            size_t n = sbp_net_layer_count(net);
            if (!real) FUZZ_CHECK(n == 0 && sbp_net_get_engine(net) == 0);
            FUZZ_CHECK(sbp_net_layer_size(net, n) == 0);
            FUZZ_CHECK(fuzz_terminated(sbp_net_errmsg(net), 512));
            int lreal;
            sbp_layer *layer = pick_layer(&in, &w, &lreal);
            if (!lreal) FUZZ_CHECK(sbp_layer_size(layer) == 0);
            FUZZ_CHECK(fuzz_terminated(sbp_layer_errmsg(layer), 512));
            sbp_rule *rule = pick_rule(&in, &w, &lreal);
            if (!lreal) FUZZ_CHECK(sbp_rule_get_kind(rule) == 0);
            FUZZ_CHECK(fuzz_terminated(sbp_rule_errmsg(rule), 512));
            break;
        }
        }
    }

    for (int i = 0; i < POOL; i++) {
        sbp_net_free(w.net[i]);
        sbp_layer_free(w.layer[i]);
        sbp_rule_free(w.rule[i]);
    }
    sbp_dataset_free(w.ds);
    return 0;
}
