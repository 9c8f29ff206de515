/* Version and build facts. */
#include <unistd.h>

#include "gemm.h"
#include "internal.h"

unsigned sbp_version_number(void)
{
    return SBP_VERSION_NUMBER;
}

const char *sbp_version_string(void)
{
    return SBP_VERSION_STRING;
}

const char *sbp_blas_name(void)
{
    return sbp__blas_describe();
}

unsigned sbp_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}
