/* Streaming reader over zlib's gz* layer; see gzfile.h for the status
 * mapping. The file is opened with open(2) and handed to gzdopen so that a
 * failure to open reports errno, and a directory is refused before any read
 * (open(2) on a directory succeeds on Linux; read(2) then fails). */
#include "gzfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../alloc.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

#define SHOWN_MAX 192
#define WHAT_MAX 160
/* Largest single gzread request; gzread takes an unsigned and returns int. */
#define READ_CHUNK ((size_t)1 << 30)

struct sbp__gz {
    gzFile f;
    const char *path;        /* borrowed from the caller for the handle's life */
    char shown[SHOWN_MAX];   /* path as shown in messages */
    int compressed;
    uint64_t file_size;      /* bytes on disk; UINT64_MAX if not a regular file */
    uint64_t total;          /* announced decompressed size; 0 = unknown */
    char what[WHAT_MAX];     /* what announced `total` */
};

const char *sbp__gz_short_path(const char *path, char *buf, size_t size)
{
    size_t n = strlen(path);
    if (size < 8 || n < size) return path;
    snprintf(buf, size, "...%s", path + (n - (size - 4)));
    return buf;
}

/* Thread-safe errno text (strerror may use a shared buffer). */
static const char *errno_text(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, size); /* GNU variant: returns the text */
#else
    if (strerror_r(e, buf, size) != 0) snprintf(buf, size, "error %d", e);
    return buf;
#endif
}

sbp_status sbp__gz_open(const char *path, sbp__gz **out, sbp_diag *diag)
{
    if (!out) return SBP_E_INVALID;
    *out = NULL;
    if (!path || !*path)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "empty file path");

    char shown[SHOWN_MAX], etext[128];
    const char *sp = sbp__gz_short_path(path, shown, sizeof shown);

    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return sbp__diag(diag, SBP_E_IO, path, 0, 0, 0, "%s: cannot open: %s", sp,
                         errno_text(e, etext, sizeof etext));
    }
    if (S_ISDIR(st.st_mode))
        return sbp__diag(diag, SBP_E_IO, path, 0, 0, 0,
                         "%s: is a directory, expected a data file", sp);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return sbp__diag(diag, SBP_E_IO, path, 0, 0, 0, "%s: cannot open: %s", sp,
                         errno_text(e, etext, sizeof etext));
    }
    /* Re-check on the open descriptor: the path may have changed since. */
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return sbp__diag(diag, SBP_E_IO, path, 0, 0, 0, "%s: cannot read: %s", sp,
                         errno_text(e, etext, sizeof etext));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return sbp__diag(diag, SBP_E_IO, path, 0, 0, 0,
                         "%s: is a directory, expected a data file", sp);
    }

    sbp__gz *gz = sbp__calloc(1, sizeof *gz);
    if (!gz) {
        close(fd);
        return sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0,
                         "%s: out of memory opening the file", sp);
    }
    gz->f = gzdopen(fd, "rb");
    if (!gz->f) {
        /* gzdopen fails only when it cannot allocate its state; it leaves
         * the descriptor open in that case. */
        close(fd);
        sbp__free(gz);
        return sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0,
                         "%s: out of memory opening the file", sp);
    }
    gzbuffer(gz->f, 1u << 16);
    gz->path = path;
    sbp__strlcpy(gz->shown, sp, sizeof gz->shown);
    gz->file_size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : UINT64_MAX;
    /* gzdirect looks at the first bytes: gzip magic 1f 8b -> decompress,
     * anything else (including an empty file) is read as is. A read error
     * here is kept by zlib and reported by the first sbp__gz_read_exact. */
    gz->compressed = gzdirect(gz->f) ? 0 : 1;
    *out = gz;
    return SBP_OK;
}

int sbp__gz_compressed(const sbp__gz *gz)
{
    return gz ? gz->compressed : 0;
}

uint64_t sbp__gz_file_size(const sbp__gz *gz)
{
    return gz ? gz->file_size : UINT64_MAX;
}

void sbp__gz_announce(sbp__gz *gz, uint64_t total, const char *what)
{
    if (!gz) return;
    gz->total = total;
    sbp__strlcpy(gz->what, what ? what : "", sizeof gz->what);
}

/* Maps a zlib error state to a status and fills the diagnostic. */
static sbp_status stream_error(sbp__gz *gz, int errnum, const char *zmsg, uint64_t offset,
                               sbp_diag *diag)
{
    /* zlib prefixes its messages with "<fd:N>: "; keep only the reason. */
    const char *reason = zmsg ? zmsg : "";
    const char *colon = strstr(reason, ">: ");
    if (reason[0] == '<' && colon) reason = colon + 3;
    if (!*reason) reason = "unknown error";

    switch (errnum) {
    case Z_ERRNO:
        return sbp__diag(diag, SBP_E_IO, gz->path, offset, 0, 0, "%s: read error: %s",
                         gz->shown, reason);
    case Z_MEM_ERROR:
        return sbp__diag(diag, SBP_E_NOMEM, gz->path, offset, 0, 0,
                         "%s: out of memory while decompressing", gz->shown);
    case Z_DATA_ERROR:
    case Z_STREAM_ERROR:
    case Z_NEED_DICT:
        return sbp__diag(diag, SBP_E_COMPRESSION, gz->path, offset, 0, 0,
                         "%s: corrupt gzip data: %s (found by the read at decompressed offset %"
                         PRIu64 ")",
                         gz->shown, reason, offset);
    default:
        return sbp__diag(diag, SBP_E_COMPRESSION, gz->path, offset, 0, 0,
                         "%s: gzip error %d: %s (found by the read at decompressed offset %"
                         PRIu64 ")",
                         gz->shown, errnum, reason, offset);
    }
}

sbp_status sbp__gz_read_exact(sbp__gz *gz, void *buf, size_t len, uint64_t *offset_io,
                              sbp_diag *diag)
{
    if (!gz || (!buf && len) || !offset_io) return SBP_E_INVALID;
    unsigned char *p = buf;
    const uint64_t start = *offset_io;
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done;
        if (chunk > READ_CHUNK) chunk = READ_CHUNK;
        int r = gzread(gz->f, p + done, (unsigned)chunk);
        if (r < 0) {
            int errnum = Z_OK;
            const char *zmsg = gzerror(gz->f, &errnum);
            *offset_io = start + done;
            return stream_error(gz, errnum, zmsg, start + done, diag);
        }
        if (r == 0) break;
        done += (size_t)r;
    }
    *offset_io = start + done;
    if (done == len) return SBP_OK;

    /* Short read. A raw file simply ended; a gzip file that was cut ends
     * with Z_BUF_ERROR ("unexpected end of file") and the bytes inflated so
     * far. Both mean the data announced is not all there: truncated. */
    int errnum = Z_OK;
    const char *zmsg = gzerror(gz->f, &errnum);
    if (errnum != Z_OK && errnum != Z_BUF_ERROR)
        return stream_error(gz, errnum, zmsg, start + done, diag);

    const uint64_t end = start + done;
    const uint64_t want = gz->total > start ? gz->total : start + len;
    const char *what = gz->what[0] ? gz->what : "data";
    if (errnum == Z_BUF_ERROR)
        return sbp__diag(diag, SBP_E_TRUNCATED, gz->path, end, want, end,
                         "%s: gzip stream cut short: it ends after %" PRIu64
                         " decompressed bytes, expected %" PRIu64 " (%s)",
                         gz->shown, end, want, what);
    if (end == 0)
        return sbp__diag(diag, SBP_E_TRUNCATED, gz->path, 0, want, 0,
                         "%s: file is empty, expected %" PRIu64 " bytes (%s)", gz->shown,
                         want, what);
    return sbp__diag(diag, SBP_E_TRUNCATED, gz->path, end, want, end,
                     "%s: file ends after %" PRIu64 " bytes, expected %" PRIu64 " (%s)",
                     gz->shown, end, want, what);
}

sbp_status sbp__gz_read_some(sbp__gz *gz, void *buf, size_t len, size_t *got,
                             uint64_t *offset_io, sbp_diag *diag)
{
    if (!gz || (!buf && len) || !got || !offset_io) return SBP_E_INVALID;
    unsigned char *p = buf;
    const uint64_t start = *offset_io;
    size_t done = 0;
    *got = 0;
    while (done < len) {
        size_t chunk = len - done;
        if (chunk > READ_CHUNK) chunk = READ_CHUNK;
        int r = gzread(gz->f, p + done, (unsigned)chunk);
        if (r < 0) {
            int errnum = Z_OK;
            const char *zmsg = gzerror(gz->f, &errnum);
            *offset_io = start + done;
            *got = done;
            if (errnum == Z_BUF_ERROR) break;
            return stream_error(gz, errnum, zmsg, start + done, diag);
        }
        if (r == 0) break;
        done += (size_t)r;
    }
    *offset_io = start + done;
    *got = done;
    if (done == len) return SBP_OK;
    int errnum = Z_OK;
    const char *zmsg = gzerror(gz->f, &errnum);
    if (errnum == Z_BUF_ERROR)
        return sbp__diag(diag, SBP_E_TRUNCATED, gz->path, start + done, 0, start + done,
                         "%s: gzip stream cut short: it ends after %" PRIu64
                         " decompressed bytes",
                         gz->shown, start + done);
    if (errnum != Z_OK) return stream_error(gz, errnum, zmsg, start + done, diag);
    return SBP_OK;
}

sbp_status sbp__gz_expect_eof(sbp__gz *gz, uint64_t offset, sbp_diag *diag)
{
    if (!gz) return SBP_E_INVALID;
    unsigned char tmp[4096];
    uint64_t extra = 0;
    for (;;) {
        int r = gzread(gz->f, tmp, (unsigned)sizeof tmp);
        if (r < 0) {
            int errnum = Z_OK;
            const char *zmsg = gzerror(gz->f, &errnum);
            return stream_error(gz, errnum, zmsg, offset + extra, diag);
        }
        if (r == 0) break;
        extra += (uint64_t)r;
    }
    int errnum = Z_OK;
    gzerror(gz->f, &errnum);
    if (errnum == Z_BUF_ERROR)
        return sbp__diag(diag, SBP_E_TRUNCATED, gz->path, offset + extra, 0, 0,
                         "%s: gzip stream cut short after all %" PRIu64
                         " bytes of data (its end marker or CRC/length trailer is missing)",
                         gz->shown, offset + extra);
    if (errnum != Z_OK) return stream_error(gz, errnum, gzerror(gz->f, &errnum), offset, diag);
    if (extra)
        return sbp__diag(diag, SBP_E_FORMAT, gz->path, offset, offset, offset + extra,
                         "%s: %" PRIu64 " bytes after the announced data (expected %" PRIu64
                         " bytes, %s; the file has %" PRIu64 ")",
                         gz->shown, extra, offset, gz->what[0] ? gz->what : "data",
                         offset + extra);
    return SBP_OK;
}

void sbp__gz_close(sbp__gz *gz)
{
    if (!gz) return;
    if (gz->f) gzclose_r(gz->f);
    sbp__free(gz);
}
