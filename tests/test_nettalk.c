/* NETtalk (lib/data/nettalk.c): the bundled corpus and tables, window
 * construction on a hand-made corpus, the two splits, decoding and the
 * cosine metric on hand-computed vectors, hostile files (each with its
 * status, message and line) and out-of-memory paths. The shared copy in
 * ../shared/data/nettalk, when present, is an extra cross-check.
 * Set SBP_TEST_VERBOSE=1 to print each diagnostic. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "data/dataset.h"
#include "data/nettalk.h"
#include "sbp/sbp.h"
#include "testutil.h"

static char dir[256];
static char bundled[1024];

static void setup(void)
{
    const char *d = sbp_test_tmpdir();
    ck_assert_ptr_nonnull(d);
    snprintf(dir, sizeof dir, "%s", d);
    const char *src = getenv("SBP_SOURCE_DIR");
    snprintf(bundled, sizeof bundled, "%s/data/nettalk", src ? src : ".");
}

static void teardown(void)
{
    sbp__alloc_fail_after(-1);
    sbp_test_rmtree(dir);
}

static void put(const char *name, const char *text)
{
    ck_assert_ptr_nonnull(sbp_test_write(dir, name, text, strlen(text)));
}

static char *path_of(const char *base, const char *name)
{
    static char buf[4][1100];
    static int slot;
    char *p = buf[slot++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", base, name);
    return p;
}

/* ---- a hand-made corpus ------------------------------------------------- */

static const char *const FEATURES =
    "symbol\tfeatures\n"
    "#\tFront1 Voiced\n" /* '#' is a symbol, not a comment */
    "-\tSilent Elide\n"
    "k\tBack1 Stop\n"
    "@\tFront2 Low\n"
    "b\tFront1 Stop Voiced\n"
    "i\tFront1 Tensed High\n"
    "d\tCentral1 Stop Voiced\n";
static const char *const STRESS = "symbol\tfeatures\n"
                                  "0\tWeak\n"
                                  "1\tStrong Weak\n"
                                  "2\tStrong\n"
                                  "<\tLeft\n"
                                  ">\tRight\n";
/* cab, a, bead; the second cab (line 4) is a repeat and is not used. */
static const char *const DATA = "cab\tk@b\t>1<\t0\n"
                                "a\t#\t1\t0 \n"
                                "bead\tbi-d\t>1<<\t2\n"
                                "cab\tk@-\t>1<\t1\n";
static const char *const LIST = "Note: a made-up list (of two words).\n"
                                "\n"
                                "(CAB\n A)\n";

static void write_small(void)
{
    put("features.tsv", FEATURES);
    put("stress.tsv", STRESS);
    put("nettalk.data", DATA);
    put("nettalk.list", LIST);
}

/* Units of a phoneme / stress symbol in the small tables. */
static void code_of(char ph, char st, float *y)
{
    static const struct {
        char s;
        int u[3];
    } ph_units[] = {{'#', {0, 12, -1}},  {'-', {17, 18, -1}}, {'k', {4, 6, -1}},
                    {'@', {1, 16, -1}},  {'b', {0, 6, 12}},   {'i', {0, 13, 14}},
                    {'d', {2, 6, 12}}};
    static const struct {
        char s;
        int u[2];
    } st_units[] = {{'0', {3, -1}}, {'1', {2, 3}}, {'2', {2, -1}}, {'<', {1, -1}}, {'>', {0, -1}}};
    memset(y, 0, SBP_NETTALK_UNITS * sizeof *y);
    for (size_t i = 0; i < sizeof ph_units / sizeof ph_units[0]; i++)
        if (ph_units[i].s == ph)
            for (int j = 0; j < 3; j++)
                if (ph_units[i].u[j] >= 0) y[ph_units[i].u[j]] = 1.0f;
    for (size_t i = 0; i < sizeof st_units / sizeof st_units[0]; i++)
        if (st_units[i].s == st)
            for (int j = 0; j < 2; j++)
                if (st_units[i].u[j] >= 0) y[21 + st_units[i].u[j]] = 1.0f;
}

/* Checks that rows row.. of ds are the windows of `word`. */
static void check_word(const sbp_dataset *ds, size_t row, const char *word, const char *phon,
                       const char *stress)
{
    size_t len = strlen(word);
    for (size_t i = 0; i < len; i++) {
        float x[SBP_NETTALK_INPUTS], y[SBP_NETTALK_UNITS], want[SBP_NETTALK_UNITS];
        int32_t label = 99;
        ck_assert_int_eq(sbp_dataset_sample(ds, row + i, x, y, &label), SBP_OK);
        ck_assert_int_eq(label, -1);
        for (int p = 0; p < SBP_NETTALK_WINDOW; p++) {
            long j = (long)i + p - 3;
            int sym = j < 0 || j >= (long)len ? 26 : word[j] - 'a';
            for (int s = 0; s < SBP_NETTALK_SYMBOLS; s++)
                ck_assert_msg(x[p * 27 + s] == (s == sym ? 1.0f : 0.0f),
                              "%s letter %zu: position %d symbol %d is %g", word, i, p, s,
                              (double)x[p * 27 + s]);
        }
        code_of(phon[i], stress[i], want);
        for (int u = 0; u < SBP_NETTALK_UNITS; u++)
            ck_assert_msg(y[u] == want[u], "%s letter %zu: unit %d is %g, expected %g", word, i,
                          u, (double)y[u], (double)want[u]);
    }
}

START_TEST(windows_exact_on_small_corpus)
{
    write_small();
    sbp_diag d;
    sbp_dataset *tr = NULL, *te = NULL;
    ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER, 0, &d, &tr, &te), SBP_OK);
    ck_assert_int_eq(d.status, SBP_OK);
    /* train: the list's words in list order (cab, a); test: bead */
    ck_assert_uint_eq(sbp_dataset_count(tr), 4);
    ck_assert_uint_eq(sbp_dataset_count(te), 4);
    ck_assert_uint_eq(sbp_dataset_features(tr), 189);
    ck_assert_uint_eq(sbp_dataset_targets(tr), 26);
    ck_assert_uint_eq(sbp_dataset_classes(tr), 0);
    check_word(tr, 0, "cab", "k@b", ">1<");
    check_word(tr, 3, "a", "#", "1");
    check_word(te, 0, "bead", "bi-d", ">1<<");
    /* The first window literally: _ _ _ c a b _ -> 7 ones at these units. */
    float x[189];
    ck_assert_int_eq(sbp_dataset_sample(tr, 0, x, NULL, NULL), SBP_OK);
    const int on[7] = {26, 53, 80, 83, 108, 136, 188};
    int ones = 0;
    for (int i = 0; i < 189; i++) ones += x[i] == 1.0f;
    ck_assert_int_eq(ones, 7);
    for (int i = 0; i < 7; i++) ck_assert_float_eq(x[on[i]], 1.0f);
    sbp_dataset_free(tr);
    sbp_dataset_free(te);

    /* Either output may be NULL. */
    ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER, 0, NULL, NULL, &te), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(te), 4);
    sbp_dataset_free(te);
}
END_TEST

START_TEST(words_split_small_and_seeded)
{
    write_small();
    unlink(path_of(dir, "nettalk.list")); /* not needed by the word split */
    sbp_dataset *tr = NULL, *te = NULL;
    int seen_test[3] = {0, 0, 0};
    for (uint64_t seed = 0; seed < 40; seed++) {
        ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_WORDS, seed, NULL, &tr, &te),
                         SBP_OK);
        /* 3 distinct words: 1 in test ((3 + 5) / 10 = 0, at least 1) */
        size_t nt = sbp_dataset_count(te), n = sbp_dataset_count(tr);
        ck_assert_uint_eq(nt + n, 8);
        ck_assert(nt == 3 || nt == 1 || nt == 4);
        seen_test[nt == 3 ? 0 : nt == 1 ? 1 : 2] = 1;
        if (nt == 4) check_word(te, 0, "bead", "bi-d", ">1<<");
        if (nt == 3) check_word(te, 0, "cab", "k@b", ">1<");
        sbp_dataset_free(tr);
        sbp_dataset_free(te);
    }
    ck_assert_msg(seen_test[0] && seen_test[1] && seen_test[2],
                  "40 seeds should put each word in test at least once");
    /* The paper split needs the list. */
    sbp_diag d;
    ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER, 0, &d, &tr, &te), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "nettalk.list"));
}
END_TEST

START_TEST(paper_val_split_small_and_seeded)
{
    write_small();
    sbp_dataset *tr = NULL, *va = NULL;
    int seen[2] = {0, 0};
    for (uint64_t seed = 0; seed < 40; seed++) {
        ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER_VAL, seed, NULL, &tr, &va),
                         SBP_OK);
        /* the two listed words, one held out ((2 + 2) / 5 = 0, at least 1);
         * bead, the test word of the paper split, in neither part */
        size_t nv = sbp_dataset_count(va), n = sbp_dataset_count(tr);
        ck_assert_uint_eq(nv + n, 4);
        ck_assert(nv == 3 || nv == 1);
        seen[nv == 3] = 1;
        check_word(va, 0, nv == 3 ? "cab" : "a", nv == 3 ? "k@b" : "#", nv == 3 ? ">1<" : "1");
        check_word(tr, 0, nv == 3 ? "a" : "cab", nv == 3 ? "#" : "k@b", nv == 3 ? "1" : ">1<");
        sbp_dataset_free(tr);
        sbp_dataset_free(va);
    }
    ck_assert_msg(seen[0] && seen[1], "40 seeds should hold out each listed word at least once");

    /* One listed word cannot be split. */
    put("nettalk.list", "Note.\n(CAB)\n");
    sbp_diag d;
    ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER_VAL, 0, &d, &tr, &va), SBP_E_RANGE);
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(va);
    ck_assert_ptr_nonnull(strstr(d.message, "at least 2"));
    /* An unknown split is refused. */
    ck_assert_int_eq(sbp_nettalk_load(dir, (sbp_nettalk_split)4, 0, &d, &tr, &va), SBP_E_INVALID);
}
END_TEST

/* ---- the bundled corpus ---------------------------------------------------- */

START_TEST(bundled_tables)
{
    sbp_nettalk_codes c;
    sbp_diag d;
    ck_assert_int_eq(sbp_nettalk_load_codes(bundled, &d, &c), SBP_OK);
    ck_assert_uint_eq(c.n_phonemes, 51);
    ck_assert_uint_eq(c.n_stress, 5);
    ck_assert_str_eq(c.phonemes, "!#*+-@ACDEGIJKLMNORSTUWXYZ^abcdefghiklmnoprstuvwxyz");
    ck_assert_str_eq(c.stress, "012<>");
    /* '#' (x in "exist") = Central2 Back1 Affricative Voiced */
    const float *hash = c.phoneme_code[1];
    float sum = 0.0f;
    for (int u = 0; u < 21; u++) sum += hash[u];
    ck_assert_float_eq(sum, 4.0f);
    ck_assert(hash[3] == 1.0f && hash[4] == 1.0f && hash[9] == 1.0f && hash[12] == 1.0f);
    /* /J/ and /G/: the paper's identical codes, kept */
    const char *G = strchr(c.phonemes, 'G'), *J = strchr(c.phonemes, 'J');
    ck_assert(memcmp(c.phoneme_code[G - c.phonemes], c.phoneme_code[J - c.phonemes],
                     sizeof c.phoneme_code[0]) == 0);
    /* no other pair is identical */
    for (size_t a = 0; a < 51; a++)
        for (size_t b = a + 1; b < 51; b++)
            if (memcmp(c.phoneme_code[a], c.phoneme_code[b], sizeof c.phoneme_code[0]) == 0)
                ck_assert(c.phonemes[a] == 'G' && c.phonemes[b] == 'J');
    /* stress: 1 = Strong Weak, > = Right */
    ck_assert(c.stress_code[1][2] == 1.0f && c.stress_code[1][3] == 1.0f);
    ck_assert(c.stress_code[4][0] == 1.0f);
}
END_TEST

START_TEST(bundled_corpus_counts)
{
    sbp_nettalk_codes c;
    ck_assert_int_eq(sbp_nettalk_load_codes(bundled, NULL, &c), SBP_OK);
    sbp__nt_corpus k;
    sbp_diag d;
    ck_assert_int_eq(sbp__nt_parse_corpus(path_of(bundled, "nettalk.data"), &c, &k, &d), SBP_OK);
    ck_assert_uint_eq(k.n_entries, 20007);
    ck_assert_uint_eq(k.n_words, 19801);
    ck_assert_uint_eq(k.n_letters, 146934);
    size_t cls[3] = {0, 0, 0}, first_letters = 0, used_ph[64] = {0}, used_st[16] = {0};
    for (size_t e = 0; e < k.n_entries; e++) {
        cls[k.entry[e].cls]++;
        if (!k.entry[e].repeat) first_letters += k.entry[e].len;
        for (size_t i = 0; i < k.entry[e].len; i++) {
            used_ph[k.phoneme[k.entry[e].at + i]] = 1;
            used_st[k.stress[k.entry[e].at + i]] = 1;
        }
    }
    ck_assert_uint_eq(cls[0], 19778);
    ck_assert_uint_eq(cls[1], 71);
    ck_assert_uint_eq(cls[2], 158);
    ck_assert_uint_eq(first_letters, 145647);
    size_t nph = 0, nst = 0;
    for (int i = 0; i < 64; i++) nph += used_ph[i];
    for (int i = 0; i < 16; i++) nst += used_st[i];
    ck_assert_uint_eq(nph, 51); /* every table symbol is used */
    ck_assert_uint_eq(nst, 5);
    /* the lines with a trailing space after the class parse (line 1405: aweigh) */
    ck_assert_uint_eq(k.entry[1404].line, 1405);
    ck_assert_uint_eq(k.entry[1404].len, 6);

    size_t *pos = NULL, n = 0;
    ck_assert_int_eq(sbp__nt_parse_list(path_of(bundled, "nettalk.list"), &k, &pos, &n, &d),
                     SBP_OK);
    ck_assert_uint_eq(n, 1000);
    size_t letters = 0;
    for (size_t i = 0; i < n; i++) letters += k.entry[pos[i]].len;
    ck_assert_uint_eq(letters, 5438);
    /* list order: THE first; the first 933 words hold exactly the paper's 5 033 windows */
    ck_assert_uint_eq(k.entry[pos[0]].len, 3);
    size_t prefix = 0;
    for (size_t i = 0; i < 933; i++) prefix += k.entry[pos[i]].len;
    ck_assert_uint_eq(prefix, 5033);
    sbp__free(pos);
    sbp__nt_corpus_free(&k);
}
END_TEST

START_TEST(bundled_paper_split)
{
    sbp_dataset *tr = NULL, *te = NULL;
    sbp_diag d;
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_PAPER, 0, &d, &tr, &te), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(tr), 5438);
    ck_assert_uint_eq(sbp_dataset_count(te), 140209);
    ck_assert_uint_eq(sbp_dataset_features(te), 189);
    ck_assert_uint_eq(sbp_dataset_targets(te), 26);
    ck_assert_uint_eq(sbp_dataset_classes(te), 0);
    /* training window 0 is the 't' of "the" (/D/, stress '>'): _ _ _ t h e */
    float x[189], y[26];
    int32_t lab;
    ck_assert_int_eq(sbp_dataset_sample(tr, 0, x, y, &lab), SBP_OK);
    ck_assert_int_eq(lab, -1);
    ck_assert_float_eq(x[81 + 't' - 'a'], 1.0f);
    ck_assert_float_eq(x[108 + 'h' - 'a'], 1.0f);
    ck_assert_float_eq(x[135 + 'e' - 'a'], 1.0f);
    ck_assert_float_eq(x[162 + 26], 1.0f);
    sbp_nettalk_codes c;
    ck_assert_int_eq(sbp_nettalk_load_codes(bundled, NULL, &c), SBP_OK);
    int32_t ph, st;
    ck_assert_int_eq(sbp_nettalk_decode(&c, y, 1, &ph, &st), SBP_OK);
    ck_assert_int_eq(c.phonemes[ph], 'D');
    ck_assert_int_eq(c.stress[st], '>');
    /* targets decode to themselves: perfect scores */
    size_t n = sbp_dataset_count(tr);
    float *t = malloc(n * 26 * sizeof *t);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(sbp_dataset_batch(tr, 0, n, NULL, t, NULL), SBP_OK);
    double pa, sa, cs;
    ck_assert_int_eq(sbp_nettalk_score(&c, t, t, n, &pa, &sa, &cs), SBP_OK);
    ck_assert(pa == 1.0 && sa == 1.0);
    ck_assert_double_eq_tol(cs, 1.0, 1e-12);
    free(t);
    sbp_dataset_free(tr);
    sbp_dataset_free(te);
}
END_TEST

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t ds_hash(const sbp_dataset *ds)
{
    uint64_t h = 1469598103934665603ull;
    float x[189], y[26];
    for (size_t i = 0; i < sbp_dataset_count(ds); i++) {
        ck_assert_int_eq(sbp_dataset_sample(ds, i, x, y, NULL), SBP_OK);
        h = fnv(fnv(h, x, sizeof x), y, sizeof y);
    }
    return h;
}

START_TEST(bundled_words_split_seeded)
{
    sbp_dataset *a = NULL, *b = NULL, *a2 = NULL, *b2 = NULL, *a3 = NULL, *b3 = NULL;
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_WORDS, 7, NULL, &a, &b), SBP_OK);
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_WORDS, 7, NULL, &a2, &b2), SBP_OK);
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_WORDS, 8, NULL, &a3, &b3), SBP_OK);
    /* every letter of every distinct word, once */
    ck_assert_uint_eq(sbp_dataset_count(a) + sbp_dataset_count(b), 145647);
    ck_assert_uint_eq(sbp_dataset_count(a3) + sbp_dataset_count(b3), 145647);
    ck_assert_uint_eq(sbp_dataset_count(a), sbp_dataset_count(a2));
    ck_assert(ds_hash(a) == ds_hash(a2));
    ck_assert(ds_hash(b) == ds_hash(b2));
    ck_assert(ds_hash(b) != ds_hash(b3));
    /* 1 980 test words of about 7.4 letters */
    ck_assert(sbp_dataset_count(b) > 12000 && sbp_dataset_count(b) < 17500);
    sbp_dataset_free(a);
    sbp_dataset_free(b);
    sbp_dataset_free(a2);
    sbp_dataset_free(b2);
    sbp_dataset_free(a3);
    sbp_dataset_free(b3);
}
END_TEST

/* Order-independent: the sum of the rows' hashes. */
static uint64_t ds_row_sum(const sbp_dataset *ds)
{
    uint64_t sum = 0;
    float x[189], y[26];
    for (size_t i = 0; i < sbp_dataset_count(ds); i++) {
        ck_assert_int_eq(sbp_dataset_sample(ds, i, x, y, NULL), SBP_OK);
        sum += fnv(fnv(1469598103934665603ull, x, sizeof x), y, sizeof y);
    }
    return sum;
}

START_TEST(bundled_paper_val_split)
{
    sbp_dataset *tr = NULL, *te = NULL, *a = NULL, *b = NULL, *a2 = NULL, *b2 = NULL,
                *a3 = NULL, *b3 = NULL;
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_PAPER, 0, NULL, &tr, &te), SBP_OK);
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_PAPER_VAL, 0, NULL, &a, &b), SBP_OK);
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_PAPER_VAL, 0, NULL, &a2, &b2),
                     SBP_OK);
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_PAPER_VAL, 1, NULL, &a3, &b3),
                     SBP_OK);
    /* The two parts are the paper's training windows, nothing of its test. */
    ck_assert_uint_eq(sbp_dataset_count(a) + sbp_dataset_count(b), 5438);
    ck_assert(ds_row_sum(a) + ds_row_sum(b) == ds_row_sum(tr));
    ck_assert(ds_row_sum(a3) + ds_row_sum(b3) == ds_row_sum(tr));
    /* 200 of the 1 000 words, about 5.4 letters each */
    ck_assert(sbp_dataset_count(b) > 800 && sbp_dataset_count(b) < 1400);
    ck_assert(ds_hash(a) == ds_hash(a2) && ds_hash(b) == ds_hash(b2));
    ck_assert(ds_hash(b) != ds_hash(b3));
    sbp_dataset *all[] = {tr, te, a, b, a2, b2, a3, b3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sbp_dataset_free(all[i]);
}
END_TEST

START_TEST(shared_copy_agrees)
{
    const char *shared = sbp_test_shared_data();
    if (!shared) return;
    char sdir[1024];
    snprintf(sdir, sizeof sdir, "%s/nettalk", shared);
    if (access(path_of(sdir, "nettalk.data"), R_OK) != 0) {
        printf("skipped: %s/nettalk.data not found\n", sdir);
        return;
    }
    sbp_dataset *a = NULL, *b = NULL, *sa = NULL, *sb = NULL;
    ck_assert_int_eq(sbp_nettalk_load(bundled, SBP_NETTALK_PAPER, 0, NULL, &a, &b), SBP_OK);
    sbp_diag d;
    sbp_status st = sbp_nettalk_load(sdir, SBP_NETTALK_PAPER, 0, &d, &sa, &sb);
    ck_assert_msg(st == SBP_OK, "%s", d.message);
    ck_assert_uint_eq(sbp_dataset_count(sa), sbp_dataset_count(a));
    ck_assert_uint_eq(sbp_dataset_count(sb), sbp_dataset_count(b));
    ck_assert(ds_hash(a) == ds_hash(sa));
    ck_assert(ds_hash(b) == ds_hash(sb));
    sbp_dataset_free(a);
    sbp_dataset_free(b);
    sbp_dataset_free(sa);
    sbp_dataset_free(sb);
}
END_TEST

/* ---- decoding and the metric ------------------------------------------- */

/* Three phonemes in 21 units and two stress symbols, by hand. */
static void tiny_codes(sbp_nettalk_codes *c)
{
    memset(c, 0, sizeof *c);
    c->n_phonemes = 4;
    c->n_stress = 2;
    strcpy(c->phonemes, "pqGJ");
    strcpy(c->stress, "xy");
    c->phoneme_code[0][0] = 1.0f;                               /* p: unit 0 */
    c->phoneme_code[1][0] = c->phoneme_code[1][1] = 1.0f;       /* q: units 0, 1 */
    c->phoneme_code[2][2] = c->phoneme_code[2][3] = 1.0f;       /* G: units 2, 3 */
    c->phoneme_code[3][2] = c->phoneme_code[3][3] = 1.0f;       /* J = G */
    c->stress_code[0][0] = 1.0f;                                /* x: unit 21 */
    c->stress_code[1][1] = c->stress_code[1][2] = 1.0f;         /* y: units 22, 23 */
}

START_TEST(decode_nearest_by_angle)
{
    sbp_nettalk_codes c;
    tiny_codes(&c);
    float o[4][26];
    memset(o, 0, sizeof o);
    /* row 0: (1, 0.3): cos with p = 1/sqrt(1.09) = 0.958, with q = 1.3/sqrt(2.18) = 0.880 -> p;
     * stress (0.2, 0.9, 0): x 0.217, y 0.9/sqrt(2) = 0.636 scaled -> y */
    o[0][0] = 1.0f;
    o[0][1] = 0.3f;
    o[0][21] = 0.2f;
    o[0][22] = 0.9f;
    /* row 1: (1, 0.6): p 1/|o|, q 1.6/sqrt2/|o| = 1.131/|o| -> q (Euclidean would say p) */
    o[1][0] = 1.0f;
    o[1][1] = 0.6f;
    o[1][21] = 1.0f;
    /* row 2: the G/J code -> G, the first of the two; stress all zero -> -1 */
    o[2][2] = 0.5f;
    o[2][3] = 0.4f;
    /* row 3: articulatory part all zero -> -1; NaN stress -> -1 */
    o[3][21] = NAN;
    int32_t ph[4], st[4];
    ck_assert_int_eq(sbp_nettalk_decode(&c, &o[0][0], 4, ph, st), SBP_OK);
    ck_assert_int_eq(ph[0], 0);
    ck_assert_int_eq(st[0], 1);
    ck_assert_int_eq(ph[1], 1);
    ck_assert_int_eq(st[1], 0);
    ck_assert_int_eq(ph[2], 2);
    ck_assert_int_eq(st[2], -1);
    ck_assert_int_eq(ph[3], -1);
    ck_assert_int_eq(st[3], -1);
    ck_assert_int_eq(sbp_nettalk_decode(&c, &o[0][0], 4, NULL, st), SBP_OK);
    ck_assert_int_eq(sbp_nettalk_decode(NULL, &o[0][0], 4, ph, st), SBP_E_INVALID);
    c.n_stress = 0;
    ck_assert_int_eq(sbp_nettalk_decode(&c, &o[0][0], 4, ph, st), SBP_E_INVALID);
}
END_TEST

START_TEST(score_hand_computed)
{
    sbp_nettalk_codes c;
    tiny_codes(&c);
    float o[3][26], t[3][26];
    memset(o, 0, sizeof o);
    memset(t, 0, sizeof t);
    /* row 0: target p + x; output (1, 0.3 | 0.2 at x): phoneme right, stress right.
     * cos = (1 + 0.2) / (sqrt(1 + 0.09 + 0.04) * sqrt(2)) */
    t[0][0] = 1.0f;
    t[0][21] = 1.0f;
    o[0][0] = 1.0f;
    o[0][1] = 0.3f;
    o[0][21] = 0.2f;
    /* row 1: target J + y; output near G: counts as right (one class); stress x: wrong.
     * cos = (0.5 + 0.4) / (sqrt(0.25 + 0.16 + 1) * 2) */
    t[1][2] = t[1][3] = 1.0f;
    t[1][22] = t[1][23] = 1.0f;
    o[1][2] = 0.5f;
    o[1][3] = 0.4f;
    o[1][21] = 1.0f;
    /* row 2: target q + x; output all zero: wrong, cos 0 */
    t[2][0] = t[2][1] = 1.0f;
    t[2][21] = 1.0f;
    double pa = -1, sa = -1, cs = -1;
    ck_assert_int_eq(sbp_nettalk_score(&c, &o[0][0], &t[0][0], 3, &pa, &sa, &cs), SBP_OK);
    double c0 = 1.2 / (sqrt(1.13) * sqrt(2.0));
    double c1 = 0.9 / (sqrt(1.41) * 2.0);
    ck_assert_double_eq_tol(pa, 2.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(sa, 1.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(cs, (c0 + c1 + 0.0) / 3.0, 1e-6);
    /* a non-finite output scores 0 and is wrong */
    o[0][5] = INFINITY;
    ck_assert_int_eq(sbp_nettalk_score(&c, &o[0][0], &t[0][0], 3, &pa, NULL, &cs), SBP_OK);
    ck_assert_double_eq_tol(pa, 1.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(cs, c1 / 3.0, 1e-6);
    /* argument checks */
    t[2][4] = NAN;
    ck_assert_int_eq(sbp_nettalk_score(&c, &o[0][0], &t[0][0], 3, &pa, &sa, &cs),
                     SBP_E_NUMERIC);
    ck_assert_int_eq(sbp_nettalk_score(&c, &o[0][0], &t[0][0], 0, &pa, &sa, &cs), SBP_E_RANGE);
    ck_assert_int_eq(sbp_nettalk_score(&c, NULL, &t[0][0], 1, &pa, &sa, &cs), SBP_E_INVALID);
    ck_assert_int_eq(sbp_nettalk_score(NULL, &o[0][0], &t[0][0], 1, &pa, &sa, &cs),
                     SBP_E_INVALID);
}
END_TEST

/* ---- hostile files ----------------------------------------------------- */

static void expect_fail(sbp_nettalk_split split, sbp_status want, const char *file,
                        uint64_t line, const char *text)
{
    sbp_diag d;
    sbp_dataset *tr = (sbp_dataset *)&d, *te = (sbp_dataset *)&d;
    sbp_status st = sbp_nettalk_load(dir, split, 0, &d, &tr, &te);
    if (getenv("SBP_TEST_VERBOSE"))
        printf("%s: line %llu offset %llu: %s\n", sbp_status_name(st),
               (unsigned long long)d.line, (unsigned long long)d.offset, d.message);
    ck_assert_msg(st == want, "status %s, expected %s (%s)", sbp_status_name(st),
                  sbp_status_name(want), d.message);
    ck_assert_int_eq(d.status, want);
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(te);
    ck_assert_msg(strstr(d.message, text) != NULL, "message '%s' lacks '%s'", d.message, text);
    if (file) {
        ck_assert_msg(strstr(d.file, file) != NULL, "diag file '%s', expected %s", d.file, file);
        ck_assert_msg(strstr(d.message, file) != NULL, "message '%s' does not name %s",
                      d.message, file);
    }
    ck_assert_uint_eq(d.line, line);
    if (line) {
        char at[32];
        snprintf(at, sizeof at, "line %llu:", (unsigned long long)line);
        ck_assert_msg(strstr(d.message, at) != NULL, "message '%s' lacks '%s'", d.message, at);
    }
}

static void data_case(const char *data, sbp_status want, uint64_t line, const char *text)
{
    write_small();
    put("nettalk.data", data);
    expect_fail(SBP_NETTALK_PAPER, want, "nettalk.data", line, text);
}

START_TEST(hostile_data_missing_field)
{
    data_case("cab\tk@b\t>1<\t0\na\t#\t1\n", SBP_E_FORMAT, 2, "missing the class");
    data_case("cab\tk@b\n", SBP_E_FORMAT, 1, "2 fields, expected 4");
    data_case("cab\tk@b\t>1<\t0\t9\n", SBP_E_FORMAT, 1, "5 fields, expected 4");
    data_case("cab\t\t>1<\t0\n", SBP_E_FORMAT, 1, "empty phonemes field");
}
END_TEST

START_TEST(hostile_data_length_mismatch)
{
    data_case("cab\tk@b\t>1<\t0\nbead\tbi-\t>1<<\t0\n", SBP_E_MISMATCH, 2,
              "the phonemes field 'bi-' has 3 symbols but the word 'bead' has 4");
    data_case("cab\tk@b\t>1<<\t0\n", SBP_E_MISMATCH, 1, "stress field");
}
END_TEST

START_TEST(hostile_data_unknown_symbols)
{
    data_case("cab\tk@b\t>1<\t0\ncAb\tk@b\t>1<\t0\n", SBP_E_FORMAT, 2,
              "unknown letter 'A' at position 2");
    data_case("cab\tk@Q\t>1<\t0\n", SBP_E_FORMAT, 1, "unknown phoneme symbol 'Q' at position 3");
    data_case("\n\ncab\tk@b\t>9<\t0\n", SBP_E_FORMAT, 3, "unknown stress symbol '9'");
    data_case("cab\tk@b\t>1<\t3\n", SBP_E_FORMAT, 1, "class '3'");
    data_case("c b\tk@b\t>1<\t0\n", SBP_E_FORMAT, 1, "unknown letter 0x20");
}
END_TEST

START_TEST(hostile_data_overlong_word)
{
    char line[200];
    memset(line, 0, sizeof line);
    memset(line, 'a', 40);
    strcat(line, "\tx\t1\t0\n");
    data_case(line, SBP_E_TOO_LARGE, 1, "word of 40 letters, more than the limit of 32");
}
END_TEST

START_TEST(hostile_empty_files)
{
    data_case("", SBP_E_FORMAT, 0, "empty file");
    data_case("\n \r\n\n", SBP_E_FORMAT, 0, "no entries");
    write_small();
    put("features.tsv", "symbol\tfeatures\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "features.tsv", 0, "no symbols after the header");
}
END_TEST

START_TEST(hostile_truncated)
{
    data_case("cab\tk@b\t>1<\t0\nbead\tbi-d\t>1", SBP_E_TRUNCATED, 2,
              "the file ends in the middle of the line (3 of 4 fields");
    /* a complete last line without its LF is accepted */
    write_small();
    put("nettalk.data", "cab\tk@b\t>1<\t0\na\t#\t1\t0\nbead\tbi-d\t>1<<\t2");
    sbp_dataset *tr = NULL, *te = NULL;
    ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER, 0, NULL, &tr, &te), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(te), 4);
    sbp_dataset_free(tr);
    sbp_dataset_free(te);
    write_small();
    put("stress.tsv", "symbol\tfeatures\n0\tWeak\n1");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_TRUNCATED, "stress.tsv", 3, "ends in the middle");
}
END_TEST

START_TEST(hostile_binary)
{
    write_small();
    static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    ck_assert_ptr_nonnull(sbp_test_write(dir, "nettalk.data", gz, sizeof gz));
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.data", 1,
                "byte 0x1f at offset 0 is not printable ASCII");
    const char text[] = "cab\tk@b\t>1<\t0\na\t#\t1\t0\nbe\0ad\tbi-d\t>1<<\t2\n";
    ck_assert_ptr_nonnull(sbp_test_write(dir, "nettalk.data", text, sizeof text - 1));
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.data", 3, "byte 0x00 at offset 24");
    write_small();
    put("nettalk.list", "(CAB A\xc3\xa9)\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.list", 1, "byte 0xc3");
}
END_TEST

START_TEST(hostile_tables)
{
    write_small();
    put("features.tsv", "symbol\tfeatures\nk\tBack1 Stop\nb\tFront1 Stomp Voiced\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "features.tsv", 3,
                "symbol 'b': unknown unit 'Stomp'");
    put("features.tsv", "symbol\tfeatures\nk\tBack1 Stop\n#\tFront1\nk\tStop\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "features.tsv", 4,
                "symbol 'k' is listed twice (lines 2 and 4)");
    put("features.tsv", "symbol\tfeatures\nk\tBack1 Stop Back1\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "features.tsv", 2, "unit Back1 is listed twice");
    put("features.tsv", "symbol\tfeatures\nk\t \n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "features.tsv", 2, "turns on no unit");
    put("features.tsv", "symbol\tfeatures\nk Back1 Stop\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "features.tsv", 2, "1 field, expected 2");
    write_small();
    put("stress.tsv", "symbol\tfeatures\n0\tWeak\n12\tStrong\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "stress.tsv", 3,
                "symbol '12' must be exactly one character");
    put("stress.tsv", "symbol\tfeatures\n0\tWeak\n1\tFront1\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "stress.tsv", 3,
                "unknown unit 'Front1' (expected Right, Left, Strong, Weak or Boundary)");
    /* more symbols than fit */
    char big[4096] = "symbol\tfeatures\n";
    for (int i = 0; i < 70; i++) {
        char row[32];
        snprintf(row, sizeof row, "%c\tFront1\n", '!' + i);
        strcat(big, row);
    }
    write_small();
    put("features.tsv", big);
    expect_fail(SBP_NETTALK_PAPER, SBP_E_TOO_LARGE, "features.tsv", 66, "more than 64 symbols");
    /* the consonant names of the position units are accepted */
    write_small();
    put("features.tsv", "symbol\tfeatures\n#\tLabial Voiced\n-\tSilent Elide\nk\tVelar Stop\n"
                        "@\tDental Low\nb\tLabial Stop Voiced\ni\tFront1 Tensed High\n"
                        "d\tAlveolar Stop Voiced\n");
    sbp_dataset *tr = NULL, *te = NULL;
    ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER, 0, NULL, &tr, &te), SBP_OK);
    check_word(tr, 0, "cab", "k@b", ">1<");
    sbp_dataset_free(tr);
    sbp_dataset_free(te);
}
END_TEST

START_TEST(hostile_list)
{
    write_small();
    put("nettalk.list", "(CAB BOAT)\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_MISMATCH, "nettalk.list", 1,
                "the word 'BOAT' is not in nettalk.data");
    put("nettalk.list", "note\n(CAB\nA\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_TRUNCATED, "nettalk.list", 4, "no closing ')'");
    put("nettalk.list", "note\n(CAB\nA cab)\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.list", 3,
                "the word 'cab' is listed twice (lines 2 and 3)");
    put("nettalk.list", "CAB A\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.list", 0, "no word list");
    put("nettalk.list", "(CAB A-B)\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.list", 1, "unknown character '-'");
    put("nettalk.list", "(CAB A) x\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.list", 1, "text after the ')'");
    put("nettalk.list", "()\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_FORMAT, "nettalk.list", 1, "the word list is empty");
    /* every word listed: the test part is empty */
    put("nettalk.list", "(CAB A BEAD)\n");
    expect_fail(SBP_NETTALK_PAPER, SBP_E_RANGE, NULL, 0, "the test part of this split has no words");
}
END_TEST

START_TEST(hostile_paths_and_sizes)
{
    write_small();
    unlink(path_of(dir, "stress.tsv"));
    expect_fail(SBP_NETTALK_PAPER, SBP_E_IO, "stress.tsv", 0, "cannot open");
    write_small();
    /* a sparse 65 MiB file is refused by its size, before any allocation */
    FILE *f = fopen(path_of(dir, "nettalk.data"), "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), (off_t)65 << 20), 0);
    fclose(f);
    expect_fail(SBP_NETTALK_PAPER, SBP_E_TOO_LARGE, "nettalk.data", 0,
                "68157440 bytes, more than the limit");
    sbp_diag d;
    sbp_dataset *tr = NULL;
    ck_assert_int_eq(sbp_nettalk_load(path_of(dir, "features.tsv"), SBP_NETTALK_PAPER, 0, &d,
                                      &tr, NULL),
                     SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "not a directory"));
    ck_assert_int_eq(sbp_nettalk_load(NULL, SBP_NETTALK_PAPER, 0, &d, &tr, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_nettalk_load(dir, (sbp_nettalk_split)9, 0, &d, &tr, NULL),
                     SBP_E_INVALID);
    ck_assert_int_eq(sbp_nettalk_load(dir, SBP_NETTALK_PAPER, 0, &d, NULL, NULL), SBP_E_INVALID);
    sbp_nettalk_codes c;
    ck_assert_int_eq(sbp_nettalk_load_codes(dir, &d, NULL), SBP_E_INVALID);
    /* a directory where a file should be */
    unlink(path_of(dir, "features.tsv"));
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/features.tsv", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(sbp_nettalk_load_codes(dir, &d, &c), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "is a directory"));
    ck_assert_uint_eq(c.n_phonemes, 0);
}
END_TEST

START_TEST(tolerated_layout)
{
    /* CR LF line ends, spaces around fields, blank lines */
    write_small();
    put("nettalk.data", "cab\tk@b\t>1<\t0\r\n\r\n a \t # \t1\t0  \r\nbead\tbi-d\t>1<<\t2\r\n");
    put("features.tsv", "symbol\tfeatures\r\n#\tFront1  Voiced\r\n-\tSilent Elide\r\n"
                        "k\tBack1 Stop\r\n@\tFront2 Low\r\nb\tFront1 Stop Voiced\r\n"
                        "i\tFront1 Tensed High\r\nd\tCentral1 Stop Voiced\r\n\r\n");
    sbp_dataset *tr = NULL, *te = NULL;
    sbp_diag d;
    ck_assert_msg(sbp_nettalk_load(dir, SBP_NETTALK_PAPER, 0, &d, &tr, &te) == SBP_OK, "%s",
                  d.message);
    check_word(tr, 0, "cab", "k@b", ">1<");
    check_word(tr, 3, "a", "#", "1");
    check_word(te, 0, "bead", "bi-d", ">1<<");
    sbp_dataset_free(tr);
    sbp_dataset_free(te);
}
END_TEST

/* ---- out of memory ----------------------------------------------------- */

START_TEST(allocation_failures_are_clean)
{
    write_small();
    int ok_seen = 0;
    for (long n = 0; n < 200 && !ok_seen; n++) {
        for (int split = SBP_NETTALK_PAPER; split <= SBP_NETTALK_WORDS; split++) {
            sbp_dataset *tr = NULL, *te = NULL;
            sbp_diag d;
            sbp__alloc_fail_after(n);
            sbp_status st = sbp_nettalk_load(dir, (sbp_nettalk_split)split, 3, &d, &tr, &te);
            sbp__alloc_fail_after(-1);
            if (st == SBP_OK) {
                ok_seen = split == SBP_NETTALK_WORDS;
                sbp_dataset_free(tr);
                sbp_dataset_free(te);
                continue;
            }
            ck_assert_msg(st == SBP_E_NOMEM, "n=%ld: %s (%s)", n, sbp_status_name(st),
                          d.message);
            ck_assert_int_eq(d.status, SBP_E_NOMEM);
            ck_assert_ptr_null(tr);
            ck_assert_ptr_null(te);
        }
        sbp_nettalk_codes c;
        sbp__alloc_fail_after(n);
        sbp_status st = sbp_nettalk_load_codes(dir, NULL, &c);
        sbp__alloc_fail_after(-1);
        ck_assert(st == SBP_OK || st == SBP_E_NOMEM);
    }
    ck_assert(ok_seen);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nettalk");
    TCase *tc = tcase_create("small");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, windows_exact_on_small_corpus);
    tcase_add_test(tc, words_split_small_and_seeded);
    tcase_add_test(tc, paper_val_split_small_and_seeded);
    tcase_add_test(tc, decode_nearest_by_angle);
    tcase_add_test(tc, score_hand_computed);
    tcase_add_test(tc, hostile_data_missing_field);
    tcase_add_test(tc, hostile_data_length_mismatch);
    tcase_add_test(tc, hostile_data_unknown_symbols);
    tcase_add_test(tc, hostile_data_overlong_word);
    tcase_add_test(tc, hostile_empty_files);
    tcase_add_test(tc, hostile_truncated);
    tcase_add_test(tc, hostile_binary);
    tcase_add_test(tc, hostile_tables);
    tcase_add_test(tc, hostile_list);
    tcase_add_test(tc, hostile_paths_and_sizes);
    tcase_add_test(tc, tolerated_layout);
    tcase_add_test(tc, allocation_failures_are_clean);
    suite_add_tcase(s, tc);
    TCase *real = tcase_create("bundled");
    tcase_add_checked_fixture(real, setup, teardown);
    tcase_add_test(real, bundled_tables);
    tcase_add_test(real, bundled_corpus_counts);
    tcase_add_test(real, bundled_paper_split);
    tcase_add_test(real, bundled_words_split_seeded);
    tcase_add_test(real, bundled_paper_val_split);
    tcase_add_test(real, shared_copy_agrees);
    suite_add_tcase(s, real);
    return sbp_test_run(s);
}
