/* Which engines this build has. An engine lands here when it is complete. */
#include "net.h"

const sbp__engine_ops *sbp__engine_lookup(sbp_engine engine)
{
    switch (engine) {
    case SBP_ENGINE_RELAX:
        return &sbp__relax_ops;
    case SBP_ENGINE_SPIKE:
        return &sbp__spike_ops;
    case SBP_ENGINE_ANN:
        return &sbp__ann_ops;
    case SBP_ENGINE_RBM:
        return &sbp__rbm_ops;
    }
    return NULL;
}
