/* Messages, strict number parsing and JSON/number formatting for the `sbp`
 * command (declared in tool.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "tool.h"

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

static void vmsg(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);
static void vmsg(const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs("sbp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return EXIT_FAIL;
}

int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

void note(int quiet, const char *fmt, ...)
{
    if (quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

const char *status_name(sbp_status st)
{
    const char *n = sbp_status_name(st);
    return n ? n : "unknown status";
}

int lib_fail(const char *context, sbp_status st, const char *message)
{
    if (!message || !*message) message = sbp_status_str(st);
    if (context && *context) return fail("%s: %s (%s)", context, message, status_name(st));
    return fail("%s (%s)", message, status_name(st));
}

/* ------------------------------------------------------------------------ */
/* Strict number parsing                                                     */
/* ------------------------------------------------------------------------ */


/* Whole decimal number in [min, max]: digits only (no sign, no spaces, no
 * trailing garbage). `what` names the argument in messages. */
int parse_uint(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *kind = min >= 1 ? "a positive integer" : "a non-negative integer";
    if (!s || !*s || *s < '0' || *s > '9')
        return usage("%s: expected %s, got '%s'", what, kind, s ? s : "");
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') return usage("%s: expected %s, got '%s'", what, kind, s);
    if (errno == ERANGE || v > max)
        return usage("%s: %s is too large (at most %" PRIu64 ")", what, s, max);
    if (v < min) return usage("%s: expected %s, got '%s'", what, kind, s);
    *out = (uint64_t)v;
    return 0;
}

int parse_size(const char *what, const char *s, uint64_t min, uint64_t max, size_t *out)
{
    uint64_t v = 0;
    int rc = parse_uint(what, s, min, max, &v);
    if (rc) return rc;
    *out = (size_t)v;
    return 0;
}

/* Comma-separated list of whole numbers; at most `cap` entries. */
int parse_uint_list(const char *what, const char *s, uint64_t min, uint64_t max,
                           uint64_t *out, size_t cap, size_t *n)
{
    *n = 0;
    if (!s || !*s) return usage("%s: expected a comma-separated list, got ''", what);
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item)
            return usage("%s: expected a comma-separated list of integers, got '%s'", what, s);
        memcpy(item, p, len);
        item[len] = '\0';
        if (*n == cap) return usage("%s: at most %zu values", what, cap);
        int rc = parse_uint(what, item, min, max, &out[*n]);
        if (rc) return rc;
        (*n)++;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* JSON and number formatting                                                */
/* ------------------------------------------------------------------------ */

void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", (unsigned)*p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* A JSON number, or null when it is not finite. */
void json_number(FILE *f, double v, int digits)
{
    if (isfinite(v))
        fprintf(f, "%.*g", digits, v);
    else
        fputs("null", f);
}

/* Scientific notation as the paper writes it: "1.92e7"; with use_forced,
 * in the exponent forced_exp, so that a pair reads "1.92e7 → 0.88e7". */
void fmt_sci(char *buf, size_t size, double v, int forced_exp, int use_forced)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "n/a");
        return;
    }
    if (v == 0.0) {
        snprintf(buf, size, "0");
        return;
    }
    int e = use_forced ? forced_exp : (int)floor(log10(fabs(v)));
    double m = v / pow(10.0, e);
    if (!use_forced && fabs(m) >= 9.995) {
        e++;
        m /= 10.0;
    }
    snprintf(buf, size, "%.2fe%d", m, e);
}

int sci_exponent(double v)
{
    if (!isfinite(v) || v == 0.0) return 0;
    int e = (int)floor(log10(fabs(v)));
    if (fabs(v / pow(10.0, e)) >= 9.995) e++;
    return e;
}
