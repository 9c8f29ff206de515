/* `sbp info FILE`: what a model file holds (engine, seed, layers, the
 * parameters and rules that differ from the library's defaults), read back
 * through the public API (sbp_net_get_seed / _get_layer / _get_rule). */
#include <math.h>
#include <string.h>

#include "msg.h"
#include "netcfg.h"
#include "tool.h"

/* Reads parameter p of one object: 0 when it is not the object's. */
typedef int (*param_reader)(const void *obj, sbp_param p, double *v);

static int read_net(const void *obj, sbp_param p, double *v)
{
    return sbp_net_get_real(obj, p, v) == SBP_OK;
}

static int read_layer(const void *obj, sbp_param p, double *v)
{
    return sbp_layer_get_real(obj, p, v) == SBP_OK;
}

static int read_rule(const void *obj, sbp_param p, double *v)
{
    return sbp_rule_get_real(obj, p, v) == SBP_OK;
}

/* The symbolic name of an enum value ("sbp" for relax.base_rule = 3), or
 * NULL. */
static const char *symbol_of(sbp_param p, double v)
{
    for (size_t i = 0; i < n_set_symbols; i++)
        if (set_symbols[i].param == p && set_symbols[i].value == v) return set_symbols[i].name;
    return NULL;
}

/* Prints the parameters of `obj` that are set and differ from their
 * defaults, as " name=value" (text) or "\"name\":value" (JSON). Returns
 * how many it printed. Every parameter is probed through the pinned enum
 * ranges, as `sbp help params` lists them. */
static int print_changed(FILE *out, const void *obj, param_reader read, int json)
{
    int n = 0;
    for (unsigned group = 1; group <= 0xA; group++) {
        for (unsigned i = 0; i < 0x40; i++) {
            sbp_param p = (sbp_param)(group << 8 | i);
            sbp_param_desc d;
            double v;
            if (sbp_param_info(p, &d) != SBP_OK || !d.name || !read(obj, p, &v)) continue;
            if (isnan(v) || v == d.default_value) continue; /* unset or at its default */
            const char *sym = d.type == SBP_PARAM_INT ? symbol_of(p, v) : NULL;
            if (json) {
                fputs(n ? "," : "", out);
                json_string(out, d.name);
                fputc(':', out);
                if (sym)
                    json_string(out, sym);
                else
                    json_number(out, v, 15);
            } else if (sym) {
                fprintf(out, " %s=%s", d.name, sym);
            } else {
                fprintf(out, " %s=%.15g", d.name, v);
            }
            n++;
        }
    }
    return n;
}

/* One layer's rules: text lines "  rule NAME params..." or JSON members. */
static int print_rules(FILE *out, const sbp_net *net, size_t l, int json, FILE *err)
{
    int n = 0;
    for (int k = 1; sbp_rule_kind_name((sbp_rule_kind)k); k++) {
        sbp_rule *r = NULL;
        sbp_status st = sbp_net_get_rule(net, l, (sbp_rule_kind)k, &r);
        if (st != SBP_OK) {
            fprintf(err, "sbp: reading the rules of layer %zu: %s\n", l, sbp_net_errmsg(net));
            return -1;
        }
        if (!r) continue;
        if (json) {
            fprintf(out, "%s\"%s\":{", n ? "," : "", sbp_rule_kind_name((sbp_rule_kind)k));
            print_changed(out, r, read_rule, 1);
            fputc('}', out);
        } else {
            fprintf(out, "  rule %s", sbp_rule_kind_name((sbp_rule_kind)k));
            print_changed(out, r, read_rule, 0);
            fputc('\n', out);
        }
        sbp_rule_free(r);
        n++;
    }
    return n;
}

int sbp_tool_model_info(const char *path, int json, FILE *out, FILE *err)
{
    sbp_diag diag;
    memset(&diag, 0, sizeof diag);
    sbp_net *net = NULL;
    sbp_status st = sbp_net_load(path, &diag, &net);
    if (st != SBP_OK) {
        fprintf(err, "sbp: %s (%s)\n", diag.message, sbp_status_name(st));
        return EXIT_FAIL;
    }
    uint64_t seed = 0;
    sbp_net_get_seed(net, &seed);
    const char *engine = sbp_engine_name(sbp_net_get_engine(net));
    size_t n_layers = sbp_net_layer_count(net);
    int rc = 0;
    if (json) {
        fputs("{\"file\":", out);
        json_string(out, path);
        fputs(",\"engine\":", out);
        json_string(out, engine);
        fprintf(out, ",\"seed\":%llu,\"params\":{", (unsigned long long)seed);
        print_changed(out, net, read_net, 1);
        fputs("},\"layers\":[", out);
    } else {
        fprintf(out, "model file  %s\nengine      %s\nseed        %llu\nlayers     ", path,
                engine, (unsigned long long)seed);
        for (size_t l = 0; l < n_layers; l++)
            fprintf(out, "%s%zu", l ? "-" : " ", sbp_net_layer_size(net, l));
        fputs("\nnetwork    ", out);
        print_changed(out, net, read_net, 0);
        fputc('\n', out);
    }
    for (size_t l = 0; l < n_layers && rc == 0; l++) {
        sbp_layer *layer = NULL;
        if (sbp_net_get_layer(net, l, &layer) != SBP_OK) {
            fprintf(err, "sbp: reading layer %zu: %s\n", l, sbp_net_errmsg(net));
            rc = EXIT_FAIL;
            break;
        }
        if (json) {
            fprintf(out, "%s{\"size\":%zu,\"params\":{", l ? "," : "", sbp_layer_size(layer));
            print_changed(out, layer, read_layer, 1);
            fputs("},\"rules\":{", out);
        } else {
            fprintf(out, "layer %-4zu  %zu neurons%s", l, sbp_layer_size(layer),
                    l ? "" : " (input)");
            print_changed(out, layer, read_layer, 0);
            fputc('\n', out);
        }
        sbp_layer_free(layer);
        if (l > 0 && print_rules(out, net, l, json, err) < 0) rc = EXIT_FAIL;
        if (json) fputs("}}", out);
    }
    if (json) fputs("]}\n", out);
    sbp_net_free(net);
    if (rc == 0 && fflush(out) != 0) {
        fprintf(err, "sbp: writing the output failed\n");
        rc = EXIT_FAIL;
    }
    return rc;
}
