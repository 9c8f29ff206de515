/* A classification RBM trained by contrastive divergence, with and without
 * the SBP spread.
 *
 * The rbm engine's three-layer network [input, hidden, label] is a
 * restricted Boltzmann machine whose visible layer holds the image and a
 * one-hot label; it predicts the label of lowest free energy. Its learning
 * rule is CD-k (an SBP_RULE_RBM_CD rule on layer 1). An SBP_RULE_SBP_SPREAD
 * rule on layer 1 adds the SBP term: the CD change of the hidden-to-label
 * weights spreads back into the change of the hidden units' input weights
 * (docs/rbm.md).
 *
 * The example trains two 784-200-10 RBMs from the same seed on a slice of
 * MNIST, one with the spread rule disabled (plain CD-1, bit for bit) and one
 * with it enabled, prints their test error per epoch and the label
 * probabilities p(y | x) of one test image, and checks that both learn.
 *
 * Run it by hand from a build directory:
 *
 *   SBP_DATA=../data/mnist examples/rbm_sbp [n_train] [n_test] [epochs]
 *
 * (defaults 3000 500 4; SBP_DATA defaults to data/mnist). Exit status 0 on
 * success, 1 on any library error or if a network does not learn.
 * Public API only (<sbp/sbp.h>).
 */
#include <sbp/sbp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void check(sbp_status st, const char *what, const char *msg)
{
    if (st == SBP_OK) return;
    fprintf(stderr, "rbm_sbp: %s failed: %s (%s): %s\n", what, sbp_status_str(st),
            sbp_status_name(st) ? sbp_status_name(st) : "?", msg && *msg ? msg : "-");
    exit(1);
}

/* 784-200-10 classification RBM; spread = 0 attaches the spread rule
 * disabled, which is the exact ablation (plain CD). */
static sbp_net *make_rbm(int spread)
{
    sbp_net *net;
    check(sbp_net_create(SBP_ENGINE_RBM, 11, &net), "sbp_net_create", NULL);
    const size_t sizes[] = {784, 200, 10};
    for (int i = 0; i < 3; i++) {
        sbp_layer *layer;
        check(sbp_layer_create(sizes[i], &layer), "sbp_layer_create", NULL);
        if (i > 0)
            check(sbp_layer_set_real(layer, SBP_LAYER_LEARNING_RATE, 0.1), "layer.learning_rate",
                  sbp_layer_errmsg(layer));
        check(sbp_net_add_layer(net, layer), "sbp_net_add_layer", sbp_net_errmsg(net));
        sbp_layer_free(layer);
    }
    check(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 50), "net.batch_size", sbp_net_errmsg(net));

    /* contrastive divergence: CD-1 with momentum and weight decay */
    sbp_rule *cd;
    check(sbp_rule_create(SBP_RULE_RBM_CD, &cd), "sbp_rule_create", NULL);
    check(sbp_rule_set_int(cd, SBP_CD_K, 1), "cd.k", sbp_rule_errmsg(cd));
    check(sbp_rule_set_real(cd, SBP_CD_MOMENTUM, 0.5), "cd.momentum", sbp_rule_errmsg(cd));
    check(sbp_rule_set_real(cd, SBP_CD_WEIGHT_DECAY, 1e-4), "cd.weight_decay",
          sbp_rule_errmsg(cd));
    check(sbp_net_attach_rule(net, 1, cd), "attach cd", sbp_net_errmsg(net));
    sbp_rule_free(cd);

    /* the SBP spread of the hidden-to-label change into the input weights:
     * additive form, signed retro weighting */
    sbp_rule *sp;
    check(sbp_rule_create(SBP_RULE_SBP_SPREAD, &sp), "sbp_rule_create", NULL);
    check(sbp_rule_set_int(sp, SBP_SPREAD_ENABLED, spread), "spread.enabled",
          sbp_rule_errmsg(sp));
    check(sbp_rule_set_int(sp, SBP_SPREAD_FORM, SBP_SPREAD_ADDITIVE), "spread.form",
          sbp_rule_errmsg(sp));
    check(sbp_rule_set_real(sp, SBP_SPREAD_LAMBDA_F, 0.5), "spread.lambda_f",
          sbp_rule_errmsg(sp));
    check(sbp_net_attach_rule(net, 1, sp), "attach spread", sbp_net_errmsg(net));
    sbp_rule_free(sp);
    return net;
}

int main(int argc, char **argv)
{
    size_t n_train = argc > 1 ? strtoul(argv[1], NULL, 10) : 3000;
    size_t n_test = argc > 2 ? strtoul(argv[2], NULL, 10) : 500;
    int epochs = argc > 3 ? atoi(argv[3]) : 4;
    const char *dir = getenv("SBP_DATA") ? getenv("SBP_DATA") : "data/mnist";
    if (n_train == 0 || n_test == 0 || epochs < 1 || epochs > 100) {
        fprintf(stderr, "usage: rbm_sbp [n_train >= 1] [n_test >= 1] [epochs 1..100]\n");
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

    const char *names[2] = {"CD-1", "CD-1 + SBP"};
    double err[2][100];
    sbp_net *nets[2];
    for (int v = 0; v < 2; v++) {
        nets[v] = make_rbm(v);
        for (int e = 0; e < epochs; e++) {
            /* the same presentation order for both networks */
            check(sbp_dataset_shuffle(train, (uint64_t)e + 1), "shuffle",
                  sbp_dataset_errmsg(train));
            check(sbp_net_train_epoch(nets[v], train, NULL), "train", sbp_net_errmsg(nets[v]));
            check(sbp_net_evaluate(nets[v], test, &err[v][e]), "evaluate",
                  sbp_net_errmsg(nets[v]));
        }
    }

    printf("test error per epoch (%zu training, %zu test images)\n", n_train, n_test);
    printf("epoch  %10s  %10s\n", names[0], names[1]);
    for (int e = 0; e < epochs; e++)
        printf("%5d  %8.2f %%  %8.2f %%\n", e + 1, 100 * err[0][e], 100 * err[1][e]);

    /* p(y | x) of the first test image, from the network with SBP */
    float x[784], probs[10];
    int32_t label, predicted;
    check(sbp_dataset_sample(test, 0, x, NULL, &label), "sample", sbp_dataset_errmsg(test));
    check(sbp_net_predict(nets[1], 1, x, &predicted, probs), "predict",
          sbp_net_errmsg(nets[1]));
    double sum = 0;
    printf("test image 0 (label %d): p(y|x) =", (int)label);
    for (int k = 0; k < 10; k++) {
        printf(" %.3f", probs[k]);
        sum += probs[k];
    }
    printf("  -> predicted %d\n", (int)predicted);

    int ok = 1;
    if (fabs(sum - 1) > 1e-4) {
        fprintf(stderr, "rbm_sbp: label probabilities sum to %g, not 1\n", sum);
        ok = 0;
    }
    for (int v = 0; v < 2; v++)
        if (err[v][epochs - 1] > 0.3) { /* chance is 90 % */
            fprintf(stderr, "rbm_sbp: %s ends at %.2f %% test error\n", names[v],
                    100 * err[v][epochs - 1]);
            ok = 0;
        }

    sbp_net_free(nets[0]);
    sbp_net_free(nets[1]);
    sbp_dataset_free(train);
    sbp_dataset_free(test);
    if (ok) printf("ok\n");
    return ok ? 0 : 1;
}
