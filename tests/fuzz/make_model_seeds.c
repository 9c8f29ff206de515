/* Writes the seed corpus of the `model` fuzz target: a small network of
 * every engine with its rules, unbuilt and after one epoch of training,
 * saved with sbp_net_save_mem and prefixed with the harness's flag byte
 * (fuzz_model.c). Built by tests/fuzz/meson.build; run it as
 *     build/tests/fuzz/fuzz-model-seeds tests/fuzz/corpus/model
 * whenever the model format changes. */
#include <stdio.h>
#include <stdlib.h>

#include "sbp/sbp.h"

static void must(sbp_status st, const char *what)
{
    if (st != SBP_OK) {
        fprintf(stderr, "make_model_seeds: %s: %s\n", what, sbp_status_str(st));
        exit(1);
    }
}

static void attach(sbp_net *net, size_t layer, sbp_rule_kind kind)
{
    sbp_rule *r;
    must(sbp_rule_create(kind, &r), "rule");
    must(sbp_net_attach_rule(net, layer, r), "attach");
    sbp_rule_free(r);
}

static sbp_net *make(sbp_engine e)
{
    static const size_t sizes[] = {6, 4, 3};
    sbp_net *net;
    must(sbp_net_create(e, 5, &net), "create");
    for (int i = 0; i < 3; i++) {
        sbp_layer *l;
        must(sbp_layer_create(sizes[i], &l), "layer");
        must(sbp_net_add_layer(net, l), "add layer");
        sbp_layer_free(l);
    }
    must(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 2), "batch");
    switch (e) {
    case SBP_ENGINE_RELAX:
        must(sbp_net_set_real(net, SBP_RELAX_T, 1.0), "relax.T");
        attach(net, 1, SBP_RULE_SBP_SPREAD);
        attach(net, 1, SBP_RULE_STP);
        break;
    case SBP_ENGINE_SPIKE:
        must(sbp_net_set_int(net, SBP_SPIKE_STEPS, 5), "spike.steps");
        attach(net, 2, SBP_RULE_SUPERVISED_STDP);
        attach(net, 1, SBP_RULE_SBP_SPREAD);
        attach(net, 1, SBP_RULE_HOMEOSTASIS);
        break;
    case SBP_ENGINE_ANN:
        must(sbp_net_set_int(net, SBP_ANN_OPTIMIZER, SBP_OPT_ADAM), "ann.optimizer");
        attach(net, 1, SBP_RULE_SBP_SPREAD);
        break;
    case SBP_ENGINE_RBM:
        attach(net, 1, SBP_RULE_RBM_CD);
        break;
    }
    return net;
}

static void save(sbp_net *net, const char *dir, const char *name)
{
    void *data;
    size_t size;
    must(sbp_net_save_mem(net, &data, &size), "save");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(3, f) == EOF || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "make_model_seeds: cannot write %s\n", path);
        exit(1);
    }
    sbp_free(data);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    float x[4 * 6];
    int32_t labels[4] = {0, 1, 2, 0};
    for (int i = 0; i < 4 * 6; i++) x[i] = (float)((i * 7) % 10) / 10.0f;
    sbp_dataset *ds;
    must(sbp_dataset_create(4, 6, x, labels, 3, &ds), "dataset");
    for (int e = SBP_ENGINE_RELAX; e <= SBP_ENGINE_RBM; e++) {
        char name[64];
        sbp_net *net = make((sbp_engine)e);
        snprintf(name, sizeof name, "%s-unbuilt", sbp_engine_name((sbp_engine)e));
        save(net, argv[1], name);
        must(sbp_net_train_epoch(net, ds, NULL), "train");
        snprintf(name, sizeof name, "%s-trained", sbp_engine_name((sbp_engine)e));
        save(net, argv[1], name);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
    return 0;
}
