/* Private declarations shared by lib/ files. Nothing here is exported. */
#ifndef SBP_INTERNAL_H
#define SBP_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "sbp/sbp.h"

#define SBP__MSG_MAX 512

/* Handle tags: the first field of every handle, checked on entry so that a
 * wrong or freed handle is refused instead of misread. */
#define SBP__TAG_NET 0x4E504253u     /* "SBPN" */
#define SBP__TAG_LAYER 0x4C504253u   /* "SBPL" */
#define SBP__TAG_RULE 0x52504253u    /* "SBPR" */
#define SBP__TAG_DATASET 0x44504253u /* "SBPD" */
#define SBP__TAG_FREED 0xDEADBEEFu

#if defined(__GNUC__)
#define SBP__PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SBP__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SBP__PRINTF(f, a)
#define SBP__UNLIKELY(x) (x)
#endif

/* Writes a formatted one-line message into buf (SBP__MSG_MAX bytes) and
 * returns st, so that `return sbp__fail(h->errmsg, SBP_E_RANGE, "...")`
 * records and reports in one statement. buf may be NULL. */
sbp_status sbp__fail(char *buf, sbp_status st, const char *fmt, ...) SBP__PRINTF(3, 4);
sbp_status sbp__vfail(char *buf, sbp_status st, const char *fmt, va_list ap);

/* SBP_RETURN_IF(cond, errbuf, status, fmt, ...): one-line argument checks. */
#define SBP_RETURN_IF(cond, buf, st, ...)                        \
    do {                                                         \
        if (SBP__UNLIKELY(cond)) return sbp__fail((buf), (st), __VA_ARGS__); \
    } while (0)

/* Propagates a non-OK status unchanged (message already recorded). */
#define SBP_TRY(expr)                                            \
    do {                                                         \
        sbp_status sbp__st = (expr);                             \
        if (sbp__st != SBP_OK) return sbp__st;                   \
    } while (0)

/* Copies a C string into a fixed buffer, always NUL-terminated. */
void sbp__strlcpy(char *dst, const char *src, size_t size);

/* Fills a diagnostic (may be NULL) and returns its status. */
sbp_status sbp__diag(sbp_diag *diag, sbp_status st, const char *file, uint64_t offset,
                     uint64_t expected, uint64_t found, const char *fmt, ...) SBP__PRINTF(7, 8);

#endif
