/* Computational cost as the paper measures it: per-epoch complexity, mean
 * epochs to reach five error thresholds, and mean/std over seeds.
 * See docs/cost.md and model.md section 7. */
#include <math.h>
#include <stddef.h>

#include "internal.h"

#define N_THRESHOLDS 5

double sbp_cost_per_epoch(sbp_cost_model model, size_t m, size_t n, size_t k)
{
    /* Converted first so that large sizes cannot wrap around in size_t. */
    const double dm = (double)m, dn = (double)n, dk = (double)k;
    switch (model) {
    case SBP_COST_SNN:
        return dm * dn + dn * dk + dn;
    case SBP_COST_BBT:
        return dm * dn + dn * dk + dn + dm;
    case SBP_COST_DENSE:
        return dm * dn + dn * dk + dk * dn + dn * dm;
    }
    return 0.0;
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static void min_max(const double *x, size_t n, double *lo, double *hi)
{
    double mn = x[0], mx = x[0];
    for (size_t i = 1; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    *lo = mn;
    *hi = mx;
}

/* numpy.linspace(lo, hi, 5) for finite lo and hi, rounding included:
 * t[i] = i * ((hi - lo) / 4) + lo, t[4] = hi. lo > hi gives decreasing
 * values, exactly as numpy does. Two cases numpy handles differently are
 * kept finite instead: hi - lo overflowing (numpy would give Inf/NaN) uses
 * the weighted form, which cannot overflow for opposite-signed ends. */
static void thresholds(double lo, double hi, double t[N_THRESHOLDS])
{
    const double div = (double)(N_THRESHOLDS - 1);
    const double delta = hi - lo;
    if (!isfinite(delta)) {
        for (int i = 0; i < N_THRESHOLDS - 1; i++) {
            const double w = (double)i / div;
            t[i] = (1.0 - w) * lo + w * hi;
        }
    } else {
        const double step = delta / div;
        for (int i = 0; i < N_THRESHOLDS - 1; i++) {
            if (step == 0.0) /* numpy's subnormal-step branch (gh-5437) */
                t[i] = (double)i / div * delta + lo;
            else
                t[i] = (double)i * step + lo;
        }
    }
    t[N_THRESHOLDS - 1] = hi;
}

/* Mean over the thresholds of the first 1-based epoch with x <= t, or
 * `never` for a threshold the curve does not reach. */
static double mean_first_epoch(const double *x, size_t n, const double t[N_THRESHOLDS],
                               size_t never)
{
    double sum = 0.0;
    for (int j = 0; j < N_THRESHOLDS; j++) {
        size_t epoch = never;
        for (size_t i = 0; i < n; i++) {
            if (x[i] <= t[j]) {
                epoch = i + 1;
                break;
            }
        }
        sum += (double)epoch;
    }
    return sum / (double)N_THRESHOLDS;
}

sbp_status sbp_cost_mean_epochs(const double *a, size_t n_a, const double *b, size_t n_b,
                                double cap, size_t budget, double *epochs_a, double *epochs_b)
{
    if (!a || !b || !epochs_a || !epochs_b) return SBP_E_INVALID;
    if (n_a == 0 || n_b == 0) return SBP_E_INVALID;
    if (!all_finite(a, n_a) || !all_finite(b, n_b) || !isfinite(cap)) return SBP_E_NUMERIC;

    double min_a, max_a, min_b, max_b;
    min_max(a, n_a, &min_a, &max_a);
    min_max(b, n_b, &min_b, &max_b);
    const double lo = min_a > min_b ? min_a : min_b;
    double hi = max_a < max_b ? max_a : max_b;
    if (cap > 0.0 && cap < hi) hi = cap;

    double t[N_THRESHOLDS];
    thresholds(lo, hi, t);
    *epochs_a = mean_first_epoch(a, n_a, t, budget ? budget : n_a);
    *epochs_b = mean_first_epoch(b, n_b, t, budget ? budget : n_b);
    return SBP_OK;
}

sbp_status sbp_cost_mean_std(const double *values, size_t n, double *mean, double *std)
{
    if (!values || !mean || !std || n == 0) return SBP_E_INVALID;
    if (!all_finite(values, n)) return SBP_E_NUMERIC;

    /* Two passes on values scaled by a power of two so that neither the sum
     * nor the squares can overflow. The scaling is exact, so for ordinary
     * magnitudes the results are bit-identical to the unscaled formula. */
    double amax = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double v = fabs(values[i]);
        if (v > amax) amax = v;
    }
    if (amax == 0.0) {
        *mean = 0.0;
        *std = 0.0;
        return SBP_OK;
    }
    int e;
    (void)frexp(amax, &e);

    const double dn = (double)n;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += ldexp(values[i], -e);
    const double mu = sum / dn;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = ldexp(values[i], -e) - mu;
        ss += d * d;
    }
    *mean = ldexp(mu, e);
    *std = ldexp(sqrt(ss / dn), e);
    return SBP_OK;
}
