/* Internal accessors of the spike engine (lib/spike.c), for tests and
 * benchmarks. Nothing here is exported. */
#ifndef SBP_SPIKE_H
#define SBP_SPIKE_H

#include <stddef.h>

#include "sbp/sbp.h"

/* Synaptic events processed since the network was built (training and
 * prediction): one event per (spike, target synapse), i.e. the sum over
 * all spikes of the spiking neuron's fan-out (its present synapses when the
 * projection is sparse). 0 for a network that is not
 * a built spike network. */
size_t sbp__spike_events(const sbp_net *net);

/* Spikes emitted by layer `layer` (0 = the input encoder) since the network
 * was built; 0 as above or for a layer index out of range. */
size_t sbp__spike_count(const sbp_net *net, size_t layer);

#endif
