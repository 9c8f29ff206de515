/* Replays fuzz inputs through a harness without libFuzzer: every argument
 * is a file or a directory of files (names starting with '.' or ending in
 * ".md" are skipped; a missing directory counts as empty). A broken
 * promise or a sanitizer report aborts the run with the input's name
 * printed first. Used by the 'fuzz' test suite to replay the seed corpora
 * and the regression inputs of tests/fuzz/regress/ in every build. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0) break;
        len += r;
    }
    fclose(f);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int skipped(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n >= 3 && strcmp(name + n - 3, ".md") == 0);
}

int main(int argc, char **argv)
{
    size_t done = 0;
    int failed = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            if (errno == ENOENT) continue; /* an empty regress/ dir is not in git */
            fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[a]) == 0) done++; else failed++;
            continue;
        }
        DIR *d = opendir(argv[a]);
        if (!d) {
            fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
            failed++;
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (skipped(e->d_name)) continue;
            char path[4096];
            int len = snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if (len < 0 || (size_t)len >= sizeof path) {
                failed++;
                continue;
            }
            if (run_file(path) == 0) done++; else failed++;
        }
        closedir(d);
    }
    printf("%zu passed, %d failed\n", done, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
