/* Internal accessors of the rbm engine (lib/rbm.c), for tests, benchmarks
 * and (later) model files. Nothing here is exported. */
#ifndef SBP_RBM_H
#define SBP_RBM_H

#include <stddef.h>

#include "sbp/sbp.h"

/* A view into a built rbm network's state. Pointers stay valid until the
 * network is freed; the batch buffers describe the last training batch and
 * are meaningful only right after sbp_net_train_epoch (prediction does not
 * touch them). */
typedef struct sbp__rbm_view {
    size_t m, n, k;            /* input, hidden, label units (k = 0: unsupervised) */
    size_t batch;              /* rows of the last training batch (0: none yet) */
    float *a;                  /* m visible (input) biases: engine state, not net->b */
    const float *x, *y;        /* last batch: data (batch x m), targets (batch x k) */
    const float *h0;           /* hidden probabilities given the data (batch x n) */
    const float *vk;           /* chain end: sampled binary inputs (batch x m) */
    const float *yk;           /* chain end: sampled one-hot labels (batch x k) */
    const float *hk;           /* chain end: hidden probabilities (batch x n) */
    const float *grad_w_cd;    /* m x n: CD statistic of W (before the spread) */
    const float *grad_w;       /* m x n: the change the update used (== grad_w_cd
                                  without an enabled spread) */
    const float *grad_u;       /* n x k: CD statistic of U */
    const float *grad_a, *grad_c, *grad_d; /* m, n, k: bias statistics */
    const float *retro;        /* n x k fixed random retro weights, or NULL */
    const unsigned char *mask; /* m x n spread mask, or NULL (every synapse) */
} sbp__rbm_view;

/* Fills *out for a built rbm network; returns 0 (and leaves *out alone)
 * for anything else. */
int sbp__rbm_view_of(sbp_net *net, sbp__rbm_view *out);

/* Exact free energies F(x, y) (count x k, row-major) of a built
 * classification rbm for count inputs x (count x m), as prediction
 * computes them (the -a.x term is included). Changes no training state. */
sbp_status sbp__rbm_free_energy(sbp_net *net, size_t count, const float *x, float *f);

#endif
