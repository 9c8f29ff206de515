/* The only file that talks to BLAS. With -Dblas=disabled a plain C loop
 * takes its place (correct, much slower). */
#include "gemm.h"
#include "pool.h"

#include "sbp/sbp.h"

#if SBP_HAVE_CBLAS
#include <cblas.h>

#ifndef SBP_HAVE_OPENBLAS_CONFIG
typedef int blasint; /* OpenBLAS defines it; reference CBLAS uses int */
#endif

void sbp__sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                size_t ldc)
{
    if (m == 0 || n == 0) return;
    if (m == 1 && k > 0) {
        /* One row (batch 1: NETtalk): sgemm would pack all of B at every
         * call, which costs as much as the product itself. */
        blasint inc_a = trans_a ? (blasint)lda : 1;
        if (trans_b) /* c = B a, B stored n x k */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)k, alpha, b,
                        (blasint)ldb, a, inc_a, beta, c, 1);
        else /* c = B' a, B stored k x n */
            cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)n, alpha, b,
                        (blasint)ldb, a, inc_a, beta, c, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, alpha,
                a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

const char *sbp__blas_describe(void)
{
#ifdef SBP_HAVE_OPENBLAS_CONFIG
    return openblas_get_config();
#else
    return "CBLAS";
#endif
}

#else

/* Each element's dot product is summed in a local accumulator and added to
 * C once, so accumulating into a large matrix (beta = 1) rounds once per
 * call rather than once per term. */
void sbp__sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (size_t p = 0; p < k; p++) {
                float aip = trans_a ? a[p * lda + i] : a[i * lda + p];
                float bpj = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                acc += aip * bpj;
            }
            ci[j] = (beta == 0.0f ? 0.0f : beta * ci[j]) + alpha * acc;
        }
    }
}

const char *sbp__blas_describe(void)
{
    return "built-in C (no BLAS)";
}

#endif

void sbp__sgemm_rested(sbp__pool *pool, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                       float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                       float beta, float *c, size_t ldc)
{
    sbp__pool_rest(pool);
    sbp__sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
