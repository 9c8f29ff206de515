/* Status text, per-handle messages and loader diagnostics. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct {
    const char *name;
    const char *text;
} status_table[] = {
    [SBP_OK] = {"SBP_OK", "success"},
    [SBP_E_INVALID] = {"SBP_E_INVALID", "invalid argument"},
    [SBP_E_RANGE] = {"SBP_E_RANGE", "parameter out of range"},
    [SBP_E_NOMEM] = {"SBP_E_NOMEM", "out of memory"},
    [SBP_E_IO] = {"SBP_E_IO", "input/output error"},
    [SBP_E_FORMAT] = {"SBP_E_FORMAT", "malformed data"},
    [SBP_E_TRUNCATED] = {"SBP_E_TRUNCATED", "data truncated"},
    [SBP_E_TOO_LARGE] = {"SBP_E_TOO_LARGE", "size beyond limits"},
    [SBP_E_MISMATCH] = {"SBP_E_MISMATCH", "sizes do not match"},
    [SBP_E_STATE] = {"SBP_E_STATE", "call not valid in this state"},
    [SBP_E_UNSUPPORTED] = {"SBP_E_UNSUPPORTED", "not supported"},
    [SBP_E_NUMERIC] = {"SBP_E_NUMERIC", "non-finite number"},
    [SBP_E_CHECKSUM] = {"SBP_E_CHECKSUM", "checksum mismatch"},
    [SBP_E_VERSION] = {"SBP_E_VERSION", "unsupported format version"},
    [SBP_E_CANCELLED] = {"SBP_E_CANCELLED", "cancelled"},
    [SBP_E_COMPRESSION] = {"SBP_E_COMPRESSION", "corrupt compressed data"},
    [SBP_E_INTERNAL] = {"SBP_E_INTERNAL", "internal error"},
};

#define N_STATUS (sizeof status_table / sizeof status_table[0])

const char *sbp_status_str(sbp_status status)
{
    if ((unsigned)status >= N_STATUS) return "unknown status";
    return status_table[status].text;
}

const char *sbp_status_name(sbp_status status)
{
    if ((unsigned)status >= N_STATUS) return NULL;
    return status_table[status].name;
}

void sbp__strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= size) n = size - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

sbp_status sbp__vfail(char *buf, sbp_status st, const char *fmt, va_list ap)
{
    if (buf) vsnprintf(buf, SBP__MSG_MAX, fmt, ap);
    return st;
}

sbp_status sbp__fail(char *buf, sbp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sbp__vfail(buf, st, fmt, ap);
    va_end(ap);
    return st;
}

sbp_status sbp__diag(sbp_diag *diag, sbp_status st, const char *file, uint64_t offset,
                     uint64_t expected, uint64_t found, const char *fmt, ...)
{
    if (!diag) return st;
    diag->status = st;
    sbp__strlcpy(diag->file, file ? file : "", sizeof diag->file);
    diag->offset = offset;
    diag->line = 0;
    diag->expected = expected;
    diag->found = found;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, ap);
    va_end(ap);
    return st;
}
