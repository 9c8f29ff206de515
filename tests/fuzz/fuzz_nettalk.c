/* Fuzz target: the NETtalk loader (sbp_nettalk_load, sbp_nettalk_load_codes,
 * sbp_nettalk_decode; docs/nettalk.md).
 *
 * Input layout:
 *   byte 0   bit 0: split (0 paper, 1 words); bit 1: ask for the test part
 *            only; bit 2: ask for the train part only; bit 3 with bit 0
 *            clear: the paper-val split instead of paper
 *   then     four files, each a u16 little-endian length and its bytes:
 *            nettalk.data, features.tsv, stress.tsv, nettalk.list (the last
 *            one takes what is left when its length runs past the end)
 *   then     nothing: the seed is fixed.
 *
 * Checked promises: a pinned status; both outputs NULL on failure; the
 * diagnostic agrees and is terminated; on success each sample has one
 * symbol per window position (7 ones among 189 inputs) and 0/1 targets of
 * 26 units; a loaded code table decodes outputs to valid indices or -1. */
#include <math.h>
#include <unistd.h>

#include "fuzz.h"
#include "sbp/sbp.h"

static const char *const names[4] = {"nettalk.data", "features.tsv", "stress.tsv",
                                     "nettalk.list"};
static char dir[256], paths[4][300];

static void cleanup(void)
{
    for (int i = 0; i < 4; i++) unlink(paths[i]);
    rmdir(dir);
}

static void setup_once(void)
{
    if (dir[0]) return;
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sbp-fuzz-nettalk-XXXXXX", base && *base ? base : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    for (int i = 0; i < 4; i++) snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
    atexit(cleanup);
}

static void check_part(const sbp_dataset *ds)
{
    size_t n = sbp_dataset_count(ds);
    FUZZ_CHECK(n >= 1);
    FUZZ_CHECK(sbp_dataset_features(ds) == SBP_NETTALK_INPUTS);
    FUZZ_CHECK(sbp_dataset_targets(ds) == SBP_NETTALK_UNITS);
    float x[SBP_NETTALK_INPUTS], t[SBP_NETTALK_UNITS];
    for (size_t i = 0; i < n && i < 32; i++) {
        FUZZ_CHECK(sbp_dataset_sample(ds, i, x, t, NULL) == SBP_OK);
        int ones = 0;
        for (size_t j = 0; j < SBP_NETTALK_INPUTS; j++) {
            FUZZ_CHECK(x[j] == 0.0f || x[j] == 1.0f);
            ones += x[j] == 1.0f;
        }
        FUZZ_CHECK(ones == SBP_NETTALK_WINDOW);
        for (size_t j = 0; j < SBP_NETTALK_UNITS; j++) FUZZ_CHECK(t[j] == 0.0f || t[j] == 1.0f);
    }
}

static void check_codes(void)
{
    sbp_nettalk_codes codes;
    sbp_diag diag;
    sbp_status st = sbp_nettalk_load_codes(dir, &diag, &codes);
    FUZZ_CHECK(fuzz_known_status(st) && diag.status == st);
    if (st != SBP_OK) return;
    FUZZ_CHECK(codes.n_phonemes >= 1 && codes.n_phonemes <= SBP_NETTALK_MAX_PHONEMES);
    FUZZ_CHECK(codes.n_stress >= 1 && codes.n_stress <= SBP_NETTALK_MAX_STRESS);
    FUZZ_CHECK(strlen(codes.phonemes) == codes.n_phonemes);
    FUZZ_CHECK(strlen(codes.stress) == codes.n_stress);
    float out[3][SBP_NETTALK_UNITS];
    for (int j = 0; j < SBP_NETTALK_UNITS; j++) {
        out[0][j] = (float)(j % 3);
        out[1][j] = 0.0f;
        out[2][j] = j == 4 ? NAN : 1.0f;
    }
    int32_t ph[3], sr[3];
    FUZZ_CHECK(sbp_nettalk_decode(&codes, &out[0][0], 3, ph, sr) == SBP_OK);
    for (int i = 0; i < 3; i++) {
        FUZZ_CHECK(ph[i] >= -1 && ph[i] < (int32_t)codes.n_phonemes);
        FUZZ_CHECK(sr[i] >= -1 && sr[i] < (int32_t)codes.n_stress);
    }
    FUZZ_CHECK(ph[1] == -1 && sr[1] == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    fuzz_in in = {data, size};
    unsigned flags = fuzz_u8(&in);
    for (int i = 0; i < 4; i++) {
        size_t len = (size_t)fuzz_bytes_le(&in, 2);
        if (i == 3) len = in.n;
        const uint8_t *p;
        len = fuzz_take(&in, len, &p);
        FILE *f = fopen(paths[i], "wb");
        FUZZ_CHECK(f != NULL);
        FUZZ_CHECK(len == 0 || fwrite(p, 1, len, f) == len);
        FUZZ_CHECK(fclose(f) == 0);
    }
    sbp_nettalk_split split = flags & 1   ? SBP_NETTALK_WORDS
                              : flags & 8 ? SBP_NETTALK_PAPER_VAL
                                          : SBP_NETTALK_PAPER;
    int want_train = !(flags & 2), want_test = !(flags & 4) || !want_train;
    sbp_dataset *train = (sbp_dataset *)(uintptr_t)1, *test = (sbp_dataset *)(uintptr_t)1;
    sbp_diag diag;
    memset(&diag, 0x5a, sizeof diag);
    sbp_status st = sbp_nettalk_load(dir, split, 7, &diag, want_train ? &train : NULL,
                                     want_test ? &test : NULL);
    fuzz_report("nettalk_load", st, diag.message);
    FUZZ_CHECK(fuzz_known_status(st));
    FUZZ_CHECK(diag.status == st);
    FUZZ_CHECK(fuzz_terminated(diag.message, sizeof diag.message));
    FUZZ_CHECK(fuzz_terminated(diag.file, sizeof diag.file));
    if (st != SBP_OK) {
        if (want_train) FUZZ_CHECK(train == NULL);
        if (want_test) FUZZ_CHECK(test == NULL);
        FUZZ_CHECK(diag.message[0] != '\0');
        FUZZ_CHECK(st != SBP_E_INVALID && st != SBP_E_INTERNAL);
    } else {
        if (want_train) {
            check_part(train);
            sbp_dataset_free(train);
        }
        if (want_test) {
            check_part(test);
            sbp_dataset_free(test);
        }
    }
    check_codes();
    return 0;
}
