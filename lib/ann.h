/* Internal hooks of the ann engine (lib/ann.c), for tests and benchmarks.
 * Nothing here is exported. */
#ifndef SBP_ANN_H
#define SBP_ANN_H

#include <stddef.h>
#include <stdint.h>

#include "sbp/sbp.h"

/* The (pseudo-)gradients one training batch of the n samples x (n x input
 * size) with targets t (n x output size) would apply, in hidden mode `mode`
 * (SBP_HIDDEN_BP: the true mean gradient of the loss; SBP_HIDDEN_SBP or
 * SBP_HIDDEN_MIXED: the output's true gradient and the hidden layers' SBP
 * replacements), without
 * changing the network. gw[l] (l = 1..L-1) receives n_{l-1} x n_l floats and
 * gb[l] n_l floats; NULL arrays or entries are skipped. A projection that
 * the batch would leave alone (SBP mode: no signal reached it; hidden
 * biases) gets zeros. The network must be built (weights accessed or
 * trained once) and n must be in 1..net.batch_size. */
sbp_status sbp__ann_gradient(sbp_net *net, sbp_hidden_mode mode, size_t n, const float *x,
                             const float *t, float **gw, float **gb);

/* Mean loss of n samples (same arguments as above) as the engine defines
 * it: 1/2 sum_k (y_k - t_k)^2 (mse) or -sum_k t_k log p_k (softmax_xent),
 * averaged over the samples. */
sbp_status sbp__ann_loss(sbp_net *net, size_t n, const float *x, const float *t, double *loss);

/* Whether training batch b (0-based, counted since the weights were built)
 * of a SBP_HIDDEN_MIXED run uses the true hidden gradient; r is
 * SBP_ANN_REPLACE_BP (NaN: unset, then every `every`-th batch). */
int sbp__ann_schedule_bp(double r, uint64_t every, uint64_t b);

/* Training batches since the build; *bp_batches (may be NULL) receives how
 * many of them gave the hidden layers their true gradient. 0 for a network
 * that is not a built ann network. */
uint64_t sbp__ann_batches(const sbp_net *net, uint64_t *bp_batches);

#endif
