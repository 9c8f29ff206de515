/* Save a trained network, load it back, and check that the copy predicts,
 * and goes on training, bit-identically.
 *
 * A model file (docs/file-format.md) holds a whole network: engine, seed and
 * random state, parameters, layers, rules, weights and training state. This
 * example
 *   1. trains the paper's SNN (relax engine, with SBP) for two epochs on a
 *      slice of MNIST,
 *   2. saves it with sbp_net_save and loads it with sbp_net_load,
 *   3. predicts the test images with both networks and asserts that the
 *      labels and the output states are bit-identical (memcmp),
 *   4. trains both one more epoch and asserts that their weights are still
 *      bit-identical,
 *   5. round-trips through memory (sbp_net_save_mem / sbp_net_load_mem),
 *   6. flips one byte of a copy of the file and shows that the loader
 *      refuses it, with the diagnostic it gives.
 *
 * Run it by hand from a build directory:
 *
 *   SBP_DATA=../data/mnist examples/save_reload [model.sbpm] [n_train] [n_test]
 *
 * (defaults model.sbpm in the current directory, 1000 and 300; the file is
 * left behind for `sbp eval --load`). Exit status 0 on success, 1 on any
 * library error or difference. Public API only (<sbp/sbp.h>).
 */
#include <sbp/sbp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(sbp_status st, const char *what, const char *msg)
{
    if (st == SBP_OK) return;
    fprintf(stderr, "save_reload: %s failed: %s (%s): %s\n", what, sbp_status_str(st),
            sbp_status_name(st) ? sbp_status_name(st) : "?", msg && *msg ? msg : "-");
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "save_reload: out of memory\n");
        exit(1);
    }
    return p;
}

/* Predicts every sample of `data`; the caller frees *labels and *outputs. */
static void predict_all(sbp_net *net, const sbp_dataset *data, int32_t **labels,
                        float **outputs)
{
    size_t n = sbp_dataset_count(data), d = sbp_dataset_features(data);
    size_t k = sbp_net_layer_size(net, sbp_net_layer_count(net) - 1);
    float *x = xmalloc(n * d * sizeof *x);
    *labels = xmalloc(n * sizeof **labels);
    *outputs = xmalloc(n * k * sizeof **outputs);
    check(sbp_dataset_batch(data, 0, n, x, NULL, NULL), "sbp_dataset_batch",
          sbp_dataset_errmsg(data));
    check(sbp_net_predict(net, n, x, *labels, *outputs), "sbp_net_predict", sbp_net_errmsg(net));
    free(x);
}

/* Whether the weights into every layer are bit-identical. */
static int same_weights(sbp_net *a, sbp_net *b)
{
    int same = 1;
    for (size_t l = 1; l < sbp_net_layer_count(a); l++) {
        size_t count = sbp_net_layer_size(a, l - 1) * sbp_net_layer_size(a, l);
        float *wa = xmalloc(count * sizeof *wa), *wb = xmalloc(count * sizeof *wb);
        check(sbp_net_get_weights(a, l, wa, count), "sbp_net_get_weights", sbp_net_errmsg(a));
        check(sbp_net_get_weights(b, l, wb, count), "sbp_net_get_weights", sbp_net_errmsg(b));
        if (memcmp(wa, wb, count * sizeof *wa) != 0) same = 0;
        free(wa);
        free(wb);
    }
    return same;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (f) fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "model.sbpm";
    size_t n_train = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
    size_t n_test = argc > 3 ? strtoul(argv[3], NULL, 10) : 300;
    const char *dir = getenv("SBP_DATA") ? getenv("SBP_DATA") : "data/mnist";
    if (n_train == 0 || n_test == 0) {
        fprintf(stderr, "usage: save_reload [model.sbpm] [n_train >= 1] [n_test >= 1]\n");
        return 2;
    }

    sbp_diag diag;
    sbp_dataset *train_all, *test_all, *train, *test;
    check(sbp_dataset_load_mnist(dir, SBP_MNIST_TRAIN, &diag, &train_all), "load train",
          diag.message);
    check(sbp_dataset_load_mnist(dir, SBP_MNIST_TEST, &diag, &test_all), "load test",
          diag.message);
    check(sbp_dataset_subset(train_all, 0, n_train, &train), "subset",
          sbp_dataset_errmsg(train_all));
    check(sbp_dataset_subset(test_all, 0, n_test, &test), "subset",
          sbp_dataset_errmsg(test_all));
    sbp_dataset_free(train_all);
    sbp_dataset_free(test_all);

    /* 1. the paper's SNN with SBP (a smaller hidden layer, to be quick) */
    sbp_net *net;
    check(sbp_net_create(SBP_ENGINE_RELAX, 2021, &net), "sbp_net_create", NULL);
    const size_t sizes[] = {784, 200, 10};
    for (int i = 0; i < 3; i++) {
        sbp_layer *layer;
        check(sbp_layer_create(sizes[i], &layer), "sbp_layer_create", NULL);
        check(sbp_net_add_layer(net, layer), "sbp_net_add_layer", sbp_net_errmsg(net));
        sbp_layer_free(layer);
    }
    check(sbp_net_set_int(net, SBP_RELAX_BASE_RULE, SBP_BASE_SBP), "relax.base_rule",
          sbp_net_errmsg(net));
    sbp_rule *spread;
    check(sbp_rule_create(SBP_RULE_SBP_SPREAD, &spread), "sbp_rule_create", NULL);
    check(sbp_net_attach_rule(net, 1, spread), "attach spread", sbp_net_errmsg(net));
    sbp_rule_free(spread);

    double train_err, test_err;
    for (int epoch = 1; epoch <= 2; epoch++)
        check(sbp_net_train_epoch(net, train, &train_err), "train", sbp_net_errmsg(net));
    check(sbp_net_evaluate(net, test, &test_err), "evaluate", sbp_net_errmsg(net));
    printf("trained 2 epochs: train error %.2f %%, test error %.2f %%\n", 100 * train_err,
           100 * test_err);

    /* 2. save and load */
    check(sbp_net_save(net, path), "sbp_net_save", sbp_net_errmsg(net));
    printf("saved %s (%ld bytes)\n", path, file_size(path));
    sbp_net *copy;
    check(sbp_net_load(path, &diag, &copy), "sbp_net_load", diag.message);
    printf("loaded: engine %s, %zu layers\n", sbp_engine_name(sbp_net_get_engine(copy)),
           sbp_net_layer_count(copy));

    /* 3. predictions, bit for bit */
    int32_t *la, *lb;
    float *oa, *ob;
    predict_all(net, test, &la, &oa);
    predict_all(copy, test, &lb, &ob);
    size_t k = sizes[2];
    int ok = 1;
    if (memcmp(la, lb, n_test * sizeof *la) != 0 || memcmp(oa, ob, n_test * k * sizeof *oa) != 0) {
        fprintf(stderr, "save_reload: the loaded network predicts differently\n");
        ok = 0;
    } else {
        size_t right = 0;
        for (size_t i = 0; i < n_test; i++) {
            int32_t label;
            check(sbp_dataset_sample(test, i, NULL, NULL, &label), "sample",
                  sbp_dataset_errmsg(test));
            right += la[i] == label;
        }
        printf("predictions of %zu test images: identical (labels and %zu output values), "
               "%zu right\n", n_test, n_test * k, right);
    }
    free(la);
    free(lb);
    free(oa);
    free(ob);

    /* 4. both go on training the same way */
    double err_a, err_b;
    check(sbp_net_train_epoch(net, train, &err_a), "train", sbp_net_errmsg(net));
    check(sbp_net_train_epoch(copy, train, &err_b), "train", sbp_net_errmsg(copy));
    if (err_a != err_b || !same_weights(net, copy)) {
        fprintf(stderr, "save_reload: training after the reload differs (%g vs %g)\n", err_a,
                err_b);
        ok = 0;
    } else {
        printf("one more epoch on each: train error %.2f %% both, weights identical\n",
               100 * err_a);
    }

    /* 5. the same through memory */
    void *bytes;
    size_t size;
    check(sbp_net_save_mem(net, &bytes, &size), "sbp_net_save_mem", sbp_net_errmsg(net));
    sbp_net *mem_copy;
    check(sbp_net_load_mem(bytes, size, &diag, &mem_copy), "sbp_net_load_mem", diag.message);
    if (!same_weights(net, mem_copy)) {
        fprintf(stderr, "save_reload: the in-memory copy has other weights\n");
        ok = 0;
    } else {
        printf("in-memory round trip: %zu bytes, weights identical\n", size);
    }
    sbp_net_free(mem_copy);

    /* 6. a corrupted file is refused with a precise diagnostic */
    ((unsigned char *)bytes)[size / 2] ^= 0x01;
    sbp_net *bad = NULL;
    sbp_status st = sbp_net_load_mem(bytes, size, &diag, &bad);
    sbp_free(bytes);
    if (st == SBP_OK || bad != NULL) {
        fprintf(stderr, "save_reload: a corrupted model was accepted\n");
        sbp_net_free(bad);
        ok = 0;
    } else {
        printf("corrupted copy refused: %s: %s\n", sbp_status_name(st), diag.message);
    }

    sbp_net_free(net);
    sbp_net_free(copy);
    sbp_dataset_free(train);
    sbp_dataset_free(test);
    if (ok) printf("ok\n");
    return ok ? 0 : 1;
}
