/* sbp bench events: how fast event recordings are read and binned into
 * frames, measured, never asserted (docs/events.md).
 *
 * AEDAT 3.1: a synthetic DVS128 recording written to $TMPDIR (default
 * /tmp) and removed afterwards: polarity packets of 4096 events, a special
 * packet to skip after every 64 of them, timestamps that cross 2^31 us so
 * that eventTSOverflow is used. N-MNIST: the 1000 real recordings (read
 * one by one, then loaded as a dataset). DVS128: the four real bs2
 * recordings. Every figure is the best of 3 runs, with the files in the
 * page cache after the first. Only the public API is used. */
#include "bench_events.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "sbp/sbp.h"

#define REPEATS 3
#define PACKET 4096
#define SPECIAL_EVERY 64

/* Process CPU seconds: the machine may be shared, so the figures are
 * given for CPU time as well as wall time. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Best wall and best CPU time of the runs of one section. */
typedef struct timing {
    double wall, cpu;
    double w0, c0;
} timing;

static void t_init(timing *t)
{
    t->wall = t->cpu = INFINITY;
}

static void t_start(timing *t)
{
    t->w0 = sbp_tool_bench_now();
    t->c0 = cpu_now();
}

static void t_stop(timing *t)
{
    double w = sbp_tool_bench_now() - t->w0, c = cpu_now() - t->c0;
    if (w < t->wall) t->wall = w;
    if (c < t->cpu) t->cpu = c;
}

typedef struct figure {
    int done;
    size_t events, files;
    double bytes;
    timing read;         /* read only */
    timing bin_time;     /* sbp_events_to_frames, equal time */
    timing bin_count;    /* the same, equal count */
    timing dataset;      /* N-MNIST: sbp_dataset_load_nmnist (read + bin) */
    size_t features;
} figure;

static void put_le(unsigned char *p, uint32_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes the synthetic recording; returns 0 or -1 (message on err). */
static int write_aedat(const char *path, size_t n, FILE *err, double *bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(err, "sbp: bench events: cannot write %s\n", path);
        return -1;
    }
    static const char head[] = "#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
                               "#Start-Time: synthetic (sbp bench events)\r\n#!END-HEADER\r\n";
    int ok = fwrite(head, 1, sizeof head - 1, f) == sizeof head - 1;
    unsigned char *buf = malloc(28 + (size_t)PACKET * 8);
    ok = ok && buf;
    /* about 2 events per microsecond: the timestamps cross 2^31 half way */
    uint64_t t = ((uint64_t)1 << 31) - (uint64_t)n / 4;
    uint32_t rng = 12345u;
    size_t done = 0, packets = 0;
    while (ok && done < n) {
        /* a packet never straddles an overflow: it ends there */
        const uint32_t overflow = (uint32_t)(t >> 31);
        size_t k = 0;
        while (k < PACKET && done + k < n && (uint32_t)(t >> 31) == overflow) {
            rng = rng * 1664525u + 1013904223u;
            uint32_t x = (rng >> 8) & 127u, y = (rng >> 16) & 127u, p = (rng >> 24) & 1u;
            put_le(buf + 28 + 8 * k, x << 17 | y << 2 | p << 1 | 1u, 4);
            put_le(buf + 28 + 8 * k + 4, (uint32_t)(t & 0x7FFFFFFFu), 4);
            t += (rng >> 28) & 1u;
            k++;
        }
        put_le(buf, 1, 2);
        put_le(buf + 2, 1, 2);
        put_le(buf + 4, 8, 4);
        put_le(buf + 8, 4, 4);
        put_le(buf + 12, overflow, 4);
        put_le(buf + 16, (uint32_t)k, 4);
        put_le(buf + 20, (uint32_t)k, 4);
        put_le(buf + 24, (uint32_t)k, 4);
        ok = fwrite(buf, 1, 28 + 8 * k, f) == 28 + 8 * k;
        *bytes += (double)(28 + 8 * k);
        done += k;
        if (++packets % SPECIAL_EVERY == 0 && ok) {
            unsigned char sp[28 + 8 * 2] = {0};
            put_le(sp + 4, 8, 4);
            put_le(sp + 8, 4, 4);
            put_le(sp + 16, 2, 4);
            put_le(sp + 20, 2, 4);
            put_le(sp + 24, 2, 4);
            ok = fwrite(sp, 1, sizeof sp, f) == sizeof sp;
            *bytes += (double)sizeof sp;
        }
    }
    free(buf);
    *bytes += (double)(sizeof head - 1);
    if (fclose(f) != 0) ok = 0;
    if (!ok) fprintf(err, "sbp: bench events: writing %s failed\n", path);
    return ok ? 0 : -1;
}

static int fail_diag(FILE *err, const char *what, sbp_status st, const sbp_diag *d)
{
    fprintf(err, "sbp: bench events: %s: %s (%s)\n", what, d->message, sbp_status_name(st));
    return 1;
}

/* Times binning all events (equal time, then equal count). */
static int time_binning(const sbp_event *ev, size_t n, unsigned w, unsigned h, unsigned s,
                        figure *fg, FILE *err)
{
    if (n == 0) return 0;
    sbp_event_frames o = SBP_EVENT_FRAMES_INIT;
    o.frames = 10;
    o.downsample = s;
    sbp_diag d;
    size_t feat = 0;
    sbp_status st = sbp_event_frames_features(&o, w, h, &d, &feat);
    if (st != SBP_OK) return fail_diag(err, "frames", st, &d);
    float *x = malloc(feat * sizeof *x);
    if (!x) return fail_diag(err, "out of memory", SBP_E_NOMEM, &d);
    fg->features = feat;
    for (int mode = 0; mode < 2; mode++) {
        o.binning = mode ? SBP_EVENT_BIN_COUNT : SBP_EVENT_BIN_TIME;
        timing *tm = mode ? &fg->bin_count : &fg->bin_time;
        t_init(tm);
        for (int r = 0; r < REPEATS; r++) {
            t_start(tm);
            st = sbp_events_to_frames(ev, n, w, h, ev[0].t, ev[n - 1].t + 1, &o, &d, x, feat);
            t_stop(tm);
            if (st != SBP_OK) {
                free(x);
                return fail_diag(err, "binning", st, &d);
            }
        }
    }
    free(x);
    return 0;
}

static int bench_aedat(size_t n, figure *fg, FILE *err)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/sbp-bench-events-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(err, "sbp: bench events: cannot create a file in %s\n", tmp && *tmp ? tmp : "/tmp");
        return 1;
    }
    close(fd);
    fg->bytes = 0;
    int rc = write_aedat(path, n, err, &fg->bytes);
    sbp_event *ev = NULL;
    size_t got = 0;
    t_init(&fg->read);
    for (int r = 0; r < REPEATS && !rc; r++) {
        sbp_events_free(ev);
        ev = NULL;
        sbp_diag d;
        t_start(&fg->read);
        sbp_status st = sbp_events_read(path, SBP_EVENTS_AEDAT3, 128, 128, &d, &ev, &got);
        t_stop(&fg->read);
        if (st != SBP_OK) rc = fail_diag(err, "reading the synthetic AEDAT file", st, &d);
    }
    remove(path);
    if (!rc && got != n) {
        fprintf(err, "sbp: bench events: read %zu events of the %zu written\n", got, n);
        rc = 1;
    }
    if (!rc) {
        fg->events = got;
        fg->files = 1;
        rc = time_binning(ev, got, 128, 128, 4, fg, err);
        fg->done = !rc;
    }
    sbp_events_free(ev);
    return rc;
}

/* Concatenation of the events of several files, for the binning figure
 * (each file binned on its own would be dominated by clearing frames). */
static int bench_bs2_files(const char *const *paths, size_t n_files, unsigned size, unsigned s,
                           figure *fg, FILE *err)
{
    size_t total = 0, most = 0;
    double bytes = 0;
    t_init(&fg->read);
    for (int r = 0; r < REPEATS; r++) {
        total = 0;
        bytes = 0;
        t_start(&fg->read);
        for (size_t i = 0; i < n_files; i++) {
            sbp_event *ev = NULL;
            size_t n = 0;
            sbp_diag d;
            sbp_status st = sbp_events_read(paths[i], SBP_EVENTS_BS2, size, size, &d, &ev, &n);
            if (st != SBP_OK) return fail_diag(err, "reading", st, &d);
            total += n;
            bytes += 5.0 * (double)n;
            if (n > most) most = n;
            sbp_events_free(ev);
        }
        t_stop(&fg->read);
    }
    fg->events = total;
    fg->files = n_files;
    fg->bytes = bytes;
    /* binning: every file's events binned on their own, as a loader does */
    sbp_event_frames o = SBP_EVENT_FRAMES_INIT;
    o.frames = 10;
    o.downsample = s;
    sbp_diag d;
    size_t feat = 0;
    sbp_status st = sbp_event_frames_features(&o, size, size, &d, &feat);
    if (st != SBP_OK) return fail_diag(err, "frames", st, &d);
    fg->features = feat;
    float *x = malloc(feat * sizeof *x);
    sbp_event **all = calloc(n_files, sizeof *all);
    size_t *cnt = calloc(n_files, sizeof *cnt);
    int rc = x && all && cnt ? 0 : fail_diag(err, "out of memory", SBP_E_NOMEM, &d);
    for (size_t i = 0; i < n_files && !rc; i++) {
        st = sbp_events_read(paths[i], SBP_EVENTS_BS2, size, size, &d, &all[i], &cnt[i]);
        if (st != SBP_OK) rc = fail_diag(err, "reading", st, &d);
    }
    for (int mode = 0; mode < 2 && !rc; mode++) {
        o.binning = mode ? SBP_EVENT_BIN_COUNT : SBP_EVENT_BIN_TIME;
        timing *tm = mode ? &fg->bin_count : &fg->bin_time;
        t_init(tm);
        for (int r = 0; r < REPEATS && !rc; r++) {
            t_start(tm);
            for (size_t i = 0; i < n_files && !rc; i++) {
                if (cnt[i] == 0) continue;
                st = sbp_events_to_frames(all[i], cnt[i], size, size, all[i][0].t,
                                          all[i][cnt[i] - 1].t + 1, &o, &d, x, feat);
                if (st != SBP_OK) rc = fail_diag(err, "binning", st, &d);
            }
            t_stop(tm);
        }
    }
    for (size_t i = 0; all && i < n_files; i++) sbp_events_free(all[i]);
    free(all);
    free(cnt);
    free(x);
    fg->done = !rc;
    return rc;
}

static int bench_nmnist(const char *dir, figure *fg, FILE *err)
{
    size_t n_files = 0;
    char **paths = calloc(100000, sizeof *paths);
    if (!paths) return 1;
    /* the ids of labels.txt, as the loader reads them */
    char lp[4096];
    snprintf(lp, sizeof lp, "%s/labels.txt", dir);
    FILE *f = fopen(lp, "r");
    if (!f) {
        fprintf(err, "sbp: bench events: cannot open %s\n", lp);
        free(paths);
        return 1;
    }
    char line[256];
    int rc = 0;
    while (fgets(line, sizeof line, f) && n_files < 100000) {
        unsigned long id;
        if (line[0] == '#' || sscanf(line, "%lu", &id) != 1) continue;
        size_t len = strlen(dir) + 32;
        paths[n_files] = malloc(len);
        if (!paths[n_files]) {
            rc = 1;
            break;
        }
        snprintf(paths[n_files++], len, "%s/%lu.bs2", dir, id);
    }
    fclose(f);
    if (!rc) rc = bench_bs2_files((const char *const *)paths, n_files, 34, 1, fg, err);
    for (size_t i = 0; i < n_files; i++) free(paths[i]);
    free(paths);
    if (rc) return rc;
    /* the dataset loader: read + bin into a dataset (10 frames, 2 x 34 x 34) */
    t_init(&fg->dataset);
    for (int r = 0; r < REPEATS && !rc; r++) {
        sbp_diag d;
        sbp_dataset *ds = NULL;
        t_start(&fg->dataset);
        sbp_status st = sbp_dataset_load_nmnist(dir, NULL, NULL, &d, &ds);
        t_stop(&fg->dataset);
        if (st != SBP_OK) rc = fail_diag(err, "loading N-MNIST", st, &d);
        sbp_dataset_free(ds);
    }
    return rc;
}

static int is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static double meps(size_t n, double s)
{
    return s > 0 ? (double)n / s / 1e6 : NAN;
}

static void human_row(FILE *out, const char *what, size_t n, timing t, const char *extra)
{
    fprintf(out, "    %-18s %7.3f s %7.1f M events/s   CPU %7.3f s %7.1f M events/s%s\n", what,
            t.wall, meps(n, t.wall), t.cpu, meps(n, t.cpu), extra);
}

static void human(FILE *out, const char *name, const figure *f, const char *layout)
{
    if (!f->done) {
        fprintf(out, "  %-12s skipped (no data)\n", name);
        return;
    }
    fprintf(out, "  %s: %zu events in %zu file%s, %.1f MB; frames %s, %zu features\n", name,
            f->events, f->files, f->files == 1 ? "" : "s", f->bytes / 1e6, layout, f->features);
    human_row(out, "read", f->events, f->read, "");
    human_row(out, "bin, equal time", f->events, f->bin_time, "");
    human_row(out, "bin, equal count", f->events, f->bin_count, "");
    timing sum = {f->read.wall + f->bin_time.wall, f->read.cpu + f->bin_time.cpu, 0, 0};
    human_row(out, "read + bin", f->events, sum, "");
    if (f->dataset.wall > 0 && isfinite(f->dataset.wall))
        human_row(out, "dataset loader", f->events, f->dataset,
                  "  (sbp_dataset_load_nmnist)");
}

static void json_timing(FILE *out, const char *name, size_t n, timing t)
{
    fprintf(out, ",\"%s\":{\"seconds\":%.6f,\"events_per_second\":%.4g,"
                 "\"cpu_seconds\":%.6f,\"cpu_events_per_second\":%.4g}",
            name, t.wall, 1e6 * meps(n, t.wall), t.cpu, 1e6 * meps(n, t.cpu));
}

static void json(FILE *out, const char *name, const figure *f, int first)
{
    fprintf(out, "%s\"%s\":", first ? "" : ",", name);
    if (!f->done) {
        fprintf(out, "null");
        return;
    }
    fprintf(out, "{\"events\":%zu,\"files\":%zu,\"bytes\":%.0f,\"features\":%zu", f->events,
            f->files, f->bytes, f->features);
    json_timing(out, "read", f->events, f->read);
    json_timing(out, "bin_time", f->events, f->bin_time);
    json_timing(out, "bin_count", f->events, f->bin_count);
    if (f->dataset.wall > 0 && isfinite(f->dataset.wall))
        json_timing(out, "dataset", f->events, f->dataset);
    fprintf(out, "}");
}

int sbp_tool_bench_events(const sbp_bench_events_opts *o, FILE *out, FILE *err)
{
    figure aedat = {0}, nmnist = {0}, dvs = {0};
    size_t n = o->aedat_events ? o->aedat_events : SBP_BENCH_EVENTS_DEFAULT_AEDAT;
    if (!o->json)
        fprintf(err, "sbp: bench events: AEDAT (%zu synthetic events), N-MNIST, DVS128 ...\n", n);
    int rc = bench_aedat(n, &aedat, err);
    if (!rc && is_dir(o->nmnist_dir)) rc = bench_nmnist(o->nmnist_dir, &nmnist, err);
    if (!rc && is_dir(o->dvs_dir)) {
        char p[4][4096];
        const char *pp[4];
        size_t k = 0;
        for (int i = 1; i <= 4; i++) {
            snprintf(p[k], sizeof p[k], "%s/slayer_%d.bs2", o->dvs_dir, i);
            struct stat st;
            if (stat(p[k], &st) == 0) {
                pp[k] = p[k];
                k++;
            }
        }
        if (k) rc = bench_bs2_files(pp, k, 128, 4, &dvs, err);
    }
    if (rc) return rc;
    if (o->json) {
        fprintf(out, "{\"repeats\":%d,", REPEATS);
        json(out, "aedat_synthetic", &aedat, 1);
        json(out, "nmnist", &nmnist, 0);
        json(out, "dvs128_bs2", &dvs, 0);
        fprintf(out, "}\n");
    } else {
        fprintf(out, "event streams: read and binned into 10 frames (best of %d runs, files in "
                     "the page cache; wall and process CPU time)\n", REPEATS);
        human(out, "AEDAT 3.1, synthetic DVS128", &aedat, "10 x 2 x 32 x 32");
        human(out, "N-MNIST bs2", &nmnist, "10 x 2 x 34 x 34");
        human(out, "DVS128 bs2", &dvs, "10 x 2 x 32 x 32");
    }
    return fflush(out) == 0 ? 0 : 1;
}

#ifndef SBP_SOURCE_DIR
#define SBP_SOURCE_DIR ""
#endif

int sbp_tool_bench_events_run(const char *nmnist_dir, int json, FILE *out, FILE *err)
{
    static char nm[4096], dvs[4096];
    sbp_bench_events_opts o = {NULL, NULL, 0, json};
    if (nmnist_dir) {
        if (!is_dir(nmnist_dir)) {
            fprintf(err, "sbp: --data: '%s': not a directory\n", nmnist_dir);
            return 1;
        }
        o.nmnist_dir = nmnist_dir;
        snprintf(dvs, sizeof dvs, "%s/../../dvs128_gesture", nmnist_dir);
    } else if (SBP_SOURCE_DIR[0]) {
        snprintf(nm, sizeof nm, "%s/../shared/data/nmnist/train", SBP_SOURCE_DIR);
        if (is_dir(nm)) o.nmnist_dir = nm;
    }
    if (!is_dir(dvs) && SBP_SOURCE_DIR[0])
        snprintf(dvs, sizeof dvs, "%s/../shared/data/dvs128_gesture", SBP_SOURCE_DIR);
    if (is_dir(dvs)) o.dvs_dir = dvs;
    return sbp_tool_bench_events(&o, out, err);
}
