/* Messages, strict number parsing and JSON/number formatting for the `sbp`
 * command (tools/msg.c). Separate from tool.h, which the Check-based
 * tests include: check.h has a macro named fail. */
#ifndef SBP_TOOL_MSG_H
#define SBP_TOOL_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sbp/sbp.h"

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* A failure: "sbp: ..." on stderr; returns EXIT_FAIL (1). */
int fail(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* A usage error: "sbp: ..." on stderr; returns EXIT_USAGE (2). */
int usage(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Information for the user on stderr (nothing when quiet). */
void note(int quiet, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* "SBP_E_RANGE" etc., never NULL. */
const char *status_name(sbp_status st);
/* A library failure: "<context>: <message> (SBP_E_...)"; returns EXIT_FAIL.
 * context may be NULL; message NULL or "" uses sbp_status_str(st). */
int lib_fail(const char *context, sbp_status st, const char *message);

/* ------------------------------------------------------------------------ */
/* Strict number parsing                                                     */
/* ------------------------------------------------------------------------ */

/* Each returns 0, or EXIT_USAGE after the message; `what` names the
 * argument in messages ("--epochs"). */

/* Whole decimal number in [min, max]: digits only (no sign, no spaces, no
 * trailing garbage). */
int parse_uint(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_size(const char *what, const char *s, uint64_t min, uint64_t max, size_t *out);
/* Comma-separated list of whole numbers; at most `cap` entries. */
int parse_uint_list(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                    size_t cap, size_t *n);

/* ------------------------------------------------------------------------ */
/* JSON and number formatting                                                */
/* ------------------------------------------------------------------------ */

void json_string(FILE *f, const char *s);
/* A JSON number, or null when it is not finite. */
void json_number(FILE *f, double v, int digits);
/* Scientific notation as the paper writes it: "1.92e7"; with use_forced,
 * in the exponent forced_exp, so that a pair reads "1.92e7 → 0.88e7". */
void fmt_sci(char *buf, size_t size, double v, int forced_exp, int use_forced);
/* The exponent fmt_sci would choose for v. */
int sci_exponent(double v);

#endif
