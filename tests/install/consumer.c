/* An external program that uses an installed libsbp the way any consumer
 * would: only <sbp/sbp.h>, compiler and linker flags from pkg-config.
 * tests/test_install.sh builds it as C and as C++ and checks its output,
 * so keep it in the common subset of C99 and C++11. */
#include <sbp/sbp.h>

#include <stdio.h>

static int failed(const char *what, sbp_status st, const char *detail)
{
    fprintf(stderr, "consumer: %s failed: %s (%s)%s%s\n", what, sbp_status_str(st),
            sbp_status_name(st) ? sbp_status_name(st) : "?", detail ? ": " : "",
            detail ? detail : "");
    return 1;
}

int main(void)
{
    sbp_net *net = NULL;
    sbp_layer *layer = NULL;
    sbp_dataset *ds = NULL;
    sbp_status st;
    int rc = 1;

    /* The header this program was compiled with and the library it runs
     * with; a different major version would be an ABI break. */
    printf("header %s\n", SBP_VERSION_STRING);
    printf("library %s\n", sbp_version_string());
    if (sbp_version_number() / 10000 != SBP_VERSION_MAJOR) {
        fprintf(stderr, "consumer: library major version differs from the header's\n");
        return 1;
    }

    st = sbp_net_create(SBP_ENGINE_RELAX, 42, &net);
    if (st != SBP_OK) return failed("sbp_net_create", st, NULL);
    st = sbp_layer_create(3, &layer);
    if (st != SBP_OK) {
        rc = failed("sbp_layer_create", st, NULL);
        goto done;
    }
    if ((st = sbp_net_add_layer(net, layer)) != SBP_OK ||
        (st = sbp_net_add_layer(net, layer)) != SBP_OK) {
        rc = failed("sbp_net_add_layer", st, sbp_net_errmsg(net));
        goto done;
    }
    st = sbp_net_set_real(net, SBP_RELAX_BETA, 1e9); /* out of range: refused */
    if (st != SBP_E_RANGE) {
        rc = failed("range check of sbp_net_set_real", st, sbp_net_errmsg(net));
        goto done;
    }
    printf("network %s: %u layers\n", sbp_engine_name(sbp_net_get_engine(net)),
           (unsigned)sbp_net_layer_count(net));

    {
        const float x[4 * 3] = {0.0f, 0.5f, 1.0f,  0.25f, 0.75f, 0.125f,
                                1.0f, 0.0f, 0.5f,  0.5f,  0.5f,  0.5f};
        const int32_t labels[4] = {0, 1, 2, 1};
        float row[3];
        int32_t label = -1;
        st = sbp_dataset_create(4, 3, x, labels, 3, &ds);
        if (st != SBP_OK) {
            rc = failed("sbp_dataset_create", st, NULL);
            goto done;
        }
        st = sbp_dataset_sample(ds, 2, row, NULL, &label);
        if (st != SBP_OK || label != 2 || row[0] != 1.0f) {
            rc = failed("sbp_dataset_sample", st, sbp_dataset_errmsg(ds));
            goto done;
        }
        printf("dataset %u x %u, %u classes\n", (unsigned)sbp_dataset_count(ds),
               (unsigned)sbp_dataset_features(ds), (unsigned)sbp_dataset_classes(ds));
    }
    printf("ok\n");
    rc = 0;
done:
    sbp_dataset_free(ds);
    sbp_layer_free(layer);
    sbp_net_free(net);
    return rc;
}
