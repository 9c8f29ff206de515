/* Model files: sbp_net_save / sbp_net_load and their memory variants.
 * docs/file-format.md is the specification of the bytes; this comment is
 * the map of the file.
 *
 * Saving serialises the whole network into one buffer (header, sections,
 * CRC-32C), then, for files, writes it to a temporary file next to the
 * destination, syncs it and renames it over the destination, so that a
 * reader sees either the old file or the new one, never a mixture; every
 * allocation happens before the temporary file exists.
 *
 * Loading checks the header (magic, version, announced length) and the
 * checksum before it interprets anything, then rebuilds the network
 * through the public calls (sbp_net_create, the parameter setters,
 * sbp_net_add_layer, sbp_net_attach_rule), so that a loaded description
 * obeys exactly the rules of one built by hand; sizes are checked against
 * the bytes present, with overflow checks, before anything is allocated.
 * A built network is then built again (the engine's init draws the same
 * masks and random matrices from the seed), its weights and biases are
 * overwritten with the file's and the engine restores its private state
 * (save_state / load_state in lib/net.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "data/gzfile.h"
#include "io.h"
#include "net.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

_Static_assert(sizeof(float) == 4 && sizeof(double) == 8,
               "model files store IEEE 754 binary32 and binary64 values");

#define MAGIC "SBPMODEL"
#define MAGIC_LEN 8
#define FORMAT_VERSION 1u
#define HEADER_SIZE 24
#define CRC_SIZE 4
/* Largest model file a loader accepts (1 TiB). */
#define MODEL_MAX_BYTES ((uint64_t)1 << 40)
/* A built model is refused when batch_size x (sum of the layer sizes)
 * exceeds max(LOAD_STATE_FLOOR, LOAD_STATE_PER_BYTE x file length): the
 * engines allocate (and clear) several such buffers at build time that the
 * file does not contain, and a file of a few bytes must not be able to ask
 * for gigabytes. The factor 32 admits full-batch (60 000) training of an
 * ann 784-500-10 network, and the relax engine's saved state grows with
 * the batch (docs/file-format.md, "Limits"). */
#define LOAD_STATE_FLOOR ((uint64_t)1 << 20)
#define LOAD_STATE_PER_BYTE 32
/* Largest projection, as net.c's build. */
#define MAX_SYNAPSES ((uint64_t)1 << 32)
#define MAX_LAYERS 64

#define TAG(a, b, c, d) \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_NETW TAG('N', 'E', 'T', 'W')
#define TAG_LAYR TAG('L', 'A', 'Y', 'R')
#define TAG_WGHT TAG('W', 'G', 'H', 'T')
#define TAG_STAT TAG('S', 'T', 'A', 'T')

static int net_ok(const sbp_net *n)
{
    return n && n->tag == SBP__TAG_NET;
}

/* ---- little-endian bytes ------------------------------------------------ */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void set_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void set_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u); /* a scalar's bit pattern, not a struct */
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- writer ------------------------------------------------------------- */

/* Room for n more bytes; returns the place to write them or NULL. */
static unsigned char *reserve(sbp__writer *w, size_t n)
{
    if (w->nomem) return NULL;
    size_t need;
    if (!sbp__add_size(w->len, n, &need)) {
        w->nomem = 1;
        return NULL;
    }
    if (need > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                cap = need;
                break;
            }
            cap *= 2;
        }
        unsigned char *nb = sbp__realloc(w->buf, cap);
        if (!nb) {
            w->nomem = 1;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    unsigned char *p = w->buf + w->len;
    w->len = need;
    return p;
}

void sbp__put_u8(sbp__writer *w, uint8_t v)
{
    unsigned char *p = reserve(w, 1);
    if (p) p[0] = v;
}

void sbp__put_u32(sbp__writer *w, uint32_t v)
{
    unsigned char *p = reserve(w, 4);
    if (p) set_le32(p, v);
}

void sbp__put_u64(sbp__writer *w, uint64_t v)
{
    unsigned char *p = reserve(w, 8);
    if (p) set_le64(p, v);
}

void sbp__put_f64(sbp__writer *w, double v)
{
    uint64_t u;
    if (isnan(v)) {
        u = 0x7FF8000000000000ull; /* one NaN pattern, so that saves are reproducible */
    } else {
        memcpy(&u, &v, sizeof u);
    }
    sbp__put_u64(w, u);
}

void sbp__put_floats(sbp__writer *w, const float *v, size_t count)
{
    sbp__put_u64(w, (uint64_t)count);
    size_t bytes;
    if (!sbp__mul_size(count, 4, &bytes)) {
        w->nomem = 1;
        return;
    }
    unsigned char *p = reserve(w, bytes);
    if (!p) return;
    for (size_t i = 0; i < count; i++) {
        w->nonfinite += !isfinite(v[i]);
        set_le32(p + 4 * i, f32_bits(v[i]));
    }
}

/* Starts a section: tag and a length patched by end_section. Returns the
 * offset of the length field. */
static size_t begin_section(sbp__writer *w, uint32_t tag)
{
    sbp__put_u32(w, tag);
    size_t at = w->len;
    sbp__put_u64(w, 0);
    return at;
}

static void end_section(sbp__writer *w, size_t at)
{
    if (!w->nomem) set_le64(w->buf + at, (uint64_t)(w->len - at - 8));
}

/* ---- reader ------------------------------------------------------------- */

sbp_status sbp__reader_fail(sbp__reader *r, sbp_status st, uint64_t offset, uint64_t expected,
                            uint64_t found, const char *fmt, ...)
{
    if (!r->diag) return st;
    char detail[SBP__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return sbp__diag(r->diag, st, r->file, offset, expected, found, "%s: %s, byte %llu: %s",
                     r->name, r->section, (unsigned long long)offset, detail);
}

/* n bytes at the current position, or the failure (the section ends
 * first: the section lengths and the content disagree). */
static sbp_status take(sbp__reader *r, size_t n, const char *what, const unsigned char **p)
{
    if (r->end - r->pos < n)
        return sbp__reader_fail(r, SBP_E_FORMAT, r->pos, n, r->end - r->pos,
                                "the section ends before %s (%zu bytes needed, %zu left)", what,
                                n, r->end - r->pos);
    *p = r->data + r->pos;
    r->pos += n;
    return SBP_OK;
}

sbp_status sbp__get_u8(sbp__reader *r, uint8_t *v, const char *what)
{
    const unsigned char *p = NULL;
    SBP_TRY(take(r, 1, what, &p));
    *v = p[0];
    return SBP_OK;
}

sbp_status sbp__get_u32(sbp__reader *r, uint32_t *v, const char *what)
{
    const unsigned char *p = NULL;
    SBP_TRY(take(r, 4, what, &p));
    *v = le32(p);
    return SBP_OK;
}

sbp_status sbp__get_u64(sbp__reader *r, uint64_t *v, const char *what)
{
    const unsigned char *p = NULL;
    SBP_TRY(take(r, 8, what, &p));
    *v = le64(p);
    return SBP_OK;
}

sbp_status sbp__get_f64(sbp__reader *r, double *v, const char *what)
{
    uint64_t u;
    SBP_TRY(sbp__get_u64(r, &u, what));
    memcpy(v, &u, sizeof *v);
    return SBP_OK;
}

sbp_status sbp__get_flag(sbp__reader *r, int *v, const char *what)
{
    size_t at = r->pos;
    uint8_t b;
    SBP_TRY(sbp__get_u8(r, &b, what));
    if (b > 1)
        return sbp__reader_fail(r, SBP_E_FORMAT, at, 1, b, "%s is %u, expected 0 or 1", what,
                                (unsigned)b);
    *v = b;
    return SBP_OK;
}

sbp_status sbp__get_count(sbp__reader *r, uint64_t want, const char *what)
{
    size_t at = r->pos;
    uint64_t n;
    SBP_TRY(sbp__get_u64(r, &n, what));
    if (n != want)
        return sbp__reader_fail(r, SBP_E_MISMATCH, at, want, n,
                                "%s: %llu stored, the network has %llu", what,
                                (unsigned long long)n, (unsigned long long)want);
    return SBP_OK;
}

sbp_status sbp__get_floats(sbp__reader *r, float *dst, size_t count, const char *fmt, ...)
{
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    SBP_TRY(sbp__get_count(r, count, what));
    const unsigned char *p = NULL;
    size_t bytes;
    size_t at = r->pos;
    if (!sbp__mul_size(count, 4, &bytes) || r->end - r->pos < bytes)
        return sbp__reader_fail(r, SBP_E_FORMAT, at, count, (r->end - r->pos) / 4,
                                "the section ends inside %s (%zu values announced)", what,
                                count);
    SBP_TRY(take(r, bytes, what, &p));
    for (size_t i = 0; i < count; i++) {
        float f = bits_f32(le32(p + 4 * i));
        if (!isfinite(f))
            return sbp__reader_fail(r, SBP_E_NUMERIC, at + 4 * i, 0, 0,
                                    "%s: value %zu is %s", what, i,
                                    isnan(f) ? "NaN" : "infinite");
        if (dst) dst[i] = f;
    }
    return SBP_OK;
}

/* Opens the section with this tag at the current position: its payload
 * becomes [pos, end). `limit` is where the sections end (the checksum). */
static sbp_status open_section(sbp__reader *r, uint32_t tag, size_t limit, const char *section)
{
    r->end = limit;
    r->section = section;
    size_t at = r->pos;
    uint32_t t;
    uint64_t len;
    SBP_TRY(sbp__get_u32(r, &t, "the section tag"));
    if (t != tag) {
        char want[5], got[5];
        set_le32((unsigned char *)want, tag);
        set_le32((unsigned char *)got, t);
        want[4] = got[4] = '\0';
        for (int i = 0; i < 4; i++)
            if (got[i] < 0x20 || got[i] > 0x7E) got[i] = '?';
        return sbp__reader_fail(r, SBP_E_FORMAT, at, tag, t,
                                "expected the '%s' section, found tag '%s' (0x%08X)", want, got,
                                (unsigned)t);
    }
    SBP_TRY(sbp__get_u64(r, &len, "the section length"));
    if (len > limit - r->pos)
        return sbp__reader_fail(r, SBP_E_FORMAT, at + 4, limit - r->pos, len,
                                "section length %llu runs past the end of the sections "
                                "(%zu bytes left)",
                                (unsigned long long)len, limit - r->pos);
    r->end = r->pos + (size_t)len;
    return SBP_OK;
}

static sbp_status close_section(sbp__reader *r)
{
    if (r->pos != r->end)
        return sbp__reader_fail(r, SBP_E_FORMAT, r->pos, 0, r->end - r->pos,
                                "%zu unread bytes at the end of the section",
                                r->end - r->pos);
    return SBP_OK;
}

/* ---- parameters --------------------------------------------------------- */

enum owner { OWNER_NET, OWNER_LAYER, OWNER_RULE };

/* Whether a parameter belongs on a network of this engine, asked through
 * the public getter so that io.c and net.c never disagree. */
static int net_param_applies(sbp_net *net, sbp_param id)
{
    char saved[SBP__MSG_MAX];
    memcpy(saved, net->errmsg, sizeof saved);
    double v;
    int ok = sbp_net_get_real(net, id, &v) == SBP_OK;
    memcpy(net->errmsg, saved, sizeof saved);
    return ok;
}

/* net.threads belongs to the machine that runs the network, not to the
 * model (results never depend on it): it is not saved, and a file that
 * names it has it ignored, so that a file cannot make a loader start
 * threads. A loaded network has the default (0: one per core). */
static int param_is_runtime(const sbp__param_row *row)
{
    return row->id == SBP_NET_THREADS;
}

static int param_applies(enum owner owner, sbp_net *net, sbp_rule_kind kind,
                         const sbp__param_row *row)
{
    switch (owner) {
    case OWNER_NET: return net_param_applies(net, row->id);
    case OWNER_LAYER: return row->group == SBP__G_LAYER;
    case OWNER_RULE: return (sbp__rule_group_mask(kind) & (1u << row->group)) != 0;
    }
    return 0;
}

/* The parameter block of a handle: every parameter that applies to it, in
 * table order, as (id, value) pairs; NaN = the engine's default. */
static void put_params(sbp__writer *w, enum owner owner, sbp_net *net, sbp_rule_kind kind,
                       const double *values)
{
    size_t n = sbp__param_count(), count = 0;
    for (size_t s = 0; s < n; s++) {
        const sbp__param_row *row = sbp__param_row_at(s);
        count += param_applies(owner, net, kind, row) && !param_is_runtime(row);
    }
    sbp__put_u32(w, (uint32_t)count);
    for (size_t s = 0; s < n; s++) {
        const sbp__param_row *row = sbp__param_row_at(s);
        if (!param_applies(owner, net, kind, row) || param_is_runtime(row)) continue;
        sbp__put_u32(w, (uint32_t)row->id);
        sbp__put_f64(w, values[s]);
    }
}

/* Sets one parameter on the handle being loaded through its public
 * setter; the handle's message on failure. */
static sbp_status set_param(enum owner owner, void *h, const sbp__param_row *row, double v,
                            const char **msg)
{
    int is_int = row->desc.type == SBP_PARAM_INT;
    sbp_status st;
    switch (owner) {
    case OWNER_NET:
        st = is_int ? sbp_net_set_int(h, row->id, (int64_t)v) : sbp_net_set_real(h, row->id, v);
        *msg = sbp_net_errmsg(h);
        return st;
    case OWNER_LAYER:
        st = is_int ? sbp_layer_set_int(h, row->id, (int64_t)v)
                    : sbp_layer_set_real(h, row->id, v);
        *msg = sbp_layer_errmsg(h);
        return st;
    case OWNER_RULE:
        st = is_int ? sbp_rule_set_int(h, row->id, (int64_t)v) : sbp_rule_set_real(h, row->id, v);
        *msg = sbp_rule_errmsg(h);
        return st;
    }
    return SBP_E_INTERNAL;
}

static sbp_status read_params(sbp__reader *r, enum owner owner, void *h, sbp_net *net,
                              sbp_rule_kind kind, const char *what)
{
    size_t at = r->pos;
    uint32_t count;
    SBP_TRY(sbp__get_u32(r, &count, "the parameter count"));
    size_t known = sbp__param_count();
    if (count > known)
        return sbp__reader_fail(r, SBP_E_FORMAT, at, known, count,
                                "%s: %u parameters stored, this library knows %zu", what,
                                (unsigned)count, known);
    unsigned char seen[SBP__N_PARAMS];
    memset(seen, 0, sizeof seen);
    for (uint32_t i = 0; i < count; i++) {
        size_t off = r->pos;
        uint32_t id;
        double v;
        SBP_TRY(sbp__get_u32(r, &id, "a parameter id"));
        SBP_TRY(sbp__get_f64(r, &v, "a parameter value"));
        int slot = sbp__param_slot((sbp_param)id);
        if (slot < 0)
            return sbp__reader_fail(r, SBP_E_FORMAT, off, 0, id,
                                    "%s: unknown parameter id 0x%X", what, (unsigned)id);
        const sbp__param_row *row = sbp__param_row_at((size_t)slot);
        if (seen[slot])
            return sbp__reader_fail(r, SBP_E_FORMAT, off, 0, id,
                                    "%s: parameter '%s' is stored twice", what, row->desc.name);
        seen[slot] = 1;
        if (!param_applies(owner, net, kind, row))
            return sbp__reader_fail(r, SBP_E_FORMAT, off, 0, id,
                                    "%s: parameter '%s' does not apply to it", what,
                                    row->desc.name);
        if (param_is_runtime(row)) continue;
        if (isnan(v)) {
            /* "unset": only where the default is the engine's choice; the
             * fresh handle holds NaN already */
            if (!isnan(row->desc.default_value))
                return sbp__reader_fail(r, SBP_E_NUMERIC, off + 4, 0, 0,
                                        "%s: parameter '%s' is NaN; only parameters with an "
                                        "engine-chosen default may be unset",
                                        what, row->desc.name);
            continue;
        }
        if (!isfinite(v))
            return sbp__reader_fail(r, SBP_E_NUMERIC, off + 4, 0, 0,
                                    "%s: parameter '%s' is not finite", what, row->desc.name);
        if (row->desc.type == SBP_PARAM_INT && (v != floor(v) || fabs(v) > 9007199254740992.0))
            return sbp__reader_fail(r, SBP_E_RANGE, off + 4, 0, 0,
                                    "%s: integer parameter '%s' = %g is not a whole number",
                                    what, row->desc.name, v);
        const char *msg = "";
        sbp_status st = set_param(owner, h, row, v, &msg);
        if (st != SBP_OK)
            return sbp__reader_fail(r, st == SBP_E_INVALID ? SBP_E_FORMAT : st, off + 4, 0, 0,
                                    "%s: %s", what, msg);
    }
    return SBP_OK;
}

/* ---- saving -------------------------------------------------------------- */

static sbp_status check_finite(sbp_net *net, const float *v, size_t count, const char *what,
                               size_t l)
{
    for (size_t i = 0; i < count; i++)
        SBP_RETURN_IF(!isfinite(v[i]), net->errmsg, SBP_E_NUMERIC,
                      "cannot save: %s %zu of the projection into layer %zu is not finite "
                      "(the network diverged)", what, i, l);
    return SBP_OK;
}

/* The whole file into w. */
static sbp_status serialize(sbp_net *net, sbp__writer *w)
{
    size_t L = net->n_layers;
    if (net->built)
        for (size_t l = 1; l < L; l++) {
            size_t rows = net->layers[l - 1].size, cols = net->layers[l].size;
            SBP_TRY(check_finite(net, net->w[l], rows * cols, "weight", l));
            SBP_TRY(check_finite(net, net->b[l], cols, "bias", l));
        }

    unsigned char *h = reserve(w, HEADER_SIZE);
    if (h) {
        memcpy(h, MAGIC, MAGIC_LEN);
        set_le32(h + 8, FORMAT_VERSION);
        set_le32(h + 12, 0); /* flags */
        set_le64(h + 16, 0); /* total length, patched below */
    }

    size_t sec = begin_section(w, TAG_NETW);
    sbp__put_u32(w, (uint32_t)net->engine);
    sbp__put_u64(w, net->seed);
    for (int i = 0; i < 4; i++) sbp__put_u64(w, net->rng.s[i]);
    sbp__put_u8(w, net->built ? 1 : 0);
    put_params(w, OWNER_NET, net, 0, net->params);
    end_section(w, sec);

    sec = begin_section(w, TAG_LAYR);
    sbp__put_u32(w, (uint32_t)L);
    for (size_t l = 0; l < L; l++) {
        const sbp__net_layer *ly = &net->layers[l];
        sbp__put_u64(w, (uint64_t)ly->size);
        put_params(w, OWNER_LAYER, net, 0, ly->params);
        uint32_t n_rules = 0;
        for (int k = 1; k <= SBP__RULE_KINDS; k++) n_rules += ly->rules[k] != NULL;
        sbp__put_u32(w, n_rules);
        for (int k = 1; k <= SBP__RULE_KINDS; k++) {
            const struct sbp_rule *rule = ly->rules[k];
            if (!rule) continue;
            sbp__put_u32(w, (uint32_t)k);
            put_params(w, OWNER_RULE, net, (sbp_rule_kind)k, rule->params);
        }
    }
    end_section(w, sec);

    if (net->built) {
        sec = begin_section(w, TAG_WGHT);
        sbp__put_u32(w, (uint32_t)(L - 1));
        for (size_t l = 1; l < L; l++) {
            size_t rows = net->layers[l - 1].size, cols = net->layers[l].size;
            sbp__put_u64(w, rows);
            sbp__put_u64(w, cols);
            sbp__put_floats(w, net->w[l], rows * cols);
            sbp__put_floats(w, net->b[l], cols);
        }
        end_section(w, sec);

        sec = begin_section(w, TAG_STAT);
        if (net->ops && net->ops->save_state) {
            size_t before = w->nonfinite;
            SBP_TRY(net->ops->save_state(net, w));
            SBP_RETURN_IF(w->nonfinite != before, net->errmsg, SBP_E_NUMERIC,
                          "cannot save: the %s engine's training state holds %zu non-finite "
                          "numbers (the network diverged)",
                          net->ops->name, w->nonfinite - before);
        }
        end_section(w, sec);
    }

    unsigned char *c = reserve(w, CRC_SIZE);
    SBP_RETURN_IF(w->nomem, net->errmsg, SBP_E_NOMEM, "out of memory serialising the network");
    set_le64(w->buf + 16, (uint64_t)w->len);
    set_le32(c, sbp__crc32c(0, w->buf, w->len - CRC_SIZE));
    return SBP_OK;
}

sbp_status sbp_net_save_mem(sbp_net *net, void **data, size_t *size)
{
    if (!net_ok(net)) return SBP_E_INVALID;
    SBP_RETURN_IF(!data || !size, net->errmsg, SBP_E_INVALID,
                  "sbp_net_save_mem: NULL output pointer");
    *data = NULL;
    *size = 0;
    sbp__writer w = {0};
    sbp_status st = serialize(net, &w);
    if (st != SBP_OK) {
        sbp__free(w.buf);
        return st;
    }
    *data = w.buf;
    *size = w.len;
    return SBP_OK;
}

void sbp_free(void *p)
{
    sbp__free(p);
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

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t k = write(fd, p, chunk);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (k == 0) {
            errno = EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Permission bits for a new file: 0666 less the process umask, read from
 * /proc/self/status where Linux offers it (umask(2) cannot be read without
 * changing it, which other threads would see); 0644 otherwise. */
static mode_t new_file_mode(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            unsigned m;
            if (sscanf(line, "Umask: %o", &m) == 1) {
                mask = (mode_t)(m & 0777);
                break;
            }
        }
        fclose(f);
    }
    return (mode_t)(0666 & ~mask);
}

/* Writes the buffer to path atomically (see sbp_net_save in sbp.h). */
static sbp_status write_atomic(sbp_net *net, const char *path, const unsigned char *buf,
                               size_t len)
{
    char shown[192], etext[128];
    const char *sp = sbp__gz_short_path(path, shown, sizeof shown);
    size_t n = strlen(path);
    /* every allocation before the temporary file exists */
    char *tmp = sbp__malloc(n + sizeof ".tmp.XXXXXX");
    char *dir = sbp__malloc(n + 2);
    if (!tmp || !dir) {
        sbp__free(tmp);
        sbp__free(dir);
        return sbp__fail(net->errmsg, SBP_E_NOMEM, "sbp_net_save: %s: out of memory", sp);
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    const char *slash = strrchr(path, '/');
    if (!slash) {
        memcpy(dir, ".", 2);
    } else if (slash == path) {
        memcpy(dir, "/", 2);
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }

    sbp_status st = SBP_OK;
    const char *step = NULL;
    struct stat old;
    mode_t mode = stat(path, &old) == 0 && S_ISREG(old.st_mode) ? (old.st_mode & 07777)
                                                                 : new_file_mode();
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        st = sbp__fail(net->errmsg, SBP_E_IO,
                       "sbp_net_save: %s: cannot create a temporary file in '%s': %s", sp, dir,
                       errno_text(e, etext, sizeof etext));
        goto done;
    }
    (void)fchmod(fd, mode); /* best effort: some file systems have no modes */
    if (write_all(fd, buf, len) != 0) step = "writing";
    else if (fsync(fd) != 0) step = "syncing";
    if (step) {
        int e = errno;
        close(fd);
        unlink(tmp);
        st = sbp__fail(net->errmsg, SBP_E_IO, "sbp_net_save: %s: %s the temporary file: %s", sp,
                       step, errno_text(e, etext, sizeof etext));
        goto done;
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        st = sbp__fail(net->errmsg, SBP_E_IO, "sbp_net_save: %s: closing the temporary file: %s",
                       sp, errno_text(e, etext, sizeof etext));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        st = sbp__fail(net->errmsg, SBP_E_IO, "sbp_net_save: %s: cannot replace the file: %s",
                       sp, errno_text(e, etext, sizeof etext));
        goto done;
    }
    /* the rename itself must reach the disk: sync the directory (file
     * systems that cannot sync a directory say EINVAL; nothing to do) */
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS)) {
        int e = errno;
        st = sbp__fail(net->errmsg, SBP_E_IO,
                       "sbp_net_save: %s: the file was replaced, but syncing its directory "
                       "failed: %s", sp, errno_text(e, etext, sizeof etext));
    }
    if (dfd >= 0) close(dfd);
done:
    sbp__free(tmp);
    sbp__free(dir);
    return st;
}

sbp_status sbp_net_save(sbp_net *net, const char *path)
{
    if (!net_ok(net)) return SBP_E_INVALID;
    SBP_RETURN_IF(!path || !*path, net->errmsg, SBP_E_INVALID, "sbp_net_save: empty file path");
    sbp__writer w = {0};
    sbp_status st = serialize(net, &w);
    if (st == SBP_OK) st = write_atomic(net, path, w.buf, w.len);
    sbp__free(w.buf);
    return st;
}

/* ---- loading -------------------------------------------------------------- */

/* Header checks on the first `have` bytes (fewer than HEADER_SIZE only
 * when the input ends there): magic, version, flags, announced length. */
static sbp_status check_header(sbp__reader *r, const unsigned char *p, size_t have,
                               uint64_t *total)
{
    r->section = "header";
    size_t m = have < MAGIC_LEN ? have : MAGIC_LEN;
    if (memcmp(p, MAGIC, m) != 0)
        return sbp__reader_fail(r, SBP_E_FORMAT, 0, 0, 0,
                                "not a libsbp model file (it does not start with \"SBPMODEL\")");
    if (have < 12)
        goto truncated;
    uint32_t version = le32(p + 8);
    if (version == 0)
        return sbp__reader_fail(r, SBP_E_FORMAT, 8, FORMAT_VERSION, 0,
                                "format version 0 does not exist (corrupt header)");
    if (version > FORMAT_VERSION)
        return sbp__reader_fail(r, SBP_E_VERSION, 8, FORMAT_VERSION, version,
                                "model format version %u was written by a newer libsbp; this "
                                "library (%s) reads version %u",
                                (unsigned)version, sbp_version_string(), FORMAT_VERSION);
    if (have < HEADER_SIZE) goto truncated;
    uint32_t flags = le32(p + 12);
    if (flags != 0)
        return sbp__reader_fail(r, SBP_E_FORMAT, 12, 0, flags,
                                "unknown header flags 0x%08X (format version 1 has none)",
                                (unsigned)flags);
    uint64_t t = le64(p + 16);
    if (t < HEADER_SIZE + CRC_SIZE)
        return sbp__reader_fail(r, SBP_E_FORMAT, 16, 0, t,
                                "announced file length %llu is shorter than the header and "
                                "checksum", (unsigned long long)t);
    if (t > MODEL_MAX_BYTES || t > SIZE_MAX)
        return sbp__reader_fail(r, SBP_E_TOO_LARGE, 16, MODEL_MAX_BYTES, t,
                                "announced file length %llu is beyond the loader's limit of "
                                "%llu bytes", (unsigned long long)t,
                                (unsigned long long)MODEL_MAX_BYTES);
    *total = t;
    return SBP_OK;
truncated:
    return sbp__reader_fail(r, SBP_E_TRUNCATED, have, HEADER_SIZE, have,
                            "the data ends after %zu bytes, inside the %d-byte header", have,
                            HEADER_SIZE);
}

static sbp_status check_length(sbp__reader *r, uint64_t total, uint64_t size)
{
    r->section = "header";
    if (size < total)
        return sbp__reader_fail(r, SBP_E_TRUNCATED, size, total, size,
                                "truncated: the header announces %llu bytes, the data has "
                                "%llu", (unsigned long long)total, (unsigned long long)size);
    if (size > total)
        return sbp__reader_fail(r, SBP_E_FORMAT, total, total, size,
                                "%llu unexpected bytes after the announced end (%llu bytes)",
                                (unsigned long long)(size - total), (unsigned long long)total);
    return SBP_OK;
}

/* The layers of the LAYR section. attach = 0: checks every layer and rule
 * and adds the layers; attach = 1: reads the same bytes again and attaches
 * the rules. */
static sbp_status read_layers(sbp__reader *r, sbp_net *net, uint32_t n_layers, int attach)
{
    sbp_status st;
    for (uint32_t l = 0; l < n_layers; l++) {
        char what[64];
        snprintf(what, sizeof what, "layer %u", (unsigned)l);
        size_t at = r->pos;
        uint64_t size;
        SBP_TRY(sbp__get_u64(r, &size, "a layer size"));
        if (size == 0 || size > SBP__LAYER_MAX_SIZE)
            return sbp__reader_fail(r, size ? SBP_E_TOO_LARGE : SBP_E_FORMAT, at,
                                    SBP__LAYER_MAX_SIZE, size,
                                    "%s has %llu neurons; 1..%zu allowed", what,
                                    (unsigned long long)size, SBP__LAYER_MAX_SIZE);
        if (attach) {
            uint32_t count;
            const unsigned char *skip;
            SBP_TRY(sbp__get_u32(r, &count, "the parameter count"));
            SBP_TRY(take(r, (size_t)count * 12, "the layer parameters", &skip));
        } else {
            sbp_layer *layer = NULL;
            st = sbp_layer_create((size_t)size, &layer);
            if (st != SBP_OK)
                return sbp__reader_fail(r, st, at, 0, 0, "%s: cannot create it: %s", what,
                                        sbp_status_str(st));
            st = read_params(r, OWNER_LAYER, layer, net, 0, what);
            if (st == SBP_OK && (st = sbp_net_add_layer(net, layer)) != SBP_OK)
                sbp__reader_fail(r, st, at, 0, 0, "%s: %s", what, sbp_net_errmsg(net));
            sbp_layer_free(layer);
            if (st != SBP_OK) return st;
        }

        at = r->pos;
        uint32_t n_rules;
        SBP_TRY(sbp__get_u32(r, &n_rules, "the rule count"));
        if (n_rules > SBP__RULE_KINDS)
            return sbp__reader_fail(r, SBP_E_FORMAT, at, SBP__RULE_KINDS, n_rules,
                                    "%s: %u rules; there are %d rule kinds", what,
                                    (unsigned)n_rules, SBP__RULE_KINDS);
        uint32_t prev = 0;
        for (uint32_t k = 0; k < n_rules; k++) {
            at = r->pos;
            uint32_t kind;
            SBP_TRY(sbp__get_u32(r, &kind, "a rule kind"));
            if (kind <= prev || kind > SBP__RULE_KINDS)
                return sbp__reader_fail(r, SBP_E_FORMAT, at, 0, kind,
                                        kind > SBP__RULE_KINDS || kind == 0
                                            ? "%s: unknown rule kind %u"
                                            : "%s: rule kind %u out of order (kinds are "
                                              "stored once each, ascending)",
                                        what, (unsigned)kind);
            prev = kind;
            char rwhat[96];
            snprintf(rwhat, sizeof rwhat, "%s, rule '%s'", what,
                     sbp_rule_kind_name((sbp_rule_kind)kind));
            sbp_rule *rule = NULL;
            st = sbp_rule_create((sbp_rule_kind)kind, &rule);
            if (st != SBP_OK)
                return sbp__reader_fail(r, st, at, 0, 0, "%s: cannot create it: %s", rwhat,
                                        sbp_status_str(st));
            st = read_params(r, OWNER_RULE, rule, net, (sbp_rule_kind)kind, rwhat);
            if (st == SBP_OK && attach && (st = sbp_net_attach_rule(net, l, rule)) != SBP_OK) {
                /* a rule on the input layer is a malformed file, not a bad argument */
                if (st == SBP_E_INVALID || st == SBP_E_RANGE) st = SBP_E_FORMAT;
                sbp__reader_fail(r, st, at, 0, 0, "%s: %s", rwhat, sbp_net_errmsg(net));
            }
            sbp_rule_free(rule);
            if (st != SBP_OK) return st;
        }
    }
    return SBP_OK;
}

/* The network description: NETW and LAYR. *out is the new network. */
static sbp_status read_description(sbp__reader *r, size_t limit, sbp_net **out, int *built)
{
    *out = NULL;
    SBP_TRY(open_section(r, TAG_NETW, limit, "network section"));
    size_t at = r->pos;
    uint32_t engine;
    uint64_t seed, s[4];
    SBP_TRY(sbp__get_u32(r, &engine, "the engine"));
    if (!sbp_engine_name((sbp_engine)engine))
        return sbp__reader_fail(r, SBP_E_FORMAT, at, 0, engine, "unknown engine id %u",
                                (unsigned)engine);
    if (!sbp_engine_available((sbp_engine)engine))
        return sbp__reader_fail(r, SBP_E_UNSUPPORTED, at, 0, engine,
                                "the model needs the '%s' engine, which this build of libsbp "
                                "does not have", sbp_engine_name((sbp_engine)engine));
    SBP_TRY(sbp__get_u64(r, &seed, "the seed"));
    size_t rng_at = r->pos;
    for (int i = 0; i < 4; i++) SBP_TRY(sbp__get_u64(r, &s[i], "the random state"));
    if (!(s[0] | s[1] | s[2] | s[3]))
        return sbp__reader_fail(r, SBP_E_FORMAT, rng_at, 0, 0,
                                "the random generator state is all zero (invalid for "
                                "xoshiro256**)");
    SBP_TRY(sbp__get_flag(r, built, "the built flag"));

    sbp_net *net = NULL;
    sbp_status st = sbp_net_create((sbp_engine)engine, seed, &net);
    if (st != SBP_OK)
        return sbp__reader_fail(r, st, at, 0, 0, "cannot create the network: %s",
                                sbp_status_str(st));
    *out = net;
    for (int i = 0; i < 4; i++) net->rng.s[i] = s[i];
    SBP_TRY(read_params(r, OWNER_NET, net, net, 0, "network"));
    SBP_TRY(close_section(r));

    SBP_TRY(open_section(r, TAG_LAYR, limit, "layer section"));
    at = r->pos;
    uint32_t n_layers;
    SBP_TRY(sbp__get_u32(r, &n_layers, "the layer count"));
    if (n_layers > MAX_LAYERS)
        return sbp__reader_fail(r, SBP_E_TOO_LARGE, at, MAX_LAYERS, n_layers,
                                "%u layers; a network has at most %d", (unsigned)n_layers,
                                MAX_LAYERS);
    /* Two passes: whether an engine accepts a rule may depend on the number
     * of layers (the output layer's rules), so rules are attached once
     * every layer is there, in the order sbp_net_attach_rule would see them
     * in a program that adds the layers first. */
    size_t start = r->pos;
    SBP_TRY(read_layers(r, net, n_layers, 0));
    r->pos = start;
    SBP_TRY(read_layers(r, net, n_layers, 1));
    return close_section(r);
}

/* Where a projection's weights and biases start in the data. */
typedef struct proj_at {
    size_t w, b;
} proj_at;

/* WGHT: checks every size and value; records where the arrays are. */
static sbp_status check_weights(sbp__reader *r, size_t limit, const sbp_net *net, proj_at *at)
{
    SBP_TRY(open_section(r, TAG_WGHT, limit, "weight section"));
    size_t L = net->n_layers, off = r->pos;
    uint32_t n_proj;
    SBP_TRY(sbp__get_u32(r, &n_proj, "the projection count"));
    if (n_proj != L - 1)
        return sbp__reader_fail(r, SBP_E_MISMATCH, off, L - 1, n_proj,
                                "%u projections stored; %zu layers have %zu", (unsigned)n_proj,
                                L, L - 1);
    for (size_t l = 1; l < L; l++) {
        size_t rows = net->layers[l - 1].size, cols = net->layers[l].size;
        uint64_t fr, fc;
        off = r->pos;
        SBP_TRY(sbp__get_u64(r, &fr, "the rows of a projection"));
        SBP_TRY(sbp__get_u64(r, &fc, "the columns of a projection"));
        if (fr != rows || fc != cols)
            return sbp__reader_fail(r, SBP_E_MISMATCH, off, (uint64_t)rows * cols, fr * fc,
                                    "the projection into layer %zu is stored as %llu x %llu, "
                                    "but layers %zu and %zu have %zu and %zu neurons",
                                    l, (unsigned long long)fr, (unsigned long long)fc, l - 1,
                                    l, rows, cols);
        size_t count;
        if (!sbp__mul_size(rows, cols, &count) || count > MAX_SYNAPSES)
            return sbp__reader_fail(r, SBP_E_TOO_LARGE, off, MAX_SYNAPSES, 0,
                                    "the projection into layer %zu has too many synapses "
                                    "(%zu x %zu)", l, rows, cols);
        at[l].w = r->pos + 8;
        SBP_TRY(sbp__get_floats(r, NULL, count, "the weights into layer %zu", l));
        at[l].b = r->pos + 8;
        SBP_TRY(sbp__get_floats(r, NULL, cols, "the biases of layer %zu", l));
    }
    return close_section(r);
}

static void copy_floats(float *dst, const unsigned char *src, size_t count)
{
    for (size_t i = 0; i < count; i++) dst[i] = bits_f32(le32(src + 4 * i));
}

/* Builds the network (the engine's init) and restores weights and state. */
static sbp_status restore_built(sbp__reader *r, size_t limit, sbp_net *net)
{
    size_t L = net->n_layers;
    r->section = "layer section";
    if (L < 2)
        return sbp__reader_fail(r, SBP_E_FORMAT, r->pos, 2, L,
                                "the model is marked built but has %zu layer%s", L,
                                L == 1 ? "" : "s");
    uint64_t B = (uint64_t)sbp__net_param(net, SBP_NET_BATCH_SIZE), neurons = 0;
    for (size_t l = 0; l < L; l++) neurons += net->layers[l].size;
    uint64_t cap = (uint64_t)(limit + CRC_SIZE) * LOAD_STATE_PER_BYTE;
    if (cap < LOAD_STATE_FLOOR) cap = LOAD_STATE_FLOOR;
    if (B * neurons > cap)
        return sbp__reader_fail(r, SBP_E_TOO_LARGE, r->pos, cap, B * neurons,
                                "net.batch_size %llu x %llu neurons = %llu values per engine "
                                "buffer, beyond the loader's limit of %llu for a file of %zu "
                                "bytes", (unsigned long long)B, (unsigned long long)neurons,
                                (unsigned long long)(B * neurons), (unsigned long long)cap,
                                limit + CRC_SIZE);
    proj_at at[MAX_LAYERS];
    size_t wsec = r->pos;
    SBP_TRY(check_weights(r, limit, net, at));

    /* sbp_net_predict of 0 samples builds the network and does nothing else */
    float x = 0.0f;
    int32_t label = 0;
    sbp_status st = sbp_net_predict(net, 0, &x, &label, NULL);
    if (st != SBP_OK)
        return sbp__reader_fail(r, st, wsec, 0, 0, "cannot build the network: %s",
                                sbp_net_errmsg(net));
    for (size_t l = 1; l < L; l++) {
        size_t rows = net->layers[l - 1].size, cols = net->layers[l].size;
        copy_floats(net->w[l], r->data + at[l].w, rows * cols);
        copy_floats(net->b[l], r->data + at[l].b, cols);
    }

    SBP_TRY(open_section(r, TAG_STAT, limit, "engine state section"));
    if (net->ops->load_state) {
        SBP_TRY(net->ops->load_state(net, r));
    }
    r->section = "engine state section";
    return close_section(r);
}

/* Everything after the I/O: data holds exactly `size` bytes. */
static sbp_status parse(const unsigned char *data, size_t size, sbp__reader *r, sbp_net **out)
{
    uint64_t total = 0;
    SBP_TRY(check_header(r, data, size < HEADER_SIZE ? size : HEADER_SIZE, &total));
    SBP_TRY(check_length(r, total, size));
    uint32_t stored = le32(data + size - CRC_SIZE);
    uint32_t computed = sbp__crc32c(0, data, size - CRC_SIZE);
    r->section = "checksum";
    if (stored != computed)
        return sbp__reader_fail(r, SBP_E_CHECKSUM, size - CRC_SIZE, stored, computed,
                                "CRC-32C mismatch (stored 0x%08X, computed 0x%08X): the data "
                                "is corrupt", (unsigned)stored, (unsigned)computed);
    r->data = data;
    r->pos = HEADER_SIZE;
    size_t limit = size - CRC_SIZE;
    sbp_net *net = NULL;
    int built = 0;
    sbp_status st = read_description(r, limit, &net, &built);
    if (st == SBP_OK && built) st = restore_built(r, limit, net);
    if (st == SBP_OK && r->pos != limit) {
        r->section = "end";
        st = sbp__reader_fail(r, SBP_E_FORMAT, r->pos, limit, r->pos,
                              "%zu bytes after the last section", limit - r->pos);
    }
    if (st != SBP_OK) {
        sbp_net_free(net);
        return st;
    }
    net->errmsg[0] = '\0';
    *out = net;
    return SBP_OK;
}

static void diag_clear(sbp_diag *diag)
{
    if (diag) memset(diag, 0, sizeof *diag);
}

sbp_status sbp_net_load_mem(const void *data, size_t size, sbp_diag *diag, sbp_net **out)
{
    diag_clear(diag);
    if (!out)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "sbp_net_load_mem: out is NULL");
    *out = NULL;
    if (!data && size)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "sbp_net_load_mem: data is NULL");
    static const unsigned char empty[1] = {0};
    sbp__reader r = {.diag = diag, .file = "", .name = "model data", .section = "header"};
    return parse(size ? data : empty, size, &r, out);
}

/* Reads up to n bytes (fewer only at the end of the file). */
static sbp_status read_full(int fd, unsigned char *p, size_t n, size_t *got, sbp__reader *r)
{
    *got = 0;
    while (*got < n) {
        size_t chunk = n - *got < ((size_t)1 << 30) ? n - *got : ((size_t)1 << 30);
        ssize_t k = read(fd, p + *got, chunk);
        if (k < 0) {
            if (errno == EINTR) continue;
            char etext[128];
            int e = errno;
            return sbp__diag(r->diag, SBP_E_IO, r->file, *got, 0, 0, "%s: cannot read: %s",
                             r->name, errno_text(e, etext, sizeof etext));
        }
        if (k == 0) break;
        *got += (size_t)k;
    }
    return SBP_OK;
}

static sbp_status load_fd(int fd, const struct stat *st_, sbp__reader *r, sbp_net **out)
{
    unsigned char head[HEADER_SIZE];
    size_t have;
    SBP_TRY(read_full(fd, head, HEADER_SIZE, &have, r));
    uint64_t total = 0;
    SBP_TRY(check_header(r, head, have, &total));
    if (S_ISREG(st_->st_mode)) SBP_TRY(check_length(r, total, (uint64_t)st_->st_size));
    unsigned char *buf = sbp__malloc((size_t)total);
    if (!buf)
        return sbp__diag(r->diag, SBP_E_NOMEM, r->file, 0, total, 0,
                         "%s: out of memory reading %llu bytes", r->name,
                         (unsigned long long)total);
    memcpy(buf, head, HEADER_SIZE);
    size_t got;
    sbp_status st = read_full(fd, buf + HEADER_SIZE, (size_t)total - HEADER_SIZE, &got, r);
    if (st == SBP_OK) {
        uint64_t size = HEADER_SIZE + got;
        if (size == total) { /* the file may have grown since fstat */
            unsigned char extra;
            size_t more;
            st = read_full(fd, &extra, 1, &more, r);
            size += more;
        }
        if (st == SBP_OK) st = check_length(r, total, size);
    }
    if (st == SBP_OK) st = parse(buf, (size_t)total, r, out);
    sbp__free(buf);
    return st;
}

sbp_status sbp_net_load(const char *path, sbp_diag *diag, sbp_net **out)
{
    diag_clear(diag);
    if (!out) return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "sbp_net_load: out is NULL");
    *out = NULL;
    if (!path || !*path) return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "empty file path");
    char shown[192], etext[128];
    const char *sp = sbp__gz_short_path(path, shown, sizeof shown);
    sbp__reader r = {.diag = diag, .file = path, .name = sp, .section = "header"};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return sbp__diag(diag, SBP_E_IO, path, 0, 0, 0, "%s: cannot open: %s", sp,
                         errno_text(e, etext, sizeof etext));
    }
    struct stat st_;
    sbp_status st;
    if (fstat(fd, &st_) != 0) {
        int e = errno;
        st = sbp__diag(diag, SBP_E_IO, path, 0, 0, 0, "%s: cannot read: %s", sp,
                       errno_text(e, etext, sizeof etext));
    } else if (S_ISDIR(st_.st_mode)) {
        st = sbp__diag(diag, SBP_E_IO, path, 0, 0, 0, "%s: is a directory, expected a model file",
                       sp);
    } else {
        st = load_fd(fd, &st_, &r, out);
    }
    close(fd);
    return st;
}
