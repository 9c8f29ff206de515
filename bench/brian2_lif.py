#!/usr/bin/env python3
"""Peer benchmark: libsbp's spike-engine network written for Brian2.

Builds the 784-500-10 LIF network of `sbp bench spike` (docs/spike.md) in
Brian2 with the same parameters and simulates a training pass over the first
N MNIST training images, 50 steps of 1 ms each; prints synaptic events/s and
samples/s. bench/run-spike-vs-brian2 runs it next to libsbp.

Same as libsbp: tau_m 20 ms, threshold 1, reset 0, refractory 2 steps,
dt 1 ms, 50 steps per sample, initial weights from U(-1, 1) *
sqrt(6/(n_in+n_out)) * 2 (drawn by Brian2), biases 0, Poisson input (pixel x spikes with probability
x * max_rate * dt per step, max_rate 200 Hz), teaching spikes at 200 Hz for
the target output and 0 Hz for the others, supervised STDP on the output
projection with a presynaptic trace x (tau+ 20 ms, eta 1e-4):
w += eta * x at a teaching spike, w -= eta * x at an output spike. Every
sample starts from V = 0 and traces 0. A synaptic event is one (spike,
target synapse) pair, counted as libsbp counts them: input spikes x 500 +
hidden spikes x 10.

Differences, all of them Brian2's usual way of writing such a model and none
changing the work per event: a spike reaches the next layer in the next time
step (libsbp: the same step) and is decayed once before the threshold test;
the STDP trace is kept per synapse (Brian2's event-driven idiom) rather than
per presynaptic neuron; weights change at once rather than after each
mini-batch of 50; and there is no SBP spread (compare with libsbp --sbp off).

Code generation: --target auto (default) tries Brian2's runtime target
cython, then numpy, and reports which one ran; --target cpp_standalone
compiles the whole simulation as one single-threaded C++ program. The
figures time Brian2's main loop only, not its setup and compilation.

Usage: brian2_lif.py [--data DIR] [--train-limit N] [--max-rate HZ]
                     [--target auto|cython|numpy|cpp_standalone] [--json]
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np

N_IN, N_HID, N_OUT = 784, 500, 10
STEPS = 50
DT_MS = 1.0
TAU_M_MS = 20.0
V_TH, V_RESET = 1.0, 0.0
T_REF_STEPS = 2
TEACH_RATE_HZ, REST_RATE_HZ = 200.0, 0.0
ETA, TAU_PLUS_MS = 1e-4, 20.0
GAIN = 2.0


def load_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    (magic,) = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_mnist_train(directory):
    """train-* when present, else the bundled train10k-* (as libsbp)."""
    for prefix in ("train", "train10k"):
        for suffix in ("", ".gz"):
            img = os.path.join(directory, f"{prefix}-images-idx3-ubyte{suffix}")
            lab = os.path.join(directory, f"{prefix}-labels-idx1-ubyte{suffix}")
            if os.path.exists(img) and os.path.exists(lab):
                return img, lab
    sys.exit(f"brian2_lif.py: no MNIST training files in {directory}")


def pick_target(requested):
    """Returns (target, notes): the first code generation target that runs."""
    from brian2 import NeuronGroup, Network, ms, prefs

    candidates = ["cython", "numpy"] if requested == "auto" else [requested]
    notes = []
    for name in candidates:
        prefs.codegen.target = name
        try:
            g = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                            method="exact")
            Network(g).run(1 * ms)
            notes.append(f"{name}: works")
            return name, notes
        except Exception as e:  # compiler or Cython missing, ...
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            notes.append(f"{name}: failed ({first[:120]})")
    sys.exit("brian2_lif.py: no code generation target works: " + "; ".join(notes))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.environ.get("SBP_DATA") or
                    os.path.join(here, "..", "data", "mnist"))
    ap.add_argument("--train-limit", type=int, default=2000)
    ap.add_argument("--max-rate", type=float, default=200.0)
    ap.add_argument("--target", choices=["auto", "cython", "numpy", "cpp_standalone"],
                    default="auto")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import warnings
    warnings.simplefilter("ignore")  # FutureWarnings of numpy/pythran at import
    import brian2
    from brian2 import (BrianLogger, Hz, ms, Network, NeuronGroup, PoissonGroup, SpikeMonitor,
                        Synapses, TimedArray, defaultclock, get_device, prefs)

    BrianLogger.log_level_error()  # keep stdout and stderr clean
    standalone_dir = None
    if args.target == "cpp_standalone":
        # The whole simulation as one C++ program (no Python in the loop),
        # single-threaded (no OpenMP), compiled in a temporary directory.
        import tempfile
        from brian2 import set_device
        standalone_dir = tempfile.mkdtemp(prefix="brian2-lif-")
        set_device("cpp_standalone", directory=standalone_dir, build_on_run=True)
        target, notes = "cpp_standalone", ["cpp_standalone: requested"]
    else:
        target, notes = pick_target(args.target)
        prefs.codegen.target = target
    brian2.seed(args.seed)

    img_path, lab_path = find_mnist_train(args.data)
    images = load_idx(img_path)
    labels = load_idx(lab_path)
    n = min(args.train_limit, len(images))
    x = images[:n].reshape(n, N_IN).astype(np.float64) / 255.0
    y = labels[:n].astype(np.int64)

    dt = DT_MS * ms
    defaultclock.dt = dt
    sample_T = STEPS * dt
    stim = TimedArray(x * args.max_rate * Hz, dt=sample_T)
    teach_rates = np.full((n, N_OUT), REST_RATE_HZ)
    teach_rates[np.arange(n), y] = TEACH_RATE_HZ
    teach = TimedArray(teach_rates * Hz, dt=sample_T)
    ns = {"tau_m": TAU_M_MS * ms, "v_th": V_TH, "v_reset": V_RESET, "eta": ETA,
          "tau_plus": TAU_PLUS_MS * ms, "stim": stim, "teach": teach}

    lif = "dv/dt = -v/tau_m : 1 (unless refractory)"
    inp = PoissonGroup(N_IN, rates="stim(t, i)", namespace=ns)
    hid = NeuronGroup(N_HID, lif, threshold="v >= v_th", reset="v = v_reset",
                      refractory=T_REF_STEPS * dt, method="exact", namespace=ns)
    out = NeuronGroup(N_OUT, lif, threshold="v >= v_th", reset="v = v_reset",
                      refractory=T_REF_STEPS * dt, method="exact", namespace=ns,
                      events={"teaching": "rand() < teach(t, i) * dt"})
    # A refractory neuron ignores its input, as in libsbp.
    s_in = Synapses(inp, hid, "w : 1", on_pre="v_post += w * int(not_refractory_post)",
                    namespace=ns)
    s_out = Synapses(hid, out, "w : 1\ndx/dt = -x/tau_plus : 1 (event-driven)",
                     on_pre={"pre": "v_post += w * int(not_refractory_post)\nx += 1"},
                     on_post={"post": "w -= eta * x", "teach": "w += eta * x"},
                     on_event={"teach": "teaching"}, namespace=ns)
    s_in.connect()
    s_out.connect()
    # Drawn by Brian2 (so that every target, standalone too, can do it): the
    # same distribution as libsbp's, not the same numbers.
    s_in.w = f"(2*rand() - 1) * {np.sqrt(6.0 / (N_IN + N_HID)) * GAIN!r}"
    s_out.w = f"(2*rand() - 1) * {np.sqrt(6.0 / (N_HID + N_OUT)) * GAIN!r}"
    # Every sample starts from fresh state.
    for g in (hid, out):
        g.run_regularly("v = 0\nlastspike = -1e4*second", dt=sample_T, when="start")
    s_out.run_regularly("x = 0", dt=sample_T, when="start")
    mons = [SpikeMonitor(g, record=False) for g in (inp, hid, out)]

    net = Network(inp, hid, out, s_in, s_out, *mons)
    t0 = time.perf_counter()
    net.run(n * sample_T)
    wall = time.perf_counter() - t0
    loop = float(get_device()._last_run_time)
    spikes = [int(m.num_spikes) for m in mons]
    if standalone_dir:
        import shutil
        shutil.rmtree(standalone_dir, ignore_errors=True)
    events = spikes[0] * N_HID + spikes[1] * N_OUT
    res = {
        "simulator": "brian2", "version": brian2.__version__, "target": target,
        "target_checks": notes, "network": "784-500-10", "steps": STEPS, "dt_ms": DT_MS,
        "max_rate": args.max_rate, "samples": n, "seconds": round(loop, 4),
        "setup_seconds": round(wall - loop, 4), "samples_per_second": n / loop,
        "events": events, "events_per_second": events / loop, "events_per_sample": events / n,
        "spikes_per_sample": [s / n for s in spikes],
    }
    if args.json:
        print(json.dumps(res))
        return
    print(f"Brian2 {brian2.__version__}, code generation target {target} "
          f"({'; '.join(notes)})")
    print(f"784-500-10 LIF, {STEPS} steps of {DT_MS:g} ms, Poisson input at "
          f"{args.max_rate:g} Hz, supervised STDP on the output, no SBP spread")
    print(f"  samples             {n}")
    print(f"  time                {loop:.3f} s = {n / loop:.0f} samples/s "
          f"(main loop; setup and code generation {wall - loop:.1f} s more)")
    print(f"  synaptic events     {events:.4g} = {events / loop:.4g} events/s "
          f"({events / n:.3g} per sample)")
    print(f"  spikes per sample   input {spikes[0] / n:.0f}, hidden {spikes[1] / n:.0f}, "
          f"output {spikes[2] / n:.1f}")


if __name__ == "__main__":
    main()
