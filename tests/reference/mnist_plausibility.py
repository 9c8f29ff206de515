"""Plausibility run of the reference relax engine on real MNIST (not a unit test).

Default: 784-500-10, first 2000 training images in file order, batch 50, Glorot init with
numpy RandomState(0), 'sbp' rule + operator, 1 epoch; test error on the first 500 t10k
images.  Usage (Debian python3 + python3-numpy):

    /usr/bin/python3 tests/reference/mnist_plausibility.py [n_train n_test epochs [rule]]

model.md 8: the authors' code on 6000/1000 reached ~18 % test error after epoch 1.
"""

import gzip
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relax_ref as R  # noqa: E402

DATA = os.environ.get('SBP_MNIST_DIR', '/work/shared/data/mnist')


def read_idx(path):
    with gzip.open(path, 'rb') as fh:
        raw = fh.read()
    magic = int.from_bytes(raw[0:4], 'big')
    ndim = magic & 0xff
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load(prefix, count):
    x = read_idx(os.path.join(DATA, prefix + '-images-idx3-ubyte.gz'))[:count]
    y = read_idx(os.path.join(DATA, prefix + '-labels-idx1-ubyte.gz'))[:count]
    x = x.reshape(count, -1).astype(np.float64) / 255.0
    return x, y.astype(np.int64)


def main():
    n_train = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    n_test = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rule = sys.argv[4] if len(sys.argv) > 4 else 'sbp'
    B = 50
    xtr, ytr = load('train', n_train)
    xte, yte = load('t10k', n_test)
    sizes = [784, 500, 10]
    W, b = R.glorot_init(sizes, seed=0)
    net = R.RelaxRef(sizes, W, b, batch_size=B, base_rule=rule)
    print('rule=%s sbp_on=%s train=%d test=%d epochs=%d' % (rule, net.sbp_on, n_train, n_test, epochs))
    t_all = time.time()
    for ep in range(1, epochs + 1):
        t0 = time.time()
        wrong = 0
        for i in range(0, n_train - B + 1, B):
            y1 = np.eye(10)[ytr[i:i + B]]
            out = net.train_batch(xtr[i:i + B], y1)
            wrong += int(np.sum(np.argmax(out, axis=1) != ytr[i:i + B]))
        t_train = time.time() - t0
        t0 = time.time()
        twrong = 0
        for i in range(0, n_test - B + 1, B):
            twrong += int(np.sum(net.predict(xte[i:i + B]) != yte[i:i + B]))
        t_test = time.time() - t0
        print('epoch %d: train error %.2f %%  test error %.2f %%  (train %.1f s, test %.1f s)'
              % (ep, 100.0 * wrong / (n_train // B * B), 100.0 * twrong / (n_test // B * B),
                 t_train, t_test), flush=True)
    print('total wall time %.1f s' % (time.time() - t_all))


if __name__ == '__main__':
    main()
