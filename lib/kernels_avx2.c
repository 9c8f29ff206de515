/* Kernels for AVX2 (this file is compiled with -mavx2 and no -mfma). */
#define KERNEL_WIDTH 8
#define KERNEL_TABLE sbp__kernels_avx2
#define KERNEL_NAME "avx2"
#include "kernels_impl.h"
