/* Kernels for the baseline target (SSE2 on x86-64). */
#define KERNEL_WIDTH 4
#define KERNEL_TABLE sbp__kernels_base
#define KERNEL_NAME "baseline"
#include "kernels_impl.h"
