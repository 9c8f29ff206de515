/* Layer descriptions: a size and neuron parameters, copied into networks. */
#include <math.h>

#include "alloc.h"
#include "objects.h"

#define LAYER_MASK (1u << SBP__G_LAYER)

sbp_status sbp_layer_create(size_t size, sbp_layer **out)
{
    if (!out) return SBP_E_INVALID;
    *out = NULL;
    if (size == 0) return SBP_E_RANGE;
    if (size > SBP__LAYER_MAX_SIZE) return SBP_E_TOO_LARGE;
    sbp_layer *l = sbp__calloc(1, sizeof *l);
    if (!l) return SBP_E_NOMEM;
    l->tag = SBP__TAG_LAYER;
    l->size = size;
    sbp__param_defaults(l->params);
    *out = l;
    return SBP_OK;
}

void sbp_layer_free(sbp_layer *layer)
{
    if (!layer || layer->tag != SBP__TAG_LAYER) return;
    layer->tag = SBP__TAG_FREED;
    sbp__free(layer);
}

static int ok(const sbp_layer *l)
{
    return l && l->tag == SBP__TAG_LAYER;
}

size_t sbp_layer_size(const sbp_layer *layer)
{
    return ok(layer) ? layer->size : 0;
}

sbp_status sbp_layer_set_int(sbp_layer *layer, sbp_param param, int64_t value)
{
    if (!ok(layer)) return SBP_E_INVALID;
    return sbp__param_set(layer->params, LAYER_MASK, "layer", param, (double)value, 1,
                          layer->errmsg);
}

sbp_status sbp_layer_set_real(sbp_layer *layer, sbp_param param, double value)
{
    if (!ok(layer)) return SBP_E_INVALID;
    return sbp__param_set(layer->params, LAYER_MASK, "layer", param, value, 0, layer->errmsg);
}

sbp_status sbp_layer_get_int(const sbp_layer *layer, sbp_param param, int64_t *value)
{
    if (!ok(layer)) return SBP_E_INVALID;
    return sbp__param_get_int(layer->params, LAYER_MASK, "layer", param, value,
                              (char *)layer->errmsg);
}

sbp_status sbp_layer_get_real(const sbp_layer *layer, sbp_param param, double *value)
{
    if (!ok(layer)) return SBP_E_INVALID;
    return sbp__param_get(layer->params, LAYER_MASK, "layer", param, value,
                          (char *)layer->errmsg);
}

const char *sbp_layer_errmsg(const sbp_layer *layer)
{
    return ok(layer) ? layer->errmsg : "not a layer handle";
}

sbp_status sbp__param_get_int(const double *values, unsigned mask, const char *what,
                              sbp_param param, int64_t *value, char *errbuf)
{
    double v;
    SBP_RETURN_IF(!value, errbuf, SBP_E_INVALID, "output pointer is NULL");
    SBP_TRY(sbp__param_get(values, mask, what, param, &v, errbuf));
    const sbp__param_row *r = sbp__param_row_of(param);
    SBP_RETURN_IF(r->desc.type != SBP_PARAM_INT, errbuf, SBP_E_INVALID,
                  "parameter '%s' is real-valued: use the _real getter", r->desc.name);
    *value = isnan(v) ? 0 : (int64_t)v;
    return SBP_OK;
}
