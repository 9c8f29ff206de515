/* Threads (docs/threading.md): different networks train at the same time
 * on different threads, sharing one read-only dataset, and each network's
 * own worker threads (net.threads 2) do not race. Results must equal those
 * of the same networks trained one after the other. CI runs this suite
 * under ThreadSanitizer (docs/reliability.md), which turns any data race
 * into a failure; without TSan it is an ordinary determinism test. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sbp/sbp.h"
#include "testutil.h"

#define D 20
#define H 16
#define K 3
#define NS 60
#define EPOCHS 2

static sbp_dataset *toy(void)
{
    return sbp_test_prototypes(9, NS, D, K, 6, 0.8f, 0.05f, 0.2f);
}

static void attach(sbp_net *net, size_t layer, sbp_rule_kind kind)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(kind, &r), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, layer, r), SBP_OK);
    sbp_rule_free(r);
}

/* A small network of the engine with SBP on and `threads` workers. */
static sbp_net *make(sbp_engine e, unsigned threads)
{
    static const size_t sizes[] = {D, H, K};
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(e, 17, &net), SBP_OK);
    for (int i = 0; i < 3; i++) {
        sbp_layer *l;
        ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 10), SBP_OK);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_THREADS, threads), SBP_OK);
    switch (e) {
    case SBP_ENGINE_RELAX:
        ck_assert_int_eq(sbp_net_set_real(net, SBP_RELAX_T, 2.0), SBP_OK);
        attach(net, 1, SBP_RULE_SBP_SPREAD);
        attach(net, 2, SBP_RULE_SBP_SPREAD);
        break;
    case SBP_ENGINE_SPIKE:
        ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_STEPS, 20), SBP_OK);
        attach(net, 2, SBP_RULE_SUPERVISED_STDP);
        attach(net, 1, SBP_RULE_SBP_SPREAD);
        attach(net, 1, SBP_RULE_STDP);      /* spike recordings */
        attach(net, 1, SBP_RULE_HOMEOSTASIS);
        break;
    case SBP_ENGINE_ANN:
        ck_assert_int_eq(sbp_net_set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_SBP), SBP_OK);
        attach(net, 1, SBP_RULE_SBP_SPREAD);
        break;
    case SBP_ENGINE_RBM:
        attach(net, 1, SBP_RULE_RBM_CD);
        attach(net, 2, SBP_RULE_SBP_SPREAD);
        break;
    }
    return net;
}

typedef struct job {
    sbp_net *net;
    const sbp_dataset *data;
    sbp_status status;
    double error;
    int32_t labels[NS];
} job;

/* Trains, evaluates and predicts; everything the network does. */
static void *run(void *arg)
{
    job *j = arg;
    float *x = malloc(NS * D * sizeof *x);
    j->status = x ? SBP_OK : SBP_E_NOMEM;
    for (int e = 0; e < EPOCHS && j->status == SBP_OK; e++)
        j->status = sbp_net_train_epoch(j->net, j->data, NULL);
    if (j->status == SBP_OK) j->status = sbp_net_evaluate(j->net, j->data, &j->error);
    if (j->status == SBP_OK) j->status = sbp_dataset_batch(j->data, 0, NS, x, NULL, NULL);
    if (j->status == SBP_OK) j->status = sbp_net_predict(j->net, NS, x, j->labels, NULL);
    free(x);
    return NULL;
}

static void same_weights(sbp_net *a, sbp_net *b)
{
    for (size_t l = 1; l < 3; l++) {
        size_t count = sbp_net_layer_size(a, l - 1) * sbp_net_layer_size(a, l);
        float *wa = malloc(count * sizeof *wa), *wb = malloc(count * sizeof *wb);
        ck_assert(wa && wb);
        ck_assert_int_eq(sbp_net_get_weights(a, l, wa, count), SBP_OK);
        ck_assert_int_eq(sbp_net_get_weights(b, l, wb, count), SBP_OK);
        ck_assert_int_eq(memcmp(wa, wb, count * sizeof *wa), 0);
        free(wa);
        free(wb);
    }
}

/* Two engines at once on two threads, each with two workers of its own,
 * against the same two trained one after the other. */
static void two_at_once(sbp_engine e1, sbp_engine e2)
{
    sbp_dataset *ds = toy();
    job par[2] = {{.net = make(e1, 2), .data = ds}, {.net = make(e2, 2), .data = ds}};
    job seq[2] = {{.net = make(e1, 2), .data = ds}, {.net = make(e2, 2), .data = ds}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, run, &par[i]), 0);
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) run(&seq[i]);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(par[i].status == SBP_OK, "%s: %s", sbp_engine_name(sbp_net_get_engine(par[i].net)),
                      sbp_net_errmsg(par[i].net));
        ck_assert_int_eq(seq[i].status, SBP_OK);
        ck_assert(par[i].error == seq[i].error);
        ck_assert_int_eq(memcmp(par[i].labels, seq[i].labels, sizeof par[i].labels), 0);
        same_weights(par[i].net, seq[i].net);
        sbp_net_free(par[i].net);
        sbp_net_free(seq[i].net);
    }
    sbp_dataset_free(ds);
}

START_TEST(relax_and_spike_train_at_once)
{
    two_at_once(SBP_ENGINE_RELAX, SBP_ENGINE_SPIKE);
}
END_TEST

START_TEST(ann_and_rbm_train_at_once)
{
    two_at_once(SBP_ENGINE_ANN, SBP_ENGINE_RBM);
}
END_TEST

START_TEST(two_networks_of_one_engine_at_once)
{
    two_at_once(SBP_ENGINE_RELAX, SBP_ENGINE_RELAX);
    two_at_once(SBP_ENGINE_SPIKE, SBP_ENGINE_SPIKE);
}
END_TEST

/* One network with several workers gives the single-threaded result. */
START_TEST(workers_match_one_thread)
{
    static const sbp_engine engines[] = {SBP_ENGINE_RELAX, SBP_ENGINE_SPIKE};
    sbp_dataset *ds = toy();
    for (size_t i = 0; i < 2; i++) {
        job one = {.net = make(engines[i], 1), .data = ds};
        job many = {.net = make(engines[i], 3), .data = ds};
        run(&one);
        run(&many);
        ck_assert_int_eq(one.status, SBP_OK);
        ck_assert_int_eq(many.status, SBP_OK);
        ck_assert(one.error == many.error);
        same_weights(one.net, many.net);
        /* the worker count may change between calls */
        ck_assert_int_eq(sbp_net_set_int(many.net, SBP_NET_THREADS, 2), SBP_OK);
        ck_assert_int_eq(sbp_net_set_int(one.net, SBP_NET_THREADS, 1), SBP_OK);
        ck_assert_int_eq(sbp_net_train_epoch(many.net, ds, NULL), SBP_OK);
        ck_assert_int_eq(sbp_net_train_epoch(one.net, ds, NULL), SBP_OK);
        same_weights(one.net, many.net);
        sbp_net_free(one.net);
        sbp_net_free(many.net);
    }
    sbp_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, relax_and_spike_train_at_once);
    tcase_add_test(tc, ann_and_rbm_train_at_once);
    tcase_add_test(tc, two_networks_of_one_engine_at_once);
    tcase_add_test(tc, workers_match_one_thread);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
