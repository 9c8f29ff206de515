/* `sbp data verify DIR`: checks the MNIST files present in DIR against the
 * published checksums of their decompressed content and loads each
 * image/label pair with the library's IDX loader.
 *
 * Output, one line per check on `out`:
 *   OK   <file>  md5 <hex>                 (or sha256 for the train10k sample)
 *   OK   <images> + <labels>  idx <n> samples, <d> features, <k> classes
 *   BAD  <file>: <reason>
 * Problems not tied to one file (no files, half a pair, summary) go to `err`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "hash.h"
#include "sbp/sbp.h"
#include "tool.h"

enum hash_kind { HASH_MD5, HASH_SHA256 };

typedef struct known_file {
    const char *name;
    enum hash_kind kind;
    const char *hash; /* of the decompressed content */
} known_file;

/* The four official files: the published MD5s. train10k-* (the bundled
 * sample, training images 0..9999): SHA-256 from shared/data/README.md. */
static const known_file known[] = {
    {"train-images-idx3-ubyte", HASH_MD5, "6bbc9ace898e44ae57da46a324031adb"},
    {"train-labels-idx1-ubyte", HASH_MD5, "a25bea736e30d166cdddb491f175f624"},
    {"t10k-images-idx3-ubyte", HASH_MD5, "2646ac647ad5339dbf082846283269ea"},
    {"t10k-labels-idx1-ubyte", HASH_MD5, "27ae3e4e09519cfbb04c329615203637"},
    {"train10k-images-idx3-ubyte", HASH_SHA256,
     "2889698e6bc3614913e76901316712919d1998fc2b44512451bfe65bc1e668b1"},
    {"train10k-labels-idx1-ubyte", HASH_SHA256,
     "651e38e2ac0632f5113ec18f1df4977117f953197819034009971a6675a0df78"},
};
#define N_KNOWN (sizeof known / sizeof known[0])

/* image/label pairs, as indices into known[] */
static const size_t pairs[][2] = {{0, 1}, {2, 3}, {4, 5}};
#define N_PAIRS (sizeof pairs / sizeof pairs[0])

static const char *const suffixes[2] = {"", ".gz"};

#define PATH_MAX_LEN 4096

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Hashes the decompressed content of path. Returns 0 and the hex digest,
 * or -1 with a reason. */
static int hash_file(const char *path, enum hash_kind kind, char *hex, char *reason,
                     size_t reason_size)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(reason, reason_size, "cannot open: %s", errno ? strerror(errno) : "out of memory");
        return -1;
    }
    enum { CHUNK = 1 << 17 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) {
        gzclose_r(f);
        snprintf(reason, reason_size, "out of memory");
        return -1;
    }
    gzbuffer(f, CHUNK);
    sbp_tool_md5 md5;
    sbp_tool_sha256 sha;
    sbp_tool_md5_init(&md5);
    sbp_tool_sha256_init(&sha);
    int rc = 0;
    for (;;) {
        int n = gzread(f, buf, CHUNK);
        if (n < 0) {
            int errnum = Z_OK;
            const char *msg = gzerror(f, &errnum);
            const char *colon = msg ? strstr(msg, ": ") : NULL;
            snprintf(reason, reason_size, "%s: %s",
                     errnum == Z_ERRNO ? "read error" : "corrupt gzip data",
                     colon ? colon + 2 : (msg ? msg : "unknown error"));
            rc = -1;
            break;
        }
        if (n == 0) {
            int errnum = Z_OK;
            gzerror(f, &errnum);
            if (errnum == Z_BUF_ERROR) {
                snprintf(reason, reason_size, "gzip stream cut short (file truncated)");
                rc = -1;
            }
            break;
        }
        if (kind == HASH_MD5)
            sbp_tool_md5_update(&md5, buf, (size_t)n);
        else
            sbp_tool_sha256_update(&sha, buf, (size_t)n);
    }
    gzclose_r(f);
    free(buf);
    if (rc) return rc;
    unsigned char digest[SBP_SHA256_SIZE];
    if (kind == HASH_MD5) {
        sbp_tool_md5_final(&md5, digest);
        sbp_tool_hex(digest, SBP_MD5_SIZE, hex);
    } else {
        sbp_tool_sha256_final(&sha, digest);
        sbp_tool_hex(digest, SBP_SHA256_SIZE, hex);
    }
    return 0;
}

/* Path of known[i] in dir with suffix s; 0 if too long. */
static int make_path(char *buf, const char *dir, size_t i, size_t s)
{
    int n = snprintf(buf, PATH_MAX_LEN, "%s/%s%s", dir, known[i].name, suffixes[s]);
    return n > 0 && n < PATH_MAX_LEN;
}

int sbp_tool_data_verify(const char *dir, FILE *out, FILE *err)
{
    struct stat st;
    if (!dir || stat(dir, &st) != 0) {
        fprintf(err, "sbp data verify: %s: %s\n", dir ? dir : "(null)",
                dir ? strerror(errno) : "no directory given");
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(err, "sbp data verify: %s: not a directory\n", dir);
        return 1;
    }

    char path[PATH_MAX_LEN];
    int present[N_KNOWN][2] = {{0}};
    size_t checked = 0, bad = 0;

    /* 1. content hashes, every variant present */
    for (size_t i = 0; i < N_KNOWN; i++) {
        for (size_t s = 0; s < 2; s++) {
            if (!make_path(path, dir, i, s) || !is_file(path)) continue;
            present[i][s] = 1;
            checked++;
            const char *kind = known[i].kind == HASH_MD5 ? "md5" : "sha256";
            char hex[2 * SBP_SHA256_SIZE + 1], reason[256];
            if (hash_file(path, known[i].kind, hex, reason, sizeof reason) != 0) {
                fprintf(out, "BAD  %s%s: %s\n", known[i].name, suffixes[s], reason);
                bad++;
            } else if (strcmp(hex, known[i].hash) != 0) {
                fprintf(out, "BAD  %s%s: %s of the content is %s, expected %s\n",
                        known[i].name, suffixes[s], kind, hex, known[i].hash);
                bad++;
            } else {
                fprintf(out, "OK   %s%s  %s %s\n", known[i].name, suffixes[s], kind, hex);
            }
        }
    }

    /* 2. structure: load each image/label pair with the library */
    size_t pairs_found = 0;
    for (size_t p = 0; p < N_PAIRS; p++) {
        const size_t ii = pairs[p][0], il = pairs[p][1];
        const int has_i = present[ii][0] || present[ii][1];
        const int has_l = present[il][0] || present[il][1];
        if (!has_i && !has_l) continue;
        if (!has_i || !has_l) {
            fprintf(err, "sbp data verify: %s has no matching %s (raw or .gz); its structure "
                         "was not checked\n",
                    known[has_i ? ii : il].name, known[has_i ? il : ii].name);
            continue;
        }
        pairs_found++;
        checked++;
        const size_t si = present[ii][0] ? 0 : 1, sl = present[il][0] ? 0 : 1;
        char images[PATH_MAX_LEN], labels[PATH_MAX_LEN];
        if (!make_path(images, dir, ii, si) || !make_path(labels, dir, il, sl)) continue;
        sbp_diag diag;
        sbp_dataset *ds = NULL;
        sbp_status stt = sbp_dataset_load_idx(images, labels, &diag, &ds);
        if (stt != SBP_OK) {
            fprintf(out, "BAD  %s%s + %s%s: %s: %s\n", known[ii].name, suffixes[si],
                    known[il].name, suffixes[sl], sbp_status_name(stt), diag.message);
            bad++;
        } else {
            fprintf(out, "OK   %s%s + %s%s  idx %zu samples, %zu features, %zu classes\n",
                    known[ii].name, suffixes[si], known[il].name, suffixes[sl],
                    sbp_dataset_count(ds), sbp_dataset_features(ds), sbp_dataset_classes(ds));
        }
        sbp_dataset_free(ds);
    }

    if (checked == 0) {
        fprintf(err, "sbp data verify: no MNIST files in %s (looked for", dir);
        for (size_t i = 0; i < N_KNOWN; i++) fprintf(err, " %s", known[i].name);
        fprintf(err, ", raw or .gz)\n");
        return 1;
    }
    if (bad) {
        fprintf(err, "sbp data verify: %zu of %zu checks failed in %s\n", bad, checked, dir);
        return 1;
    }
    if (pairs_found == 0) {
        fprintf(err, "sbp data verify: no complete image/label pair in %s\n", dir);
        return 1;
    }
    return 0;
}
