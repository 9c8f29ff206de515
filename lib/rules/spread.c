#include "spread.h"

#include <math.h>
#include <string.h>

#include "../alloc.h"
#include "../objects.h"

void sbp__spread_from_rule(const struct sbp_rule *rule, int default_form, sbp__spread *out)
{
    out->enabled = 0;
    out->form = default_form;
    out->f = 0.2;
    out->lambda_pre = 1.0;
    out->lambda_post = 0.5;
    out->lambda_bp = 1.0;
    out->lambda_p = 1.0;
    out->lambda_f = default_form == SBP_SPREAD_MULTIPLICATIVE ? 1.0 : 0.5;
    out->retro = SBP_RETRO_SIGNED;
    out->split = 0;
    if (!rule) return;
    const double *v = rule->params;
    out->enabled = sbp__pv(v, SBP_SPREAD_ENABLED) != 0.0;
    double form = sbp__pv(v, SBP_SPREAD_FORM);
    if (!isnan(form)) out->form = (int)form;
    double lf = sbp__pv(v, SBP_SPREAD_LAMBDA_F);
    out->lambda_f = !isnan(lf) ? lf : (out->form == SBP_SPREAD_MULTIPLICATIVE ? 1.0 : 0.5);
    out->f = sbp__pv(v, SBP_SPREAD_FRACTION) *
             (out->form == SBP_SPREAD_MULTIPLICATIVE ? out->lambda_f : 1.0);
    out->lambda_pre = sbp__pv(v, SBP_SPREAD_LAMBDA_PRE);
    out->lambda_post = sbp__pv(v, SBP_SPREAD_LAMBDA_POST);
    out->lambda_bp = sbp__pv(v, SBP_SPREAD_LAMBDA_BP);
    out->lambda_p = sbp__pv(v, SBP_SPREAD_LAMBDA_P);
    out->retro = (int)sbp__pv(v, SBP_SPREAD_RETRO_WEIGHT);
    out->split = sbp__pv(v, SBP_SPREAD_SPLIT_LTP_LTD) != 0.0;
    /* SBP_SPREAD_PROPAGATION_RANGE is read nowhere on purpose: in the
     * authors' code it scales a vector that is then normalised by its own
     * sum, so it cancels exactly. */
}

int sbp__spread_sums_alloc(sbp__spread_sums *s, size_t rows, size_t cols)
{
    s->rows = rows;
    s->cols = cols;
    s->ltp_row = sbp__calloc(rows, sizeof(double));
    s->ltd_row = sbp__calloc(rows, sizeof(double));
    s->ltd_col = sbp__calloc(cols, sizeof(double));
    s->pre_ltp = sbp__floats(rows);
    s->pre_ltd = sbp__floats(rows);
    s->post_ltd = sbp__floats(cols);
    s->bp_ltp = sbp__floats(cols);
    s->bp_ltd = sbp__floats(cols);
    s->col_part = sbp__calloc(SBP__SPREAD_CHUNKS * (cols ? cols : 1), sizeof(double));
    return s->col_part && s->ltp_row && s->ltd_row && s->ltd_col && s->pre_ltp && s->pre_ltd && s->post_ltd &&
           s->bp_ltp && s->bp_ltd;
}

void sbp__spread_sums_free(sbp__spread_sums *s)
{
    sbp__free(s->ltp_row);
    sbp__free(s->ltd_row);
    sbp__free(s->ltd_col);
    sbp__free(s->pre_ltp);
    sbp__free(s->pre_ltd);
    sbp__free(s->post_ltd);
    sbp__free(s->bp_ltp);
    sbp__free(s->bp_ltd);
    sbp__free(s->col_part);
}

/* factor_i = 1 + c * v_i / sum(v), or 1 + c * v_i when the sum is 0 (the
 * authors' sbpnonlinear returns v unchanged then). */
static void share_factors(const double *v, size_t n, double c, double sign, float *out)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) total += sign * v[i];
    double scale = total != 0.0 ? c / total : c;
    for (size_t i = 0; i < n; i++) out[i] = (float)(1.0 + scale * sign * v[i]);
}

typedef struct prep_job {
    const float *dw0;
    const size_t *row_of; /* row of the projection for each row of dw0; NULL: the same */
    size_t n;             /* rows of dw0 */
    sbp__spread_sums *s;
    size_t chunk_rows;
} prep_job;

static void prepare_chunk(void *ctx, size_t chunk)
{
    prep_job *job = ctx;
    sbp__spread_sums *s = job->s;
    size_t cols = s->cols;
    size_t r0 = chunk * job->chunk_rows;
    size_t r1 = r0 + job->chunk_rows < job->n ? r0 + job->chunk_rows : job->n;
    double *col = s->col_part + chunk * cols;
    for (size_t j = 0; j < cols; j++) col[j] = 0.0;
    for (size_t i = r0; i < r1; i++) {
        const float *r = job->dw0 + i * cols;
        double lp = 0.0, ld = 0.0;
        for (size_t j = 0; j < cols; j++) {
            float v = r[j];
            float pos = v > 0.0f ? v : 0.0f;
            float neg = v < 0.0f ? v : 0.0f;
            lp += pos;
            ld += neg;
            col[j] += neg;
        }
        size_t row = job->row_of ? job->row_of[i] : i;
        s->ltp_row[row] = lp;
        s->ltd_row[row] = ld;
    }
}

void sbp__spread_mult_prepare(const sbp__spread *p, int active, const float *dw0,
                              sbp__spread_sums *s, sbp__pool *pool)
{
    sbp__spread_mult_prepare_rows(p, active, dw0, NULL, s->rows, s, pool);
}

void sbp__spread_mult_prepare_rows(const sbp__spread *p, int active, const float *dw0,
                                   const size_t *row_of, size_t n, sbp__spread_sums *s,
                                   sbp__pool *pool)
{
    size_t rows = s->rows, cols = s->cols;
    if (row_of) {
        /* the rows not given are zero: their sums are 0, their factors 1 */
        memset(s->ltp_row, 0, rows * sizeof *s->ltp_row);
        memset(s->ltd_row, 0, rows * sizeof *s->ltd_row);
    }
    prep_job job = {dw0, row_of, n, s, (n + SBP__SPREAD_CHUNKS - 1) / SBP__SPREAD_CHUNKS};
    size_t chunks = job.chunk_rows ? (n + job.chunk_rows - 1) / job.chunk_rows : 0;
    sbp__pool_run(pool, prepare_chunk, &job, chunks);
    for (size_t j = 0; j < cols; j++) {
        double t = 0.0;
        for (size_t c = 0; c < chunks; c++) t += s->col_part[c * cols + j];
        s->ltd_col[j] = t;
    }
    double f = active ? p->f : 0.0;
    /* |sum| of LTD vectors: work on their negatives */
    share_factors(s->ltp_row, rows, p->lambda_pre * f, 1.0, s->pre_ltp);
    share_factors(s->ltd_row, rows, p->lambda_pre * f, -1.0, s->pre_ltd);
    share_factors(s->ltd_col, cols, p->lambda_post * f, -1.0, s->post_ltd);
}

void sbp__spread_mult_backward(const sbp__spread *p, const sbp__spread_sums *next,
                               sbp__spread_sums *s)
{
    size_t n = s->cols; /* == next->rows */
    double tp = 0.0, td = 0.0;
    for (size_t j = 0; j < n; j++) {
        tp += (double)next->pre_ltp[j] * next->ltp_row[j];
        td += (double)next->pre_ltd[j] * next->ltd_row[j];
    }
    double c = p->lambda_bp * p->f;
    for (size_t j = 0; j < n; j++) {
        double vp = (double)next->pre_ltp[j] * next->ltp_row[j];
        double vd = (double)next->pre_ltd[j] * next->ltd_row[j];
        s->bp_ltp[j] = (float)(1.0 + (tp != 0.0 ? c * vp / tp : c * vp));
        s->bp_ltd[j] = (float)(1.0 + (td != 0.0 ? c * vd / td : c * vd));
    }
}

typedef struct apply_job {
    const sbp__spread_sums *s;
    int hidden;
    const float *dw0;
    const size_t *row_of;
    size_t n;
    const unsigned char *mask;
    float alpha;
    float *w;
    size_t chunk_rows;
} apply_job;

static void apply_rows(void *ctx, size_t chunk)
{
    const apply_job *job = ctx;
    const sbp__spread_sums *s = job->s;
    size_t cols = s->cols;
    size_t r0 = chunk * job->chunk_rows;
    size_t r1 = r0 + job->chunk_rows < job->n ? r0 + job->chunk_rows : job->n;
    const float third = 1.0f / 3.0f, alpha = job->alpha;
    for (size_t i = r0; i < r1; i++) {
        size_t row = job->row_of ? job->row_of[i] : i;
        const float *d = job->dw0 + i * cols;
        float *wr = job->w + row * cols;
        const unsigned char *m = job->mask ? job->mask + row * cols : NULL;
        float a = s->pre_ltp[row], c = s->pre_ltd[row];
        for (size_t j = 0; j < cols; j++) {
            float v = d[j], f;
            if (job->hidden)
                f = v > 0.0f ? 0.5f * (a + s->bp_ltp[j])
                             : third * (c + s->post_ltd[j] + s->bp_ltd[j]);
            else
                f = v > 0.0f ? a : 0.5f * (c + s->post_ltd[j]);
            if (m && !m[j]) f = 1.0f;
            float out = f * v;
            if (out != out) out = 0.0f; /* NaN -> 0, as the authors' code */
            wr[j] += alpha * out;
        }
    }
}

void sbp__spread_mult_apply(const sbp__spread_sums *s, int hidden, const float *dw0,
                            const unsigned char *mask, float alpha, float *w, sbp__pool *pool)
{
    sbp__spread_mult_apply_rows(s, hidden, dw0, NULL, s->rows, mask, alpha, w, pool);
}

void sbp__spread_mult_apply_rows(const sbp__spread_sums *s, int hidden, const float *dw0,
                                 const size_t *row_of, size_t n, const unsigned char *mask,
                                 float alpha, float *w, sbp__pool *pool)
{
    apply_job job = {s,     hidden, dw0, row_of, n, mask,
                     alpha, w,      (n + SBP__SPREAD_CHUNKS - 1) / SBP__SPREAD_CHUNKS};
    if (job.chunk_rows)
        sbp__pool_run(pool, apply_rows, &job, (n + job.chunk_rows - 1) / job.chunk_rows);
}

unsigned char *sbp__spread_mask(sbp__rng *rng, size_t count, double lambda_p, int *failed)
{
    *failed = 0;
    if (lambda_p >= 1.0) return NULL;
    unsigned char *m = sbp__malloc(count ? count : 1);
    if (!m) {
        *failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < count; i++) m[i] = sbp__rng_double(rng) < lambda_p;
    return m;
}

/* ---- additive form (model.md 2a) -------------------------------------- */

/* Callers apply the additive form only when p->enabled is set: with the
 * rule disabled dA is left exactly as the base rule made it (the ablation
 * of model.md 2). Neither function reads p->enabled. */

static inline float retro_omega(int retro, float b, float r)
{
    switch (retro) {
    case SBP_RETRO_EFFICACY: return fabsf(b);
    case SBP_RETRO_SIGNED: return b;
    case SBP_RETRO_RANDOM: return r;
    default: return 1.0f;
    }
}

/* Without split, s_plus holds the whole S and s_minus 0. With split, the
 * terms omega dB are divided by their own sign (for omega >= 0, uniform and
 * efficacy, that is the sign of dB; for signed and random omega it is what
 * keeps S+ >= 0 >= S-, which the no-flip guarantee needs). Sums in double:
 * k is small and the order is fixed, so this costs nothing and is exact
 * enough that the hand-computed tests need no slack. A NULL R with random
 * retro weighting counts as all ones. */
void sbp__spread_add_signal(const sbp__spread *p, const float *dB, const float *B,
                            const float *R, size_t n, size_t k, float *s_plus, float *s_minus)
{
    int retro = p->retro;
    if (retro == SBP_RETRO_RANDOM && !R) retro = SBP_RETRO_UNIFORM;
    for (size_t j = 0; j < n; j++) {
        const float *d = dB + j * k;
        double sp = 0.0, sm = 0.0;
        for (size_t c = 0; c < k; c++) {
            float b = B ? B[j * k + c] : 0.0f;
            float r = R ? R[j * k + c] : 0.0f;
            double t = (double)retro_omega(retro, b, r) * (double)d[c];
            if (!p->split || t > 0.0)
                sp += t;
            else
                sm += t;
        }
        s_plus[j] = (float)sp;
        s_minus[j] = (float)sm;
    }
}

/* Row i of dA gains lambda_f e_i (S+ or S- or both) on its masked entries;
 * a row with e_i = 0 is skipped (the usual case for a sparse input). The
 * inner loops are branch-free selects over contiguous floats so that GCC
 * vectorises them. e is expected >= 0 (rates, traces): then S+ e >= 0 and
 * S- e <= 0, and with split no entry changes sign. */
void sbp__spread_add_apply(const sbp__spread *p, const float *s_plus, const float *s_minus,
                           const float *e, size_t m, size_t n, const unsigned char *mask,
                           float *dA)
{
    const float lf = (float)p->lambda_f;
    const float *restrict sp = s_plus;
    const float *restrict sm = s_minus;
    for (size_t i = 0; i < m; i++) {
        const float g = lf * e[i];
        if (g == 0.0f) continue;
        float *restrict row = dA + i * n;
        const unsigned char *restrict mr = mask ? mask + i * n : NULL;
        if (p->split && mr) {
            /* v > 0: S+, v < 0: S-, v == 0: S+ + S-, written as selects
             * of values loaded unconditionally: no branches in the loop */
            for (size_t j = 0; j < n; j++) {
                float v = row[j], a = sp[j], b = sm[j];
                float add = g * ((v >= 0.0f ? a : 0.0f) + (v <= 0.0f ? b : 0.0f));
                row[j] = v + (mr[j] ? add : 0.0f);
            }
        } else if (p->split) {
            for (size_t j = 0; j < n; j++) {
                float v = row[j], a = sp[j], b = sm[j];
                row[j] = v + g * ((v >= 0.0f ? a : 0.0f) + (v <= 0.0f ? b : 0.0f));
            }
        } else if (mr) {
            for (size_t j = 0; j < n; j++) {
                float add = g * (sp[j] + sm[j]);
                row[j] += mr[j] ? add : 0.0f;
            }
        } else {
            for (size_t j = 0; j < n; j++) row[j] += g * (sp[j] + sm[j]);
        }
    }
}
