/* Shared declarations of the `sbp` command's modules (tools/). */
#ifndef SBP_TOOL_H
#define SBP_TOOL_H

#include <stdio.h>

/* `sbp data verify DIR`: checks every MNIST file present in DIR (raw or
 * .gz): parses it with the library loader and compares the decompressed
 * content's hash with the published value. Prints one line per file to
 * `out`, problems to `err`. Returns 0 when every file present verifies and
 * at least one image/label pair was found, 1 otherwise. */
int sbp_tool_data_verify(const char *dir, FILE *out, FILE *err);

#endif
