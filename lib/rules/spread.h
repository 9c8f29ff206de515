/* The SBP spread operator (model.md section 2), shared by all engines.
 *
 * Multiplicative form (2b, the authors' code): every factor is a vector, so
 * a projection's spread needs only its base change dW0 and a few sums: the
 * per-row LTP/LTD sums, the per-column LTD sums and, for hidden
 * projections, the row sums of the next projection's pre-lateral-scaled
 * LTP/LTD. The operator then rescales dW0 entry by entry without changing
 * any sign and without creating a change where dW0 is 0. */
#ifndef SBP_SPREAD_H
#define SBP_SPREAD_H

#include <stddef.h>

#include "../pool.h"
#include "../rng.h"
#include "sbp/sbp.h"

struct sbp_rule;

typedef struct sbp__spread {
    int enabled;
    int form;            /* sbp_spread_form */
    double f;            /* fraction * lambda_f (multiplicative form) */
    double lambda_pre, lambda_post, lambda_bp;
    double lambda_p;     /* mask density */
    double lambda_f;     /* additive form: fraction of the output change */
    int retro;           /* sbp_retro_weight (additive form) */
    int split;           /* additive form: separate LTP/LTD sums */
} sbp__spread;

/* Reads a rule's parameters (NULL rule: disabled). default_form is the
 * engine's form when the rule leaves it unset. */
void sbp__spread_from_rule(const struct sbp_rule *rule, int default_form, sbp__spread *out);

/* Per-projection sums of a base change dW0 (rows x cols, row-major). */
typedef struct sbp__spread_sums {
    size_t rows, cols;
    double *ltp_row;  /* rows: sum_j max(dW0_ij, 0) */
    double *ltd_row;  /* rows: sum_j min(dW0_ij, 0) */
    double *ltd_col;  /* cols: sum_i min(dW0_ij, 0) */
    float *pre_ltp;   /* rows: 1 + lambda_pre f N(ltp_row) */
    float *pre_ltd;   /* rows: 1 + lambda_pre f N(|ltd_row|) */
    float *post_ltd;  /* cols: 1 + lambda_post f N(|ltd_col|) */
    float *bp_ltp;    /* cols: backward factor from the next projection (hidden only) */
    float *bp_ltd;
    double *col_part; /* SBP__SPREAD_CHUNKS x cols: per-chunk column sums */
} sbp__spread_sums;

/* Rows are summed in this many fixed chunks (combined in order), so the
 * sums do not depend on how many threads run the chunks. */
#define SBP__SPREAD_CHUNKS 16

/* Allocates the vectors (returns 0 on allocation failure). */
int sbp__spread_sums_alloc(sbp__spread_sums *s, size_t rows, size_t cols);
void sbp__spread_sums_free(sbp__spread_sums *s);

/* Computes the sums and the lateral factors of dW0 with parameters p;
 * with active = 0 the factors are all 1 (a projection without the
 * operator whose sums feed the backward factors below it). */
void sbp__spread_mult_prepare(const sbp__spread *p, int active, const float *dw0,
                              sbp__spread_sums *s, sbp__pool *pool);

/* The same for a base change whose rows other than row_of[0..n) are all
 * zero: dw0 holds only those n rows (n x cols), in any order. The sums and
 * factors equal those of the full matrix (the zero rows sum to 0). */
void sbp__spread_mult_prepare_rows(const sbp__spread *p, int active, const float *dw0,
                                   const size_t *row_of, size_t n, sbp__spread_sums *s,
                                   sbp__pool *pool);
/* Backward factors of a hidden projection from the next projection's
 * prepared sums (`next`, whose rows are this projection's columns). */
void sbp__spread_mult_backward(const sbp__spread *p, const sbp__spread_sums *next,
                               sbp__spread_sums *s);

/* w += alpha * SBP(dW0) (hidden: uses the backward factors). Entries whose
 * mask byte is 0 (mask may be NULL = all ones) get the plain base change. */
void sbp__spread_mult_apply(const sbp__spread_sums *s, int hidden, const float *dw0,
                            const unsigned char *mask, float alpha, float *w, sbp__pool *pool);
/* The same for the compact dw0 of sbp__spread_mult_prepare_rows: only the
 * rows row_of[0..n) of w change (the others would gain exactly 0). */
void sbp__spread_mult_apply_rows(const sbp__spread_sums *s, int hidden, const float *dw0,
                                 const size_t *row_of, size_t n, const unsigned char *mask,
                                 float alpha, float *w, sbp__pool *pool);

/* Additive form (model.md 2a), for hidden neurons j = 0..n-1 with k output
 * synapses each: S_j = sum_k omega_jk dB_jk, omega by retro_weight
 * (uniform 1, efficacy |B_jk|, signed B_jk, random R_jk), then
 * dA_ij += lambda_f S_j e_i M_ij for the m inputs i (e: presynaptic
 * eligibility >= 0, M: mask, NULL = all ones). With split_ltp_ltd the LTP
 * part S+ (the terms omega_jk dB_jk > 0: from dB > 0 when omega >= 0) and
 * the LTD part S- (the terms < 0) are kept apart and a synapse whose own
 * change dA_ij is already positive receives only S+, a negative one only
 * S-, a zero one both: the spread then never flips the sign of an existing
 * change. Without split, S+ holds the whole S_j and S- is 0.
 * sbp__spread_add_signal computes S+ (n) and S- (n); R may be NULL unless
 * retro_weight is random (NULL then counts as all ones).
 * Neither function reads p->enabled: callers skip both when p->enabled is
 * 0, which leaves dA unchanged (the exact ablation). */
void sbp__spread_add_signal(const sbp__spread *p, const float *dB, const float *B,
                            const float *R, size_t n, size_t k, float *s_plus, float *s_minus);
/* dA (m x n) += lambda_f (S+ + S-) e M as described above. */
void sbp__spread_add_apply(const sbp__spread *p, const float *s_plus, const float *s_minus,
                           const float *e, size_t m, size_t n, const unsigned char *mask,
                           float *dA);

/* Draws a fixed 0/1 mask of density lambda_p (returns NULL when lambda_p
 * is 1: no mask needed; *failed set on allocation failure). */
unsigned char *sbp__spread_mask(sbp__rng *rng, size_t count, double lambda_p, int *failed);

#endif
