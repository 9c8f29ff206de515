/* MNIST IDX loader: an image file (magic 0x00000803, uint8 pixels) and a
 * label file (0x00000801, labels 0..9), each raw or gzip-compressed.
 *
 * Both headers are read and every size is checked (magic, zero sizes,
 * limits, overflow, announced size against the file size, image/label
 * counts) before the dataset is allocated, so a malformed or hostile header
 * never causes a large allocation. The bodies are then streamed in chunks. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../alloc.h"
#include "dataset.h"
#include "gzfile.h"

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IMAGES_HEADER 16u
#define LABELS_HEADER 8u
#define MNIST_CLASSES 10u
#define BODY_CHUNK ((size_t)1 << 16)
/* Deflate cannot expand data by more than 1032:1 (a 258-byte match per
 * 2 bits), so a gzip file of s bytes holds less than 1032*s bytes. Used to
 * refuse an announced size a compressed file cannot possibly hold before
 * allocating for it. */
#define DEFLATE_MAX_RATIO 1032u

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* One open input file and where reading has got to. */
typedef struct idx_file {
    const char *path;
    sbp__gz *gz;
    uint64_t offset;
    char shown[192];
    const char *sp;   /* path for messages */
} idx_file;

static sbp_status open_file(idx_file *f, const char *path, sbp_diag *diag)
{
    f->path = path;
    f->offset = 0;
    f->sp = sbp__gz_short_path(path, f->shown, sizeof f->shown);
    return sbp__gz_open(path, &f->gz, diag);
}

static const char *magic_hint(uint32_t found)
{
    if (found == IDX_MAGIC_IMAGES) return "; this is an IDX image file";
    if (found == IDX_MAGIC_LABELS) return "; this is an IDX label file";
    if ((found >> 16) == 0x1f8bu) return "; gzip data inside the decompressed data";
    if ((found >> 16) != 0) return "; not an IDX file";
    return "";
}

/* Compares the total size announced by a header with what the file can
 * hold, before anything is allocated for it. */
static sbp_status check_size(idx_file *f, uint64_t total, sbp_diag *diag)
{
    uint64_t fsize = sbp__gz_file_size(f->gz);
    if (fsize == UINT64_MAX) return SBP_OK; /* not a regular file: checked while reading */
    if (!sbp__gz_compressed(f->gz)) {
        if (fsize < total)
            return sbp__diag(diag, SBP_E_TRUNCATED, f->path, fsize, total, fsize,
                             "%s: file has %" PRIu64 " bytes, but its header announces %"
                             PRIu64,
                             f->sp, fsize, total);
        if (fsize > total)
            return sbp__diag(diag, SBP_E_FORMAT, f->path, total, total, fsize,
                             "%s: %" PRIu64 " bytes after the announced data (expected %"
                             PRIu64 " bytes, the file has %" PRIu64 ")",
                             f->sp, fsize - total, total, fsize);
        return SBP_OK;
    }
    if (fsize <= UINT64_MAX / DEFLATE_MAX_RATIO && total > fsize * DEFLATE_MAX_RATIO)
        return sbp__diag(diag, SBP_E_TRUNCATED, f->path, 0, total, fsize,
                         "%s: header announces %" PRIu64 " bytes, more than a %" PRIu64
                         "-byte gzip file can hold",
                         f->sp, total, fsize);
    return SBP_OK;
}

/* Reads and checks the image header; sets n and d. */
static sbp_status read_images_header(idx_file *f, size_t *n, size_t *d, sbp_diag *diag)
{
    unsigned char h[IMAGES_HEADER] = {0};
    sbp__gz_announce(f->gz, IMAGES_HEADER, "IDX image header");
    /* The magic first, so that a short file of the wrong kind (a label
     * file given as images) is named for what it is. */
    SBP_TRY(sbp__gz_read_exact(f->gz, h, 4, &f->offset, diag));
    const uint32_t magic = be32(h);
    if (magic == IDX_MAGIC_IMAGES)
        SBP_TRY(sbp__gz_read_exact(f->gz, h + 4, sizeof h - 4, &f->offset, diag));
    const uint32_t count = be32(h + 4), rows = be32(h + 8), cols = be32(h + 12);
    if (magic != IDX_MAGIC_IMAGES)
        return sbp__diag(diag, SBP_E_FORMAT, f->path, 0, IDX_MAGIC_IMAGES, magic,
                         "%s: bad magic number 0x%08" PRIx32
                         ", expected 0x%08x (IDX images, unsigned bytes, 3 dimensions)%s",
                         f->sp, magic, IDX_MAGIC_IMAGES, magic_hint(magic));
    if (count == 0)
        return sbp__diag(diag, SBP_E_FORMAT, f->path, 4, 0, 0,
                         "%s: image count is 0, expected at least 1", f->sp);
    if (rows == 0 || cols == 0)
        return sbp__diag(diag, SBP_E_FORMAT, f->path, rows == 0 ? 8 : 12, 0, 0,
                         "%s: image size is %" PRIu32 "x%" PRIu32
                         ", expected nonzero rows and columns",
                         f->sp, rows, cols);
    if ((uint64_t)count > SBP__MAX_SAMPLES)
        return sbp__diag(diag, SBP_E_TOO_LARGE, f->path, 4, SBP__MAX_SAMPLES, count,
                         "%s: %" PRIu32 " images, more than the limit of %zu", f->sp, count,
                         SBP__MAX_SAMPLES);
    /* Both factors are below 2^32, so the product fits in 64 bits. */
    const uint64_t pixels = (uint64_t)rows * cols;
    if (pixels > SBP__MAX_FEATURES)
        return sbp__diag(diag, SBP_E_TOO_LARGE, f->path, 8, SBP__MAX_FEATURES, pixels,
                         "%s: images of %" PRIu32 "x%" PRIu32 " = %" PRIu64
                         " pixels, more than the limit of %zu features",
                         f->sp, rows, cols, pixels, SBP__MAX_FEATURES);
    /* count <= 2^31 and pixels <= 2^24: no overflow. */
    const uint64_t floats = (uint64_t)count * pixels;
    if (floats > SBP__MAX_DATASET_FLOATS || floats > SIZE_MAX / sizeof(float))
        return sbp__diag(diag, SBP_E_TOO_LARGE, f->path, 4, SBP__MAX_DATASET_FLOATS, floats,
                         "%s: %" PRIu32 " images of %" PRIu32 "x%" PRIu32 " = %" PRIu64
                         " values, more than the limit of %zu",
                         f->sp, count, rows, cols, floats, SBP__MAX_DATASET_FLOATS);
    const uint64_t total = IMAGES_HEADER + floats;
    char what[96];
    snprintf(what, sizeof what, "header: %" PRIu32 " images of %" PRIu32 "x%" PRIu32, count,
             rows, cols);
    sbp__gz_announce(f->gz, total, what);
    SBP_TRY(check_size(f, total, diag));
    *n = count;
    *d = (size_t)pixels;
    return SBP_OK;
}

/* Reads and checks the label header against the image count n. */
static sbp_status read_labels_header(idx_file *f, size_t n, const char *images_sp,
                                     sbp_diag *diag)
{
    unsigned char h[LABELS_HEADER] = {0};
    sbp__gz_announce(f->gz, LABELS_HEADER, "IDX label header");
    SBP_TRY(sbp__gz_read_exact(f->gz, h, 4, &f->offset, diag));
    const uint32_t magic = be32(h);
    if (magic == IDX_MAGIC_LABELS)
        SBP_TRY(sbp__gz_read_exact(f->gz, h + 4, sizeof h - 4, &f->offset, diag));
    const uint32_t count = be32(h + 4);
    if (magic != IDX_MAGIC_LABELS)
        return sbp__diag(diag, SBP_E_FORMAT, f->path, 0, IDX_MAGIC_LABELS, magic,
                         "%s: bad magic number 0x%08" PRIx32
                         ", expected 0x%08x (IDX labels, unsigned bytes, 1 dimension)%s",
                         f->sp, magic, IDX_MAGIC_LABELS, magic_hint(magic));
    if (count == 0)
        return sbp__diag(diag, SBP_E_FORMAT, f->path, 4, 0, 0,
                         "%s: label count is 0, expected at least 1", f->sp);
    if (count != n)
        return sbp__diag(diag, SBP_E_MISMATCH, f->path, 4, n, count,
                         "%s: %" PRIu32 " labels, but %s holds %zu images", f->sp, count,
                         images_sp, n);
    const uint64_t total = LABELS_HEADER + (uint64_t)count;
    char what[64];
    snprintf(what, sizeof what, "header: %" PRIu32 " labels", count);
    sbp__gz_announce(f->gz, total, what);
    return check_size(f, total, diag);
}

static sbp_status read_images_body(idx_file *f, float *x, size_t total, unsigned char *buf,
                                   sbp_diag *diag)
{
    size_t done = 0;
    while (done < total) {
        size_t len = total - done < BODY_CHUNK ? total - done : BODY_CHUNK;
        SBP_TRY(sbp__gz_read_exact(f->gz, buf, len, &f->offset, diag));
        for (size_t i = 0; i < len; i++) x[done + i] = (float)buf[i] / 255.0f;
        done += len;
    }
    return sbp__gz_expect_eof(f->gz, f->offset, diag);
}

static sbp_status read_labels_body(idx_file *f, sbp_dataset *ds, unsigned char *buf,
                                   sbp_diag *diag)
{
    size_t done = 0;
    while (done < ds->n) {
        size_t len = ds->n - done < BODY_CHUNK ? ds->n - done : BODY_CHUNK;
        const uint64_t at = f->offset;
        SBP_TRY(sbp__gz_read_exact(f->gz, buf, len, &f->offset, diag));
        for (size_t i = 0; i < len; i++) {
            const size_t s = done + i;
            if (buf[i] >= MNIST_CLASSES)
                return sbp__diag(diag, SBP_E_FORMAT, f->path, at + i, MNIST_CLASSES - 1,
                                 buf[i],
                                 "%s: label %u of sample %zu at byte %" PRIu64
                                 " is out of range, expected 0..9",
                                 f->sp, (unsigned)buf[i], s, at + i);
            ds->labels[s] = (int32_t)buf[i];
            ds->y[s * MNIST_CLASSES + buf[i]] = 1.0f;
        }
        done += len;
    }
    return sbp__gz_expect_eof(f->gz, f->offset, diag);
}

static sbp_status load_idx(idx_file *img, idx_file *lab, const char *images_path,
                           const char *labels_path, sbp_diag *diag, sbp_dataset **out)
{
    size_t n = 0, d = 0;
    SBP_TRY(open_file(img, images_path, diag));
    SBP_TRY(read_images_header(img, &n, &d, diag));
    SBP_TRY(open_file(lab, labels_path, diag));
    SBP_TRY(read_labels_header(lab, n, img->sp, diag));

    sbp_dataset *ds = NULL;
    sbp_status st = sbp__dataset_new(n, d, MNIST_CLASSES, &ds);
    if (st != SBP_OK)
        return sbp__diag(diag, st, images_path, 0, 0, 0,
                         "%s: cannot allocate %zu samples of %zu features: %s", img->sp, n,
                         d, sbp_status_str(st));
    unsigned char *buf = sbp__malloc(BODY_CHUNK);
    if (!buf) {
        sbp_dataset_free(ds);
        return sbp__diag(diag, SBP_E_NOMEM, images_path, 0, 0, 0,
                         "%s: out of memory for the read buffer", img->sp);
    }
    st = read_images_body(img, ds->x, n * d, buf, diag);
    if (st == SBP_OK) st = read_labels_body(lab, ds, buf, diag);
    sbp__free(buf);
    if (st != SBP_OK) {
        sbp_dataset_free(ds);
        return st;
    }
    ds->n_classes = MNIST_CLASSES;
    *out = ds;
    return SBP_OK;
}

static void diag_clear(sbp_diag *diag)
{
    if (diag) memset(diag, 0, sizeof *diag);
}

sbp_status sbp_dataset_load_idx(const char *images_path, const char *labels_path,
                                sbp_diag *diag, sbp_dataset **out)
{
    diag_clear(diag);
    if (!out)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_dataset_load_idx: out is NULL");
    *out = NULL;
    if (!images_path || !labels_path)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_dataset_load_idx: %s path is NULL",
                         images_path ? "labels" : "images");
    idx_file img = {0}, lab = {0};
    sbp_status st = load_idx(&img, &lab, images_path, labels_path, diag, out);
    sbp__gz_close(img.gz);
    sbp__gz_close(lab.gz);
    return st;
}

/* ------------------------------------------------------------------------ */
/* MNIST directory                                                           */
/* ------------------------------------------------------------------------ */

#define PATH_BUF 4096

static int is_present(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Finds dir/base or dir/base.gz (the raw file first). Returns 1 and the
 * path in buf when one exists, 0 otherwise; -1 if the path is too long. */
static int find_file(const char *dir, const char *base, char *buf)
{
    static const char *const suffix[2] = {"", ".gz"};
    for (int i = 0; i < 2; i++) {
        int len = snprintf(buf, PATH_BUF, "%s/%s%s", dir, base, suffix[i]);
        if (len < 0 || len >= PATH_BUF) return -1;
        if (is_present(buf)) return 1;
    }
    return 0;
}

sbp_status sbp_dataset_load_mnist(const char *dir, sbp_mnist_part part, sbp_diag *diag,
                                  sbp_dataset **out)
{
    static const char *const train_sets[][2] = {
        {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
        {"train10k-images-idx3-ubyte", "train10k-labels-idx1-ubyte"},
    };
    static const char *const test_sets[][2] = {
        {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
    };

    diag_clear(diag);
    if (!out)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_dataset_load_mnist: out is NULL");
    *out = NULL;
    if (!dir || !*dir)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_dataset_load_mnist: directory is NULL or empty");
    const char *const(*sets)[2];
    size_t n_sets;
    const char *part_name;
    if (part == SBP_MNIST_TRAIN) {
        sets = train_sets;
        n_sets = sizeof train_sets / sizeof train_sets[0];
        part_name = "training";
    } else if (part == SBP_MNIST_TEST) {
        sets = test_sets;
        n_sets = sizeof test_sets / sizeof test_sets[0];
        part_name = "test";
    } else {
        return sbp__diag(diag, SBP_E_INVALID, dir, 0, 0, 0,
                         "sbp_dataset_load_mnist: unknown part %d", (int)part);
    }

    char shown[192];
    const char *sd = sbp__gz_short_path(dir, shown, sizeof shown);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "%s: not a directory", sd);

    char images[PATH_BUF], labels[PATH_BUF];
    for (size_t s = 0; s < n_sets; s++) {
        int hi = find_file(dir, sets[s][0], images);
        int hl = find_file(dir, sets[s][1], labels);
        if (hi < 0 || hl < 0)
            return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "%s: path too long", sd);
        if (hi && hl) return sbp_dataset_load_idx(images, labels, diag, out);
        if (hi || hl)
            return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0,
                             "%s: found %s but not %s (raw or .gz)", sd,
                             hi ? sets[s][0] : sets[s][1], hi ? sets[s][1] : sets[s][0]);
    }
    char tried[384] = "";
    size_t used = 0;
    for (size_t s = 0; s < n_sets; s++) {
        int len = snprintf(tried + used, sizeof tried - used, "%s%s, %s", s ? ", " : "",
                           sets[s][0], sets[s][1]);
        if (len < 0 || (size_t)len >= sizeof tried - used) break;
        used += (size_t)len;
    }
    return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0,
                     "%s: no MNIST %s files found (tried %s, each raw or .gz)", sd,
                     part_name, tried);
}
