/* Shared helpers of the libFuzzer harnesses (docs/reliability.md).
 *
 * Each harness defines LLVMFuzzerTestOneInput. It is linked either with
 * libFuzzer (clang -fsanitize=fuzzer; scripts/fuzz) or with replay.c, a
 * plain main that feeds it files, so that every build replays the seed
 * corpora and the regression inputs as an ordinary test. */
#ifndef SBP_FUZZ_H
#define SBP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A harness found a broken promise of the library: report and abort, so
 * that libFuzzer (and replay) records the input as a crash. */
#define FUZZ_CHECK(cond)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Consumes the input front to back; past the end every read gives 0. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline int fuzz_more(const fuzz_in *in)
{
    return in->n > 0;
}

static inline uint8_t fuzz_u8(fuzz_in *in)
{
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static inline uint64_t fuzz_bytes_le(fuzz_in *in, int count)
{
    uint64_t v = 0;
    for (int i = 0; i < count; i++) v |= (uint64_t)fuzz_u8(in) << (8 * i);
    return v;
}

static inline uint32_t fuzz_u32(fuzz_in *in)
{
    return (uint32_t)fuzz_bytes_le(in, 4);
}

static inline uint64_t fuzz_u64(fuzz_in *in)
{
    return fuzz_bytes_le(in, 8);
}

static inline double fuzz_f64_bits(fuzz_in *in)
{
    uint64_t b = fuzz_u64(in);
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static inline float fuzz_f32_bits(fuzz_in *in)
{
    uint32_t b = fuzz_u32(in);
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* Takes up to `want` bytes; returns how many were taken. */
static inline size_t fuzz_take(fuzz_in *in, size_t want, const uint8_t **out)
{
    size_t k = want < in->n ? want : in->n;
    *out = in->p;
    in->p += k;
    in->n -= k;
    return k;
}

/* With SBP_FUZZ_VERBOSE set (replay), loaders' results are printed: shows
 * whether a seed loads or what it is refused for. */
static inline void fuzz_report(const char *what, int st, const char *message)
{
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("SBP_FUZZ_VERBOSE") != NULL;
    if (verbose) fprintf(stderr, "  %s: status %d%s%s\n", what, st, message ? ": " : "",
                         message ? message : "");
}

/* A status is one of the pinned values. */
static inline int fuzz_known_status(int st)
{
    return st >= 0 && st <= 16;
}

/* A message buffer is NUL-terminated within its size. */
static inline int fuzz_terminated(const char *s, size_t size)
{
    return s && memchr(s, '\0', size) != NULL;
}

#endif
