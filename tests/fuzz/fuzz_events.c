/* Fuzz target: event-camera recordings (sbp_events_read: N-MNIST "bs2"
 * and AEDAT 3.1, raw or gzip) and their binning into frames
 * (sbp_event_frames_features, sbp_events_to_frames).
 *
 * Input layout:
 *   byte 0   bit 0: format (0 bs2, 1 AEDAT 3.1); bit 1: gzip the file here
 *            (a file given as is that starts with 1f 8b is read as gzip
 *            too); bits 2-4: the sensor size (34x34, 128x128, 1x1,
 *            32768x32768, 0x0 (refused), 7x300, 32769x1 (refused), 256x256)
 *   byte 1   frame options: bits 0-1 frames (0 default 10, 1, 3, 65537
 *            refused), bits 2-3 downsample (0 default, 2, 5, 40000 refused),
 *            bits 4-5 binning (0, time, count, 7 refused), bit 6 polarity
 *            merged, bit 7 binary values
 *   then     the recording.
 *
 * Checked promises: a pinned status; *events and *count set exactly on
 * success (NULL when no event); the diagnostic agrees and is terminated;
 * events lie on the sensor with polarity 0/1 in non-decreasing time; the
 * frames of a recording hold every event once (count values) or only 0/1
 * (binary values). */
#include <math.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz.h"
#include "sbp/sbp.h"

static char dir[256], path[300];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

static void write_file(const uint8_t *p, size_t n, int gzip)
{
    if (!dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/sbp-fuzz-events-XXXXXX", base && *base ? base : "/tmp");
        FUZZ_CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/recording", dir);
        atexit(cleanup);
    }
    if (gzip) {
        gzFile g = gzopen(path, "wb1");
        FUZZ_CHECK(g != NULL);
        FUZZ_CHECK(n == 0 || gzwrite(g, p, (unsigned)n) == (int)n);
        FUZZ_CHECK(gzclose(g) == Z_OK);
        return;
    }
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    FUZZ_CHECK(fclose(f) == 0);
}

static void check_frames(const sbp_event *ev, size_t count, unsigned w, unsigned h, unsigned o)
{
    static const size_t frames[] = {0, 1, 3, 65537};
    static const unsigned down[] = {0, 2, 5, 40000};
    static const int binning[] = {0, SBP_EVENT_BIN_TIME, SBP_EVENT_BIN_COUNT, 7};
    sbp_event_frames opt = SBP_EVENT_FRAMES_INIT;
    opt.frames = frames[o & 3];
    opt.downsample = down[(o >> 2) & 3];
    opt.binning = binning[(o >> 4) & 3];
    opt.polarity = o & 64 ? SBP_EVENT_POLARITY_MERGE : 0;
    opt.value = o & 128 ? SBP_EVENT_VALUE_BINARY : 0;
    int valid = (o & 3) != 3 && ((o >> 2) & 3) != 3 && ((o >> 4) & 3) != 3;
    sbp_diag diag;
    size_t features = 0;
    sbp_status st = sbp_event_frames_features(&opt, w, h, &diag, &features);
    FUZZ_CHECK(fuzz_known_status(st) && diag.status == st);
    FUZZ_CHECK(fuzz_terminated(diag.message, sizeof diag.message));
    if (!valid) FUZZ_CHECK(st != SBP_OK);
    if (st != SBP_OK || features == 0 || features > ((size_t)1 << 20) || count == 0) return;
    float *out = malloc(features * sizeof *out);
    FUZZ_CHECK(out != NULL);
    uint64_t t0 = ev[0].t, t1 = ev[count - 1].t + 1;
    st = sbp_events_to_frames(ev, count, w, h, t0, t1, &opt, &diag, out, features);
    FUZZ_CHECK(fuzz_known_status(st) && diag.status == st);
    if (st == SBP_OK) {
        double sum = 0;
        for (size_t i = 0; i < features; i++) {
            FUZZ_CHECK(isfinite(out[i]) && out[i] >= 0.0f);
            if (o & 128) FUZZ_CHECK(out[i] == 0.0f || out[i] == 1.0f);
            sum += out[i];
        }
        if (!(o & 128)) FUZZ_CHECK(sum == (double)count);
    } else {
        /* only a window too long to bin may be refused here */
        FUZZ_CHECK(t1 - t0 > ((uint64_t)1 << 40));
    }
    /* a buffer of the wrong size is refused */
    FUZZ_CHECK(sbp_events_to_frames(ev, count, w, h, t0, t1, &opt, NULL, out, features - 1) !=
               SBP_OK);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned sensor[8][2] = {{34, 34},       {128, 128}, {1, 1},     {32768, 32768},
                                          {0, 0},         {7, 300},   {32769, 1}, {256, 256}};
    fuzz_in in = {data, size};
    unsigned flags = fuzz_u8(&in), o = fuzz_u8(&in);
    sbp_event_format fmt = flags & 1 ? SBP_EVENTS_AEDAT3 : SBP_EVENTS_BS2;
    unsigned w = sensor[(flags >> 2) & 7][0], h = sensor[(flags >> 2) & 7][1];
    const uint8_t *file;
    size_t n = fuzz_take(&in, in.n, &file);
    write_file(file, n, (flags >> 1) & 1);

    sbp_diag diag;
    memset(&diag, 0x5a, sizeof diag);
    sbp_event *ev = (sbp_event *)(uintptr_t)1;
    size_t count = 12345;
    sbp_status st = sbp_events_read(path, fmt, w, h, &diag, &ev, &count);
    fuzz_report("events_read", st, diag.message);
    FUZZ_CHECK(fuzz_known_status(st));
    FUZZ_CHECK(diag.status == st);
    FUZZ_CHECK(fuzz_terminated(diag.message, sizeof diag.message));
    FUZZ_CHECK(fuzz_terminated(diag.file, sizeof diag.file));
    if (st != SBP_OK) {
        FUZZ_CHECK(ev == NULL && count == 0);
        FUZZ_CHECK(diag.message[0] != '\0');
        FUZZ_CHECK(st != SBP_E_INTERNAL);
        if (w >= 1 && w <= 32768 && h >= 1 && h <= 32768) FUZZ_CHECK(st != SBP_E_INVALID);
        return 0;
    }
    FUZZ_CHECK(w >= 1 && w <= 32768 && h >= 1 && h <= 32768);
    FUZZ_CHECK((count == 0) == (ev == NULL));
    for (size_t i = 0; i < count; i++) {
        FUZZ_CHECK(ev[i].x < w && ev[i].y < h && ev[i].polarity <= 1);
        if (i) FUZZ_CHECK(ev[i].t >= ev[i - 1].t);
    }
    check_frames(ev, count, w, h, o);
    sbp_events_free(ev);
    return 0;
}
