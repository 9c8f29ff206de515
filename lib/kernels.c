/* Picks the kernel build for the running CPU. */
#include "kernels.h"

const sbp__kernels *sbp__kernels_for_cpu(void)
{
#if defined(SBP_HAVE_AVX2_KERNELS) && (defined(__x86_64__) || defined(__i386__))
    if (__builtin_cpu_supports("avx2")) return &sbp__kernels_avx2;
#endif
    return &sbp__kernels_base;
}
