/* Streaming reader for data files that may be gzip-compressed (zlib's gz*
 * layer: gzip when the file starts with 1f 8b, raw bytes otherwise). Every
 * failure fills an sbp_diag with the path, the byte offset in the
 * decompressed stream and a one-line message.
 *
 * Status mapping (what zlib 1.2.13 does, checked by tests/test_idx.c):
 *  - open fails, path is a directory, read() fails  -> SBP_E_IO
 *  - the data ends before the requested bytes        -> SBP_E_TRUNCATED
 *      raw file: gzread returns a short count, no error;
 *      gzip file cut anywhere (deflate data or trailer): gzread returns the
 *      bytes it could inflate and gzerror says Z_BUF_ERROR "unexpected end
 *      of file"; both are reported as truncated, the message saying which.
 *  - invalid deflate data, CRC-32 or ISIZE trailer mismatch -> SBP_E_COMPRESSION
 *      (gzread returns -1, gzerror says Z_DATA_ERROR). The trailer is only
 *      checked when the reader reaches it, which sbp__gz_expect_eof does.
 *      zlib inflates ahead into its own 128 KiB buffer, so the diag offset
 *      is where the failing read started, which can be before the damage.
 *  - data after the announced end (sbp__gz_expect_eof) -> SBP_E_FORMAT
 * Bytes after a complete gzip member that are not another gzip member are
 * ignored by zlib itself; they are not seen here. */
#ifndef SBP_GZFILE_H
#define SBP_GZFILE_H

#include <stddef.h>
#include <stdint.h>

#include "../internal.h"

typedef struct sbp__gz sbp__gz;

/* Opens path for reading. Refuses directories and reports a missing or
 * unreadable path as SBP_E_IO naming the reason. *out is NULL on failure. */
sbp_status sbp__gz_open(const char *path, sbp__gz **out, sbp_diag *diag);

/* 1 when the file is gzip-compressed, 0 when it is read as is. */
int sbp__gz_compressed(const sbp__gz *gz);

/* Size in bytes of the file on disk, or UINT64_MAX when unknown (not a
 * regular file). For raw files this is the decompressed size. */
uint64_t sbp__gz_file_size(const sbp__gz *gz);

/* Tells the reader how many decompressed bytes the file should hold in all
 * and what they are (e.g. "header: 10000 images of 28x28"), so
 * that a truncation is reported against the whole file. total 0 = unknown. */
void sbp__gz_announce(sbp__gz *gz, uint64_t total, const char *what);

/* Reads exactly len bytes at the current position *offset_io (the number of
 * decompressed bytes consumed so far), advancing it. Short data ->
 * SBP_E_TRUNCATED with diag offset = where the data ends, expected = the
 * announced total (or *offset_io + len) and found = the bytes present. */
sbp_status sbp__gz_read_exact(sbp__gz *gz, void *buf, size_t len, uint64_t *offset_io,
                              sbp_diag *diag);

/* Reads up to len bytes at *offset_io, advancing it; *got receives how many
 * were read, fewer than len only at the end of the data (0: nothing left).
 * For files whose length is not announced in a header (event streams).
 * Errors as for sbp__gz_read_exact; a gzip stream cut short is
 * SBP_E_TRUNCATED. */
sbp_status sbp__gz_read_some(sbp__gz *gz, void *buf, size_t len, size_t *got,
                             uint64_t *offset_io, sbp_diag *diag);

/* Checks that the stream ends at offset (and, for gzip, that its trailer is
 * intact). Extra bytes -> SBP_E_FORMAT "N bytes after the announced data"
 * with expected = offset and found = the real size. */
sbp_status sbp__gz_expect_eof(sbp__gz *gz, uint64_t offset, sbp_diag *diag);

/* Closes the file; accepts NULL. */
void sbp__gz_close(sbp__gz *gz);

/* The path shortened for messages: the last ~160 characters of long paths,
 * prefixed with "...". Returns a pointer into path or into buf. */
const char *sbp__gz_short_path(const char *path, char *buf, size_t size);

#endif
