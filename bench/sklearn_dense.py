#!/usr/bin/env python3
"""Peer benchmark: the networks of `sbp bench ann` / `sbp bench rbm` in scikit-learn.

Times one training epoch (one pass over the first N MNIST training images)
of scikit-learn's MLPClassifier and BernoulliRBM with the settings libsbp's
benchmarks use (tools/bench_dense.c), on the same data in float32 (both
estimators keep float32 input in float32, so their GEMMs run in sgemm as
libsbp's do; --dtype float64 gives the same values in float64, which is
what scikit-learn computes in when handed float64 arrays). Prints seconds per epoch, the FLOPs of the epoch's matrix
products (counted as libsbp counts its own) and achieved GFLOP/s, and the
rate of a 1024^3 float32 matmul through numpy's BLAS measured in the same
process. bench/run-dense-vs-sklearn runs it beside libsbp.

mlp: MLPClassifier(hidden_layer_sizes=(500,), activation='relu',
     solver='sgd', learning_rate_init=0.1, momentum=0.9,
     nesterovs_momentum=False, alpha=0, batch_size=B (default 200, the
     'auto' value), shuffle=False); one epoch = one partial_fit over the
     data (the first call also sets the model up, as libsbp's first epoch
     builds its network). Softmax output and cross-entropy loss, as libsbp.
     FLOPs per sample: forward 2(mn + nk), backward 2nk + 2nk + 2mn.
rbm: BernoulliRBM(n_components=500, learning_rate=0.1, batch_size=B
     (default 10, its default), n_iter=1): persistent CD-1 (scikit-learn's
     "stochastic maximum likelihood"), no momentum or weight decay; one
     epoch = one fit() (fit restarts from new random weights; the
     initialisation, 500 x 784 normal draws, is inside the figure). FLOPs
     per sample: 5 GEMMs of 2mn (v W', h W, v_neg W', v'h_pos, h_neg'v_neg).

Each is timed for E epochs (default 2) and the fastest epoch is reported,
as libsbp's benchmark does. Threads: numpy's OpenBLAS follows
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS; the threads it reports are printed.

Usage: sklearn_dense.py [--data DIR] [--train-limit N] [--which mlp,rbm]
                        [--mlp-batch B] [--rbm-batch B] [--epochs E]
                        [--dtype float32|float64] [--json]
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time
import warnings

import numpy as np

M, N, K = 784, 500, 10


def load_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    (magic,) = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_part(directory, prefixes):
    for prefix in prefixes:
        for suffix in ("", ".gz"):
            img = os.path.join(directory, f"{prefix}-images-idx3-ubyte{suffix}")
            lab = os.path.join(directory, f"{prefix}-labels-idx1-ubyte{suffix}")
            if os.path.exists(img) and os.path.exists(lab):
                return img, lab
    return None


def load_mnist(directory, prefixes, limit=None, dtype=np.float32):
    """Images in [0, 1] (x / 255 in float32, as libsbp) and int labels."""
    found = find_part(directory, prefixes)
    if found is None:
        return None, None
    x = load_idx(found[0]).reshape(-1, M)
    y = load_idx(found[1]).astype(np.int64)
    if limit:
        x, y = x[:limit], y[:limit]
    x = np.ascontiguousarray(x, dtype=np.float32) / np.float32(255.0)
    return x.astype(dtype), y


def sgemm_rate():
    """GFLOP/s of a 1024^3 float32 matmul through numpy's BLAS, best of 3."""
    n = 1024
    a = (np.arange(n * n, dtype=np.float32) % 7).reshape(n, n) * np.float32(0.1)
    b = (np.arange(n * n, dtype=np.float32) % 5).reshape(n, n) * np.float32(0.1)
    best = 0.0
    for rep in range(4):
        t0 = time.perf_counter()
        a @ b
        dt = time.perf_counter() - t0
        if rep > 0:
            best = max(best, 2.0 * n**3 / dt * 1e-9)
    return best


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [
        {k: d.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")}
        for d in threadpool_info()
    ]


def time_mlp(x, y, batch, epochs, x_test, y_test):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(N,),
        activation="relu",
        solver="sgd",
        learning_rate_init=0.1,
        momentum=0.9,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=batch,
        shuffle=False,
        random_state=1,
    )
    classes = np.arange(K)
    seconds = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        clf.partial_fit(x, y, classes=classes)
        seconds.append(time.perf_counter() - t0)
    dtype = str(clf.coefs_[0].dtype)
    test_error = None
    if x_test is not None:
        test_error = float(np.mean(clf.predict(x_test) != y_test))
    return {
        "name": "MLPClassifier",
        "batch": batch,
        "seconds": seconds,
        "seconds_per_epoch": min(seconds),
        "flops_per_sample": 4 * M * N + 6 * N * K,
        "dtype": dtype,
        "test_error": test_error,
    }


def time_rbm(x, batch, epochs):
    from sklearn.neural_network import BernoulliRBM

    seconds = []
    for e in range(epochs):
        rbm = BernoulliRBM(
            n_components=N, learning_rate=0.1, batch_size=batch, n_iter=1, random_state=e + 1
        )
        t0 = time.perf_counter()
        rbm.fit(x)
        seconds.append(time.perf_counter() - t0)
    return {
        "name": "BernoulliRBM",
        "batch": batch,
        "seconds": seconds,
        "seconds_per_epoch": min(seconds),
        "flops_per_sample": 10 * M * N,
        "dtype": str(rbm.components_.dtype),
        "test_error": None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("SBP_DATA") or "data/mnist")
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--which", default="mlp,rbm")
    ap.add_argument("--mlp-batch", type=int, default=200)
    ap.add_argument("--rbm-batch", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import sklearn

    dtype = np.dtype(args.dtype)
    x, y = load_mnist(args.data, ("train", "train10k"), args.train_limit or None, dtype)
    if x is None:
        sys.exit(f"sklearn_dense.py: no MNIST training files in {args.data}")
    x_test, y_test = load_mnist(args.data, ("t10k",), None, dtype)
    n = x.shape[0]
    peak = sgemm_rate()
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after one epoch
        for which in args.which.split(","):
            if which == "mlp":
                runs.append(time_mlp(x, y, args.mlp_batch, args.epochs, x_test, y_test))
            elif which == "rbm":
                runs.append(time_rbm(x, args.rbm_batch, args.epochs))
            else:
                sys.exit(f"sklearn_dense.py: --which: unknown '{which}'")
    for r in runs:
        r["flops_per_epoch"] = r["flops_per_sample"] * n
        r["gflops"] = r["flops_per_epoch"] / r["seconds_per_epoch"] * 1e-9
    out = {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "samples": n,
        "dtype": args.dtype,
        "epochs": args.epochs,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "blas": blas_threads(),
        "sgemm_gflops": peak,
        "runs": runs,
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"scikit-learn {out['sklearn']} (numpy {out['numpy']}, Python {out['python']}), "
          f"{n} MNIST training samples, {args.dtype}, {args.epochs} epochs timed")
    print(f"  threads             OPENBLAS_NUM_THREADS {out['openblas_num_threads'] or 'unset'}, "
          f"OMP_NUM_THREADS {out['omp_num_threads'] or 'unset'}; "
          + ", ".join(f"{b['internal_api']} {b['num_threads']}" for b in out["blas"] or []))
    print(f"  float32 matmul 1024^3 {peak:.1f} GFLOP/s (numpy, this run)")
    for r in runs:
        each = "/".join(f"{s:.2f}" for s in r["seconds"])
        te = f", test error {100 * r['test_error']:.2f} %" if r["test_error"] is not None else ""
        print(f"  {r['name']:14} batch {r['batch']:4}  {r['seconds_per_epoch']:8.3f} s/epoch "
              f"({each})  {r['flops_per_epoch'] * 1e-9:.1f} GFLOP  {r['gflops']:.1f} GFLOP/s  "
              f"{r['dtype']}{te}")


if __name__ == "__main__":
    main()
