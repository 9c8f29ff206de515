/* Event streams (lib/data/events.c): synthetic N-MNIST ("bs2") and AEDAT 3.1
 * files read back event for event, binning into frames checked cell by cell,
 * the N-MNIST and DVS128 Gesture dataset builders on synthetic folders,
 * hostile files (each with its status and diag), out-of-memory paths, and
 * the real recordings in ../shared/data when present. Set
 * SBP_TEST_VERBOSE=1 to print each diagnostic. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "sbp/sbp.h"
#include "testutil.h"

static char dir[256];

static void setup(void)
{
    const char *d = sbp_test_tmpdir();
    ck_assert_ptr_nonnull(d);
    snprintf(dir, sizeof dir, "%s", d);
}

static void teardown(void)
{
    sbp__alloc_fail_after(-1);
    sbp_test_rmtree(dir);
}

/* ---- byte buffers ---------------------------------------------------------- */

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t len)
{
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len) cap *= 2;
        b->p = realloc(b->p, cap);
        ck_assert_ptr_nonnull(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void put_str(bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_le16(bytes *b, int v)
{
    unsigned char c[2] = {(unsigned char)(v & 0xFF), (unsigned char)((v >> 8) & 0xFF)};
    put(b, c, 2);
}

static void put_le32(bytes *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(b, c, 4);
}

static const char *save(const char *name, const bytes *b)
{
    const char *p = sbp_test_write(dir, name, b->p, b->n);
    ck_assert_ptr_nonnull(p);
    return p;
}

static const char *save_gz(const char *name, const bytes *b)
{
    const char *p = sbp_test_write_gz(dir, name, b->p, b->n);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* ---- N-MNIST bs2 ------------------------------------------------------------- */

static void put_bs2(bytes *b, unsigned x, unsigned y, unsigned pol, uint32_t t)
{
    unsigned char c[5] = {(unsigned char)x, (unsigned char)y,
                          (unsigned char)((pol ? 0x80u : 0u) | ((t >> 16) & 0x7Fu)),
                          (unsigned char)(t >> 8), (unsigned char)t};
    put(b, c, 5);
}

/* n events on a w x h sensor with increasing times, a deterministic
 * pattern covering the corners and both polarities. */
static sbp_event *make_events(size_t n, unsigned w, unsigned h, uint64_t t0, uint64_t tmax)
{
    sbp_event *e = calloc(n ? n : 1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    uint64_t t = t0;
    for (size_t i = 0; i < n; i++) {
        e[i].x = (uint16_t)(i == 1 ? w - 1 : (i * 7 + 3) % w);
        e[i].y = (uint16_t)(i == 1 ? h - 1 : (i * 11 + 5) % h);
        e[i].polarity = (uint8_t)((i / 3) % 2);
        e[i].t = t;
        t += (i % 4 == 0) ? 0 : (i * 13) % 97; /* some equal timestamps */
        if (t > tmax) t = tmax;
    }
    return e;
}

static void bs2_of(bytes *b, const sbp_event *e, size_t n)
{
    for (size_t i = 0; i < n; i++) put_bs2(b, e[i].x, e[i].y, e[i].polarity, (uint32_t)e[i].t);
}

/* ---- AEDAT 3.1 --------------------------------------------------------------- */

static void aedat_header(bytes *b)
{
    put_str(b, "#!AER-DAT3.1\r\n");
    put_str(b, "#Format: RAW\r\n");
    put_str(b, "#Source 1: DVS128\r\n");
    put_str(b, "#Start-Time: 2017-03-01 10:00:00 (TZ+0000)\r\n");
    put_str(b, "#!END-HEADER\r\n");
}

static void packet_header(bytes *b, int type, int32_t size, int32_t tsoff, int32_t overflow,
                          int32_t capacity, int32_t number, int32_t valid)
{
    put_le16(b, type);
    put_le16(b, 1); /* source */
    put_le32(b, (uint32_t)size);
    put_le32(b, (uint32_t)tsoff);
    put_le32(b, (uint32_t)overflow);
    put_le32(b, (uint32_t)capacity);
    put_le32(b, (uint32_t)number);
    put_le32(b, (uint32_t)valid);
}

static void polarity_event(bytes *b, unsigned x, unsigned y, unsigned pol, int valid, int32_t ts)
{
    uint32_t data = (uint32_t)x << 17 | (uint32_t)y << 2 | (pol ? 2u : 0u) | (valid ? 1u : 0u);
    put_le32(b, data);
    put_le32(b, (uint32_t)ts);
}

/* A polarity packet holding e[0..n) with the given overflow. */
static void polarity_packet(bytes *b, const sbp_event *e, size_t n, int32_t overflow)
{
    packet_header(b, 1, 8, 4, overflow, (int32_t)n, (int32_t)n, (int32_t)n);
    for (size_t i = 0; i < n; i++)
        polarity_event(b, e[i].x, e[i].y, e[i].polarity, 1,
                       (int32_t)(e[i].t & 0x7FFFFFFFu));
}

/* A packet of another type (special events, 8 bytes; or frames, 20). */
static void other_packet(bytes *b, int type, int32_t size, int32_t number)
{
    packet_header(b, type, size, 4, 0, number, number, number);
    for (int32_t i = 0; i < number * size; i++) {
        unsigned char c = (unsigned char)(0xA5 ^ i);
        put(b, &c, 1);
    }
}

/* ---- checking ------------------------------------------------------------ */

static void verbose(const char *name, sbp_status st, const sbp_diag *d)
{
    const char *v = getenv("SBP_TEST_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        printf("CASE %s | %s | file=%s line=%llu offset=%llu expected=%llu found=%llu | %s\n",
               name, sbp_status_name(st), d->file, (unsigned long long)d->line,
               (unsigned long long)d->offset, (unsigned long long)d->expected,
               (unsigned long long)d->found, d->message);
}

static void check_diag(const char *name, sbp_status st, const sbp_diag *d, sbp_status want,
                       const char *substring, const char *bad_file)
{
    verbose(name, st, d);
    ck_assert_msg(st == want, "%s: status %s, expected %s (%s)", name, sbp_status_name(st),
                  sbp_status_name(want), d->message);
    ck_assert_int_eq(d->status, want);
    ck_assert_msg(strstr(d->message, substring) != NULL, "%s: message '%s' lacks '%s'", name,
                  d->message, substring);
    ck_assert_msg(strchr(d->message, '\n') == NULL, "%s: message is not one line", name);
    if (bad_file) {
        ck_assert_str_eq(d->file, bad_file);
        const char *base = strrchr(bad_file, '/');
        base = base ? base + 1 : bad_file;
        ck_assert_msg(strstr(d->message, base) != NULL, "%s: message '%s' does not name %s",
                      name, d->message, base);
    }
}

/* Reads path and expects a failure; returns the diag. */
static sbp_diag read_fail(const char *name, const char *path, sbp_event_format fmt, unsigned w,
                          unsigned h, sbp_status want, const char *substring)
{
    sbp_diag d;
    memset(&d, 0x55, sizeof d);
    sbp_event *ev = (sbp_event *)(uintptr_t)1;
    size_t n = 99;
    sbp_status st = sbp_events_read(path, fmt, w, h, &d, &ev, &n);
    check_diag(name, st, &d, want, substring, path);
    ck_assert_ptr_null(ev);
    ck_assert_uint_eq(n, 0);
    return d;
}

static void expect_at(const sbp_diag *d, uint64_t offset, uint64_t expected, uint64_t found)
{
    ck_assert_uint_eq(d->offset, offset);
    ck_assert_uint_eq(d->expected, expected);
    ck_assert_uint_eq(d->found, found);
}

static void same_events(const sbp_event *got, size_t n_got, const sbp_event *want, size_t n)
{
    ck_assert_uint_eq(n_got, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(got[i].t == want[i].t && got[i].x == want[i].x && got[i].y == want[i].y &&
                          got[i].polarity == want[i].polarity,
                      "event %zu: got (t %llu, x %u, y %u, p %u), want (t %llu, x %u, y %u, p %u)",
                      i, (unsigned long long)got[i].t, got[i].x, got[i].y, got[i].polarity,
                      (unsigned long long)want[i].t, want[i].x, want[i].y, want[i].polarity);
    }
}

static void read_ok(const char *path, sbp_event_format fmt, unsigned w, unsigned h,
                    sbp_event **ev, size_t *n)
{
    sbp_diag d;
    sbp_status st = sbp_events_read(path, fmt, w, h, &d, ev, n);
    ck_assert_msg(st == SBP_OK, "%s: %s", path, d.message);
}

/* ---- round trips ------------------------------------------------------------ */

START_TEST(bs2_roundtrip)
{
    const size_t n = 5000; /* more than one 64 KiB read chunk */
    sbp_event *want = make_events(n, 34, 34, 0, (1u << 23) - 1);
    want[n - 1].t = (1u << 23) - 1; /* the largest 23-bit timestamp */
    want[n - 2].t = want[n - 1].t - 1;
    bytes b = {0};
    bs2_of(&b, want, n);
    const char *paths[2] = {save("r.bs2", &b), save_gz("r.bs2.gz", &b)};
    for (int k = 0; k < 2; k++) {
        sbp_event *ev = NULL;
        size_t got = 0;
        read_ok(paths[k], SBP_EVENTS_BS2, 34, 34, &ev, &got);
        same_events(ev, got, want, n);
        sbp_events_free(ev);
    }
    /* an empty file holds no events */
    bytes empty = {0};
    sbp_event *ev = (sbp_event *)(uintptr_t)1;
    size_t got = 7;
    read_ok(save("empty.bs2", &empty), SBP_EVENTS_BS2, 34, 34, &ev, &got);
    ck_assert_ptr_null(ev);
    ck_assert_uint_eq(got, 0);
    free(b.p);
    free(want);
}
END_TEST

START_TEST(aedat_roundtrip)
{
    /* three polarity packets, a special-event packet and a frame-like
     * packet to skip, an invalid event to skip, and timestamps past 2^31
     * (eventTSOverflow = 1). */
    const size_t n1 = 9000, n2 = 40, n3 = 25;
    sbp_event *a = make_events(n1, 128, 128, 100, 2000000000);
    sbp_event *c = make_events(n3, 128, 128, 0, 5000);
    bytes b = {0};
    aedat_header(&b);
    polarity_packet(&b, a, n1, 0);
    other_packet(&b, 0, 8, 3);
    /* a packet with one invalid event in the middle */
    sbp_event mid[2] = {{a[n1 - 1].t + 5, 7, 9, 1}, {a[n1 - 1].t + 9, 127, 0, 0}};
    packet_header(&b, 1, 8, 4, 0, 3, 3, 2);
    polarity_event(&b, mid[0].x, mid[0].y, mid[0].polarity, 1, (int32_t)mid[0].t);
    polarity_event(&b, 100, 100, 1, 0, 0); /* invalid: skipped, even with time 0 */
    polarity_event(&b, mid[1].x, mid[1].y, mid[1].polarity, 1, (int32_t)mid[1].t);
    other_packet(&b, 2, 20, 2);
    sbp_event *hi = make_events(n2, 128, 128, 10, 100000);
    polarity_packet(&b, hi, n2, 1);
    for (size_t i = 0; i < n2; i++) hi[i].t |= (uint64_t)1 << 31;
    for (size_t i = 0; i < n3; i++) c[i].t += 200000;
    polarity_packet(&b, c, n3, 1);
    for (size_t i = 0; i < n3; i++) c[i].t |= (uint64_t)1 << 31;
    other_packet(&b, 0, 8, 0); /* an empty packet */

    size_t n = n1 + 2 + n2 + n3;
    sbp_event *want = calloc(n, sizeof *want);
    memcpy(want, a, n1 * sizeof *a);
    memcpy(want + n1, mid, sizeof mid);
    memcpy(want + n1 + 2, hi, n2 * sizeof *hi);
    memcpy(want + n1 + 2 + n2, c, n3 * sizeof *c);

    const char *paths[2] = {save("user01_led.aedat", &b), save_gz("r.aedat.gz", &b)};
    for (int k = 0; k < 2; k++) {
        sbp_event *ev = NULL;
        size_t got = 0;
        read_ok(paths[k], SBP_EVENTS_AEDAT3, 128, 128, &ev, &got);
        same_events(ev, got, want, n);
        ck_assert_uint_ge(ev[n - 1].t, (uint64_t)1 << 31);
        sbp_events_free(ev);
    }
    /* a header and no packets: no events */
    bytes h = {0};
    aedat_header(&h);
    sbp_event *ev = NULL;
    size_t got = 5;
    read_ok(save("header-only.aedat", &h), SBP_EVENTS_AEDAT3, 128, 128, &ev, &got);
    ck_assert_uint_eq(got, 0);
    ck_assert_ptr_null(ev);
    free(h.p);
    free(b.p);
    free(a);
    free(c);
    free(hi);
    free(want);
}
END_TEST

/* ---- frames ------------------------------------------------------------------ */

static sbp_event_frames opts(size_t frames, unsigned s, int binning, int polarity, int value)
{
    sbp_event_frames o = SBP_EVENT_FRAMES_INIT;
    o.frames = frames;
    o.downsample = s;
    o.binning = binning;
    o.polarity = polarity;
    o.value = value;
    return o;
}

START_TEST(frames_equal_time)
{
    /* a 4x4 sensor, downsample 2 -> 2x2 cells, 2 channels, 2 frames over
     * [100, 200): frame 0 is t in [100, 150), frame 1 [150, 200). */
    const sbp_event ev[] = {
        {90, 0, 0, 1},   /* before the window: ignored */
        {100, 0, 0, 1},  /* f0 ON  cell (0,0) */
        {120, 1, 1, 1},  /* f0 ON  cell (0,0) */
        {149, 3, 0, 0},  /* f0 OFF cell (1,0): x 3 -> 1 */
        {150, 2, 3, 1},  /* f1 ON  cell (1,1) */
        {199, 0, 2, 0},  /* f1 OFF cell (0,1) */
        {199, 0, 3, 0},  /* f1 OFF cell (0,1) */
        {200, 3, 3, 1},  /* t_end: ignored */
    };
    sbp_event_frames o = opts(2, 2, SBP_EVENT_BIN_TIME, SBP_EVENT_POLARITY_SPLIT,
                              SBP_EVENT_VALUE_COUNT);
    size_t d = 0;
    sbp_diag diag;
    ck_assert_int_eq(sbp_event_frames_features(&o, 4, 4, &diag, &d), SBP_OK);
    ck_assert_uint_eq(d, 2 * 2 * 2 * 2);
    float out[16];
    memset(out, 0x7F, sizeof out); /* overwritten, not added to */
    ck_assert_int_eq(sbp_events_to_frames(ev, 8, 4, 4, 100, 200, &o, &diag, out, 16), SBP_OK);
    /* index = ((frame * 2 + channel) * 2 + y) * 2 + x */
    const float want[16] = {2, 0, 0, 0, /* f0 ON  */ 0, 1, 0, 0, /* f0 OFF */
                            0, 0, 0, 1, /* f1 ON  */ 0, 0, 2, 0 /* f1 OFF */};
    for (int i = 0; i < 16; i++) ck_assert_msg(out[i] == want[i], "cell %d: %g", i, out[i]);

    /* merged polarity, binary values */
    o = opts(2, 2, SBP_EVENT_BIN_TIME, SBP_EVENT_POLARITY_MERGE, SBP_EVENT_VALUE_BINARY);
    ck_assert_int_eq(sbp_events_to_frames(ev, 8, 4, 4, 100, 200, &o, &diag, out, 8), SBP_OK);
    const float want2[8] = {1, 1, 0, 0, 0, 0, 1, 1};
    for (int i = 0; i < 8; i++) ck_assert_msg(out[i] == want2[i], "cell %d: %g", i, out[i]);

    /* no downsampling, one frame, one event per pixel of a 3x2 sensor */
    const sbp_event px[] = {{0, 0, 0, 1}, {1, 1, 0, 1}, {2, 2, 0, 1},
                            {3, 0, 1, 0}, {4, 1, 1, 0}, {5, 2, 1, 0}};
    o = opts(1, 0, 0, SBP_EVENT_POLARITY_MERGE, 0);
    ck_assert_int_eq(sbp_events_to_frames(px, 6, 3, 2, 0, 6, &o, &diag, out, 6), SBP_OK);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(out[i], 1.0f);
    /* downsample 2 of a 3x2 sensor: ceil -> 2x1 cells */
    o = opts(1, 2, 0, SBP_EVENT_POLARITY_MERGE, 0);
    ck_assert_int_eq(sbp_events_to_frames(px, 6, 3, 2, 0, 6, &o, &diag, out, 2), SBP_OK);
    ck_assert_float_eq(out[0], 4.0f);
    ck_assert_float_eq(out[1], 2.0f);
    /* frames with uneven boundaries: 3 frames over [0, 10): floor(t*3/10) */
    const sbp_event t10[] = {{0, 0, 0, 1}, {3, 0, 0, 1}, {4, 0, 0, 1},
                             {6, 0, 0, 1}, {7, 0, 0, 1}, {9, 0, 0, 1}};
    o = opts(3, 0, 0, SBP_EVENT_POLARITY_MERGE, 0);
    ck_assert_int_eq(sbp_events_to_frames(t10, 6, 1, 1, 0, 10, &o, &diag, out, 3), SBP_OK);
    ck_assert_float_eq(out[0], 2.0f); /* t 0, 3 */
    ck_assert_float_eq(out[1], 2.0f); /* t 4, 6 */
    ck_assert_float_eq(out[2], 2.0f); /* t 7, 9 */
    /* no events: all zero */
    ck_assert_int_eq(sbp_events_to_frames(NULL, 0, 1, 1, 0, 10, &o, &diag, out, 3), SBP_OK);
    ck_assert_float_eq(out[0] + out[1] + out[2], 0.0f);
}
END_TEST

START_TEST(frames_equal_count)
{
    /* 5 events in the window, 2 frames: event j goes to floor(2j/5): 3 + 2 */
    const sbp_event ev[] = {{5, 0, 0, 1},  {10, 1, 0, 1}, {11, 0, 0, 0}, {11, 1, 0, 0},
                            {500, 0, 0, 1}, {900, 1, 0, 0}, {1000, 0, 0, 1}};
    sbp_event_frames o = opts(2, 0, SBP_EVENT_BIN_COUNT, SBP_EVENT_POLARITY_SPLIT, 0);
    float out[8];
    sbp_diag d;
    ck_assert_int_eq(sbp_events_to_frames(ev, 7, 2, 1, 10, 1000, &o, &d, out, 8), SBP_OK);
    /* [frame][channel][x]: f0 = events 10,11,11 ; f1 = 500, 900 */
    const float want[8] = {0, 1, /* f0 ON */ 1, 1, /* f0 OFF */ 1, 0, /* f1 ON */ 0, 1};
    for (int i = 0; i < 8; i++) ck_assert_msg(out[i] == want[i], "cell %d: %g", i, out[i]);
    /* 4 frames, 3 events: floor(4j/3) = 0, 1, 2; frame 3 stays empty */
    o = opts(4, 0, SBP_EVENT_BIN_COUNT, SBP_EVENT_POLARITY_MERGE, 0);
    ck_assert_int_eq(sbp_events_to_frames(ev, 3, 2, 1, 0, 100, &o, &d, out, 8), SBP_OK);
    const float want2[8] = {1, 0, 0, 1, 1, 0, 0, 0};
    for (int i = 0; i < 8; i++) ck_assert_msg(out[i] == want2[i], "cell %d: %g", i, out[i]);
    /* equal counts regardless of timing: 100 events, 10 frames, 10 each */
    sbp_event many[100];
    for (int i = 0; i < 100; i++) many[i] = (sbp_event){(uint64_t)(i * i), 0, 0, 1};
    o = opts(10, 0, SBP_EVENT_BIN_COUNT, SBP_EVENT_POLARITY_MERGE, 0);
    float f10[10];
    ck_assert_int_eq(sbp_events_to_frames(many, 100, 1, 1, 0, 100000, &o, &d, f10, 10), SBP_OK);
    for (int i = 0; i < 10; i++) ck_assert_float_eq(f10[i], 10.0f);
    /* ... while equal time puts most of them early */
    o.binning = SBP_EVENT_BIN_TIME;
    ck_assert_int_eq(sbp_events_to_frames(many, 100, 1, 1, 0, 9801, &o, &d, f10, 10), SBP_OK);
    ck_assert_float_eq(f10[0], 32.0f); /* i*i < 980.1: i = 0..31 */
    ck_assert_float_eq(f10[9], 5.0f);  /* i*i >= 8820.9: i = 94..98 (99^2 = 9801 is t_end) */
}
END_TEST

START_TEST(frames_options)
{
    sbp_diag d;
    size_t n = 0;
    /* NULL options: 10 frames, 2 channels, no downsampling */
    ck_assert_int_eq(sbp_event_frames_features(NULL, 34, 34, &d, &n), SBP_OK);
    ck_assert_uint_eq(n, 10 * 2 * 34 * 34);
    sbp_event_frames o = SBP_EVENT_FRAMES_INIT;
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_OK);
    ck_assert_uint_eq(n, 10 * 2 * 34 * 34);
    o = opts(5, 4, 0, SBP_EVENT_POLARITY_MERGE, 0);
    ck_assert_int_eq(sbp_event_frames_features(&o, 128, 128, &d, &n), SBP_OK);
    ck_assert_uint_eq(n, 5 * 32 * 32);
    o = opts(1, 3, 0, 0, 0);
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_OK);
    ck_assert_uint_eq(n, 2 * 12 * 12);

    /* struct_size: unset, too small, a newer struct with zero or set tail */
    o = opts(1, 1, 0, 0, 0);
    o.struct_size = 0;
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_E_INVALID);
    check_diag("struct_size 0", SBP_E_INVALID, &d, SBP_E_INVALID, "struct_size is 0", NULL);
    ck_assert_uint_eq(n, 0);
    struct {
        sbp_event_frames o;
        uint64_t future;
    } big;
    memset(&big, 0, sizeof big);
    big.o.struct_size = sizeof big;
    big.o.frames = 2;
    ck_assert_int_eq(sbp_event_frames_features(&big.o, 34, 34, &d, &n), SBP_OK);
    ck_assert_uint_eq(n, 2 * 2 * 34 * 34);
    big.future = 1;
    ck_assert_int_eq(sbp_event_frames_features(&big.o, 34, 34, &d, &n), SBP_E_VERSION);
    check_diag("newer struct", SBP_E_VERSION, &d, SBP_E_VERSION, "does not know", NULL);

    o = opts(65537, 0, 0, 0, 0);
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_E_RANGE);
    check_diag("frames", SBP_E_RANGE, &d, SBP_E_RANGE, "65537 frames", NULL);
    o = opts(0, 40000, 0, 0, 0);
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_E_RANGE);
    o = opts(0, 0, 3, 0, 0);
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_E_INVALID);
    check_diag("binning", SBP_E_INVALID, &d, SBP_E_INVALID, "unknown binning 3", NULL);
    o = opts(0, 0, 0, -1, 0);
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_E_INVALID);
    o = opts(0, 0, 0, 0, 9);
    ck_assert_int_eq(sbp_event_frames_features(&o, 34, 34, &d, &n), SBP_E_INVALID);
    o = opts(65536, 0, 0, 0, 0);
    ck_assert_int_eq(sbp_event_frames_features(&o, 128, 128, &d, &n), SBP_E_TOO_LARGE);
    check_diag("too many features", SBP_E_TOO_LARGE, &d, SBP_E_TOO_LARGE, "more than the limit",
               NULL);
    ck_assert_int_eq(sbp_event_frames_features(NULL, 0, 34, &d, &n), SBP_E_RANGE);
    ck_assert_int_eq(sbp_event_frames_features(NULL, 34, 40000, &d, &n), SBP_E_RANGE);
    ck_assert_int_eq(sbp_event_frames_features(NULL, 34, 34, &d, NULL), SBP_E_INVALID);

    /* sbp_events_to_frames refuses bad input */
    const sbp_event ev[] = {{10, 0, 0, 1}, {5, 1, 0, 1}};
    float out[4];
    o = opts(1, 0, 0, 0, 0);
    ck_assert_int_eq(sbp_events_to_frames(ev, 2, 2, 1, 0, 20, &o, &d, out, 4), SBP_E_INVALID);
    check_diag("unsorted", SBP_E_INVALID, &d, SBP_E_INVALID, "time order", NULL);
    const sbp_event off[] = {{1, 2, 0, 1}};
    ck_assert_int_eq(sbp_events_to_frames(off, 1, 2, 1, 0, 20, &o, &d, out, 4), SBP_E_RANGE);
    const sbp_event pol[] = {{1, 0, 0, 2}};
    ck_assert_int_eq(sbp_events_to_frames(pol, 1, 2, 1, 0, 20, &o, &d, out, 4), SBP_E_RANGE);
    ck_assert_int_eq(sbp_events_to_frames(ev, 1, 2, 1, 0, 20, &o, &d, out, 3), SBP_E_MISMATCH);
    check_diag("out size", SBP_E_MISMATCH, &d, SBP_E_MISMATCH, "holds 3 floats", NULL);
    ck_assert_int_eq(sbp_events_to_frames(ev, 1, 2, 1, 20, 20, &o, &d, out, 4), SBP_E_RANGE);
    ck_assert_int_eq(sbp_events_to_frames(ev, 1, 2, 1, 0, (uint64_t)1 << 41, &o, &d, out, 4),
                     SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_events_to_frames(NULL, 1, 2, 1, 0, 20, &o, &d, out, 4), SBP_E_INVALID);
    ck_assert_int_eq(sbp_events_to_frames(ev, 1, 2, 1, 0, 20, &o, &d, NULL, 4), SBP_E_INVALID);
    /* read: bad arguments */
    sbp_event *e = NULL;
    size_t cnt = 0;
    ck_assert_int_eq(sbp_events_read(NULL, SBP_EVENTS_BS2, 34, 34, &d, &e, &cnt), SBP_E_INVALID);
    ck_assert_int_eq(sbp_events_read("x", (sbp_event_format)7, 34, 34, &d, &e, &cnt),
                     SBP_E_INVALID);
    ck_assert_int_eq(sbp_events_read("x", SBP_EVENTS_BS2, 0, 34, &d, &e, &cnt), SBP_E_RANGE);
    ck_assert_int_eq(sbp_events_read("x", SBP_EVENTS_BS2, 34, 34, &d, NULL, &cnt), SBP_E_INVALID);
    sbp_events_free(NULL);
}
END_TEST

/* ---- hostile files ------------------------------------------------------------ */

START_TEST(bs2_hostile)
{
    bytes b = {0};
    put_bs2(&b, 1, 2, 1, 10);
    put_bs2(&b, 3, 4, 0, 20);
    put(&b, "\x05\x05\x80", 3); /* a third event cut after 3 bytes */
    const char *p = save("cut.bs2", &b);
    sbp_diag d = read_fail("bs2 size not a multiple of 5", p, SBP_EVENTS_BS2, 34, 34,
                           SBP_E_TRUNCATED, "13 bytes is not a whole number of 5-byte events");
    expect_at(&d, 10, 15, 13);
    /* the same, gzip-compressed: found while reading */
    p = save_gz("cut.bs2.gz", &b);
    d = read_fail("bs2 cut (gz)", p, SBP_EVENTS_BS2, 34, 34, SBP_E_TRUNCATED,
                  "ends inside the event at byte 10 (3 of 5 bytes)");
    expect_at(&d, 10, 15, 13);

    b.n = 0;
    put_bs2(&b, 1, 2, 1, 10);
    put_bs2(&b, 34, 4, 0, 20);
    p = save("x.bs2", &b);
    d = read_fail("bs2 x out of range", p, SBP_EVENTS_BS2, 34, 34, SBP_E_FORMAT,
                  "event 1 at byte 5: x = 34 is outside the 34x34 sensor");
    expect_at(&d, 5, 33, 34);
    b.n = 0;
    put_bs2(&b, 1, 200, 1, 10);
    p = save("y.bs2", &b);
    d = read_fail("bs2 y out of range", p, SBP_EVENTS_BS2, 34, 34, SBP_E_FORMAT,
                  "y = 200 is outside");
    expect_at(&d, 0, 33, 200);

    b.n = 0;
    put_bs2(&b, 1, 2, 1, 10);
    put_bs2(&b, 1, 2, 1, 30);
    put_bs2(&b, 1, 2, 1, 29);
    p = save("t.bs2", &b);
    d = read_fail("bs2 timestamps decrease", p, SBP_EVENTS_BS2, 34, 34, SBP_E_FORMAT,
                  "timestamp 29 us is earlier than the previous event's 30 us");
    expect_at(&d, 10, 30, 29);

    /* a directory, a missing file */
    d = read_fail("directory", dir, SBP_EVENTS_BS2, 34, 34, SBP_E_IO, "is a directory");
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.bs2", dir);
    read_fail("missing", missing, SBP_EVENTS_BS2, 34, 34, SBP_E_IO, "cannot open");
    free(b.p);
}
END_TEST

/* A valid AEDAT file with one polarity packet of 3 events: the base of the
 * hostile cases. */
static void aedat3(bytes *b)
{
    aedat_header(b);
    packet_header(b, 1, 8, 4, 0, 3, 3, 3);
    polarity_event(b, 1, 1, 1, 1, 10);
    polarity_event(b, 2, 2, 0, 1, 20);
    polarity_event(b, 3, 3, 1, 1, 30);
}

static size_t header_len(void)
{
    bytes h = {0};
    aedat_header(&h);
    size_t n = h.n;
    free(h.p);
    return n;
}

START_TEST(aedat_hostile_header)
{
    bytes b = {0};
    put_str(&b, "#!AER-DAT3.1\r\n#Format: RAW\r\n");
    const char *p = save("noend.aedat", &b);
    sbp_diag d = read_fail("header without END-HEADER", p, SBP_EVENTS_AEDAT3, 128, 128,
                           SBP_E_TRUNCATED, "inside the header (no #!END-HEADER line)");
    ck_assert_uint_eq(d.offset, b.n);

    /* binary data where the header should continue */
    b.n = 0;
    put_str(&b, "#!AER-DAT3.1\r\n#Format: RAW\r\n");
    packet_header(&b, 1, 8, 4, 0, 1, 1, 1);
    put_str(&b, "\n");
    p = save("nohdrend.aedat", &b);
    d = read_fail("missing END-HEADER", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_FORMAT,
                  "header line 3 at byte 28 does not start with '#', and no #!END-HEADER");
    ck_assert_uint_eq(d.line, 3);
    ck_assert_uint_eq(d.offset, 28);

    b.n = 0;
    put_str(&b, "#!AER-DAT2.0\r\n#!END-HEADER\r\n");
    p = save("v2.aedat", &b);
    read_fail("AEDAT 2.0", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_UNSUPPORTED,
              "AEDAT version '2.0'; only 3.1 is read");

    b.n = 0;
    put_str(&b, "hello\n");
    p = save("text.aedat", &b);
    read_fail("not AEDAT", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_FORMAT,
              "not an AEDAT file");
    b.n = 0;
    p = save("empty.aedat", &b);
    read_fail("empty AEDAT", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_TRUNCATED, "file is empty");

    /* a header line of 5000 bytes */
    b.n = 0;
    put_str(&b, "#!AER-DAT3.1\r\n#");
    for (int i = 0; i < 5000; i++) put_str(&b, "x");
    put_str(&b, "\r\n#!END-HEADER\r\n");
    p = save("longline.aedat", &b);
    d = read_fail("long header line", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_FORMAT,
                  "header line at byte 14 is longer than 4096 bytes");
    ck_assert_uint_eq(d.offset, 14);
    free(b.p);
}
END_TEST

/* Writes the base file with one header field (at byte `field` of the
 * packet header) replaced by v, and expects status/message. */
static sbp_diag aedat_field(const char *name, unsigned field, uint32_t v, sbp_status want,
                            const char *substring)
{
    bytes b = {0};
    aedat3(&b);
    size_t at = header_len() + field;
    b.p[at] = (unsigned char)v;
    b.p[at + 1] = (unsigned char)(v >> 8);
    if (field != 0 && field != 2) {
        b.p[at + 2] = (unsigned char)(v >> 16);
        b.p[at + 3] = (unsigned char)(v >> 24);
    }
    const char *p = save("field.aedat", &b);
    sbp_diag d = read_fail(name, p, SBP_EVENTS_AEDAT3, 128, 128, want, substring);
    free(b.p);
    return d;
}

START_TEST(aedat_hostile_packets)
{
    const uint64_t h = header_len();
    sbp_diag d;
    /* eventSize of a polarity packet */
    d = aedat_field("polarity eventSize 12", 4, 12, SBP_E_FORMAT,
                    "polarity packet (eventType 1) with eventSize 12 and eventTSOffset 4, "
                    "expected 8 and 4");
    expect_at(&d, h + 4, 8, 12);
    d = aedat_field("polarity eventSize 6", 4, 6, SBP_E_FORMAT,
                    "eventTSOffset 4 does not fit an event of 6 bytes");
    d = aedat_field("eventTSOffset 0", 8, 0, SBP_E_FORMAT, "eventTSOffset 0");
    expect_at(&d, h + 8, 4, 0);
    d = aedat_field("eventTSOffset past the event", 8, 6, SBP_E_FORMAT,
                    "eventTSOffset 6 does not fit an event of 8 bytes");
    d = aedat_field("eventSize 0", 4, 0, SBP_E_FORMAT, "eventSize 0, expected a positive size");
    d = aedat_field("capacity != number", 16, 4, SBP_E_FORMAT,
                    "eventCapacity 4 differs from eventNumber 3");
    expect_at(&d, h + 16, 3, 4);
    d = aedat_field("negative eventNumber", 20, 0xFFFFFFF6u, SBP_E_FORMAT,
                    "eventNumber -10 is negative");
    ck_assert_uint_eq(d.offset, h + 20);
    d = aedat_field("negative capacity", 16, 0x80000000u, SBP_E_FORMAT,
                    "eventCapacity -2147483648 is negative");
    d = aedat_field("eventValid > eventNumber", 24, 4, SBP_E_FORMAT,
                    "eventValid 4 is more than eventNumber 3");
    d = aedat_field("negative overflow", 12, 0xFFFFFFFFu, SBP_E_FORMAT,
                    "eventTSOverflow -1 is negative");
    d = aedat_field("negative eventType", 0, 0xFFFF, SBP_E_FORMAT, "eventType -1 is negative");
    /* more events announced than the file holds: refused from the file
     * size, before anything is allocated for them */
    bytes b = {0};
    aedat3(&b);
    size_t at = (size_t)h;
    b.p[at + 16] = b.p[at + 20] = 10;
    b.p[at + 24] = 3;
    const char *p = save("short.aedat", &b);
    sbp__alloc_fail_after(2); /* the read buffer and the file handle only */
    d = read_fail("body shorter than announced", p, SBP_EVENTS_AEDAT3, 128, 128,
                  SBP_E_TRUNCATED,
                  "eventNumber 10 x eventSize 8 = 80 bytes, but only 24 bytes follow");
    sbp__alloc_fail_after(-1);
    expect_at(&d, h + 20, h + 28 + 80, b.n);
    /* the same in a gzip file: found when the data ends */
    p = save_gz("short.aedat.gz", &b);
    d = read_fail("body cut (gz)", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_TRUNCATED,
                  "is cut short: the file ends at byte");
    ck_assert_uint_eq(d.found, b.n);

    /* a huge eventNumber: refused by the limit before any allocation */
    b.p[at + 16] = b.p[at + 20] = 0xFF;
    b.p[at + 17] = b.p[at + 21] = 0xFF;
    b.p[at + 18] = b.p[at + 22] = 0xFF;
    b.p[at + 19] = b.p[at + 23] = 0x7F;
    p = save_gz("huge.aedat.gz", &b);
    sbp__alloc_fail_after(2);
    d = read_fail("huge eventNumber", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_TOO_LARGE,
                  "eventNumber 2147483647 would take the recording past the limit of "
                  "268435456 events");
    sbp__alloc_fail_after(-1);
    expect_at(&d, h + 20, (uint64_t)1 << 28, 2147483647u);

    /* a packet header cut short */
    b.n = (size_t)h + 10;
    p = save("cuthdr.aedat", &b);
    d = read_fail("packet header cut", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_TRUNCATED,
                  "the packet header at byte");
    expect_at(&d, h, h + 28, h + 10);
    /* a skipped packet cut short */
    b.n = 0;
    aedat_header(&b);
    packet_header(&b, 0, 8, 4, 0, 5, 5, 5);
    put(&b, "12345678", 8);
    p = save_gz("cutskip.aedat.gz", &b);
    d = read_fail("skipped packet cut (gz)", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_TRUNCATED,
                  "(eventType 0, 5 events of 8 bytes) is cut short");
    free(b.p);
}
END_TEST

START_TEST(aedat_hostile_events)
{
    const uint64_t h = header_len();
    bytes b = {0};
    aedat_header(&b);
    packet_header(&b, 1, 8, 4, 0, 2, 2, 2);
    polarity_event(&b, 5, 5, 1, 1, 10);
    polarity_event(&b, 128, 5, 1, 1, 11);
    const char *p = save("x.aedat", &b);
    sbp_diag d = read_fail("AEDAT x out of range", p, SBP_EVENTS_AEDAT3, 128, 128,
                           SBP_E_FORMAT, "event 1 at byte");
    ck_assert_ptr_nonnull(strstr(d.message, "x = 128 is outside the 128x128 sensor"));
    expect_at(&d, h + 28 + 8, 127, 128);
    /* the same file read for a 129x129 sensor is fine */
    sbp_event *ev = NULL;
    size_t n = 0;
    read_ok(p, SBP_EVENTS_AEDAT3, 129, 129, &ev, &n);
    ck_assert_uint_eq(n, 2);
    sbp_events_free(ev);

    b.n = 0;
    aedat_header(&b);
    packet_header(&b, 1, 8, 4, 0, 1, 1, 1);
    polarity_event(&b, 5, 5, 1, 1, -5);
    p = save("neg.aedat", &b);
    d = read_fail("negative timestamp", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_FORMAT,
                  "timestamp -5 is negative");

    /* non-monotonic across packets: the second packet goes back in time
     * (overflow 1 then 0) */
    b.n = 0;
    aedat_header(&b);
    packet_header(&b, 1, 8, 4, 1, 1, 1, 1);
    polarity_event(&b, 5, 5, 1, 1, 100);
    packet_header(&b, 1, 8, 4, 0, 1, 1, 1);
    polarity_event(&b, 5, 5, 1, 1, 200);
    p = save("back.aedat", &b);
    d = read_fail("timestamps go back", p, SBP_EVENTS_AEDAT3, 128, 128, SBP_E_FORMAT,
                  "timestamp 200 us is earlier than the previous event's 2147483748 us");
    expect_at(&d, h + 28 + 8 + 28, 2147483748u, 200);
    free(b.p);
}
END_TEST

/* ---- N-MNIST folders ----------------------------------------------------------- */

/* dir/<id>.bs2 for ids 1..n with n_ev[i] events each; labels.txt. */
static sbp_event *nmnist_dir(size_t n, const size_t *n_ev, const int *cls, int crlf)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += n_ev[i];
    sbp_event *all = calloc(total + 1, sizeof *all);
    bytes lab = {0};
    put_str(&lab, crlf ? "#sample #class\r\n" : "#sample #class\n");
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        sbp_event *e = make_events(n_ev[i], 34, 34, 3 + i, 300000);
        memcpy(all + at, e, n_ev[i] * sizeof *e);
        at += n_ev[i];
        bytes b = {0};
        bs2_of(&b, e, n_ev[i]);
        char name[32];
        snprintf(name, sizeof name, "%zu.bs2", i + 1);
        if (n_ev[i]) save(name, &b);
        else ck_assert_ptr_nonnull(sbp_test_write(dir, name, "", 0));
        free(b.p);
        free(e);
        char line[64];
        snprintf(line, sizeof line, "%zu\t%d%s", i + 1, cls[i], crlf ? "\r\n" : "\n");
        put_str(&lab, line);
    }
    save("labels.txt", &lab);
    free(lab.p);
    return all;
}

START_TEST(nmnist_dataset)
{
    const size_t n_ev[4] = {300, 1, 0, 2500};
    const int cls[4] = {5, 0, 9, 4};
    for (int crlf = 0; crlf < 2; crlf++) {
        sbp_event *all = nmnist_dir(4, n_ev, cls, crlf);
        sbp_event_frames o = opts(3, 2, crlf ? SBP_EVENT_BIN_COUNT : SBP_EVENT_BIN_TIME, 0, 0);
        sbp_diag d;
        sbp_dataset *ds = NULL;
        ck_assert_msg(sbp_dataset_load_nmnist(dir, NULL, &o, &d, &ds) == SBP_OK, "%s", d.message);
        const size_t feat = 3 * 2 * 17 * 17;
        ck_assert_uint_eq(sbp_dataset_count(ds), 4);
        ck_assert_uint_eq(sbp_dataset_features(ds), feat);
        ck_assert_uint_eq(sbp_dataset_classes(ds), 10);
        float *x = malloc(feat * sizeof *x), *want = malloc(feat * sizeof *want);
        size_t at = 0;
        for (size_t i = 0; i < 4; i++) {
            int32_t label;
            ck_assert_int_eq(sbp_dataset_sample(ds, i, x, NULL, &label), SBP_OK);
            ck_assert_int_eq(label, cls[i]);
            const sbp_event *e = all + at;
            if (n_ev[i]) {
                ck_assert_int_eq(sbp_events_to_frames(e, n_ev[i], 34, 34, e[0].t,
                                                      e[n_ev[i] - 1].t + 1, &o, &d, want, feat),
                                 SBP_OK);
            } else {
                memset(want, 0, feat * sizeof *want);
            }
            double sum = 0;
            for (size_t j = 0; j < feat; j++) {
                ck_assert_msg(x[j] == want[j], "sample %zu feature %zu: %g != %g", i, j, x[j],
                              want[j]);
                sum += x[j];
            }
            ck_assert_msg(sum == (double)n_ev[i], "sample %zu holds %g events", i, sum);
            at += n_ev[i];
        }
        free(x);
        free(want);
        sbp_dataset_free(ds);
        free(all);
    }
    /* an explicit label file elsewhere */
    bytes lab = {0};
    put_str(&lab, "4\t7\n1 3\n");
    const char *p = save("other.txt", &lab);
    sbp_diag d;
    sbp_dataset *ds = NULL;
    ck_assert_int_eq(sbp_dataset_load_nmnist(dir, p, NULL, &d, &ds), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(ds), 2);
    ck_assert_uint_eq(sbp_dataset_features(ds), 10 * 2 * 34 * 34);
    int32_t label;
    sbp_dataset_sample(ds, 0, NULL, NULL, &label);
    ck_assert_int_eq(label, 7);
    sbp_dataset_free(ds);
    free(lab.p);
}
END_TEST

static sbp_diag nmnist_fail(const char *name, const char *labels, sbp_status want,
                            const char *substring, const char *bad_file)
{
    sbp_diag d;
    memset(&d, 0x55, sizeof d);
    sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
    bytes lab = {0};
    put_str(&lab, labels);
    const char *p = save("labels.txt", &lab);
    free(lab.p);
    char path[300];
    snprintf(path, sizeof path, "%s", p);
    sbp_status st = sbp_dataset_load_nmnist(dir, NULL, NULL, &d, &ds);
    check_diag(name, st, &d, want, substring, bad_file ? bad_file : path);
    ck_assert_ptr_null(ds);
    return d;
}

START_TEST(nmnist_hostile)
{
    const size_t n_ev[2] = {10, 10};
    const int cls[2] = {1, 2};
    free(nmnist_dir(2, n_ev, cls, 0));
    sbp_diag d = nmnist_fail("bad row", "#sample #class\n1\t3\n2\tx\n", SBP_E_FORMAT,
                             "line 3: expected 'id<TAB>class'", NULL);
    ck_assert_uint_eq(d.line, 3);
    ck_assert_uint_eq(d.offset, 19);
    d = nmnist_fail("class out of range", "#sample #class\r\n1\t10\r\n", SBP_E_FORMAT,
                    "line 2: class 10 is out of range, expected 0..9", NULL);
    ck_assert_uint_eq(d.line, 2);
    ck_assert_uint_eq(d.found, 10);
    nmnist_fail("three fields", "1\t3\t4\n", SBP_E_FORMAT, "line 1: expected", NULL);
    nmnist_fail("id 0", "0\t3\n", SBP_E_FORMAT, "line 1: expected", NULL);
    nmnist_fail("huge id", "99999999999\t3\n", SBP_E_FORMAT, "line 1: expected", NULL);
    nmnist_fail("duplicate id", "1\t3\n2\t4\n1\t5\n", SBP_E_FORMAT,
                "id 1 is listed more than once", NULL);
    nmnist_fail("no samples", "#sample #class\n", SBP_E_FORMAT, "no samples", NULL);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/3.bs2", dir);
    nmnist_fail("missing recording", "1\t3\n3\t4\n", SBP_E_IO, "cannot open", missing);
    /* a bad recording is named with its offset */
    bytes b = {0};
    put_bs2(&b, 1, 1, 1, 5);
    put_bs2(&b, 1, 40, 1, 6);
    const char *bad = save("2.bs2", &b);
    char badp[300];
    snprintf(badp, sizeof badp, "%s", bad);
    d = nmnist_fail("bad recording", "1\t3\n2\t4\n", SBP_E_FORMAT, "y = 40 is outside", badp);
    ck_assert_uint_eq(d.offset, 5);
    free(b.p);
    /* not a directory, NULL arguments */
    sbp_dataset *ds = NULL;
    ck_assert_int_eq(sbp_dataset_load_nmnist(badp, NULL, NULL, &d, &ds), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "not a directory"));
    ck_assert_int_eq(sbp_dataset_load_nmnist(NULL, NULL, NULL, &d, &ds), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_nmnist(dir, NULL, NULL, &d, NULL), SBP_E_INVALID);
}
END_TEST

/* ---- DVS128 Gesture folders ----------------------------------------------------- */

static char gdir[300];

/* DvsGesture/ with two recordings: user01_led (train; 3 gestures) and
 * user02_natural (test; 1 gesture). Returns the first recording's events. */
static sbp_event *gesture_dir(size_t *n_out)
{
    snprintf(gdir, sizeof gdir, "%s/DvsGesture", dir);
    ck_assert_int_eq(mkdir(gdir, 0700), 0);
    const size_t n = 3000;
    sbp_event *e = make_events(n, 128, 128, 1000, 10000000);
    bytes b = {0};
    aedat_header(&b);
    polarity_packet(&b, e, 1000, 0);
    other_packet(&b, 0, 8, 2);
    polarity_packet(&b, e + 1000, 2000, 0);
    const char *p = sbp_test_write(gdir, "user01_led.aedat", b.p, b.n);
    ck_assert_ptr_nonnull(p);
    b.n = 0;
    aedat_header(&b);
    polarity_packet(&b, e, 500, 0);
    ck_assert_ptr_nonnull(sbp_test_write(gdir, "user02_natural.aedat", b.p, b.n));
    free(b.p);
    char csv[512];
    snprintf(csv, sizeof csv,
             "class,startTime_usec,endTime_usec\r\n1,%llu,%llu\r\n11,%llu,%llu\r\n"
             "5,%llu,%llu\r\n",
             (unsigned long long)e[0].t, (unsigned long long)e[900].t,
             (unsigned long long)e[800].t, (unsigned long long)e[2999].t + 1,
             (unsigned long long)e[1500].t, (unsigned long long)e[2999].t + 500000);
    ck_assert_ptr_nonnull(sbp_test_write(gdir, "user01_led_labels.csv", csv, strlen(csv)));
    snprintf(csv, sizeof csv, "class,startTime_usec,endTime_usec\n3,%llu,%llu\n\n",
             (unsigned long long)e[10].t, (unsigned long long)e[400].t);
    ck_assert_ptr_nonnull(sbp_test_write(gdir, "user02_natural_labels.csv", csv, strlen(csv)));
    ck_assert_ptr_nonnull(sbp_test_write(gdir, "trials_to_train.txt", "user01_led.aedat\r\n",
                                         18));
    ck_assert_ptr_nonnull(
        sbp_test_write(gdir, "trials_to_test.txt", "user02_natural.aedat\n\n", 22));
    *n_out = n;
    return e;
}

START_TEST(dvsgesture_dataset)
{
    size_t n;
    sbp_event *e = gesture_dir(&n);
    sbp_event_frames o = opts(4, 4, 0, 0, 0);
    const size_t feat = 4 * 2 * 32 * 32;
    sbp_diag d;
    sbp_dataset *ds = NULL;
    /* the parent folder works as well as DvsGesture/ itself */
    ck_assert_msg(sbp_dataset_load_dvsgesture(dir, SBP_DVSGESTURE_TRAIN, &o, &d, &ds) == SBP_OK,
                  "%s", d.message);
    ck_assert_uint_eq(sbp_dataset_count(ds), 3);
    ck_assert_uint_eq(sbp_dataset_features(ds), feat);
    ck_assert_uint_eq(sbp_dataset_classes(ds), 11);
    const int want_label[3] = {0, 10, 4};
    const uint64_t win[3][2] = {{e[0].t, e[900].t},
                                {e[800].t, e[2999].t + 1},
                                {e[1500].t, e[2999].t + 500000}};
    float *x = malloc(feat * sizeof *x), *want = malloc(feat * sizeof *want);
    for (size_t i = 0; i < 3; i++) {
        int32_t label;
        ck_assert_int_eq(sbp_dataset_sample(ds, i, x, NULL, &label), SBP_OK);
        ck_assert_int_eq(label, want_label[i]);
        ck_assert_int_eq(sbp_events_to_frames(e, n, 128, 128, win[i][0], win[i][1], &o, &d, want,
                                              feat),
                         SBP_OK);
        for (size_t j = 0; j < feat; j++)
            ck_assert_msg(x[j] == want[j], "sample %zu feature %zu", i, j);
    }
    sbp_dataset_free(ds);
    ck_assert_int_eq(sbp_dataset_load_dvsgesture(gdir, SBP_DVSGESTURE_TEST, &o, &d, &ds), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(ds), 1);
    int32_t label;
    ck_assert_int_eq(sbp_dataset_sample(ds, 0, x, NULL, &label), SBP_OK);
    ck_assert_int_eq(label, 2);
    double sum = 0;
    for (size_t j = 0; j < feat; j++) sum += x[j];
    size_t inside = 0;
    for (size_t i = 0; i < 500; i++) inside += e[i].t >= e[10].t && e[i].t < e[400].t;
    ck_assert_uint_ge(inside, 300);
    ck_assert(sum == (double)inside);
    sbp_dataset_free(ds);
    free(x);
    free(want);
    free(e);
}
END_TEST

static void write_text(const char *name, const char *s)
{
    ck_assert_ptr_nonnull(sbp_test_write(gdir, name, s, strlen(s)));
}

static void gesture_fail(const char *name, sbp_status want, const char *substring,
                         const char *bad_name, uint64_t line)
{
    sbp_diag d;
    memset(&d, 0x55, sizeof d);
    sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
    sbp_status st = sbp_dataset_load_dvsgesture(gdir, SBP_DVSGESTURE_TRAIN, NULL, &d, &ds);
    char bad[400];
    snprintf(bad, sizeof bad, "%s%s%s", gdir, bad_name ? "/" : "", bad_name ? bad_name : "");
    check_diag(name, st, &d, want, substring, bad);
    ck_assert_ptr_null(ds);
    ck_assert_uint_eq(d.line, line);
}

START_TEST(dvsgesture_hostile)
{
    size_t n;
    free(gesture_dir(&n));
    const char *csv = "user01_led_labels.csv";
    write_text(csv, "class,start,end\n1,10,20\n");
    gesture_fail("CSV header", SBP_E_FORMAT,
                 "line 1: expected the header 'class,startTime_usec,endTime_usec'", csv, 1);
    write_text(csv, "class,startTime_usec,endTime_usec\n1,10\n");
    gesture_fail("CSV short row", SBP_E_FORMAT, "line 2: expected 'class,startTime_usec", csv, 2);
    write_text(csv, "class,startTime_usec,endTime_usec\n1,10,20,30\n");
    gesture_fail("CSV long row", SBP_E_FORMAT, "line 2: expected", csv, 2);
    write_text(csv, "class,startTime_usec,endTime_usec\n1,-10,20\n");
    gesture_fail("CSV negative", SBP_E_FORMAT, "line 2: expected", csv, 2);
    write_text(csv, "class,startTime_usec,endTime_usec\n12,10,20\n");
    gesture_fail("CSV class 12", SBP_E_FORMAT, "line 2: class 12 is out of range, expected 1..11",
                 csv, 2);
    write_text(csv, "class,startTime_usec,endTime_usec\n0,10,20\n");
    gesture_fail("CSV class 0", SBP_E_FORMAT, "class 0 is out of range", csv, 2);
    write_text(csv, "class,startTime_usec,endTime_usec\n1,20,20\n");
    gesture_fail("CSV empty interval", SBP_E_FORMAT, "line 2: interval [20, 20) is empty", csv,
                 2);
    write_text(csv, "class,startTime_usec,endTime_usec\n1,2000,3000\n2,1500,2500\n");
    gesture_fail("CSV out of order", SBP_E_FORMAT,
                 "line 3: interval starts at 1500 us, before the previous row's 2000 us", csv, 3);
    write_text(csv, "class,startTime_usec,endTime_usec\n1,2000,3000\n2,99000000000,99000000001\n");
    gesture_fail("CSV outside the recording", SBP_E_FORMAT,
                 "line 3: interval [99000000000, 99000000001) lies outside the recording "
                 "user01_led.aedat",
                 csv, 3);
    write_text(csv, "class,startTime_usec,endTime_usec\n1,10,900\n");
    gesture_fail("CSV before the recording", SBP_E_FORMAT, "lies outside the recording", csv, 2);
    write_text(csv, "");
    gesture_fail("CSV empty", SBP_E_FORMAT, "empty; expected the header", csv, 0);
    write_text(csv, "class,startTime_usec,endTime_usec\n");
    gesture_fail("no gestures", SBP_E_FORMAT, "list no gestures", NULL, 0);

    write_text(csv, "class,startTime_usec,endTime_usec\n1,2000,3000\n");
    write_text("trials_to_train.txt", "../secret.aedat\n");
    gesture_fail("bad trial name", SBP_E_FORMAT,
                 "line 1: expected a recording name such as 'user01_fluorescent.aedat', got "
                 "'../secret.aedat'",
                 "trials_to_train.txt", 1);
    write_text("trials_to_train.txt", "user01_led.txt\n");
    gesture_fail("not .aedat", SBP_E_FORMAT, "expected a recording name", "trials_to_train.txt",
                 1);
    write_text("trials_to_train.txt", "\n\n");
    gesture_fail("empty list", SBP_E_FORMAT, "lists no recordings", "trials_to_train.txt", 0);
    write_text("trials_to_train.txt", "user09_led.aedat\n");
    gesture_fail("missing labels", SBP_E_IO, "cannot open", "user09_led_labels.csv", 0);
    write_text("user09_led_labels.csv", "class,startTime_usec,endTime_usec\n1,2000,3000\n");
    gesture_fail("missing recording", SBP_E_IO, "cannot open", "user09_led.aedat", 0);
    bytes b = {0};
    aedat_header(&b);
    packet_header(&b, 1, 8, 4, 0, 3, 3, 3);
    polarity_event(&b, 1, 1, 1, 1, 2500);
    ck_assert_ptr_nonnull(sbp_test_write(gdir, "user09_led.aedat", b.p, b.n));
    gesture_fail("bad recording", SBP_E_TRUNCATED, "eventNumber 3 x eventSize 8",
                 "user09_led.aedat", 0);
    free(b.p);

    char t[400];
    snprintf(t, sizeof t, "%s/trials_to_train.txt", gdir);
    ck_assert_int_eq(remove(t), 0);
    sbp_diag d;
    sbp_dataset *ds = NULL;
    ck_assert_int_eq(sbp_dataset_load_dvsgesture(dir, SBP_DVSGESTURE_TRAIN, NULL, &d, &ds),
                     SBP_E_IO);
    check_diag("no trials file", SBP_E_IO, &d, SBP_E_IO,
               "no trials_to_train.txt in it or in its DvsGesture/ folder", dir);
    ck_assert_int_eq(sbp_dataset_load_dvsgesture(dir, (sbp_dvsgesture_part)3, NULL, &d, &ds),
                     SBP_E_INVALID);
}
END_TEST

/* ---- mutated files ------------------------------------------------------------- */

START_TEST(mutated_files)
{
    /* valid files with random bytes changed, cut or extended: every read
     * returns SBP_OK or an error with a one-line message naming the file,
     * never a crash or a leak (ASan / valgrind) */
    bytes a = {0};
    aedat_header(&a);
    sbp_event *e = make_events(300, 128, 128, 0, 100000);
    polarity_packet(&a, e, 100, 0);
    other_packet(&a, 0, 8, 2);
    polarity_packet(&a, e + 100, 200, 0);
    bytes b = {0};
    bs2_of(&b, e, 300);
    for (size_t i = 0; i < 300; i++) e[i].x = (uint16_t)(e[i].x % 34), e[i].y = (uint16_t)(e[i].y % 34);
    b.n = 0;
    bs2_of(&b, e, 300);
    const size_t hl = header_len();
    uint32_t r = 12345;
    unsigned ok_count = 0, err_count = 0;
    for (int iter = 0; iter < 600; iter++) {
        const int is_aedat = iter % 2 == 0;
        const bytes *base = is_aedat ? &a : &b;
        unsigned char *m = malloc(base->n + 64);
        memcpy(m, base->p, base->n);
        size_t n = base->n;
        int kind = (int)((r = r * 1664525u + 1013904223u) >> 29);
        int flips = 1 + (int)((r >> 8) % 4);
        for (int k = 0; k < flips; k++) {
            r = r * 1664525u + 1013904223u;
            /* AEDAT: mostly in the packet headers, where the checks are */
            size_t at = is_aedat && (r & 1) ? hl + (r >> 4) % 28 : (r >> 4) % n;
            m[at] = (unsigned char)(r >> 20);
        }
        if (kind == 0) n = (size_t)(r >> 3) % n;         /* cut */
        if (kind == 1) {                                    /* extended */
            for (int k = 0; k < 13; k++) m[n++] = (unsigned char)(r >> (k % 24));
        }
        bytes mb = {m, n, n};
        const char *p = is_aedat ? save("m.aedat", &mb) : save("m.bs2", &mb);
        sbp_diag d;
        sbp_event *ev = NULL;
        size_t cnt = 0;
        sbp_status st = sbp_events_read(p, is_aedat ? SBP_EVENTS_AEDAT3 : SBP_EVENTS_BS2,
                                        is_aedat ? 128 : 34, is_aedat ? 128 : 34, &d, &ev, &cnt);
        if (st == SBP_OK) {
            ok_count++;
            ck_assert_uint_le(cnt, 400);
            for (size_t i = 1; i < cnt; i++) ck_assert_uint_ge(ev[i].t, ev[i - 1].t);
        } else {
            err_count++;
            ck_assert_msg(st == SBP_E_FORMAT || st == SBP_E_TRUNCATED || st == SBP_E_TOO_LARGE ||
                              st == SBP_E_UNSUPPORTED,
                          "iteration %d: %s (%s)", iter, sbp_status_name(st), d.message);
            ck_assert_ptr_null(ev);
            ck_assert_ptr_nonnull(strstr(d.message, is_aedat ? "m.aedat" : "m.bs2"));
            ck_assert_ptr_null(strchr(d.message, '\n'));
            ck_assert_str_eq(d.file, p);
        }
        sbp_events_free(ev);
        free(m);
    }
    ck_assert_uint_gt(ok_count, 0);
    ck_assert_uint_gt(err_count, 100);
    free(a.p);
    free(b.p);
    free(e);
}
END_TEST

/* ---- out of memory ------------------------------------------------------------- */

START_TEST(out_of_memory)
{
    /* every allocation of each call fails in turn: SBP_E_NOMEM each time,
     * nothing leaks (ASan / valgrind), and then the call succeeds */
    const size_t n_ev[3] = {40, 7000, 3};
    const int cls[3] = {1, 2, 3};
    free(nmnist_dir(3, n_ev, cls, 0));
    size_t n;
    free(gesture_dir(&n));
    char bs2[300];
    snprintf(bs2, sizeof bs2, "%s/2.bs2", dir);
    char aedat[400];
    snprintf(aedat, sizeof aedat, "%s/user01_led.aedat", gdir);
    for (int which = 0; which < 4; which++) {
        int done = 0;
        for (long k = 0; k < 200 && !done; k++) {
            sbp_diag d;
            sbp_dataset *ds = NULL;
            sbp_event *ev = NULL;
            size_t cnt = 0;
            sbp__alloc_fail_after(k);
            sbp_status st;
            switch (which) {
            case 0: st = sbp_events_read(bs2, SBP_EVENTS_BS2, 34, 34, &d, &ev, &cnt); break;
            case 1: st = sbp_events_read(aedat, SBP_EVENTS_AEDAT3, 128, 128, &d, &ev, &cnt); break;
            case 2: st = sbp_dataset_load_nmnist(dir, NULL, NULL, &d, &ds); break;
            default: st = sbp_dataset_load_dvsgesture(dir, SBP_DVSGESTURE_TRAIN, NULL, &d, &ds);
            }
            sbp__alloc_fail_after(-1);
            if (st == SBP_OK) {
                done = 1;
                ck_assert_uint_gt(k, 0);
            } else {
                ck_assert_msg(st == SBP_E_NOMEM, "case %d, allocation %ld: %s (%s)", which, k,
                              sbp_status_name(st), d.message);
                ck_assert_int_eq(d.status, SBP_E_NOMEM);
                ck_assert_ptr_null(ds);
                ck_assert_ptr_null(ev);
            }
            sbp_events_free(ev);
            sbp_dataset_free(ds);
        }
        ck_assert_msg(done, "case %d never succeeded", which);
    }
}
END_TEST

/* ---- real recordings ------------------------------------------------------------- */

START_TEST(real_nmnist)
{
    const char *shared = sbp_test_shared_data();
    if (!shared) return;
    char tdir[512], path[600];
    snprintf(tdir, sizeof tdir, "%s/nmnist/train", shared);
    struct stat sb;
    if (stat(tdir, &sb) != 0) {
        printf("skipped: %s not found\n", tdir);
        return;
    }
    /* every event of the 1000 recordings (README: 4,133,231 events, 2,059,426
     * ON, 1,112..7,152 per file, t <= 315,109 us, x and y in 0..33) */
    size_t total = 0, on = 0, lo = SIZE_MAX, hi = 0;
    uint64_t tmax = 0;
    for (int id = 1; id <= 1000; id++) {
        snprintf(path, sizeof path, "%s/%d.bs2", tdir, id);
        sbp_event *ev = NULL;
        size_t n = 0;
        read_ok(path, SBP_EVENTS_BS2, 34, 34, &ev, &n);
        total += n;
        for (size_t i = 0; i < n; i++) on += ev[i].polarity;
        if (n < lo) lo = n;
        if (n > hi) hi = n;
        if (n && ev[n - 1].t > tmax) tmax = ev[n - 1].t;
        sbp_events_free(ev);
    }
    ck_assert_uint_eq(total, 4133231);
    ck_assert_uint_eq(on, 2059426);
    ck_assert_uint_eq(lo, 1112);
    ck_assert_uint_eq(hi, 7152);
    ck_assert_uint_eq(tmax, 315109);
    /* the dataset: 1000 samples, README's class counts; with one merged
     * frame of counts every event is in the features */
    sbp_event_frames o = opts(1, 0, 0, SBP_EVENT_POLARITY_MERGE, 0);
    sbp_diag d;
    sbp_dataset *ds = NULL;
    ck_assert_msg(sbp_dataset_load_nmnist(tdir, NULL, &o, &d, &ds) == SBP_OK, "%s", d.message);
    ck_assert_uint_eq(sbp_dataset_count(ds), 1000);
    ck_assert_uint_eq(sbp_dataset_features(ds), 34 * 34);
    const size_t want[10] = {97, 116, 99, 93, 105, 92, 94, 117, 87, 100};
    size_t hist[10] = {0};
    double sum = 0;
    float x[34 * 34];
    for (size_t i = 0; i < 1000; i++) {
        int32_t label;
        ck_assert_int_eq(sbp_dataset_sample(ds, i, x, NULL, &label), SBP_OK);
        hist[label]++;
        for (size_t j = 0; j < 34 * 34; j++) sum += x[j];
    }
    for (int c = 0; c < 10; c++) ck_assert_uint_eq(hist[c], want[c]);
    ck_assert(sum == 4133231.0);
    /* the first six are MNIST training images 0..5: 5 0 4 1 9 2 */
    const int32_t first[6] = {5, 0, 4, 1, 9, 2};
    for (size_t i = 0; i < 6; i++) {
        int32_t label;
        sbp_dataset_sample(ds, i, NULL, NULL, &label);
        ck_assert_int_eq(label, first[i]);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(real_dvs128)
{
    const char *shared = sbp_test_shared_data();
    if (!shared) return;
    static const struct {
        size_t n, on;
        uint64_t t0, t1;
    } want[4] = {{63471, 32164, 28, 1449996},
                 {84260, 43472, 45, 1449969},
                 {113063, 55396, 2, 1449994},
                 {151879, 77731, 3, 1449993}};
    for (int f = 0; f < 4; f++) {
        char path[600];
        snprintf(path, sizeof path, "%s/dvs128_gesture/slayer_%d.bs2", shared, f + 1);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            printf("skipped: %s not found\n", path);
            continue;
        }
        sbp_event *ev = NULL;
        size_t n = 0;
        read_ok(path, SBP_EVENTS_BS2, 128, 128, &ev, &n);
        size_t on = 0;
        for (size_t i = 0; i < n; i++) on += ev[i].polarity;
        ck_assert_uint_eq(n, want[f].n);
        ck_assert_uint_eq(on, want[f].on);
        ck_assert_uint_eq(ev[0].t, want[f].t0);
        ck_assert_uint_eq(ev[n - 1].t, want[f].t1);
        /* the recording as 8 frames of 32x32, as for DvsGesture */
        sbp_event_frames o = opts(8, 4, 0, 0, 0);
        float *x = malloc(8 * 2 * 32 * 32 * sizeof *x);
        sbp_diag d;
        ck_assert_int_eq(sbp_events_to_frames(ev, n, 128, 128, 0, 1450000, &o, &d, x,
                                              8 * 2 * 32 * 32),
                         SBP_OK);
        double sum = 0, sum_on = 0;
        for (size_t j = 0; j < 8 * 2 * 32 * 32; j++) {
            sum += x[j];
            if ((j / (32 * 32)) % 2 == 0) sum_on += x[j];
        }
        ck_assert(sum == (double)n);
        ck_assert(sum_on == (double)on);
        free(x);
        sbp_events_free(ev);
    }
}
END_TEST

static Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *rt = tcase_create("roundtrip");
    tcase_add_checked_fixture(rt, setup, teardown);
    tcase_add_test(rt, bs2_roundtrip);
    tcase_add_test(rt, aedat_roundtrip);
    tcase_add_test(rt, frames_equal_time);
    tcase_add_test(rt, frames_equal_count);
    tcase_add_test(rt, frames_options);
    tcase_add_test(rt, nmnist_dataset);
    tcase_add_test(rt, dvsgesture_dataset);
    suite_add_tcase(s, rt);

    TCase *bad = tcase_create("hostile");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, bs2_hostile);
    tcase_add_test(bad, aedat_hostile_header);
    tcase_add_test(bad, aedat_hostile_packets);
    tcase_add_test(bad, aedat_hostile_events);
    tcase_add_test(bad, nmnist_hostile);
    tcase_add_test(bad, dvsgesture_hostile);
    tcase_add_test(bad, mutated_files);
    tcase_add_test(bad, out_of_memory);
    suite_add_tcase(s, bad);

    TCase *real = tcase_create("real");
    tcase_set_timeout(real, 300);
    tcase_add_test(real, real_nmnist);
    tcase_add_test(real, real_dvs128);
    suite_add_tcase(s, real);
    return s;
}

int main(void)
{
    return sbp_test_run(events_suite());
}
