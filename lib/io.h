/* Model files (lib/io.c): the little-endian writer and the bounds-checked
 * reader shared by io.c and the engines' save_state / load_state hooks
 * (lib/net.h). docs/file-format.md describes the bytes.
 *
 * Every value is written byte by byte in little-endian order, floats as
 * their IEEE 754 bit patterns; nothing is ever copied as a struct, so the
 * bytes do not depend on the compiler, the padding or the host's byte
 * order. */
#ifndef SBP_IO_H
#define SBP_IO_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* CRC-32C (Castagnoli) of len bytes, continuing from crc (0 to start):
 * sbp__crc32c(sbp__crc32c(0, a, n), b, m) is the CRC of a followed by b.
 * (lib/crc32c.c) */
uint32_t sbp__crc32c(uint32_t crc, const void *data, size_t len);

/* ---- writing ------------------------------------------------------------ */

/* A growing buffer. The put functions never fail: an allocation failure
 * sets `nomem` and later puts do nothing; io.c checks it at the end. */
typedef struct sbp__writer {
    unsigned char *buf;
    size_t len, cap;
    int nomem;
    size_t nonfinite; /* NaN or infinite floats written by sbp__put_floats */
} sbp__writer;

void sbp__put_u8(sbp__writer *w, uint8_t v);
void sbp__put_u32(sbp__writer *w, uint32_t v);
void sbp__put_u64(sbp__writer *w, uint64_t v);
void sbp__put_f64(sbp__writer *w, double v);
/* An array of floats: u64 count, then count IEEE binary32 values. A
 * non-finite value is written but counted in w->nonfinite (the save is
 * then refused: a loader refuses such files). */
void sbp__put_floats(sbp__writer *w, const float *p, size_t count);

/* ---- reading ------------------------------------------------------------ */

/* Reads one section of a buffer whose checksum has been verified; every
 * read is bounded by the section's end. A failed read fills the caller's
 * diagnostic (absolute byte offset, what was expected) and returns its
 * status; the reader is then not used again. */
typedef struct sbp__reader {
    const unsigned char *data; /* the whole file */
    size_t pos;                /* absolute offset of the next byte */
    size_t end;                /* end of the current section */
    sbp_diag *diag;            /* may be NULL */
    const char *file;          /* path for diag->file ("" for memory) */
    const char *name;          /* how messages name the data ("m.sbp", "model data") */
    const char *section;       /* what is being read, for messages ("engine state") */
} sbp__reader;

/* Fills the diagnostic at byte `offset`: "<name>: <section>, byte <offset>:
 * <message>". Returns st. */
sbp_status sbp__reader_fail(sbp__reader *r, sbp_status st, uint64_t offset, uint64_t expected,
                            uint64_t found, const char *fmt, ...) SBP__PRINTF(6, 7);

sbp_status sbp__get_u8(sbp__reader *r, uint8_t *v, const char *what);
sbp_status sbp__get_u32(sbp__reader *r, uint32_t *v, const char *what);
sbp_status sbp__get_u64(sbp__reader *r, uint64_t *v, const char *what);
sbp_status sbp__get_f64(sbp__reader *r, double *v, const char *what); /* any bit pattern */
/* A u8 that must be 0 or 1. */
sbp_status sbp__get_flag(sbp__reader *r, int *v, const char *what);
/* A u64 that must equal `want` (SBP_E_MISMATCH otherwise). */
sbp_status sbp__get_count(sbp__reader *r, uint64_t want, const char *what);
/* An array written by sbp__put_floats whose count must be `count`; every
 * value must be finite (SBP_E_NUMERIC with the value's offset). dst may be
 * NULL to check without storing. The array is named in messages by the
 * printf-style `what` ("V of layer %zu"). */
sbp_status sbp__get_floats(sbp__reader *r, float *dst, size_t count, const char *what, ...)
    SBP__PRINTF(4, 5);

#endif
