/* NETtalk: the corpus (nettalk.data), its word list (nettalk.list) and the
 * output code tables (features.tsv, stress.tsv); 7-letter windows as
 * datasets; decoding and scoring network outputs (docs/nettalk.md).
 *
 * Each file is read whole (after checking its size against
 * SBP__NT_MAX_FILE), checked to be printable ASCII text, then parsed line
 * by line. The corpus is parsed twice: the first pass checks every line and
 * counts entries and letters, the second fills arrays of exactly that size,
 * so nothing is allocated for a malformed file beyond its text. Every error
 * names the file, the 1-based line and the byte offset in sbp_diag. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../alloc.h"
#include "../rng.h"
#include "dataset.h"
#include "gzfile.h"
#include "nettalk.h"

#define BOUNDARY 26 /* window symbol beyond the word's edges */
#define PATH_BUF 4096

/* ------------------------------------------------------------------------ */
/* Text files                                                                */
/* ------------------------------------------------------------------------ */

typedef struct nt_text {
    const char *path;
    char shown[192];
    const char *sp; /* path for messages */
    char *buf;      /* len bytes + NUL */
    size_t len;
} nt_text;

typedef struct nt_line {
    const char *s;
    size_t len;     /* without the LF */
    size_t off;     /* byte offset of the line in the file */
    uint64_t no;    /* 1-based */
    int terminated; /* ends with LF */
} nt_line;

typedef struct nt_field {
    const char *s;
    size_t len;
    size_t off; /* byte offset in the file */
} nt_field;

/* Fills diag with "<file> line N: <message>" and returns st. */
static sbp_status nt_fail(sbp_diag *diag, sbp_status st, const nt_text *t, uint64_t line,
                          uint64_t offset, uint64_t expected, uint64_t found, const char *fmt,
                          ...) SBP__PRINTF(8, 9);
static sbp_status nt_fail(sbp_diag *diag, sbp_status st, const nt_text *t, uint64_t line,
                          uint64_t offset, uint64_t expected, uint64_t found, const char *fmt,
                          ...)
{
    if (!diag) return st;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line)
        sbp__diag(diag, st, t->path, offset, expected, found, "%s line %" PRIu64 ": %s", t->sp,
                  line, msg);
    else
        sbp__diag(diag, st, t->path, offset, expected, found, "%s: %s", t->sp, msg);
    diag->line = line;
    return st;
}

static void text_free(nt_text *t)
{
    sbp__free(t->buf);
    t->buf = NULL;
}

/* Reads a whole regular file, refusing one larger than SBP__NT_MAX_FILE or
 * empty, and checks that every byte is printable ASCII, TAB, CR or LF. */
static sbp_status read_text(nt_text *t, const char *path, sbp_diag *diag)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    t->sp = sbp__gz_short_path(path, t->shown, sizeof t->shown);
    FILE *f = fopen(path, "rb");
    if (!f) return nt_fail(diag, SBP_E_IO, t, 0, 0, 0, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    sbp_status rc = SBP_OK;
    if (fstat(fileno(f), &st) != 0)
        rc = nt_fail(diag, SBP_E_IO, t, 0, 0, 0, 0, "cannot stat: %s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = nt_fail(diag, SBP_E_IO, t, 0, 0, 0, 0, "is a directory, expected a text file");
    else if (!S_ISREG(st.st_mode))
        rc = nt_fail(diag, SBP_E_IO, t, 0, 0, 0, 0, "not a regular file");
    else if ((uint64_t)st.st_size > SBP__NT_MAX_FILE)
        rc = nt_fail(diag, SBP_E_TOO_LARGE, t, 0, 0, SBP__NT_MAX_FILE, (uint64_t)st.st_size,
                     "%" PRIu64 " bytes, more than the limit of %zu for a NETtalk file",
                     (uint64_t)st.st_size, SBP__NT_MAX_FILE);
    else if (st.st_size == 0)
        rc = nt_fail(diag, SBP_E_FORMAT, t, 0, 0, 0, 0, "empty file");
    if (rc != SBP_OK) {
        fclose(f);
        return rc;
    }
    size_t size = (size_t)st.st_size;
    t->buf = sbp__malloc(size + 1);
    if (!t->buf) {
        fclose(f);
        return nt_fail(diag, SBP_E_NOMEM, t, 0, 0, 0, 0, "out of memory for %zu bytes", size);
    }
    size_t got = fread(t->buf, 1, size, f);
    int err = ferror(f);
    fclose(f);
    if (got != size) {
        text_free(t);
        if (err) return nt_fail(diag, SBP_E_IO, t, 0, got, 0, 0, "read error");
        return nt_fail(diag, SBP_E_TRUNCATED, t, 0, got, size, got,
                       "file shrank while being read (%zu of %zu bytes)", got, size);
    }
    t->buf[size] = '\0';
    t->len = size;
    uint64_t line = 1;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)t->buf[i];
        if (c == '\n') {
            line++;
            continue;
        }
        if (c == '\t' || c == '\r' || (c >= 0x20 && c < 0x7f)) continue;
        text_free(t);
        return nt_fail(diag, SBP_E_FORMAT, t, line, i, 0, c,
                       "byte 0x%02x at offset %zu is not printable ASCII: binary data or "
                       "not a NETtalk text file",
                       (unsigned)c, i);
    }
    return SBP_OK;
}

static int next_line(const nt_text *t, size_t *pos, uint64_t *no, nt_line *ln)
{
    if (*pos >= t->len) return 0;
    const char *s = t->buf + *pos;
    const char *nl = memchr(s, '\n', t->len - *pos);
    ln->s = s;
    ln->len = nl ? (size_t)(nl - s) : t->len - *pos;
    ln->off = *pos;
    ln->no = ++*no;
    ln->terminated = nl != NULL;
    *pos += ln->len + (nl ? 1 : 0);
    return 1;
}

static int is_pad(char c)
{
    return c == ' ' || c == '\r';
}

static int is_blank(const nt_line *ln)
{
    for (size_t i = 0; i < ln->len; i++)
        if (!is_pad(ln->s[i])) return 0;
    return 1;
}

/* Splits a line at TABs into trimmed fields; returns how many there are
 * (only the first `max` are stored). */
static size_t split_tabs(const nt_line *ln, nt_field *f, size_t max)
{
    size_t n = 0, i = 0;
    for (;;) {
        size_t start = i;
        while (i < ln->len && ln->s[i] != '\t') i++;
        size_t a = start, b = i;
        while (a < b && is_pad(ln->s[a])) a++;
        while (b > a && is_pad(ln->s[b - 1])) b--;
        if (n < max) {
            f[n].s = ln->s + a;
            f[n].len = b - a;
            f[n].off = ln->off + a;
        }
        n++;
        if (i >= ln->len) break;
        i++; /* the TAB */
    }
    return n;
}

static const char *printable(char c, char buf[8])
{
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", (unsigned)(unsigned char)c);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Code tables: features.tsv and stress.tsv                                  */
/* ------------------------------------------------------------------------ */

static const char *const articulatory_units[SBP_NETTALK_ARTICULATORY] = {
    "Front1", "Front2", "Central1", "Central2", "Back1",  "Back2",  "Stop",
    "Nasal",  "Fricative", "Affricative", "Glide", "Liquid", "Voiced", "Tensed",
    "High",   "Medium", "Low", "Silent", "Elide", "Pause", "FullStop",
};
/* The paper's consonant names of the six position units. */
static const char *const articulatory_aliases[6] = {
    "Labial", "Dental", "Alveolar", "Palatal", "Velar", "Glottal",
};
static const char *const stress_units[SBP_NETTALK_STRESS_UNITS] = {
    "Right", "Left", "Strong", "Weak", "Boundary",
};

static int unit_index(int stress, const char *s, size_t len)
{
    size_t n = stress ? SBP_NETTALK_STRESS_UNITS : SBP_NETTALK_ARTICULATORY;
    const char *const *names = stress ? stress_units : articulatory_units;
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) return (int)i;
    for (size_t i = 0; !stress && i < 6; i++)
        if (strlen(articulatory_aliases[i]) == len && memcmp(articulatory_aliases[i], s, len) == 0)
            return (int)i;
    return -1;
}

/* Parses the units of one row into code[units]. */
static sbp_status parse_units(const nt_text *t, const nt_line *ln, const nt_field *f, char sym,
                              int stress, float *code, sbp_diag *diag)
{
    size_t units = stress ? SBP_NETTALK_STRESS_UNITS : SBP_NETTALK_ARTICULATORY;
    for (size_t u = 0; u < units; u++) code[u] = 0.0f;
    size_t i = 0, count = 0;
    char b[8];
    while (i < f->len) {
        while (i < f->len && f->s[i] == ' ') i++;
        if (i >= f->len) break;
        size_t start = i;
        while (i < f->len && f->s[i] != ' ') i++;
        int u = unit_index(stress, f->s + start, i - start);
        if (u < 0)
            return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f->off + start, 0, 0,
                           "symbol %s: unknown unit '%.*s' (expected %s)", printable(sym, b),
                           (int)(i - start > 40 ? 40 : i - start), f->s + start,
                           stress ? "Right, Left, Strong, Weak or Boundary"
                                  : "one of the 21 articulatory units Front1 .. FullStop, "
                                    "docs/nettalk.md");
        if (code[u] != 0.0f)
            return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f->off + start, 0, 0,
                           "symbol %s: unit %s is listed twice", printable(sym, b),
                           stress ? stress_units[u] : articulatory_units[u]);
        code[u] = 1.0f;
        count++;
    }
    if (count == 0)
        return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f->off, 0, 0,
                       "symbol %s turns on no unit; expected symbol<TAB>unit unit ...",
                       printable(sym, b));
    return SBP_OK;
}

sbp_status sbp__nt_parse_table(const char *path, int stress, sbp_nettalk_codes *codes,
                               sbp_diag *diag)
{
    nt_text t;
    SBP_TRY(read_text(&t, path, diag));
    const size_t max = stress ? SBP_NETTALK_MAX_STRESS : SBP_NETTALK_MAX_PHONEMES;
    char *symbols = stress ? codes->stress : codes->phonemes;
    uint64_t seen_line[256] = {0};
    size_t n = 0, pos = 0;
    uint64_t no = 0;
    nt_line ln;
    sbp_status st = SBP_OK;
    char b[8];
    /* Line 1 is the header, skipped by position: '#' is a phoneme symbol,
     * so a comment convention cannot be used. */
    next_line(&t, &pos, &no, &ln);
    while (st == SBP_OK && next_line(&t, &pos, &no, &ln)) {
        if (is_blank(&ln)) continue;
        nt_field f[3];
        size_t nf = split_tabs(&ln, f, 3);
        if (nf < 2 && !ln.terminated && pos >= t.len) {
            st = nt_fail(diag, SBP_E_TRUNCATED, &t, ln.no, ln.off + ln.len, 2, nf,
                         "the file ends in the middle of the line (no units field)");
            break;
        }
        if (nf != 2) {
            st = nt_fail(diag, SBP_E_FORMAT, &t, ln.no, ln.off, 2, nf,
                         "%zu field%s, expected 2: symbol<TAB>unit unit ...", nf,
                         nf == 1 ? "" : "s");
            break;
        }
        if (f[0].len != 1) {
            st = nt_fail(diag, SBP_E_FORMAT, &t, ln.no, f[0].off, 1, f[0].len,
                         "symbol '%.*s' must be exactly one character",
                         (int)(f[0].len > 20 ? 20 : f[0].len), f[0].s);
            break;
        }
        unsigned char c = (unsigned char)f[0].s[0];
        if (seen_line[c]) {
            st = nt_fail(diag, SBP_E_FORMAT, &t, ln.no, f[0].off, 0, 0,
                         "symbol %s is listed twice (lines %" PRIu64 " and %" PRIu64 ")",
                         printable((char)c, b), seen_line[c], ln.no);
            break;
        }
        if (n == max) {
            st = nt_fail(diag, SBP_E_TOO_LARGE, &t, ln.no, ln.off, max, n + 1,
                         "more than %zu symbols", max);
            break;
        }
        float *code = stress ? codes->stress_code[n] : codes->phoneme_code[n];
        st = parse_units(&t, &ln, &f[1], (char)c, stress, code, diag);
        if (st != SBP_OK) break;
        seen_line[c] = ln.no;
        symbols[n++] = (char)c;
    }
    if (st == SBP_OK && n == 0)
        st = nt_fail(diag, SBP_E_FORMAT, &t, 0, t.len, 0, 0,
                     "no symbols after the header line (expected symbol<TAB>unit unit ...)");
    text_free(&t);
    if (st != SBP_OK) return st;
    symbols[n] = '\0';
    if (stress)
        codes->n_stress = n;
    else
        codes->n_phonemes = n;
    return SBP_OK;
}

static int path_in(char *buf, const char *dir, const char *name)
{
    int len = snprintf(buf, PATH_BUF, "%s/%s", dir, name);
    return len > 0 && len < PATH_BUF;
}

static sbp_status check_dir(const char *dir, const char *fn, sbp_diag *diag)
{
    if (!dir || !*dir)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0, "%s: directory is NULL or empty", fn);
    struct stat st;
    char shown[192];
    const char *sd = sbp__gz_short_path(dir, shown, sizeof shown);
    if (stat(dir, &st) != 0)
        return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "%s: %s", sd, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "%s: not a directory", sd);
    if (strlen(dir) + 32 >= PATH_BUF)
        return sbp__diag(diag, SBP_E_IO, dir, 0, 0, 0, "%s: path too long", sd);
    return SBP_OK;
}

static sbp_status load_codes(const char *dir, sbp_diag *diag, sbp_nettalk_codes *codes)
{
    char path[PATH_BUF];
    memset(codes, 0, sizeof *codes);
    path_in(path, dir, "features.tsv");
    SBP_TRY(sbp__nt_parse_table(path, 0, codes, diag));
    path_in(path, dir, "stress.tsv");
    return sbp__nt_parse_table(path, 1, codes, diag);
}

sbp_status sbp_nettalk_load_codes(const char *dir, sbp_diag *diag, sbp_nettalk_codes *codes)
{
    if (diag) memset(diag, 0, sizeof *diag);
    if (!codes)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_nettalk_load_codes: codes is NULL");
    memset(codes, 0, sizeof *codes);
    SBP_TRY(check_dir(dir, "sbp_nettalk_load_codes", diag));
    sbp_status st = load_codes(dir, diag, codes);
    if (st != SBP_OK) memset(codes, 0, sizeof *codes);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The corpus: nettalk.data                                                  */
/* ------------------------------------------------------------------------ */

static int codes_ok(const sbp_nettalk_codes *c)
{
    return c && c->n_phonemes >= 1 && c->n_phonemes <= SBP_NETTALK_MAX_PHONEMES &&
           c->n_stress >= 1 && c->n_stress <= SBP_NETTALK_MAX_STRESS;
}

/* One checked line of nettalk.data. */
typedef struct nt_parsed {
    nt_field word, phon, stress;
    int cls;
} nt_parsed;

static sbp_status parse_entry(const nt_text *t, const nt_line *ln, int at_end,
                              const int16_t *phon_of, const int16_t *stress_of, nt_parsed *e,
                              sbp_diag *diag)
{
    nt_field f[5];
    size_t nf = split_tabs(ln, f, 5);
    static const char *const names[4] = {"word", "phonemes", "stress", "class"};
    char b[8];
    if (nf < 4 && !ln->terminated && at_end)
        return nt_fail(diag, SBP_E_TRUNCATED, t, ln->no, ln->off + ln->len, 4, nf,
                       "the file ends in the middle of the line (%zu of 4 fields; missing the "
                       "%s)",
                       nf, names[nf]);
    if (nf < 4)
        return nt_fail(diag, SBP_E_FORMAT, t, ln->no, ln->off + ln->len, 4, nf,
                       "%zu field%s, expected 4 (word<TAB>phonemes<TAB>stress<TAB>class); "
                       "missing the %s",
                       nf, nf == 1 ? "" : "s", names[nf]);
    if (nf > 4)
        return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f[4].off, 4, nf,
                       "%zu fields, expected 4 (word<TAB>phonemes<TAB>stress<TAB>class)", nf);
    for (int i = 0; i < 4; i++)
        if (f[i].len == 0)
            return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f[i].off, 0, 0, "empty %s field",
                           names[i]);
    const nt_field *w = &f[0];
    if (w->len > SBP__NT_MAX_WORD)
        return nt_fail(diag, SBP_E_TOO_LARGE, t, ln->no, w->off, SBP__NT_MAX_WORD, w->len,
                       "word of %zu letters, more than the limit of %d ('%.20s...')", w->len,
                       SBP__NT_MAX_WORD, w->s);
    for (size_t i = 0; i < w->len; i++)
        if (w->s[i] < 'a' || w->s[i] > 'z')
            return nt_fail(diag, SBP_E_FORMAT, t, ln->no, w->off + i, 0,
                           (unsigned char)w->s[i],
                           "unknown letter %s at position %zu of the word '%.*s' (expected "
                           "a-z)",
                           printable(w->s[i], b), i + 1, (int)w->len, w->s);
    for (int k = 1; k <= 2; k++)
        if (f[k].len != w->len)
            return nt_fail(diag, SBP_E_MISMATCH, t, ln->no, f[k].off, w->len, f[k].len,
                           "the %s field '%.*s' has %zu symbols but the word '%.*s' has %zu "
                           "letters",
                           names[k], (int)(f[k].len > 40 ? 40 : f[k].len), f[k].s, f[k].len,
                           (int)w->len, w->s, w->len);
    for (size_t i = 0; i < w->len; i++) {
        char p = f[1].s[i], s = f[2].s[i];
        if (phon_of[(unsigned char)p] < 0)
            return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f[1].off + i, 0, (unsigned char)p,
                           "unknown phoneme symbol %s at position %zu of '%.*s' (not in "
                           "features.tsv)",
                           printable(p, b), i + 1, (int)f[1].len, f[1].s);
        if (stress_of[(unsigned char)s] < 0)
            return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f[2].off + i, 0, (unsigned char)s,
                           "unknown stress symbol %s at position %zu of '%.*s' (not in "
                           "stress.tsv)",
                           printable(s, b), i + 1, (int)f[2].len, f[2].s);
    }
    if (f[3].len != 1 || f[3].s[0] < '0' || f[3].s[0] > '2')
        return nt_fail(diag, SBP_E_FORMAT, t, ln->no, f[3].off, 0, 0,
                       "class '%.*s', expected 0 (regular), 1 (irregular) or 2 (foreign)",
                       (int)(f[3].len > 20 ? 20 : f[3].len), f[3].s);
    e->word = f[0];
    e->phon = f[1];
    e->stress = f[2];
    e->cls = f[3].s[0] - '0';
    return SBP_OK;
}

void sbp__nt_corpus_free(sbp__nt_corpus *c)
{
    if (!c) return;
    sbp__free(c->entry);
    sbp__free(c->letter);
    sbp__free(c->phoneme);
    sbp__free(c->stress);
    memset(c, 0, sizeof *c);
}

/* A word of the corpus, for sorting. */
typedef struct nt_key {
    const uint8_t *w;
    uint32_t len;
    size_t e; /* entry index */
} nt_key;

static int key_cmp(const void *pa, const void *pb)
{
    const nt_key *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->w, b->w, n);
    if (c) return c;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return a->e < b->e ? -1 : a->e > b->e;
}

/* Entries sorted by word (then by line): caller frees. */
static nt_key *sorted_keys(const sbp__nt_corpus *c)
{
    nt_key *k = sbp__calloc(c->n_entries, sizeof *k);
    if (!k) return NULL;
    for (size_t e = 0; e < c->n_entries; e++) {
        k[e].w = c->letter + c->entry[e].at;
        k[e].len = c->entry[e].len;
        k[e].e = e;
    }
    qsort(k, c->n_entries, sizeof *k, key_cmp);
    return k;
}

sbp_status sbp__nt_parse_corpus(const char *path, const sbp_nettalk_codes *codes,
                                sbp__nt_corpus *out, sbp_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (!codes_ok(codes))
        return sbp__diag(diag, SBP_E_INVALID, path, 0, 0, 0, "invalid NETtalk code table");
    int16_t phon_of[256], stress_of[256];
    for (int i = 0; i < 256; i++) phon_of[i] = stress_of[i] = -1;
    for (size_t i = 0; i < codes->n_phonemes; i++)
        phon_of[(unsigned char)codes->phonemes[i]] = (int16_t)i;
    for (size_t i = 0; i < codes->n_stress; i++)
        stress_of[(unsigned char)codes->stress[i]] = (int16_t)i;

    nt_text t;
    SBP_TRY(read_text(&t, path, diag));
    /* Pass 1: check every line, count entries and letters. */
    size_t pos = 0, entries = 0, letters = 0;
    uint64_t no = 0;
    nt_line ln;
    nt_parsed e;
    sbp_status st = SBP_OK;
    while (next_line(&t, &pos, &no, &ln)) {
        if (is_blank(&ln)) continue;
        st = parse_entry(&t, &ln, pos >= t.len, phon_of, stress_of, &e, diag);
        if (st != SBP_OK) break;
        entries++;
        letters += e.word.len;
    }
    if (st == SBP_OK && entries == 0)
        st = nt_fail(diag, SBP_E_FORMAT, &t, 0, 0, 0, 0,
                     "no entries (expected word<TAB>phonemes<TAB>stress<TAB>class lines)");
    if (st == SBP_OK && no > UINT32_MAX)
        st = nt_fail(diag, SBP_E_TOO_LARGE, &t, 0, 0, UINT32_MAX, no, "too many lines");
    if (st != SBP_OK) {
        text_free(&t);
        return st;
    }
    /* Pass 2: fill. */
    out->entry = sbp__calloc(entries, sizeof *out->entry);
    out->letter = sbp__malloc(letters);
    out->phoneme = sbp__malloc(letters);
    out->stress = sbp__malloc(letters);
    if (!out->entry || !out->letter || !out->phoneme || !out->stress) {
        sbp__nt_corpus_free(out);
        st = nt_fail(diag, SBP_E_NOMEM, &t, 0, 0, 0, 0, "out of memory for %zu entries",
                     entries);
        text_free(&t);
        return st;
    }
    pos = 0;
    no = 0;
    size_t at = 0, n = 0;
    while (next_line(&t, &pos, &no, &ln)) {
        if (is_blank(&ln)) continue;
        parse_entry(&t, &ln, pos >= t.len, phon_of, stress_of, &e, NULL);
        sbp__nt_entry *en = &out->entry[n++];
        en->at = at;
        en->len = (uint32_t)e.word.len;
        en->line = (uint32_t)ln.no;
        en->cls = (uint8_t)e.cls;
        for (size_t i = 0; i < e.word.len; i++) {
            out->letter[at + i] = (uint8_t)(e.word.s[i] - 'a');
            out->phoneme[at + i] = (uint8_t)phon_of[(unsigned char)e.phon.s[i]];
            out->stress[at + i] = (uint8_t)stress_of[(unsigned char)e.stress.s[i]];
        }
        at += e.word.len;
    }
    text_free(&t);
    out->n_entries = entries;
    out->n_letters = letters;
    /* Repeated words: every entry after the first of its word. */
    nt_key *k = sorted_keys(out);
    if (!k) {
        sbp__nt_corpus_free(out);
        return sbp__diag(diag, SBP_E_NOMEM, path, 0, 0, 0, "out of memory sorting %zu words",
                         entries);
    }
    out->n_words = entries;
    for (size_t i = 1; i < entries; i++)
        if (k[i].len == k[i - 1].len && memcmp(k[i].w, k[i - 1].w, k[i].len) == 0) {
            out->entry[k[i].e].repeat = 1;
            out->n_words--;
        }
    sbp__free(k);
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* The word list: nettalk.list                                               */
/* ------------------------------------------------------------------------ */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds the list: the first line starting with '('; *start is the offset
 * after it and *line its line. */
static int find_list(const nt_text *t, size_t *start, uint64_t *line)
{
    size_t pos = 0;
    uint64_t no = 0;
    nt_line ln;
    while (next_line(t, &pos, &no, &ln))
        if (ln.len > 0 && ln.s[0] == '(') {
            *start = ln.off + 1;
            *line = ln.no;
            return 1;
        }
    return 0;
}

/* Walks the words of the list: calls fn for each (NULL fn: only checks).
 * Returns the number of words in *n. */
typedef sbp_status (*word_fn)(void *user, const nt_text *t, const char *w, size_t len,
                              size_t off, uint64_t line, sbp_diag *diag);

static sbp_status walk_list(const nt_text *t, word_fn fn, void *user, size_t *n, sbp_diag *diag)
{
    size_t i;
    uint64_t line;
    *n = 0;
    if (!find_list(t, &i, &line))
        return nt_fail(diag, SBP_E_FORMAT, t, 0, 0, 0, 0,
                       "no word list: expected a line starting with '(' after the note");
    char b[8];
    for (;;) {
        while (i < t->len && is_space(t->buf[i])) line += t->buf[i++] == '\n';
        if (i >= t->len)
            return nt_fail(diag, SBP_E_TRUNCATED, t, line, i, 0, 0,
                           "the file ends inside the word list: no closing ')'");
        if (t->buf[i] == ')') break;
        size_t start = i;
        while (i < t->len && !is_space(t->buf[i]) && t->buf[i] != ')') {
            char c = t->buf[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                return nt_fail(diag, SBP_E_FORMAT, t, line, i, 0, (unsigned char)c,
                               "unknown character %s in a word of the list (expected letters)",
                               printable(c, b));
            i++;
        }
        if (i - start > SBP__NT_MAX_WORD)
            return nt_fail(diag, SBP_E_TOO_LARGE, t, line, start, SBP__NT_MAX_WORD, i - start,
                           "word of %zu letters, more than the limit of %d", i - start,
                           SBP__NT_MAX_WORD);
        if (fn) SBP_TRY(fn(user, t, t->buf + start, i - start, start, line, diag));
        (*n)++;
    }
    size_t close = i++;
    const uint64_t close_line = line;
    for (; i < t->len; i++) {
        if (t->buf[i] == '\n') line++;
        if (!is_space(t->buf[i]))
            return nt_fail(diag, SBP_E_FORMAT, t, line, i, 0, 0,
                           "text after the ')' that closes the word list (at offset %zu)",
                           close);
    }
    if (*n == 0)
        return nt_fail(diag, SBP_E_FORMAT, t, close_line, close, 0, 0, "the word list is empty");
    return SBP_OK;
}

typedef struct list_ctx {
    const sbp__nt_corpus *corpus;
    const nt_key *keys;
    uint64_t *listed_at; /* per entry: line where listed, 0 = not yet */
    size_t *pos;
    size_t n;
} list_ctx;

static sbp_status list_word(void *user, const nt_text *t, const char *w, size_t len, size_t off,
                            uint64_t line, sbp_diag *diag)
{
    list_ctx *c = user;
    uint8_t low[SBP__NT_MAX_WORD];
    for (size_t i = 0; i < len; i++)
        low[i] = (uint8_t)((w[i] >= 'a' ? w[i] - 'a' : w[i] - 'A'));
    nt_key key = {low, (uint32_t)len, 0};
    /* The first entry of the word: the smallest (word, entry) >= (w, 0). */
    size_t lo = 0, hi = c->corpus->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(&c->keys[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == c->corpus->n_entries || c->keys[lo].len != len ||
        memcmp(c->keys[lo].w, low, len) != 0)
        return nt_fail(diag, SBP_E_MISMATCH, t, line, off, 0, 0,
                       "the word '%.*s' is not in nettalk.data", (int)len, w);
    size_t e = c->keys[lo].e;
    if (c->listed_at[e])
        return nt_fail(diag, SBP_E_FORMAT, t, line, off, 0, 0,
                       "the word '%.*s' is listed twice (lines %" PRIu64 " and %" PRIu64 ")",
                       (int)len, w, c->listed_at[e], line);
    c->listed_at[e] = line;
    c->pos[c->n++] = e;
    return SBP_OK;
}

sbp_status sbp__nt_parse_list(const char *path, const sbp__nt_corpus *corpus, size_t **pos,
                              size_t *n, sbp_diag *diag)
{
    *pos = NULL;
    *n = 0;
    nt_text t;
    SBP_TRY(read_text(&t, path, diag));
    size_t count = 0;
    sbp_status st = walk_list(&t, NULL, NULL, &count, diag);
    list_ctx c = {corpus, NULL, NULL, NULL, 0};
    if (st == SBP_OK) {
        c.keys = sorted_keys(corpus);
        c.listed_at = sbp__calloc(corpus->n_entries, sizeof *c.listed_at);
        c.pos = sbp__calloc(count, sizeof *c.pos);
        if (!c.keys || !c.listed_at || !c.pos)
            st = nt_fail(diag, SBP_E_NOMEM, &t, 0, 0, 0, 0, "out of memory for %zu words",
                         count);
    }
    if (st == SBP_OK) st = walk_list(&t, list_word, &c, &count, diag);
    sbp__free((void *)c.keys);
    sbp__free(c.listed_at);
    text_free(&t);
    if (st != SBP_OK) {
        sbp__free(c.pos);
        return st;
    }
    *pos = c.pos;
    *n = c.n;
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* Windows and splits                                                        */
/* ------------------------------------------------------------------------ */

/* Writes the windows of entry e into rows starting at *row. */
static void put_word(const sbp__nt_corpus *c, const sbp_nettalk_codes *codes, size_t e,
                     sbp_dataset *ds, size_t *row)
{
    const sbp__nt_entry *en = &c->entry[e];
    for (size_t i = 0; i < en->len; i++, (*row)++) {
        float *x = ds->x + *row * SBP_NETTALK_INPUTS;
        float *y = ds->y + *row * SBP_NETTALK_UNITS;
        for (size_t p = 0; p < SBP_NETTALK_WINDOW; p++) {
            ptrdiff_t j = (ptrdiff_t)i + (ptrdiff_t)p - SBP_NETTALK_WINDOW / 2;
            size_t sym = j < 0 || j >= (ptrdiff_t)en->len ? BOUNDARY : c->letter[en->at + (size_t)j];
            x[p * SBP_NETTALK_SYMBOLS + sym] = 1.0f;
        }
        memcpy(y, codes->phoneme_code[c->phoneme[en->at + i]],
               SBP_NETTALK_ARTICULATORY * sizeof *y);
        memcpy(y + SBP_NETTALK_ARTICULATORY, codes->stress_code[c->stress[en->at + i]],
               SBP_NETTALK_STRESS_UNITS * sizeof *y);
    }
}

/* A dataset of the windows of entries idx[0..n). */
static sbp_status build_part(const sbp__nt_corpus *c, const sbp_nettalk_codes *codes,
                             const size_t *idx, size_t n, const char *what, const char *dir,
                             sbp_diag *diag, sbp_dataset **out)
{
    size_t windows = 0;
    for (size_t i = 0; i < n; i++) windows += c->entry[idx[i]].len;
    if (windows == 0)
        return sbp__diag(diag, SBP_E_RANGE, dir, 0, 0, 0,
                         "NETtalk: the %s part of this split has no words", what);
    sbp_dataset *ds;
    sbp_status st = sbp__dataset_new(windows, SBP_NETTALK_INPUTS, SBP_NETTALK_UNITS, &ds);
    if (st != SBP_OK)
        return sbp__diag(diag, st, dir, 0, 0, 0,
                         "NETtalk: cannot make the %s set of %zu windows: %s", what, windows,
                         sbp_status_str(st));
    size_t row = 0;
    for (size_t i = 0; i < n; i++) put_word(c, codes, idx[i], ds, &row);
    sbp__dataset_labels_from_targets(ds);
    *out = ds;
    return SBP_OK;
}

/* Fisher-Yates shuffle of a[0..n) from (seed, stream). */
static void shuffle(size_t *a, size_t n, uint64_t seed, uint64_t stream)
{
    sbp__rng rng;
    sbp__rng_init(&rng, seed, stream);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)sbp__rng_below(&rng, i);
        size_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}

/* The paper splits. PAPER: train = the listed entries in list order, test =
 * every other distinct word in corpus order. PAPER_VAL: the listed entries
 * only; a seeded (n + 2) / 5 of them (at least 1) go to the second part, in
 * corpus order, and the others stay in train, in list order. */
static sbp_status choose_paper_words(const char *dir, sbp_nettalk_split split, uint64_t seed,
                                     const sbp__nt_corpus *c, size_t *train_idx, size_t *n_train,
                                     size_t *test_idx, size_t *n_test, sbp_diag *diag)
{
    char path[PATH_BUF];
    path_in(path, dir, "nettalk.list");
    size_t *pos = NULL, n = 0;
    SBP_TRY(sbp__nt_parse_list(path, c, &pos, &n, diag));
    /* per entry: 0 not listed, 1 listed (train), 2 listed and held out */
    if (split == SBP_NETTALK_PAPER_VAL && n < 2) {
        sbp__free(pos);
        return sbp__diag(diag, SBP_E_RANGE, path, 0, 2, n,
                         "NETtalk: %zu listed word, the validation split needs at least 2", n);
    }
    uint8_t *mark = sbp__calloc(c->n_entries, 1);
    size_t *perm = split == SBP_NETTALK_PAPER_VAL ? sbp__calloc(n, sizeof *perm) : NULL;
    if (!mark || (split == SBP_NETTALK_PAPER_VAL && !perm)) {
        sbp__free(pos);
        sbp__free(mark);
        sbp__free(perm);
        return sbp__diag(diag, SBP_E_NOMEM, dir, 0, 0, 0, "NETtalk: out of memory");
    }
    for (size_t i = 0; i < n; i++) mark[pos[i]] = 1;
    if (split == SBP_NETTALK_PAPER_VAL) {
        memcpy(perm, pos, n * sizeof *perm);
        shuffle(perm, n, seed, 0x4E5456414Cull /* "NTVAL" */);
        size_t held = (n + 2) / 5 ? (n + 2) / 5 : 1;
        for (size_t i = 0; i < held; i++) mark[perm[i]] = 2;
        for (size_t i = 0; i < n; i++)
            if (mark[pos[i]] == 1) train_idx[(*n_train)++] = pos[i];
        for (size_t e = 0; e < c->n_entries; e++)
            if (mark[e] == 2) test_idx[(*n_test)++] = e;
    } else {
        memcpy(train_idx, pos, n * sizeof *pos);
        *n_train = n;
        for (size_t e = 0; e < c->n_entries; e++)
            if (!c->entry[e].repeat && !mark[e]) test_idx[(*n_test)++] = e;
    }
    sbp__free(perm);
    sbp__free(mark);
    sbp__free(pos);
    return SBP_OK;
}

/* Fills train_idx / test_idx (each sized n_words) for the split. */
static sbp_status choose_words(const char *dir, sbp_nettalk_split split, uint64_t seed,
                               const sbp__nt_corpus *c, size_t *train_idx, size_t *n_train,
                               size_t *test_idx, size_t *n_test, sbp_diag *diag)
{
    *n_train = *n_test = 0;
    if (split != SBP_NETTALK_WORDS)
        return choose_paper_words(dir, split, seed, c, train_idx, n_train, test_idx, n_test,
                                  diag);
    size_t W = c->n_words;
    if (W < 2)
        return sbp__diag(diag, SBP_E_RANGE, dir, 0, 2, W,
                         "NETtalk: %zu distinct word%s, a word-level split needs at least 2", W,
                         W == 1 ? "" : "s");
    size_t *perm = sbp__calloc(W, sizeof *perm);
    uint8_t *in_test = sbp__calloc(c->n_entries, 1);
    if (!perm || !in_test) {
        sbp__free(perm);
        sbp__free(in_test);
        return sbp__diag(diag, SBP_E_NOMEM, dir, 0, 0, 0, "NETtalk: out of memory");
    }
    size_t w = 0;
    for (size_t e = 0; e < c->n_entries; e++)
        if (!c->entry[e].repeat) perm[w++] = e;
    shuffle(perm, W, seed, 0x4E5457524453ull /* "NTWRDS" */);
    size_t nt = (W + 5) / 10;
    if (nt == 0) nt = 1;
    for (size_t i = 0; i < nt; i++) in_test[perm[i]] = 1;
    for (size_t e = 0; e < c->n_entries; e++)
        if (in_test[e]) test_idx[(*n_test)++] = e;
    for (size_t i = nt; i < W; i++) train_idx[(*n_train)++] = perm[i];
    sbp__free(perm);
    sbp__free(in_test);
    return SBP_OK;
}

static sbp_status load(const char *dir, sbp_nettalk_split split, uint64_t seed, sbp_diag *diag,
                       sbp_dataset **train, sbp_dataset **test)
{
    sbp_nettalk_codes *codes = sbp__calloc(1, sizeof *codes);
    if (!codes) return sbp__diag(diag, SBP_E_NOMEM, dir, 0, 0, 0, "NETtalk: out of memory");
    sbp__nt_corpus c;
    memset(&c, 0, sizeof c);
    size_t *train_idx = NULL, *test_idx = NULL, n_train = 0, n_test = 0;
    char path[PATH_BUF];
    sbp_status st = load_codes(dir, diag, codes);
    if (st == SBP_OK) {
        path_in(path, dir, "nettalk.data");
        st = sbp__nt_parse_corpus(path, codes, &c, diag);
    }
    if (st == SBP_OK) {
        train_idx = sbp__calloc(c.n_entries, sizeof *train_idx);
        test_idx = sbp__calloc(c.n_entries, sizeof *test_idx);
        if (!train_idx || !test_idx)
            st = sbp__diag(diag, SBP_E_NOMEM, dir, 0, 0, 0, "NETtalk: out of memory");
    }
    if (st == SBP_OK)
        st = choose_words(dir, split, seed, &c, train_idx, &n_train, test_idx, &n_test, diag);
    if (st == SBP_OK && train)
        st = build_part(&c, codes, train_idx, n_train, "training", dir, diag, train);
    if (st == SBP_OK && test)
        st = build_part(&c, codes, test_idx, n_test, "test", dir, diag, test);
    sbp__free(train_idx);
    sbp__free(test_idx);
    sbp__nt_corpus_free(&c);
    sbp__free(codes);
    return st;
}

sbp_status sbp_nettalk_load(const char *dir, sbp_nettalk_split split, uint64_t seed,
                            sbp_diag *diag, sbp_dataset **train, sbp_dataset **test)
{
    if (diag) memset(diag, 0, sizeof *diag);
    if (train) *train = NULL;
    if (test) *test = NULL;
    if (!train && !test)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_nettalk_load: train and test are both NULL");
    if (split != SBP_NETTALK_PAPER && split != SBP_NETTALK_WORDS &&
        split != SBP_NETTALK_PAPER_VAL)
        return sbp__diag(diag, SBP_E_INVALID, "", 0, 0, 0,
                         "sbp_nettalk_load: unknown split %d", (int)split);
    SBP_TRY(check_dir(dir, "sbp_nettalk_load", diag));
    sbp_dataset *a = NULL, *b = NULL;
    sbp_status st = load(dir, split, seed, diag, train ? &a : NULL, test ? &b : NULL);
    if (st != SBP_OK) {
        sbp_dataset_free(a);
        sbp_dataset_free(b);
        return st;
    }
    if (train) *train = a;
    if (test) *test = b;
    return SBP_OK;
}

/* ------------------------------------------------------------------------ */
/* Decoding and scoring                                                      */
/* ------------------------------------------------------------------------ */

/* Index of the code with the largest cosine with o (dim units), -1 if o is
 * all zero or not finite. Codes of norm 0 never win. */
static int32_t nearest(const float *o, size_t dim, const float *codes, size_t n_codes)
{
    double oo = 0.0;
    for (size_t u = 0; u < dim; u++) oo += (double)o[u] * o[u];
    if (!(oo > 0.0) || !isfinite(oo)) return -1;
    int32_t best = -1;
    double best_v = -INFINITY;
    for (size_t i = 0; i < n_codes; i++) {
        const float *c = codes + i * dim;
        double dot = 0.0, cc = 0.0;
        for (size_t u = 0; u < dim; u++) {
            dot += (double)o[u] * c[u];
            cc += (double)c[u] * c[u];
        }
        if (!(cc > 0.0)) continue;
        double v = dot / sqrt(cc);
        if (v > best_v) {
            best_v = v;
            best = (int32_t)i;
        }
    }
    return best;
}

static void decode_row(const sbp_nettalk_codes *codes, const float *o, int32_t *ph, int32_t *st)
{
    *ph = nearest(o, SBP_NETTALK_ARTICULATORY, &codes->phoneme_code[0][0], codes->n_phonemes);
    *st = nearest(o + SBP_NETTALK_ARTICULATORY, SBP_NETTALK_STRESS_UNITS,
                  &codes->stress_code[0][0], codes->n_stress);
}

sbp_status sbp_nettalk_decode(const sbp_nettalk_codes *codes, const float *outputs, size_t n,
                              int32_t *phonemes, int32_t *stress)
{
    if (!codes_ok(codes) || (n && !outputs)) return SBP_E_INVALID;
    for (size_t r = 0; r < n; r++) {
        int32_t p, s;
        decode_row(codes, outputs + r * SBP_NETTALK_UNITS, &p, &s);
        if (phonemes) phonemes[r] = p;
        if (stress) stress[r] = s;
    }
    return SBP_OK;
}

sbp_status sbp_nettalk_score(const sbp_nettalk_codes *codes, const float *outputs,
                             const float *targets, size_t n, double *phoneme_accuracy,
                             double *stress_accuracy, double *cosine_score)
{
    if (!codes_ok(codes) || !outputs || !targets) return SBP_E_INVALID;
    if (n == 0) return SBP_E_RANGE;
    for (size_t i = 0; i < n * SBP_NETTALK_UNITS; i++)
        if (!isfinite(targets[i])) return SBP_E_NUMERIC;
    size_t ph_ok = 0, st_ok = 0;
    double cos_sum = 0.0;
    for (size_t r = 0; r < n; r++) {
        const float *o = outputs + r * SBP_NETTALK_UNITS;
        const float *t = targets + r * SBP_NETTALK_UNITS;
        int32_t po, so, pt, stt;
        decode_row(codes, o, &po, &so);
        decode_row(codes, t, &pt, &stt);
        /* Identical codes decode to the same (first) index, so /J/ and /G/
         * count as one class. */
        ph_ok += po >= 0 && pt >= 0 &&
                 memcmp(codes->phoneme_code[po], codes->phoneme_code[pt],
                        sizeof codes->phoneme_code[0]) == 0;
        st_ok += so >= 0 && stt >= 0 &&
                 memcmp(codes->stress_code[so], codes->stress_code[stt],
                        sizeof codes->stress_code[0]) == 0;
        double ot = 0.0, oo = 0.0, tt = 0.0;
        for (size_t u = 0; u < SBP_NETTALK_UNITS; u++) {
            ot += (double)o[u] * t[u];
            oo += (double)o[u] * o[u];
            tt += (double)t[u] * t[u];
        }
        if (oo > 0.0 && tt > 0.0 && isfinite(ot) && isfinite(oo))
            cos_sum += ot / (sqrt(oo) * sqrt(tt));
    }
    if (phoneme_accuracy) *phoneme_accuracy = (double)ph_ok / (double)n;
    if (stress_accuracy) *stress_accuracy = (double)st_ok / (double)n;
    if (cosine_score) *cosine_score = cos_sum / (double)n;
    return SBP_OK;
}
