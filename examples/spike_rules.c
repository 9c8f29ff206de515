/* A spike network with a hand-picked combination of plasticity rules.
 *
 * The spike engine simulates leaky integrate-and-fire neurons step by step.
 * This example builds a 784-100-10 network on MNIST and attaches, rule by
 * rule:
 *
 *   layer 1 (hidden)  SBP spread         hidden input synapses learn from the
 *                                        change of the output synapses (SBP)
 *                     pair STDP          unsupervised, small amplitudes
 *                     STP                Tsodyks-Markram depression/facilitation
 *                                        of the input spikes
 *                     homeostasis        adaptive thresholds
 *   layer 2 (output)  supervised STDP    against teaching spike trains
 *
 * It prints every rule's parameters (names, units and values read back from
 * the library), trains a few epochs on a slice of MNIST and checks that the
 * network beats chance (90 % error) by a wide margin.
 *
 * Run it by hand from a build directory:
 *
 *   SBP_DATA=../data/mnist examples/spike_rules [n_train] [n_test] [epochs]
 *
 * (defaults 1000 200 3; SBP_DATA defaults to data/mnist). Exit status 0 on
 * success, 1 on any library error or if the network does not learn.
 * Public API only (<sbp/sbp.h>).
 */
#include <sbp/sbp.h>

#include <stdio.h>
#include <stdlib.h>

/* Every call is checked: on failure print what failed, the status name and
 * the handle's message, and exit 1. */
static void check(sbp_status st, const char *what, const char *msg)
{
    if (st == SBP_OK) return;
    fprintf(stderr, "spike_rules: %s failed: %s (%s): %s\n", what, sbp_status_str(st),
            sbp_status_name(st) ? sbp_status_name(st) : "?", msg && *msg ? msg : "-");
    exit(1);
}

/* A rule with some real parameters set; prints them as the library stores
 * them. */
typedef struct {
    sbp_param param;
    double value;
} setting;

static void attach(sbp_net *net, size_t layer, sbp_rule_kind kind, const char *label,
                   const setting *set, size_t n_set, const sbp_param *show, size_t n_show)
{
    sbp_rule *rule;
    check(sbp_rule_create(kind, &rule), "sbp_rule_create", NULL);
    for (size_t i = 0; i < n_set; i++) {
        sbp_param_desc d;
        check(sbp_param_info(set[i].param, &d), "sbp_param_info", NULL);
        sbp_status st = d.type == SBP_PARAM_INT
                            ? sbp_rule_set_int(rule, set[i].param, (int64_t)set[i].value)
                            : sbp_rule_set_real(rule, set[i].param, set[i].value);
        check(st, d.name, sbp_rule_errmsg(rule));
    }
    printf("layer %zu  %-16s", layer, label);
    for (size_t i = 0; i < n_show; i++) {
        sbp_param_desc d;
        check(sbp_param_info(show[i], &d), "sbp_param_info", NULL);
        if (d.type == SBP_PARAM_INT) {
            int64_t v;
            check(sbp_rule_get_int(rule, show[i], &v), d.name, sbp_rule_errmsg(rule));
            if (show[i] == SBP_SPREAD_RETRO_WEIGHT && v >= 1 && v <= 4) {
                static const char *const retro[] = {"uniform", "efficacy", "signed", "random"};
                printf(" %s=%s", d.name, retro[v - 1]);
            } else {
                printf(" %s=%lld", d.name, (long long)v);
            }
        } else {
            double v;
            check(sbp_rule_get_real(rule, show[i], &v), d.name, sbp_rule_errmsg(rule));
            printf(" %s=%g%s%s", d.name, v, *d.unit ? " " : "", d.unit);
        }
    }
    printf("\n");
    check(sbp_net_attach_rule(net, layer, rule), "sbp_net_attach_rule", sbp_net_errmsg(net));
    sbp_rule_free(rule); /* the network keeps its own copy */
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

int main(int argc, char **argv)
{
    size_t n_train = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    size_t n_test = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
    int epochs = argc > 3 ? atoi(argv[3]) : 3;
    const char *dir = getenv("SBP_DATA") ? getenv("SBP_DATA") : "data/mnist";
    if (n_train == 0 || n_test == 0 || epochs < 1) {
        fprintf(stderr, "usage: spike_rules [n_train >= 1] [n_test >= 1] [epochs >= 1]\n");
        return 2;
    }

    /* data: the first n_train / n_test images of the bundled MNIST sample */
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

    /* 784-100-10 LIF network, 50 steps of 1 ms per image, Poisson inputs */
    sbp_net *net;
    check(sbp_net_create(SBP_ENGINE_SPIKE, 7, &net), "sbp_net_create", NULL);
    const size_t sizes[] = {784, 100, 10};
    for (size_t i = 0; i < N(sizes); i++) {
        sbp_layer *layer;
        check(sbp_layer_create(sizes[i], &layer), "sbp_layer_create", NULL);
        check(sbp_net_add_layer(net, layer), "sbp_net_add_layer", sbp_net_errmsg(net));
        sbp_layer_free(layer);
    }
    check(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 20), "net.batch_size", sbp_net_errmsg(net));
    check(sbp_net_set_int(net, SBP_SPIKE_STEPS, 50), "spike.steps", sbp_net_errmsg(net));
    check(sbp_net_set_int(net, SBP_SPIKE_ENCODER, SBP_ENCODER_POISSON), "spike.encoder",
          sbp_net_errmsg(net));

    /* hidden layer: SBP spread of the output change into its input synapses */
    const setting spread[] = {{SBP_SPREAD_LAMBDA_F, 20},
                              {SBP_SPREAD_RETRO_WEIGHT, SBP_RETRO_SIGNED}};
    const sbp_param spread_show[] = {SBP_SPREAD_LAMBDA_F, SBP_SPREAD_LAMBDA_P,
                                     SBP_SPREAD_RETRO_WEIGHT};
    attach(net, 1, SBP_RULE_SBP_SPREAD, "SBP spread", spread, N(spread), spread_show,
           N(spread_show));

    /* ... plus weak unsupervised pair STDP on the same synapses */
    const setting stdp[] = {{SBP_STDP_A_PLUS, 1e-4}, {SBP_STDP_A_MINUS, 1.05e-4}};
    const sbp_param stdp_show[] = {SBP_STDP_A_PLUS, SBP_STDP_A_MINUS, SBP_STDP_TAU_PLUS,
                                   SBP_STDP_W_MIN, SBP_STDP_W_MAX};
    attach(net, 1, SBP_RULE_STDP, "pair STDP", stdp, N(stdp), stdp_show, N(stdp_show));

    /* ... short-term plasticity of the input spikes reaching it */
    const setting stp[] = {{SBP_STP_U, 0.45}, {SBP_STP_TAU_F, 10}, {SBP_STP_TAU_D, 2}};
    const sbp_param stp_show[] = {SBP_STP_U, SBP_STP_TAU_F, SBP_STP_TAU_D};
    attach(net, 1, SBP_RULE_STP, "STP", stp, N(stp), stp_show, N(stp_show));

    /* ... and adaptive thresholds that keep its rates in check */
    const setting homeo[] = {{SBP_HOMEO_THETA_PLUS, 0.02}, {SBP_HOMEO_TAU_THETA, 1000}};
    const sbp_param homeo_show[] = {SBP_HOMEO_THETA_PLUS, SBP_HOMEO_TAU_THETA,
                                    SBP_HOMEO_TARGET_RATE};
    attach(net, 1, SBP_RULE_HOMEOSTASIS, "homeostasis", homeo, N(homeo), homeo_show,
           N(homeo_show));

    /* output layer: supervised STDP against the teaching spike trains */
    const setting sup[] = {{SBP_STDP_ETA, 1e-4}, {SBP_STDP_TAU_PLUS, 20}};
    const sbp_param sup_show[] = {SBP_STDP_ETA, SBP_STDP_TAU_PLUS};
    attach(net, 2, SBP_RULE_SUPERVISED_STDP, "supervised STDP", sup, N(sup), sup_show,
           N(sup_show));

    /* A rule the engine cannot use is refused at attach time, with a message. */
    {
        sbp_rule *cd;
        check(sbp_rule_create(SBP_RULE_RBM_CD, &cd), "sbp_rule_create", NULL);
        sbp_status st = sbp_net_attach_rule(net, 1, cd);
        sbp_rule_free(cd);
        if (st != SBP_E_UNSUPPORTED) {
            fprintf(stderr, "spike_rules: an RBM rule on a spike network was not refused (%s)\n",
                    sbp_status_name(st));
            return 1;
        }
        printf("refused as expected: %s\n", sbp_net_errmsg(net));
    }

    double test_err = 1;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double train_err;
        check(sbp_dataset_shuffle(train, (uint64_t)epoch), "shuffle", sbp_dataset_errmsg(train));
        check(sbp_net_train_epoch(net, train, &train_err), "train", sbp_net_errmsg(net));
        check(sbp_net_evaluate(net, test, &test_err), "evaluate", sbp_net_errmsg(net));
        printf("epoch %d: train error %6.2f %%  test error %6.2f %%\n", epoch, 100 * train_err,
               100 * test_err);
    }

    sbp_net_free(net);
    sbp_dataset_free(train);
    sbp_dataset_free(test);

    /* chance is 90 %; a network whose rules work together does far better */
    if (test_err > 0.6) {
        fprintf(stderr, "spike_rules: test error %.2f %% is not clearly better than chance\n",
                100 * test_err);
        return 1;
    }
    printf("ok\n");
    return 0;
}
