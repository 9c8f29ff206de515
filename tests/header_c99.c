/* The public header alone, compiled as strict C99 (-pedantic -Werror). */
#include <sbp/sbp.h>

int main(void)
{
    /* The header's and the library's version must agree in a fresh build. */
    return sbp_version_number() == SBP_VERSION_NUMBER ? 0 : 1;
}
