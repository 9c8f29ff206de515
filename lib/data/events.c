/* Event streams (docs/events.md): the N-MNIST "bs2" and AEDAT 3.1 readers,
 * binning events into frames, and the N-MNIST and DVS128 Gesture dataset
 * builders.
 *
 * Hostile input. Nothing is allocated from a count a file announces: the
 * event array grows only as events are actually decoded (at most one 64 KiB
 * chunk ahead), and a raw file's announced packet sizes are compared with
 * the bytes left in the file before anything else. Every sizes product is
 * done in 64 bits from operands bounded beforehand. Each failure fills the
 * diag with the file, the byte offset (and, for text files, the line) and a
 * one-line message. */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../alloc.h"
#include "dataset.h"
#include "gzfile.h"

#define SENSOR_MAX 32768u             /* width, height, downsample */
#define MAX_EVENTS ((size_t)1 << 28)  /* events per recording (4 GiB of sbp_event) */
#define MAX_FRAMES 65536u
#define MAX_SPAN ((uint64_t)1 << 40)  /* us, binning window (about 12.7 days) */
#define MAX_BIN_EVENTS ((size_t)1 << 40)
#define DEFAULT_FRAMES 10u
#define CHUNK ((size_t)1 << 16)
#define LINE_MAX_BYTES 4096u          /* AEDAT header line */
#define HEADER_MAX ((uint64_t)1 << 20) /* AEDAT header */
#define TEXT_MAX ((size_t)64 << 20)   /* label and list files */
#define PATH_BUF 4096
#define SHOWN 192

#define BS2_EVENT 5u
#define AEDAT_PACKET_HEADER 28u
#define AEDAT_POLARITY 1
#define AEDAT_POLARITY_SIZE 8
#define AEDAT_POLARITY_TS_OFFSET 4

#define NMNIST_SIZE 34u
#define NMNIST_CLASSES 10u
#define DVS_SIZE 128u
#define DVS_CLASSES 11u

static void diag_clear(sbp_diag *diag)
{
    if (diag) memset(diag, 0, sizeof *diag);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int32_t le32s(const unsigned char *p)
{
    uint32_t u = le32(p);
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

static int16_t le16s(const unsigned char *p)
{
    uint16_t u = (uint16_t)(p[0] | p[1] << 8);
    return u <= INT16_MAX ? (int16_t)u : (int16_t)((int)u - 65536);
}

/* ------------------------------------------------------------------------ */
/* A growing event array                                                     */
/* ------------------------------------------------------------------------ */

typedef struct evbuf {
    sbp_event *ev;
    size_t n, cap;
} evbuf;

/* Room for `more` events past n. SBP_E_TOO_LARGE past MAX_EVENTS. */
static sbp_status evbuf_reserve(evbuf *b, size_t more)
{
    if (more > MAX_EVENTS - b->n) return SBP_E_TOO_LARGE;
    size_t need = b->n + more;
    if (need <= b->cap) return SBP_OK;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) cap = cap > MAX_EVENTS / 2 ? MAX_EVENTS : cap * 2;
    sbp_event *p = sbp__realloc(b->ev, cap * sizeof *p);
    if (!p) return SBP_E_NOMEM;
    b->ev = p;
    b->cap = cap;
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* Buffered reading                                                          */
/* ------------------------------------------------------------------------ */

typedef struct rd {
    sbp__gz *gz;
    const char *path;
    char shown[SHOWN];
    const char *sp;     /* path for messages */
    unsigned char *buf; /* CHUNK bytes, borrowed */
    size_t pos, len;    /* unread bytes are buf[pos, len) */
    uint64_t base;      /* file offset of buf[0] */
    uint64_t next;      /* file offset of the next byte to read from gz */
    uint64_t size;      /* decompressed size when known (raw regular file), else UINT64_MAX */
    int eof;
} rd;

static sbp_status rd_open(rd *r, const char *path, unsigned char *buf, sbp_diag *diag)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->sp = sbp__gz_short_path(path, r->shown, sizeof r->shown);
    r->buf = buf;
    SBP_TRY(sbp__gz_open(path, &r->gz, diag));
    r->size = sbp__gz_compressed(r->gz) ? UINT64_MAX : sbp__gz_file_size(r->gz);
    return SBP_OK;
}

static void rd_close(rd *r)
{
    sbp__gz_close(r->gz);
    r->gz = NULL;
}

static uint64_t rd_offset(const rd *r)
{
    return r->base + r->pos;
}

static size_t rd_avail(const rd *r)
{
    return r->len - r->pos;
}

/* Makes at least `want` (<= CHUNK) bytes available unless the file ends
 * first; returns the bytes available in *avail. */
static sbp_status rd_need(rd *r, size_t want, size_t *avail, sbp_diag *diag)
{
    while (rd_avail(r) < want && !r->eof) {
        size_t keep = rd_avail(r);
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, keep);
            r->base += r->pos;
            r->pos = 0;
            r->len = keep;
        }
        size_t got = 0;
        SBP_TRY(sbp__gz_read_some(r->gz, r->buf + r->len, CHUNK - r->len, &got, &r->next, diag));
        if (got == 0) r->eof = 1;
        r->len += got;
    }
    *avail = rd_avail(r);
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* N-MNIST binary ("bs2")                                                    */
/* ------------------------------------------------------------------------ */

static sbp_status event_error(sbp_diag *diag, const rd *r, uint64_t off, size_t index,
                              const char *what, uint64_t expected, uint64_t found)
{
    return sbp__diag(diag, SBP_E_FORMAT, r->path, off, expected, found,
                     "%s: event %zu at byte %" PRIu64 ": %s", r->sp, index, off, what);
}

static sbp_status check_event(sbp_diag *diag, const rd *r, uint64_t off, size_t index,
                              unsigned x, unsigned y, uint64_t t, uint64_t last_t,
                              unsigned w, unsigned h)
{
    char what[160];
    if (x >= w) {
        snprintf(what, sizeof what, "x = %u is outside the %ux%u sensor (expected 0..%u)", x, w,
                 h, w - 1);
        return event_error(diag, r, off, index, what, w - 1, x);
    }
    if (y >= h) {
        snprintf(what, sizeof what, "y = %u is outside the %ux%u sensor (expected 0..%u)", y, w,
                 h, h - 1);
        return event_error(diag, r, off, index, what, h - 1, y);
    }
    snprintf(what, sizeof what,
             "timestamp %" PRIu64 " us is earlier than the previous event's %" PRIu64
             " us (timestamps must not decrease)",
             t, last_t);
    return event_error(diag, r, off, index, what, last_t, t);
}

static sbp_status read_bs2(rd *r, unsigned w, unsigned h, evbuf *out, sbp_diag *diag)
{
    if (r->size != UINT64_MAX) {
        if (r->size % BS2_EVENT != 0) {
            uint64_t at = r->size - r->size % BS2_EVENT;
            return sbp__diag(diag, SBP_E_TRUNCATED, r->path, at, at + BS2_EVENT, r->size,
                             "%s: %" PRIu64 " bytes is not a whole number of 5-byte events: "
                             "the last event, at byte %" PRIu64 ", has only %" PRIu64 " bytes",
                             r->sp, r->size, at, r->size % BS2_EVENT);
        }
        if (r->size / BS2_EVENT > MAX_EVENTS)
            return sbp__diag(diag, SBP_E_TOO_LARGE, r->path, 0, MAX_EVENTS,
                             r->size / BS2_EVENT,
                             "%s: %" PRIu64 " events, more than the limit of %zu per recording",
                             r->sp, r->size / BS2_EVENT, MAX_EVENTS);
    }
    uint64_t last_t = 0;
    for (;;) {
        size_t avail;
        SBP_TRY(rd_need(r, BS2_EVENT, &avail, diag));
        if (avail == 0) break;
        if (avail < BS2_EVENT) {
            uint64_t at = rd_offset(r);
            return sbp__diag(diag, SBP_E_TRUNCATED, r->path, at, at + BS2_EVENT, at + avail,
                             "%s: the data ends inside the event at byte %" PRIu64
                             " (%zu of 5 bytes): not a whole number of 5-byte events",
                             r->sp, at, avail);
        }
        size_t k = avail / BS2_EVENT;
        sbp_status st = evbuf_reserve(out, k);
        if (st == SBP_E_TOO_LARGE)
            return sbp__diag(diag, st, r->path, rd_offset(r), MAX_EVENTS, out->n + k,
                             "%s: more than the limit of %zu events per recording", r->sp,
                             MAX_EVENTS);
        if (st != SBP_OK)
            return sbp__diag(diag, st, r->path, rd_offset(r), 0, 0,
                             "%s: out of memory for %zu events", r->sp, out->n + k);
        const unsigned char *p = r->buf + r->pos;
        sbp_event *e = out->ev + out->n;
        for (size_t i = 0; i < k; i++, p += BS2_EVENT) {
            unsigned x = p[0], y = p[1];
            uint64_t t = (uint64_t)(p[2] & 0x7Fu) << 16 | (uint64_t)p[3] << 8 | p[4];
            if (x >= w || y >= h || t < last_t)
                return check_event(diag, r, rd_offset(r) + (uint64_t)i * BS2_EVENT, out->n + i,
                                   x, y, t, last_t, w, h);
            last_t = t;
            e[i].t = t;
            e[i].x = (uint16_t)x;
            e[i].y = (uint16_t)y;
            e[i].polarity = (uint8_t)(p[2] >> 7);
        }
        out->n += k;
        r->pos += k * BS2_EVENT;
    }
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* AEDAT 3.1                                                                 */
/* ------------------------------------------------------------------------ */

/* Reads one header line (without its LF and a CR before it) into line
 * (capacity LINE_MAX_BYTES + 1). *got_nl is 0 when the file ended first. */
static sbp_status rd_line(rd *r, char *line, size_t *n, int *got_nl, sbp_diag *diag)
{
    *n = 0;
    *got_nl = 0;
    const uint64_t start = rd_offset(r);
    for (;;) {
        size_t avail;
        SBP_TRY(rd_need(r, 1, &avail, diag));
        if (avail == 0) break;
        const unsigned char *p = r->buf + r->pos;
        const unsigned char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (*n + take > LINE_MAX_BYTES)
            return sbp__diag(diag, SBP_E_FORMAT, r->path, start, LINE_MAX_BYTES, *n + take,
                             "%s: header line at byte %" PRIu64
                             " is longer than %u bytes (binary data before #!END-HEADER?)",
                             r->sp, start, LINE_MAX_BYTES);
        memcpy(line + *n, p, take);
        *n += take;
        r->pos += take;
        if (nl) {
            r->pos++;
            *got_nl = 1;
            break;
        }
    }
    if (*n > 0 && line[*n - 1] == '\r') (*n)--;
    line[*n] = '\0';
    return SBP_OK;
}

static sbp_status aedat_header(rd *r, sbp_diag *diag)
{
    char line[LINE_MAX_BYTES + 1];
    size_t n;
    int nl;
    SBP_TRY(rd_line(r, line, &n, &nl, diag));
    static const char magic[] = "#!AER-DAT";
    if (strncmp(line, magic, sizeof magic - 1) != 0) {
        if (!nl && n == 0)
            return sbp__diag(diag, SBP_E_TRUNCATED, r->path, 0, 0, 0,
                             "%s: file is empty, expected an AEDAT 3.1 header", r->sp);
        return sbp__diag(diag, SBP_E_FORMAT, r->path, 0, 0, 0,
                         "%s: not an AEDAT file: it does not start with '#!AER-DAT3.1'", r->sp);
    }
    if (strcmp(line + sizeof magic - 1, "3.1") != 0)
        return sbp__diag(diag, SBP_E_UNSUPPORTED, r->path, 0, 0, 0,
                         "%s: AEDAT version '%.16s'; only 3.1 is read", r->sp,
                         line + sizeof magic - 1);
    for (uint64_t no = 2;; no++) {
        const uint64_t at = rd_offset(r);
        if (at > HEADER_MAX)
            return sbp__diag(diag, SBP_E_FORMAT, r->path, at, HEADER_MAX, at,
                             "%s: no #!END-HEADER in the first %" PRIu64 " bytes", r->sp,
                             HEADER_MAX);
        if (!nl)
            return sbp__diag(diag, SBP_E_TRUNCATED, r->path, at, 0, at,
                             "%s: the file ends at byte %" PRIu64
                             " inside the header (no #!END-HEADER line)",
                             r->sp, at);
        SBP_TRY(rd_line(r, line, &n, &nl, diag));
        if (n == 0 && !nl)
            return sbp__diag(diag, SBP_E_TRUNCATED, r->path, at, 0, at,
                             "%s: the file ends at byte %" PRIu64
                             " inside the header (no #!END-HEADER line)",
                             r->sp, at);
        if (line[0] != '#') {
            sbp_status st = sbp__diag(diag, SBP_E_FORMAT, r->path, at, 0, 0,
                                      "%s: header line %" PRIu64 " at byte %" PRIu64
                                      " does not start with '#', and no #!END-HEADER line came "
                                      "before it",
                                      r->sp, no, at);
            if (diag) diag->line = no;
            return st;
        }
        if (strcmp(line, "#!END-HEADER") == 0) return SBP_OK;
    }
}

typedef struct aedat_packet {
    int16_t type, source;
    int32_t size, ts_offset, ts_overflow, capacity, number, valid;
} aedat_packet;

static sbp_status packet_error(sbp_diag *diag, const rd *r, uint64_t at, unsigned field,
                               sbp_status st, uint64_t expected, uint64_t found,
                               const char *fmt, ...) SBP__PRINTF(8, 9);

static sbp_status packet_error(sbp_diag *diag, const rd *r, uint64_t at, unsigned field,
                               sbp_status st, uint64_t expected, uint64_t found,
                               const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sbp__diag(diag, st, r->path, at + field, expected, found,
                     "%s: packet header at byte %" PRIu64 ": %s", r->sp, at, what);
}

static sbp_status check_packet(const aedat_packet *h, const rd *r, uint64_t at, sbp_diag *diag)
{
    if (h->type < 0)
        return packet_error(diag, r, at, 0, SBP_E_FORMAT, 0, (uint64_t)(uint16_t)h->type,
                            "eventType %d is negative", h->type);
    if (h->size <= 0)
        return packet_error(diag, r, at, 4, SBP_E_FORMAT, 1, (uint64_t)(uint32_t)h->size,
                            "eventSize %" PRId32 ", expected a positive size", h->size);
    if (h->ts_offset < 0 || h->ts_offset > h->size - 4)
        return packet_error(diag, r, at, 8, SBP_E_FORMAT, 0, (uint64_t)(uint32_t)h->ts_offset,
                            "eventTSOffset %" PRId32 " does not fit an event of %" PRId32
                            " bytes",
                            h->ts_offset, h->size);
    if (h->ts_overflow < 0)
        return packet_error(diag, r, at, 12, SBP_E_FORMAT, 0, (uint64_t)(uint32_t)h->ts_overflow,
                            "eventTSOverflow %" PRId32 " is negative", h->ts_overflow);
    if (h->capacity < 0 || h->number < 0 || h->valid < 0) {
        unsigned field = h->capacity < 0 ? 16 : h->number < 0 ? 20 : 24;
        int32_t v = h->capacity < 0 ? h->capacity : h->number < 0 ? h->number : h->valid;
        return packet_error(diag, r, at, field, SBP_E_FORMAT, 0, (uint64_t)(uint32_t)v,
                            "%s %" PRId32 " is negative",
                            field == 16 ? "eventCapacity" : field == 20 ? "eventNumber"
                                                                       : "eventValid",
                            v);
    }
    if (h->capacity != h->number)
        return packet_error(diag, r, at, 16, SBP_E_FORMAT, (uint64_t)h->number,
                            (uint64_t)h->capacity,
                            "eventCapacity %" PRId32 " differs from eventNumber %" PRId32
                            " (they are equal in files)",
                            h->capacity, h->number);
    if (h->valid > h->number)
        return packet_error(diag, r, at, 24, SBP_E_FORMAT, (uint64_t)h->number,
                            (uint64_t)h->valid,
                            "eventValid %" PRId32 " is more than eventNumber %" PRId32,
                            h->valid, h->number);
    if (h->type == AEDAT_POLARITY &&
        (h->size != AEDAT_POLARITY_SIZE || h->ts_offset != AEDAT_POLARITY_TS_OFFSET))
        return packet_error(diag, r, at, h->size != AEDAT_POLARITY_SIZE ? 4 : 8, SBP_E_FORMAT,
                            h->size != AEDAT_POLARITY_SIZE ? AEDAT_POLARITY_SIZE
                                                           : AEDAT_POLARITY_TS_OFFSET,
                            (uint64_t)(h->size != AEDAT_POLARITY_SIZE ? h->size : h->ts_offset),
                            "polarity packet (eventType 1) with eventSize %" PRId32
                            " and eventTSOffset %" PRId32 ", expected 8 and 4",
                            h->size, h->ts_offset);
    return SBP_OK;
}

static sbp_status read_aedat(rd *r, unsigned w, unsigned h, evbuf *out, sbp_diag *diag)
{
    SBP_TRY(aedat_header(r, diag));
    uint64_t last_t = 0;
    size_t index = 0; /* polarity events seen, valid or not */
    for (;;) {
        size_t avail;
        SBP_TRY(rd_need(r, AEDAT_PACKET_HEADER, &avail, diag));
        if (avail == 0) break; /* the file ends between packets */
        const uint64_t at = rd_offset(r);
        if (avail < AEDAT_PACKET_HEADER)
            return sbp__diag(diag, SBP_E_TRUNCATED, r->path, at, at + AEDAT_PACKET_HEADER,
                             at + avail,
                             "%s: the packet header at byte %" PRIu64
                             " is cut short: the file ends after %zu of its 28 bytes",
                             r->sp, at, avail);
        const unsigned char *p = r->buf + r->pos;
        aedat_packet hd = {le16s(p),      le16s(p + 2),  le32s(p + 4),  le32s(p + 8),
                           le32s(p + 12), le32s(p + 16), le32s(p + 20), le32s(p + 24)};
        SBP_TRY(check_packet(&hd, r, at, diag));
        r->pos += AEDAT_PACKET_HEADER;
        const uint64_t body = (uint64_t)hd.number * (uint64_t)hd.size; /* < 2^62 */
        const uint64_t body_at = at + AEDAT_PACKET_HEADER;
        if (hd.type == AEDAT_POLARITY && (uint64_t)hd.number > MAX_EVENTS - out->n)
            return packet_error(diag, r, at, 20, SBP_E_TOO_LARGE, MAX_EVENTS,
                                (uint64_t)hd.number,
                                "eventNumber %" PRId32 " would take the recording past the "
                                "limit of %zu events (%zu so far)",
                                hd.number, MAX_EVENTS, out->n);
        if (r->size != UINT64_MAX && body > r->size - body_at)
            return packet_error(diag, r, at, 20, SBP_E_TRUNCATED, body_at + body, r->size,
                                "eventNumber %" PRId32 " x eventSize %" PRId32 " = %" PRIu64
                                " bytes, but only %" PRIu64 " bytes follow in the file",
                                hd.number, hd.size, body, r->size - body_at);
        if (hd.type != AEDAT_POLARITY) {
            uint64_t left = body;
            while (left > 0) {
                SBP_TRY(rd_need(r, 1, &avail, diag));
                if (avail == 0)
                    return sbp__diag(diag, SBP_E_TRUNCATED, r->path, rd_offset(r),
                                     body_at + body, rd_offset(r),
                                     "%s: the packet at byte %" PRIu64 " (eventType %d, %" PRId32
                                     " events of %" PRId32 " bytes) is cut short at byte %" PRIu64,
                                     r->sp, at, hd.type, hd.number, hd.size, rd_offset(r));
                size_t k = avail < left ? avail : (size_t)left;
                r->pos += k;
                left -= k;
            }
            continue;
        }
        const uint64_t overflow = (uint64_t)hd.ts_overflow << 31;
        size_t left = (size_t)hd.number;
        while (left > 0) {
            SBP_TRY(rd_need(r, AEDAT_POLARITY_SIZE, &avail, diag));
            if (avail < AEDAT_POLARITY_SIZE) {
                uint64_t end = rd_offset(r) + avail;
                return sbp__diag(diag, SBP_E_TRUNCATED, r->path, rd_offset(r), body_at + body,
                                 end,
                                 "%s: the polarity packet at byte %" PRIu64 " (%" PRId32
                                 " events) is cut short: the file ends at byte %" PRIu64
                                 " after %" PRId32 " of its events",
                                 r->sp, at, hd.number, end,
                                 (int32_t)((size_t)hd.number - left));
            }
            size_t k = avail / AEDAT_POLARITY_SIZE;
            if (k > left) k = left;
            sbp_status st = evbuf_reserve(out, k);
            if (st != SBP_OK)
                return sbp__diag(diag, st, r->path, rd_offset(r), 0, 0,
                                 "%s: out of memory for %zu events", r->sp, out->n + k);
            const unsigned char *q = r->buf + r->pos;
            sbp_event *e = out->ev + out->n;
            size_t kept = 0;
            for (size_t i = 0; i < k; i++, q += AEDAT_POLARITY_SIZE) {
                const uint32_t data = le32(q);
                const int32_t ts = le32s(q + 4);
                if (!(data & 1u)) continue; /* invalid event: skipped */
                const uint64_t off = rd_offset(r) + (uint64_t)i * AEDAT_POLARITY_SIZE;
                if (ts < 0) {
                    char what[96];
                    snprintf(what, sizeof what, "timestamp %" PRId32 " is negative", ts);
                    return event_error(diag, r, off, index + i, what, 0,
                                       (uint64_t)(uint32_t)ts);
                }
                const uint64_t t = overflow | (uint64_t)ts;
                const unsigned x = (data >> 17) & 0x7FFFu, y = (data >> 2) & 0x7FFFu;
                if (x >= w || y >= h || t < last_t)
                    return check_event(diag, r, off, index + i, x, y, t, last_t, w, h);
                last_t = t;
                e[kept].t = t;
                e[kept].x = (uint16_t)x;
                e[kept].y = (uint16_t)y;
                e[kept].polarity = (uint8_t)((data >> 1) & 1u);
                kept++;
            }
            out->n += kept;
            index += k;
            r->pos += k * AEDAT_POLARITY_SIZE;
            left -= k;
        }
    }
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading a recording                                                       */
/* ------------------------------------------------------------------------ */

static sbp_status check_sensor(unsigned w, unsigned h, const char *fn, sbp_diag *diag)
{
    if (w == 0 || h == 0 || w > SENSOR_MAX || h > SENSOR_MAX)
        return sbp__diag(diag, SBP_E_RANGE, "", 0, SENSOR_MAX, w == 0 || w > SENSOR_MAX ? w : h,
                         "%s: sensor of %ux%u pixels; width and height must be 1..%u", fn, w,
                         h, SENSOR_MAX);
    return SBP_OK;
}

/* Reads one file into out (appending nothing: out->n is reset). buf is a
 * CHUNK-byte scratch buffer. */
static sbp_status read_file(const char *path, sbp_event_format format, unsigned w, unsigned h,
                            unsigned char *buf, evbuf *out, sbp_diag *diag)
{
    rd r;
    out->n = 0;
    sbp_status st = rd_open(&r, path, buf, diag);
    if (st == SBP_OK)
        st = format == SBP_EVENTS_BS2 ? read_bs2(&r, w, h, out, diag)
                                      : read_aedat(&r, w, h, out, diag);
    rd_close(&r);
    return st;
}

sbp_status sbp_events_read(const char *path, sbp_event_format format, unsigned width,
                           unsigned height, sbp_diag *diag, sbp_event **events, size_t *count)
{
    diag_clear(diag);
    if (events) *events = NULL;
    if (count) *count = 0;
    if (!path || !events || !count)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "sbp_events_read: %s is NULL",
                         !path ? "path" : !events ? "events" : "count");
    if (format != SBP_EVENTS_BS2 && format != SBP_EVENTS_AEDAT3)
        return sbp__diag(diag, SBP_E_INVALID, path, 0, 0, (uint64_t)format,
                         "sbp_events_read: unknown format %d", (int)format);
    SBP_TRY(check_sensor(width, height, "sbp_events_read", diag));
    unsigned char *buf = sbp__malloc(CHUNK);
    if (!buf)
        return sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0,
                         "sbp_events_read: out of memory for the read buffer");
    evbuf b = {NULL, 0, 0};
    sbp_status st = read_file(path, format, width, height, buf, &b, diag);
    sbp__free(buf);
    if (st != SBP_OK) {
        sbp__free(b.ev);
        return st;
    }
    if (b.n == 0) {
        sbp__free(b.ev);
        b.ev = NULL;
    }
    *events = b.ev;
    *count = b.n;
    return SBP_OK;
}

void sbp_events_free(sbp_event *events)
{
    sbp__free(events);
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct fcfg {
    size_t frames, channels, cw, ch; /* cells per row (width), rows (height) */
    unsigned s;
    int binning, value;
    size_t d;
} fcfg;

#define OPT_MAX_SIZE 4096u

static sbp_status frames_cfg(const sbp_event_frames *opt, unsigned w, unsigned h,
                             const char *fn, sbp_diag *diag, fcfg *c)
{
    SBP_TRY(check_sensor(w, h, fn, diag));
    sbp_event_frames o;
    memset(&o, 0, sizeof o);
    if (opt) {
        size_t size = opt->struct_size;
        if (size < sizeof o || size > OPT_MAX_SIZE)
            return sbp__diag(diag, SBP_E_INVALID, "", 0, sizeof o, size,
                             "%s: sbp_event_frames.struct_size is %zu; set it to "
                             "sizeof(sbp_event_frames) = %zu (or use SBP_EVENT_FRAMES_INIT)",
                             fn, size, sizeof o);
        const unsigned char *tail = (const unsigned char *)opt;
        for (size_t i = sizeof o; i < size; i++)
            if (tail[i] != 0)
                return sbp__diag(diag, SBP_E_VERSION, "", 0, sizeof o, size,
                                 "%s: sbp_event_frames of %zu bytes sets fields this library "
                                 "(%zu bytes) does not know; it is older than the header",
                                 fn, size, sizeof o);
        memcpy(&o, opt, sizeof o);
    }
    memset(c, 0, sizeof *c);
    c->frames = o.frames ? o.frames : DEFAULT_FRAMES;
    c->s = o.downsample ? o.downsample : 1;
    c->binning = o.binning ? o.binning : SBP_EVENT_BIN_TIME;
    int polarity = o.polarity ? o.polarity : SBP_EVENT_POLARITY_SPLIT;
    c->value = o.value ? o.value : SBP_EVENT_VALUE_COUNT;
    if (c->frames > MAX_FRAMES)
        return sbp__diag(diag, SBP_E_RANGE, "", 0, MAX_FRAMES, c->frames,
                         "%s: %zu frames; expected 1..%u", fn, c->frames, MAX_FRAMES);
    if (c->s > SENSOR_MAX)
        return sbp__diag(diag, SBP_E_RANGE, "", 0, SENSOR_MAX, c->s,
                         "%s: downsample %u; expected 1..%u", fn, c->s, SENSOR_MAX);
    if (c->binning != SBP_EVENT_BIN_TIME && c->binning != SBP_EVENT_BIN_COUNT)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, (uint64_t)(uint32_t)c->binning,
                         "%s: unknown binning %d", fn, c->binning);
    if (polarity != SBP_EVENT_POLARITY_SPLIT && polarity != SBP_EVENT_POLARITY_MERGE)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, (uint64_t)(uint32_t)polarity,
                         "%s: unknown polarity setting %d", fn, polarity);
    if (c->value != SBP_EVENT_VALUE_COUNT && c->value != SBP_EVENT_VALUE_BINARY)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, (uint64_t)(uint32_t)c->value,
                         "%s: unknown value setting %d", fn, c->value);
    c->channels = polarity == SBP_EVENT_POLARITY_SPLIT ? 2 : 1;
    c->cw = (w + c->s - 1) / c->s;
    c->ch = (h + c->s - 1) / c->s;
    /* frames <= 2^16, channels <= 2, cells <= 2^30: below 2^48. */
    const uint64_t d = (uint64_t)c->frames * c->channels * c->cw * c->ch;
    if (d > SBP__MAX_FEATURES)
        return sbp__diag(diag, SBP_E_TOO_LARGE, "", 0, SBP__MAX_FEATURES, d,
                         "%s: %zu frames x %zu channels x %zux%zu cells = %" PRIu64
                         " features, more than the limit of %zu",
                         fn, c->frames, c->channels, c->cw, c->ch, d, SBP__MAX_FEATURES);
    c->d = (size_t)d;
    return SBP_OK;
}

sbp_status sbp_event_frames_features(const sbp_event_frames *opt, unsigned width,
                                     unsigned height, sbp_diag *diag, size_t *features)
{
    diag_clear(diag);
    if (features) *features = 0;
    if (!features)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_event_frames_features: features is NULL");
    fcfg c;
    SBP_TRY(frames_cfg(opt, width, height, "sbp_event_frames_features", diag, &c));
    *features = c.d;
    return SBP_OK;
}

/* First index in ev[0, n) whose t >= t (ev sorted by t). */
static size_t lower_bound(const sbp_event *ev, size_t n, uint64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The binning itself; events sorted and on the sensor, window checked. */
static void bin_events(const fcfg *c, const sbp_event *ev, size_t n, uint64_t t0, uint64_t t1,
                       float *out)
{
    memset(out, 0, c->d * sizeof *out);
    const size_t lo = lower_bound(ev, n, t0), hi = lower_bound(ev, n, t1);
    const uint64_t span = t1 - t0, m = hi - lo, F = c->frames;
    const size_t plane = c->cw * c->ch, frame = c->channels * plane;
    const unsigned s = c->s;
    const int count = c->binning == SBP_EVENT_BIN_COUNT, split = c->channels == 2;
    const int binary = c->value == SBP_EVENT_VALUE_BINARY;
    for (size_t i = lo; i < hi; i++) {
        const sbp_event *e = &ev[i];
        /* span <= 2^40, m <= 2^40 and F <= 2^16: the products fit. */
        const size_t f = (size_t)(count ? (uint64_t)(i - lo) * F / m : (e->t - t0) * F / span);
        const size_t chan = split && !e->polarity ? 1 : 0;
        const size_t at = f * frame + chan * plane + (size_t)(e->y / s) * c->cw + e->x / s;
        if (binary)
            out[at] = 1.0f;
        else
            out[at] += 1.0f;
    }
}

sbp_status sbp_events_to_frames(const sbp_event *events, size_t count, unsigned width,
                                unsigned height, uint64_t t_begin, uint64_t t_end,
                                const sbp_event_frames *opt, sbp_diag *diag, float *out,
                                size_t out_count)
{
    static const char fn[] = "sbp_events_to_frames";
    diag_clear(diag);
    if ((!events && count) || !out)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "%s: %s is NULL", fn,
                         !out ? "out" : "events");
    fcfg c;
    SBP_TRY(frames_cfg(opt, width, height, fn, diag, &c));
    if (out_count != c.d)
        return sbp__diag(diag, SBP_E_MISMATCH, "", 0, c.d, out_count,
                         "%s: out holds %zu floats, but the frames have %zu features", fn,
                         out_count, c.d);
    if (t_end <= t_begin)
        return sbp__diag(diag, SBP_E_RANGE, "", 0, t_begin, t_end,
                         "%s: empty window [%" PRIu64 ", %" PRIu64 ")", fn, t_begin, t_end);
    if (t_end - t_begin > MAX_SPAN)
        return sbp__diag(diag, SBP_E_TOO_LARGE, "", 0, MAX_SPAN, t_end - t_begin,
                         "%s: window of %" PRIu64 " us, more than the limit of %" PRIu64, fn,
                         t_end - t_begin, MAX_SPAN);
    if (count > MAX_BIN_EVENTS)
        return sbp__diag(diag, SBP_E_TOO_LARGE, "", 0, MAX_BIN_EVENTS, count,
                         "%s: %zu events, more than the limit of %zu", fn, count,
                         MAX_BIN_EVENTS);
    for (size_t i = 0; i < count; i++) {
        const sbp_event *e = &events[i];
        if (e->x >= width || e->y >= height || e->polarity > 1)
            return sbp__diag(diag, SBP_E_RANGE, "", 0, 0, i,
                             "%s: event %zu (x %u, y %u, polarity %u) is not on the %ux%u "
                             "sensor or has a polarity other than 0 or 1",
                             fn, i, (unsigned)e->x, (unsigned)e->y, (unsigned)e->polarity,
                             width, height);
        if (i > 0 && e->t < events[i - 1].t)
            return sbp__diag(diag, SBP_E_INVALID, "", 0, events[i - 1].t, e->t,
                             "%s: event %zu at %" PRIu64 " us comes before event %zu at %" PRIu64
                             " us: events must be in time order",
                             fn, i, e->t, i - 1, events[i - 1].t);
    }
    bin_events(&c, events, count, t_begin, t_end, out);
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* Text files: label lists                                                   */
/* ------------------------------------------------------------------------ */

typedef struct text {
    const char *path;
    char shown[SHOWN];
    const char *sp;
    char *data;
    size_t len, pos;
    uint64_t line;     /* 1-based number of the current line */
    uint64_t line_at;  /* its byte offset */
} text;

static sbp_status text_read(text *t, const char *path, sbp_diag *diag)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    t->sp = sbp__gz_short_path(path, t->shown, sizeof t->shown);
    sbp__gz *gz = NULL;
    SBP_TRY(sbp__gz_open(path, &gz, diag));
    size_t cap = 0;
    uint64_t off = 0;
    sbp_status st = SBP_OK;
    for (;;) {
        if (t->len == cap) {
            if (cap >= TEXT_MAX) {
                st = sbp__diag(diag, SBP_E_TOO_LARGE, path, off, TEXT_MAX, off,
                               "%s: more than %zu bytes; not a label or list file", t->sp,
                               TEXT_MAX);
                break;
            }
            size_t ncap = cap ? cap * 2 : 4096;
            char *p = sbp__realloc(t->data, ncap + 1);
            if (!p) {
                st = sbp__diag(diag, SBP_E_NOMEM, path, off, 0, 0, "%s: out of memory", t->sp);
                break;
            }
            t->data = p;
            cap = ncap;
        }
        size_t got = 0;
        st = sbp__gz_read_some(gz, t->data + t->len, cap - t->len, &got, &off, diag);
        if (st != SBP_OK || got == 0) break;
        t->len += got;
    }
    sbp__gz_close(gz);
    if (st != SBP_OK) {
        sbp__free(t->data);
        t->data = NULL;
        return st;
    }
    if (!t->data) {
        t->data = sbp__malloc(1);
        if (!t->data) return sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0, "%s: out of memory", t->sp);
    }
    t->data[t->len] = '\0';
    return SBP_OK;
}

static void text_free(text *t)
{
    sbp__free(t->data);
    t->data = NULL;
}

/* Next line without its LF and CR, with leading and trailing spaces and
 * tabs removed; 0 at the end of the file. */
static int text_line(text *t, const char **s, size_t *n)
{
    if (t->pos >= t->len) return 0;
    t->line++;
    t->line_at = t->pos;
    const char *p = t->data + t->pos;
    const char *nl = memchr(p, '\n', t->len - t->pos);
    size_t len = nl ? (size_t)(nl - p) : t->len - t->pos;
    t->pos += len + (nl ? 1 : 0);
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    *s = p;
    *n = len;
    return 1;
}

static sbp_status text_fail(sbp_diag *diag, const text *t, sbp_status st, uint64_t expected,
                            uint64_t found, const char *fmt, ...) SBP__PRINTF(6, 7);

static sbp_status text_fail(sbp_diag *diag, const text *t, sbp_status st, uint64_t expected,
                            uint64_t found, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sbp__diag(diag, st, t->path, t->line_at, expected, found, "%s: line %" PRIu64 ": %s",
              t->sp, t->line, what);
    if (diag) diag->line = t->line;
    return st;
}

/* Digits only, value <= max. Returns the characters used (0: none or too
 * large). */
static size_t parse_uint(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    size_t i = 0;
    uint64_t x = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        unsigned digit = (unsigned)(s[i] - '0');
        if (x > (max - digit) / 10) return 0;
        x = x * 10 + digit;
        i++;
    }
    *v = x;
    return i;
}

/* "text" shown in a message: at most 40 characters, non-printing as '?'. */
static const char *shown_text(const char *s, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < size && i < 40; i++)
        buf[k++] = s[i] == '\t' ? ' ' : (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
    if (n > 40 && k + 4 < size) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------ */
/* N-MNIST dataset                                                           */
/* ------------------------------------------------------------------------ */

typedef struct nm_row {
    uint32_t id;
    uint32_t cls;
} nm_row;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static sbp_status nmnist_labels(const char *path, nm_row **rows_out, size_t *n_out,
                                sbp_diag *diag)
{
    text t;
    SBP_TRY(text_read(&t, path, diag));
    nm_row *rows = NULL;
    size_t n = 0, cap = 0;
    sbp_status st = SBP_OK;
    const char *s;
    size_t len;
    char b[64];
    while (st == SBP_OK && text_line(&t, &s, &len)) {
        if (len == 0 || s[0] == '#') continue;
        uint64_t id = 0, cls = 0;
        size_t a = parse_uint(s, len, UINT32_MAX, &id);
        size_t sep = a;
        while (sep < len && (s[sep] == '\t' || s[sep] == ' ')) sep++;
        size_t c = sep > a ? parse_uint(s + sep, len - sep, UINT32_MAX, &cls) : 0;
        if (a == 0 || id == 0 || sep == a || c == 0 || sep + c != len) {
            st = text_fail(diag, &t, SBP_E_FORMAT, 0, 0,
                           "expected 'id<TAB>class' (a positive id and a class 0..9), got '%s'",
                           shown_text(s, len, b, sizeof b));
            break;
        }
        if (cls >= NMNIST_CLASSES) {
            st = text_fail(diag, &t, SBP_E_FORMAT, NMNIST_CLASSES - 1, cls,
                           "class %" PRIu64 " is out of range, expected 0..9", cls);
            break;
        }
        if (n == cap) {
            if (n >= SBP__MAX_SAMPLES) {
                st = text_fail(diag, &t, SBP_E_TOO_LARGE, SBP__MAX_SAMPLES, n,
                               "more than %zu samples", SBP__MAX_SAMPLES);
                break;
            }
            size_t ncap = cap ? cap * 2 : 1024;
            nm_row *p = sbp__realloc(rows, ncap * sizeof *p);
            if (!p) {
                st = sbp__diag(diag, SBP_E_NOMEM, path, t.line_at, 0, 0,
                               "%s: out of memory for the labels", t.sp);
                break;
            }
            rows = p;
            cap = ncap;
        }
        rows[n].id = (uint32_t)id;
        rows[n].cls = (uint32_t)cls;
        n++;
    }
    if (st == SBP_OK && n == 0)
        st = sbp__diag(diag, SBP_E_FORMAT, path, 0, 0, 0,
                       "%s: no samples (expected '#' header lines, then 'id<TAB>class' lines)",
                       t.sp);
    if (st == SBP_OK) {
        /* Duplicate ids would train twice on one recording. */
        uint32_t *ids = sbp__calloc(n, sizeof *ids);
        if (!ids) {
            st = sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0, "%s: out of memory", t.sp);
        } else {
            for (size_t i = 0; i < n; i++) ids[i] = rows[i].id;
            qsort(ids, n, sizeof *ids, cmp_u32);
            for (size_t i = 1; i < n; i++) {
                if (ids[i] == ids[i - 1]) {
                    st = sbp__diag(diag, SBP_E_FORMAT, path, 0, 0, ids[i],
                                   "%s: id %" PRIu32 " is listed more than once", t.sp,
                                   ids[i]);
                    break;
                }
            }
            sbp__free(ids);
        }
    }
    text_free(&t);
    if (st != SBP_OK) {
        sbp__free(rows);
        return st;
    }
    *rows_out = rows;
    *n_out = n;
    return SBP_OK;
}

/* buf (PATH_BUF bytes) = dir/name. */
static sbp_status join(char *buf, const char *dir, const char *name, sbp_diag *diag)
{
    int len = snprintf(buf, PATH_BUF, "%s/%s", dir, name);
    if (len < 0 || len >= PATH_BUF)
        return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "path too long: %.64s.../%.64s", dir,
                         name);
    return SBP_OK;
}

static const char *short_dir(const char *dir, char *buf, size_t size)
{
    return sbp__gz_short_path(dir, buf, size);
}

static sbp_status check_dir(const char *dir, const char *fn, sbp_diag *diag)
{
    char shown[SHOWN];
    struct stat st;
    if (!dir || !*dir)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "%s: directory is NULL or empty", fn);
    if (strlen(dir) > PATH_BUF - 256)
        return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "%s: directory path too long", fn);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "%s: not a directory",
                         short_dir(dir, shown, sizeof shown));
    return SBP_OK;
}

/* Loader scratch: the read buffer and the event array, reused by files. */
typedef struct scratch {
    unsigned char *buf;
    evbuf ev;
} scratch;

static sbp_status scratch_new(scratch *s, const char *path, sbp_diag *diag)
{
    memset(s, 0, sizeof *s);
    s->buf = sbp__malloc(CHUNK);
    if (!s->buf)
        return sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0, "out of memory for the read buffer");
    return SBP_OK;
}

static void scratch_free(scratch *s)
{
    sbp__free(s->buf);
    sbp__free(s->ev.ev);
}

static sbp_status new_dataset(size_t n, size_t d, size_t k, const char *path, sbp_diag *diag,
                              sbp_dataset **out)
{
    sbp_status st = sbp__dataset_new(n, d, k, out);
    if (st != SBP_OK)
        return sbp__diag(diag, st, path, 0, 0, 0, "cannot make a dataset of %zu samples of %zu "
                         "features: %s", n, d, sbp_status_str(st));
    return SBP_OK;
}

static void set_label(sbp_dataset *ds, size_t i, uint32_t cls)
{
    ds->labels[i] = (int32_t)cls;
    ds->y[i * ds->k + cls] = 1.0f;
}

sbp_status sbp_dataset_load_nmnist(const char *dir, const char *labels_path,
                                   const sbp_event_frames *opt, sbp_diag *diag,
                                   sbp_dataset **out)
{
    static const char fn[] = "sbp_dataset_load_nmnist";
    diag_clear(diag);
    if (!out) return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "%s: out is NULL", fn);
    *out = NULL;
    SBP_TRY(check_dir(dir, fn, diag));
    fcfg c;
    SBP_TRY(frames_cfg(opt, NMNIST_SIZE, NMNIST_SIZE, fn, diag, &c));
    char path[PATH_BUF];
    if (!labels_path) {
        SBP_TRY(join(path, dir, "labels.txt", diag));
        labels_path = path;
    }
    nm_row *rows = NULL;
    size_t n = 0;
    SBP_TRY(nmnist_labels(labels_path, &rows, &n, diag));
    sbp_dataset *ds = NULL;
    scratch s;
    sbp_status st = new_dataset(n, c.d, NMNIST_CLASSES, labels_path, diag, &ds);
    if (st == SBP_OK) st = scratch_new(&s, dir, diag);
    else memset(&s, 0, sizeof s);
    for (size_t i = 0; i < n && st == SBP_OK; i++) {
        char name[16];
        snprintf(name, sizeof name, "%" PRIu32 ".bs2", rows[i].id);
        if ((st = join(path, dir, name, diag)) != SBP_OK) break;
        st = read_file(path, SBP_EVENTS_BS2, NMNIST_SIZE, NMNIST_SIZE, s.buf, &s.ev, diag);
        if (st != SBP_OK) break;
        if (s.ev.n > 0)
            bin_events(&c, s.ev.ev, s.ev.n, s.ev.ev[0].t, s.ev.ev[s.ev.n - 1].t + 1,
                       ds->x + i * c.d);
        set_label(ds, i, rows[i].cls);
    }
    scratch_free(&s);
    sbp__free(rows);
    if (st != SBP_OK) {
        sbp_dataset_free(ds);
        return st;
    }
    ds->n_classes = NMNIST_CLASSES;
    *out = ds;
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* DVS128 Gesture dataset                                                    */
/* ------------------------------------------------------------------------ */

typedef struct dg_row {
    size_t file;        /* index into the trial list */
    uint32_t cls;       /* 0..10 */
    uint64_t start, end;
    uint64_t line;      /* in the CSV, for messages */
    uint64_t line_at;
} dg_row;

typedef struct dg_list {
    char **names; /* the .aedat file names */
    size_t n, cap;
    dg_row *rows;
    size_t n_rows, cap_rows;
} dg_list;

static void dg_free(dg_list *l)
{
    for (size_t i = 0; i < l->n; i++) sbp__free(l->names[i]);
    sbp__free(l->names);
    sbp__free(l->rows);
}

static int is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
}

static sbp_status dg_trials(const char *path, dg_list *l, sbp_diag *diag)
{
    text t;
    SBP_TRY(text_read(&t, path, diag));
    sbp_status st = SBP_OK;
    const char *s;
    size_t len;
    char b[64];
    static const char ext[] = ".aedat";
    while (st == SBP_OK && text_line(&t, &s, &len)) {
        if (len == 0) continue;
        int ok = len > sizeof ext - 1 && len < 200 && s[0] != '.' &&
                 memcmp(s + len - (sizeof ext - 1), ext, sizeof ext - 1) == 0;
        for (size_t i = 0; ok && i < len; i++) ok = is_name_char(s[i]);
        if (!ok) {
            st = text_fail(diag, &t, SBP_E_FORMAT, 0, 0,
                           "expected a recording name such as 'user01_fluorescent.aedat', "
                           "got '%s'",
                           shown_text(s, len, b, sizeof b));
            break;
        }
        if (l->n == l->cap) {
            size_t ncap = l->cap ? l->cap * 2 : 64;
            if (ncap > (size_t)1 << 20) {
                st = text_fail(diag, &t, SBP_E_TOO_LARGE, (size_t)1 << 20, l->n,
                               "more than %zu recordings listed", (size_t)1 << 20);
                break;
            }
            char **p = sbp__realloc(l->names, ncap * sizeof *p);
            if (!p) {
                st = sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0, "%s: out of memory", t.sp);
                break;
            }
            l->names = p;
            l->cap = ncap;
        }
        char *name = sbp__malloc(len + 1);
        if (!name) {
            st = sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0, "%s: out of memory", t.sp);
            break;
        }
        memcpy(name, s, len);
        name[len] = '\0';
        l->names[l->n++] = name;
    }
    if (st == SBP_OK && l->n == 0)
        st = sbp__diag(diag, SBP_E_FORMAT, path, 0, 0, 0, "%s: lists no recordings", t.sp);
    text_free(&t);
    return st;
}

/* One "class,start,end" field: digits (spaces around allowed). */
static int csv_field(const char **s, const char *end, uint64_t *v, int last)
{
    const char *p = *s;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    size_t k = parse_uint(p, (size_t)(end - p), UINT64_MAX, v);
    if (k == 0) return 0;
    p += k;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (last) {
        if (p != end) return 0;
    } else {
        if (p == end || *p != ',') return 0;
        p++;
    }
    *s = p;
    return 1;
}

static sbp_status dg_labels(const char *path, size_t file, dg_list *l, sbp_diag *diag)
{
    text t;
    SBP_TRY(text_read(&t, path, diag));
    sbp_status st = SBP_OK;
    const char *s;
    size_t len;
    char b[64];
    static const char header[] = "class,startTime_usec,endTime_usec";
    int seen_header = 0;
    uint64_t prev_start = 0;
    size_t first = l->n_rows;
    while (st == SBP_OK && text_line(&t, &s, &len)) {
        if (len == 0) continue;
        if (!seen_header) {
            if (len != sizeof header - 1 || memcmp(s, header, len) != 0) {
                st = text_fail(diag, &t, SBP_E_FORMAT, 0, 0, "expected the header '%s', got '%s'",
                               header, shown_text(s, len, b, sizeof b));
                break;
            }
            seen_header = 1;
            continue;
        }
        uint64_t cls, start, end;
        const char *p = s, *e = s + len;
        if (!csv_field(&p, e, &cls, 0) || !csv_field(&p, e, &start, 0) ||
            !csv_field(&p, e, &end, 1)) {
            st = text_fail(diag, &t, SBP_E_FORMAT, 0, 0,
                           "expected 'class,startTime_usec,endTime_usec' (three unsigned "
                           "integers), got '%s'",
                           shown_text(s, len, b, sizeof b));
            break;
        }
        if (cls < 1 || cls > DVS_CLASSES) {
            st = text_fail(diag, &t, SBP_E_FORMAT, DVS_CLASSES, cls,
                           "class %" PRIu64 " is out of range, expected 1..11", cls);
            break;
        }
        if (end <= start) {
            st = text_fail(diag, &t, SBP_E_FORMAT, start + 1, end,
                           "interval [%" PRIu64 ", %" PRIu64 ") is empty: the end must come "
                           "after the start",
                           start, end);
            break;
        }
        if (end - start > MAX_SPAN) {
            st = text_fail(diag, &t, SBP_E_TOO_LARGE, MAX_SPAN, end - start,
                           "interval of %" PRIu64 " us, more than the limit of %" PRIu64,
                           end - start, MAX_SPAN);
            break;
        }
        if (l->n_rows > first && start < prev_start) {
            st = text_fail(diag, &t, SBP_E_FORMAT, prev_start, start,
                           "interval starts at %" PRIu64 " us, before the previous row's %" PRIu64
                           " us: rows must be in time order",
                           start, prev_start);
            break;
        }
        prev_start = start;
        if (l->n_rows == l->cap_rows) {
            size_t ncap = l->cap_rows ? l->cap_rows * 2 : 256;
            if (l->n_rows >= SBP__MAX_SAMPLES) {
                st = text_fail(diag, &t, SBP_E_TOO_LARGE, SBP__MAX_SAMPLES, l->n_rows,
                               "more than %zu samples", SBP__MAX_SAMPLES);
                break;
            }
            dg_row *r = sbp__realloc(l->rows, ncap * sizeof *r);
            if (!r) {
                st = sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0, "%s: out of memory", t.sp);
                break;
            }
            l->rows = r;
            l->cap_rows = ncap;
        }
        dg_row *r = &l->rows[l->n_rows++];
        r->file = file;
        r->cls = (uint32_t)(cls - 1);
        r->start = start;
        r->end = end;
        r->line = t.line;
        r->line_at = t.line_at;
    }
    if (st == SBP_OK && !seen_header)
        st = sbp__diag(diag, SBP_E_FORMAT, path, 0, 0, 0,
                       "%s: empty; expected the header '%s' and one row per gesture", t.sp,
                       header);
    text_free(&t);
    return st;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/<name without ".aedat">_labels.csv (names are < 200 characters). */
static sbp_status labels_path_of(char *buf, const char *dir, const char *name, sbp_diag *diag)
{
    char csv[256];
    size_t stem = strlen(name) - 6;
    memcpy(csv, name, stem);
    memcpy(csv + stem, "_labels.csv", sizeof "_labels.csv");
    return join(buf, dir, csv, diag);
}

sbp_status sbp_dataset_load_dvsgesture(const char *dir, sbp_dvsgesture_part part,
                                       const sbp_event_frames *opt, sbp_diag *diag,
                                       sbp_dataset **out)
{
    static const char fn[] = "sbp_dataset_load_dvsgesture";
    diag_clear(diag);
    if (!out) return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "%s: out is NULL", fn);
    *out = NULL;
    if (part != SBP_DVSGESTURE_TRAIN && part != SBP_DVSGESTURE_TEST)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "%s: unknown part %d", fn, (int)part);
    SBP_TRY(check_dir(dir, fn, diag));
    fcfg c;
    SBP_TRY(frames_cfg(opt, DVS_SIZE, DVS_SIZE, fn, diag, &c));

    const char *list = part == SBP_DVSGESTURE_TRAIN ? "trials_to_train.txt" : "trials_to_test.txt";
    char base[PATH_BUF], path[PATH_BUF];
    sbp__strlcpy(base, dir, sizeof base);
    SBP_TRY(join(path, base, list, diag));
    if (!file_exists(path)) {
        SBP_TRY(join(base, dir, "DvsGesture", diag));
        SBP_TRY(join(path, base, list, diag));
        if (!file_exists(path)) {
            char shown[SHOWN];
            return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0,
                             "%s: no %s in it or in its DvsGesture/ folder (expected the "
                             "official DvsGesture folder: userNN_*.aedat, their _labels.csv, "
                             "trials_to_train.txt, trials_to_test.txt)",
                             short_dir(dir, shown, sizeof shown), list);
        }
    }
    dg_list l;
    memset(&l, 0, sizeof l);
    sbp_status st = dg_trials(path, &l, diag);
    for (size_t f = 0; f < l.n && st == SBP_OK; f++) {
        st = labels_path_of(path, base, l.names[f], diag);
        if (st == SBP_OK) st = dg_labels(path, f, &l, diag);
    }
    if (st == SBP_OK && l.n_rows == 0) {
        char shown[SHOWN];
        st = sbp__diag(diag, SBP_E_FORMAT, base, 0, 0, 0,
                       "%s: the label files of the recordings in %s list no gestures",
                       short_dir(base, shown, sizeof shown), list);
    }
    sbp_dataset *ds = NULL;
    scratch s;
    memset(&s, 0, sizeof s);
    if (st == SBP_OK) st = new_dataset(l.n_rows, c.d, DVS_CLASSES, base, diag, &ds);
    if (st == SBP_OK) st = scratch_new(&s, base, diag);
    size_t row = 0;
    for (size_t f = 0; f < l.n && st == SBP_OK; f++) {
        st = join(path, base, l.names[f], diag);
        if (st != SBP_OK) break;
        st = read_file(path, SBP_EVENTS_AEDAT3, DVS_SIZE, DVS_SIZE, s.buf, &s.ev, diag);
        for (; st == SBP_OK && row < l.n_rows && l.rows[row].file == f; row++) {
            const dg_row *r = &l.rows[row];
            const uint64_t first = s.ev.n ? s.ev.ev[0].t : 0;
            const uint64_t last = s.ev.n ? s.ev.ev[s.ev.n - 1].t : 0;
            if (s.ev.n == 0 || r->start > last || r->end <= first) {
                if (labels_path_of(path, base, l.names[f], NULL) != SBP_OK) path[0] = '\0';
                char shown[SHOWN];
                st = sbp__diag(diag, SBP_E_FORMAT, path, r->line_at, 0, r->start,
                               "%s: line %" PRIu64 ": interval [%" PRIu64 ", %" PRIu64
                               ") lies outside the recording %s (%zu events, %" PRIu64
                               "..%" PRIu64 " us)",
                               sbp__gz_short_path(path, shown, sizeof shown), r->line,
                               r->start, r->end, l.names[f], s.ev.n, first, last);
                if (diag) diag->line = r->line;
                break;
            }
            bin_events(&c, s.ev.ev, s.ev.n, r->start, r->end, ds->x + row * c.d);
            set_label(ds, row, r->cls);
        }
    }
    scratch_free(&s);
    dg_free(&l);
    if (st != SBP_OK) {
        sbp_dataset_free(ds);
        return st;
    }
    ds->n_classes = DVS_CLASSES;
    *out = ds;
    return SBP_OK;
}
