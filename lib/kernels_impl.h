/* Kernel bodies, included by kernels_base.c and kernels_avx2.c with
 * KERNEL_WIDTH (floats per vector) and KERNEL_TABLE (the table's name). */
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "vmath.h"

#define W KERNEL_WIDTH
typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));

static inline vf splat(float x)
{
    vf v;
    for (int i = 0; i < W; i++) v[i] = x;
    return v;
}

static inline vf select_v(vi mask, vf a, vf b)
{
    return (vf)(((vi)a & mask) | ((vi)b & ~mask));
}

/* Lane-wise sbp__expf (vmath.h): the same operations, W at a time. */
static inline vf exp_v(vf x)
{
    const vf lo = splat(-87.0f), hi = splat(87.0f);
    x = select_v(x < lo, lo, x);
    x = select_v(x > hi, hi, x);
    vf t = x * 1.44269504088896341f + 0.5f;
    vi n = __builtin_convertvector(t, vi);
    n += (vi)(__builtin_convertvector(n, vf) > t); /* floor: true is -1 */
    vf fn = __builtin_convertvector(n, vf);
    vf r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    vf p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    vi bits = (n + 127) << 23;
    return p * (vf)bits;
}

static void k_sigma2(float *x, size_t n)
{
    size_t i = 0;
    for (; i + W <= n; i += W) {
        vf v;
        memcpy(&v, x + i, sizeof v);
        v = 2.0f / (1.0f + exp_v(-v)) - 1.0f;
        memcpy(x + i, &v, sizeof v);
    }
    for (; i < n; i++) x[i] = sbp__sigma2(x[i]);
}

static void k_lif(const sbp__lif_consts *k, float kappa, float *restrict V, float *restrict g,
                  const float *restrict h, float *restrict s, const float *restrict drive,
                  size_t n)
{
    const float ks = k->ks, km = k->km, gl = k->gl, igl = k->igl, vl = k->vl, ve = k->ve,
                vth = k->vth, vr = k->vr, k1 = 1.0f - kappa;
    for (size_t i = 0; i < n; i++) {
        float gn = g[i] + ks * (-g[i] + gl + drive[i]);
        float Vn = V[i] + km * (-(V[i] - vl) - gn * igl * (V[i] - ve));
        Vn = Vn > vth ? vr : Vn;
        float u = kappa * Vn + k1 * h[i];
        g[i] = gn;
        V[i] = u;
        s[i] = u;
    }
    k_sigma2(s, n);
}

/* Eight partial sums in a fixed order, combined pairwise. */
static inline float dot8(const float *restrict a, const float *restrict b, size_t k)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t p = 0;
    for (; p + 8 <= k; p += 8)
        for (int i = 0; i < 8; i++) acc[i] += a[p + (size_t)i] * b[p + (size_t)i];
    for (int i = 0; p < k; p++, i++) acc[i] += a[p] * b[p];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* dot8 of a with four vectors at once: each result is summed exactly as
 * dot8 sums it (same bits), but the four independent chains keep the
 * adder busy where one chain waits on its own latency. */
static inline void dot8x4(const float *restrict a, const float *restrict b, size_t k,
                          float *restrict out)
{
    float acc[4][8] = {{0}};
    size_t p = 0;
    for (; p + 8 <= k; p += 8)
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < 8; i++)
                acc[c][i] += a[p + (size_t)i] * b[(size_t)c * k + p + (size_t)i];
    for (int i = 0; p < k; p++, i++)
        for (int c = 0; c < 4; c++) acc[c][i] += a[p] * b[(size_t)c * k + p];
    for (int c = 0; c < 4; c++) {
        const float *x = acc[c];
        out[c] = ((x[0] + x[4]) + (x[1] + x[5])) + ((x[2] + x[6]) + (x[3] + x[7]));
    }
}

static void k_rows_times(const float *restrict a, size_t rows, size_t k,
                         const float *restrict wt, size_t n, float *restrict out)
{
    for (size_t r = 0; r < rows; r++) {
        size_t j = 0;
        for (; j + 4 <= n; j += 4) dot8x4(a + r * k, wt + j * k, k, out + r * n + j);
        for (; j < n; j++) out[r * n + j] = dot8(a + r * k, wt + j * k, k);
    }
}

static void k_bias_sigma(float *restrict out, const float *restrict in, const float *restrict b,
                         size_t rows, size_t n)
{
    for (size_t q = 0; q < rows; q++)
        for (size_t j = 0; j < n; j++) out[q * n + j] = in[q * n + j] + b[j];
    k_sigma2(out, rows * n);
}

static void k_relax_hidden(float *restrict s, const float *restrict in,
                           const float *restrict fb, const float *restrict b, size_t rows,
                           size_t n, float eps)
{
    for (size_t q = 0; q < rows; q++)
        for (size_t j = 0; j < n; j++) {
            size_t i = q * n + j;
            s[i] = s[i] - eps * (s[i] - in[i] - fb[i] - b[j]);
        }
    k_sigma2(s, rows * n);
}

static void k_add_rows(float *restrict I, const float *restrict Wm, size_t n,
                       const uint32_t *restrict rows, size_t count)
{
    for (size_t s = 0; s < count; s++) {
        const float *restrict row = Wm + (size_t)rows[s] * n;
        size_t j = 0;
        for (; j + W <= n; j += W) {
            vf a, b;
            memcpy(&a, I + j, sizeof a);
            memcpy(&b, row + j, sizeof b);
            a += b;
            memcpy(I + j, &a, sizeof a);
        }
        for (; j < n; j++) I[j] += row[j];
    }
}

/* y[j] += coef[s] * rows[s][offset + j] for s = 0..count-1 in order, for
 * j < n: a block of eight vectors of y stays in registers while the terms
 * stream past, and each element sees the same sequence of multiplies and
 * adds as one axpy per term would give (no FMA), whatever the width. */
#define AXPY_TERM(acc, k)                                                                          \
    do {                                                                                           \
        vf r_;                                                                                     \
        memcpy(&r_, r + (k) * W, sizeof r_);                                                       \
        acc += c * r_;                                                                             \
    } while (0)
#define AXPY_LOAD(acc, k) memcpy(&acc, y + j + (k) * W, sizeof acc)
#define AXPY_STORE(acc, k) memcpy(y + j + (k) * W, &acc, sizeof acc)

static void k_axpy_rows(float *restrict y, const float *const *restrict rows, size_t offset,
                        const float *restrict coef, size_t count, size_t n)
{
    size_t j = 0;
    for (; j + 8 * W <= n; j += 8 * W) {
        vf y0, y1, y2, y3, y4, y5, y6, y7;
        AXPY_LOAD(y0, 0); AXPY_LOAD(y1, 1); AXPY_LOAD(y2, 2); AXPY_LOAD(y3, 3);
        AXPY_LOAD(y4, 4); AXPY_LOAD(y5, 5); AXPY_LOAD(y6, 6); AXPY_LOAD(y7, 7);
        for (size_t s = 0; s < count; s++) {
            const float *r = rows[s] + offset + j;
            vf c = splat(coef[s]);
            AXPY_TERM(y0, 0); AXPY_TERM(y1, 1); AXPY_TERM(y2, 2); AXPY_TERM(y3, 3);
            AXPY_TERM(y4, 4); AXPY_TERM(y5, 5); AXPY_TERM(y6, 6); AXPY_TERM(y7, 7);
        }
        AXPY_STORE(y0, 0); AXPY_STORE(y1, 1); AXPY_STORE(y2, 2); AXPY_STORE(y3, 3);
        AXPY_STORE(y4, 4); AXPY_STORE(y5, 5); AXPY_STORE(y6, 6); AXPY_STORE(y7, 7);
    }
    for (; j + W <= n; j += W) {
        vf y0;
        AXPY_LOAD(y0, 0);
        for (size_t s = 0; s < count; s++) {
            const float *r = rows[s] + offset + j;
            vf c = splat(coef[s]);
            AXPY_TERM(y0, 0);
        }
        AXPY_STORE(y0, 0);
    }
    for (; j < n; j++) {
        float acc = y[j];
        for (size_t s = 0; s < count; s++) acc += coef[s] * rows[s][offset + j];
        y[j] = acc;
    }
}
#undef AXPY_TERM
#undef AXPY_LOAD
#undef AXPY_STORE

/* Branch-free over W neurons at a time: the compares become lane masks, so
 * the loop costs the same whether or not neurons fire or are refractory. */
static size_t k_spike_lif(float *restrict V, int32_t *restrict ref, float *restrict cnt,
                          const float *restrict I, const float *restrict a, size_t n,
                          float decay, float v_th, float v_reset, int32_t t_ref,
                          uint32_t *restrict spk)
{
    size_t c = 0, j = 0;
    const vf vdecay = splat(decay), vth = splat(v_th), vreset = splat(v_reset), one = splat(1.0f);
    vi vtref, zero;
    for (int q = 0; q < W; q++) {
        vtref[q] = t_ref;
        zero[q] = 0;
    }
    for (; j + W <= n; j += W) {
        vf v0, in, cn, th = vth;
        vi r;
        memcpy(&v0, V + j, sizeof v0);
        memcpy(&in, I + j, sizeof in);
        memcpy(&cn, cnt + j, sizeof cn);
        memcpy(&r, ref + j, sizeof r);
        if (a) {
            vf av;
            memcpy(&av, a + j, sizeof av);
            th = vth + av;
        }
        vf v = v0 * vdecay + in;
        vi active = r == zero;
        vi fire = active & (v >= th);
        vf nv = select_v(fire, vreset, select_v(active, v, v0));
        vi nr = (fire & vtref) | (~fire & (r + (r > zero))); /* true is -1: r - 1 */
        cn += select_v(fire, one, splat(0.0f));
        memcpy(V + j, &nv, sizeof nv);
        memcpy(ref + j, &nr, sizeof nr);
        memcpy(cnt + j, &cn, sizeof cn);
        int any = 0;
        for (int q = 0; q < W; q++) any |= fire[q];
        if (any)
            for (int q = 0; q < W; q++)
                if (fire[q]) spk[c++] = (uint32_t)(j + (size_t)q);
    }
    for (; j < n; j++) {
        if (ref[j] > 0) {
            ref[j]--;
            continue;
        }
        float v = V[j] * decay + I[j];
        float th = a ? v_th + a[j] : v_th;
        if (v >= th) {
            V[j] = v_reset;
            ref[j] = t_ref;
            cnt[j] += 1.0f;
            spk[c++] = (uint32_t)j;
        } else {
            V[j] = v;
        }
    }
    return c;
}

const sbp__kernels KERNEL_TABLE = {
    .name = KERNEL_NAME,
    .sigma2 = k_sigma2,
    .lif = k_lif,
    .rows_times = k_rows_times,
    .bias_sigma = k_bias_sigma,
    .relax_hidden = k_relax_hidden,
    .add_rows = k_add_rows,
    .axpy_rows = k_axpy_rows,
    .spike_lif = k_spike_lif,
};
