/* Elementwise and small dense kernels of the engines' hot loops, compiled
 * once for the x86-64 baseline (and any other target) and once for AVX2;
 * sbp__kernels_for_cpu() picks the widest the CPU runs.
 *
 * Both builds perform exactly the same IEEE operations in the same order
 * (no FMA, no reassociation; dot products keep eight partial sums in
 * source order), so they give identical bits: a result never depends on
 * the machine's vector width. */
#ifndef SBP_KERNELS_H
#define SBP_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sbp__lif_consts {
    float ks;   /* dt / tau_s */
    float km;   /* dt / tau_m */
    float gl;   /* g_leak */
    float igl;  /* 1 / g_leak */
    float vl, ve, vth, vr;
} sbp__lif_consts;

typedef struct sbp__kernels {
    const char *name;
    /* x[i] = 2/(1+exp(-x[i])) - 1 */
    void (*sigma2)(float *x, size_t n);
    /* One LIF step (model.md 4, step 1) of n neurons; s = sigma2(u). */
    void (*lif)(const sbp__lif_consts *k, float kappa, float *V, float *g, const float *h,
                float *s, const float *drive, size_t n);
    /* out (rows x n) = a (rows x k) times w, with wt = w transposed (n x k). */
    void (*rows_times)(const float *a, size_t rows, size_t k, const float *wt, size_t n,
                       float *out);
    /* out = sigma2(in + b) row by row (b has n entries). */
    void (*bias_sigma)(float *out, const float *in, const float *b, size_t rows, size_t n);
    /* Hidden relaxation update s = sigma2(s - eps (s - in - fb - b)). */
    void (*relax_hidden)(float *s, const float *in, const float *fb, const float *b,
                         size_t rows, size_t n, float eps);
    /* One step of n spike-engine LIF neurons (docs/spike.md): a neuron with
     * ref > 0 ignores its input, keeps V and counts ref down; otherwise
     * v = V decay + I, and v >= v_th + a (a: adaptation, NULL = 0) fires:
     * V = v_reset, ref = t_ref, cnt += 1, index appended to spk. Returns
     * the number of spikes (indices ascending). */
    /* I[j] += W[r * n + j] for each row r of rows[0..count-1] in order: the
     * spike engine's event loop (a spike adds its outgoing weight row). */
    void (*add_rows)(float *I, const float *W, size_t n, const uint32_t *rows, size_t count);
    /* y[j] += coef[s] * rows[s][offset + j] for s = 0..count-1 in order
     * (j < n): the sparse products of spmm.c. */
    void (*axpy_rows)(float *y, const float *const *rows, size_t offset, const float *coef,
                      size_t count, size_t n);
    size_t (*spike_lif)(float *V, int32_t *ref, float *cnt, const float *I, const float *a,
                        size_t n, float decay, float v_th, float v_reset, int32_t t_ref,
                        uint32_t *spk);
} sbp__kernels;

/* The kernels for this CPU (never NULL). */
const sbp__kernels *sbp__kernels_for_cpu(void);

/* Each build's table (the AVX2 one only on x86-64 builds that have it). */
extern const sbp__kernels sbp__kernels_base;
extern const sbp__kernels sbp__kernels_avx2;

#endif
