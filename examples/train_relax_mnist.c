/* Train the paper's SNN (relax engine) with SBP on a slice of MNIST and
 * print the test error after each epoch.
 *
 * Run it by hand from a build directory:
 *
 *   SBP_DATA=../data/mnist examples/train_relax_mnist [n_train] [n_test]
 *
 * (defaults 6000 1000; SBP_DATA defaults to data/mnist). Uses only the
 * public API: datasets, a layer description, a rule and a network. Error
 * handling is one helper: print the message, exit 1; the program also exits
 * 1 if the test error after 2 epochs is no better than 50 %. The Python
 * example relax_curves.py trains the same network and draws its curves. */
#include <sbp/sbp.h>

#include <stdio.h>
#include <stdlib.h>

static void check(sbp_status st, const char *what, const char *msg)
{
    if (st == SBP_OK) return;
    fprintf(stderr, "%s failed: %s (%s)\n", what, msg, sbp_status_name(st));
    exit(1);
}

int main(int argc, char **argv)
{
    size_t n_train = argc > 1 ? strtoul(argv[1], NULL, 10) : 6000;
    size_t n_test = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
    const char *dir = getenv("SBP_DATA") ? getenv("SBP_DATA") : "data/mnist";

    sbp_diag diag;
    sbp_dataset *train_all, *test_all, *train, *test;
    check(sbp_dataset_load_mnist(dir, SBP_MNIST_TRAIN, &diag, &train_all), "load", diag.message);
    check(sbp_dataset_load_mnist(dir, SBP_MNIST_TEST, &diag, &test_all), "load", diag.message);
    check(sbp_dataset_subset(train_all, 0, n_train, &train), "subset", sbp_dataset_errmsg(train_all));
    check(sbp_dataset_subset(test_all, 0, n_test, &test), "subset", sbp_dataset_errmsg(test_all));

    /* 784-500-10, the paper's MNIST network */
    sbp_net *net;
    check(sbp_net_create(SBP_ENGINE_RELAX, 42, &net), "create", "");
    size_t sizes[] = {784, 500, 10};
    for (int i = 0; i < 3; i++) {
        sbp_layer *layer;
        check(sbp_layer_create(sizes[i], &layer), "layer", "");
        check(sbp_net_add_layer(net, layer), "add layer", sbp_net_errmsg(net));
        sbp_layer_free(layer); /* the network keeps its own copy */
    }
    /* "with SBP": the pre x delta-post base rule plus the spread operator */
    check(sbp_net_set_int(net, SBP_RELAX_BASE_RULE, SBP_BASE_SBP), "rule", sbp_net_errmsg(net));
    sbp_rule *spread;
    check(sbp_rule_create(SBP_RULE_SBP_SPREAD, &spread), "rule", "");
    for (size_t l = 1; l < 3; l++)
        check(sbp_net_attach_rule(net, l, spread), "attach", sbp_net_errmsg(net));
    sbp_rule_free(spread);

    for (int epoch = 1; epoch <= 2; epoch++) {
        double train_err, test_err;
        check(sbp_net_train_epoch(net, train, &train_err), "train", sbp_net_errmsg(net));
        check(sbp_net_evaluate(net, test, &test_err), "evaluate", sbp_net_errmsg(net));
        printf("epoch %d: train error %.2f %%, test error %.2f %%\n", epoch, 100 * train_err,
               100 * test_err);
        /* the example doubles as a smoke test: learning must beat chance */
        if (epoch == 2 && test_err > 0.5) {
            fprintf(stderr, "test error %.2f is no better than chance\n", test_err);
            return 1;
        }
    }
    sbp_net_free(net);
    sbp_dataset_free(train);
    sbp_dataset_free(test);
    sbp_dataset_free(train_all);
    sbp_dataset_free(test_all);
    return 0;
}
