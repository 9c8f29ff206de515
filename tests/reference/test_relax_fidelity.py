"""Fidelity of the C relax engine against the float64 reference (relax_ref.py).

Both implement model.md section 4 (LIF phase, free and nudged relaxation, bias and weight
updates) with the multiplicative SBP operator of section 2b.  On tiny networks with fixed
float32-representable inputs and initial weights (biases 0 in both), the C engine (through
the Python binding) and relax_ref.RelaxRef are trained on the same mini-batches (6 batches
cycling over 3 input batches, so the persistent V/g/h state carried from batch to batch
matters), then compared:

  (a) weight changes dW = W_after - W_init, per projection:
        max|dW_C - dW_ref| / max|dW_ref| <= 1e-4
      (a projection whose reference change is exactly 0 -- W_0 under the `differential`
      rule, the input being clamped -- must be exactly unchanged in C);
  (b) the output states of predict on one batch of exactly batch-size samples (both start
      from the state left by training): max|out_C - out_ref| / max|out_ref| <= 1e-4;
  (c) the predicted labels are equal (and so are the training errors of the pass).

Mapping of the switches:
  base rule   C: net param relax.base_rule      ref: base_rule=
  SBP on      C: a Rule(SBP_SPREAD, enabled=1) on every non-input layer
              ref: sbp_on=True (always passed explicitly; the reference's own default ties
              it to the base rule)
  SBP off     C: no spread rule (and, checked once, enabled=0 gives bit-identical results)
  STP on      C: a Rule(STP) with default parameters on every non-input layer
              ref: stp=True, stp_mode='code' (memoryless STP, as the authors' code)
Learning rates are both engines' defaults (the authors' per-projection lists).

Also checked: net.threads = 1 and 2 give bit-identical C results, and the naive LIF path
(relax.naive = 1) matches the reference too.  With the default 20 free iterations the
relaxation all but erases the LIF end state (STP on vs off moves dW by ~1e-5), so
test_short_relaxation repeats the comparison with 1 or 0 free iterations, where the LIF
and STP equations decide the result.

The residual differences (1e-7 .. 6e-5) are float32 effects of the C engine, chiefly the
storage of W in float32: over 6 batches half an ulp of |W| ~ 0.8 per batch is a few 1e-5
of a total change of ~1e-3.  Rounding the reference's W to float32 after every batch makes
the output projection agree exactly.

Run: SBP_LIBRARY=<build>/lib/libsbp.so.0 PYTHONPATH=bindings/python:tests/reference \\
     /usr/bin/python3 tests/reference/test_relax_fidelity.py [-v]
Without numpy the whole module is skipped (exit status 77 when run as a script, which
meson reports as SKIP).
"""

import os
import sys
import unittest

SKIP_MESSAGE = "skipped: numpy not available"

try:
    import numpy as np
except ImportError:
    if __name__ == "__main__":
        print(SKIP_MESSAGE)
        sys.exit(77)
    raise unittest.SkipTest(SKIP_MESSAGE)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relax_ref as R  # noqa: E402
import sbp  # noqa: E402

TOL = 1e-4
N_BATCHES = 6        # training batches, one epoch of the C engine
N_DISTINCT = 3       # distinct input batches, presented cyclically
DATA_SEED = 3        # numpy RandomState seed of inputs, labels and initial weights
BASES = ("symmetric", "differential", "sbp")
BASE_ENUM = {"symmetric": sbp.BaseRule.SYMMETRIC, "differential": sbp.BaseRule.DIFFERENTIAL,
             "sbp": sbp.BaseRule.SBP}
CUSTOM_SPREAD = {"fraction": 0.5, "lambda_post": 1.0, "lambda_bp": 0.7}

# One line per compared case, printed at the end (the report of the run).
RESULTS = []


# ---------------------------------------------------------------------------------------
# The problem: data and initial weights, all float32-representable
# ---------------------------------------------------------------------------------------

def f32(a):
    """float64 array holding float32 values (exactly what the C engine receives)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


class Problem:
    """Inputs in [0,1], labels, one-hot targets and Glorot-uniform initial weights."""

    def __init__(self, sizes, batch, seed=DATA_SEED, sparse=False):
        rs = np.random.RandomState(seed)
        self.sizes = list(sizes)
        self.batch = batch
        k = sizes[-1]
        self.x = [f32(rs.rand(batch, sizes[0])) for _ in range(N_DISTINCT)]
        if sparse:
            # about half of the inputs silent in every sample of a batch (a
            # different half per batch) and a few more zeros here and there:
            # the C engine then updates only the active inputs' rows of W0
            for x in self.x:
                x[:, rs.rand(sizes[0]) < 0.5] = 0.0
                x[rs.rand(*x.shape) < 0.2] = 0.0
        self.labels = [rs.randint(0, k, batch).astype(np.int32) for _ in range(N_DISTINCT)]
        self.y = [np.eye(k)[lab] for lab in self.labels]
        self.w0 = [f32((rs.rand(sizes[l], sizes[l + 1]) * 2.0 - 1.0)
                       * np.sqrt(6.0 / (sizes[l] + sizes[l + 1])))
                   for l in range(len(sizes) - 1)]
        self.x_pred = f32(rs.rand(batch, sizes[0]))

    def order(self):
        """Indices of the distinct batches in presentation order."""
        return [i % N_DISTINCT for i in range(N_BATCHES)]


class Result:
    def __init__(self, dw, labels, outputs, train_error):
        self.dw = dw                    # list of float64 arrays, projection 0 first
        self.labels = np.asarray(labels).reshape(-1).astype(np.int64)
        self.outputs = outputs          # float64 (batch, k)
        self.train_error = train_error  # fraction of the training pass


# ---------------------------------------------------------------------------------------
# The two engines
# ---------------------------------------------------------------------------------------

def run_c(p, base, spread, stp, spread_params=None, threads=1, naive=False, iters=None,
          rates=None):
    """Trains the C engine; spread is 'on', 'off' (no rule) or 'disabled' (enabled=0);
    iters = (free, nudged) relaxation iterations, default the engine's (20, 5);
    rates = learning rate per projection, default the engine's."""
    net = sbp.Network("relax", seed=1)
    try:
        for l, n in enumerate(p.sizes):
            if l > 0 and rates is not None:
                net.add_layer(n, learning_rate=rates[l - 1])
            else:
                net.add_layer(n)
        net["net.batch_size"] = p.batch
        net["net.threads"] = threads
        net["relax.base_rule"] = BASE_ENUM[base]
        if naive:
            net["relax.naive"] = 1
        if iters is not None:
            net["relax.free_iters"], net["relax.nudge_iters"] = iters
        for l in range(1, len(p.sizes)):
            if spread in ("on", "disabled"):
                net.attach_rule(l, sbp.Rule(sbp.RuleKind.SBP_SPREAD,
                                            enabled=1 if spread == "on" else 0,
                                            **(spread_params or {})))
            if stp:
                net.attach_rule(l, sbp.Rule(sbp.RuleKind.STP))
        # rules first: the weights build the network, after which rules are fixed
        for l in range(1, len(p.sizes)):
            net.set_weights(l, np.asarray(p.w0[l - 1], dtype=np.float32))
        w_init = [_weights(net, l, p) for l in range(1, len(p.sizes))]
        for a, b in zip(w_init, p.w0):
            assert np.array_equal(a, b), "set_weights/get_weights did not round-trip"
        order = p.order()
        xs = np.concatenate([p.x[i] for i in order]).astype(np.float32)
        labs = np.concatenate([p.labels[i] for i in order]).astype(np.int32)
        with sbp.Dataset.from_arrays(xs, labs, p.sizes[-1]) as ds:
            err = net.train_epoch(ds)
        w_after = [_weights(net, l, p) for l in range(1, len(p.sizes))]
        labels, out = net.predict(np.asarray(p.x_pred, dtype=np.float32), outputs=True)
        out = np.asarray(out, dtype=np.float64).reshape(p.batch, p.sizes[-1])
        return Result([a - b for a, b in zip(w_after, p.w0)], labels, out, err)
    finally:
        net.close()


def _weights(net, l, p):
    w = np.asarray(net.get_weights(l), dtype=np.float64)
    return w.reshape(p.sizes[l - 1], p.sizes[l])


def run_ref(p, base, sbp_on, stp, spread_params=None, iters=None, rates=None):
    kw = dict(spread_params or {})
    if rates is not None:
        kw["alphas"] = list(rates)
    if iters is not None:
        kw["free_iters"], kw["nudge_iters"] = iters
    ref = R.RelaxRef(p.sizes, p.w0, batch_size=p.batch, base_rule=base, sbp_on=sbp_on,
                     stp=stp, stp_mode="code", **kw)
    wrong = 0
    for i in p.order():
        out0 = ref.train_batch(p.x[i], p.y[i])
        wrong += int(np.sum(np.argmax(out0, axis=1) != p.labels[i]))
    out = ref.outputs(p.x_pred)
    return Result([w - w0 for w, w0 in zip(ref.W, p.w0)], np.argmax(out, axis=1), out,
                  wrong / float(N_BATCHES * p.batch))


def same_bits(a, b):
    """C results a and b are bit-identical."""
    return (all(np.array_equal(x, y) for x, y in zip(a.dw, b.dw))
            and np.array_equal(a.labels, b.labels)
            and a.outputs.tobytes() == b.outputs.tobytes()
            and a.train_error == b.train_error)


# ---------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------

class RelaxFidelity(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not sbp.engine_available(sbp.Engine.RELAX):
            raise unittest.SkipTest("this libsbp was built without the relax engine")
        cls.small = Problem([12, 7, 4], 5)
        cls.deep = Problem([10, 6, 5, 3], 5)
        cls.sparse = Problem([12, 7, 4], 5, sparse=True)
        cls.sparse_deep = Problem([10, 6, 5, 3], 5, sparse=True)

    @classmethod
    def tearDownClass(cls):
        if RESULTS:
            sys.stderr.write("\nmax relative differences C vs reference "
                             "(dW per projection, predict outputs):\n")
            for line in RESULTS:
                sys.stderr.write("  " + line + "\n")

    def compare(self, name, c, r):
        """Checks (a), (b), (c) and records the differences under `name`."""
        rels = []
        for l, (dc, dr) in enumerate(zip(c.dw, r.dw)):
            scale = np.max(np.abs(dr))
            if scale == 0.0:
                # the reference does not move this projection: neither may C
                self.assertEqual(np.max(np.abs(dc)), 0.0,
                                 "%s: W%d changes in C (max %g) but not in the reference"
                                 % (name, l, np.max(np.abs(dc))))
                rels.append("W%d exact 0" % l)
                continue
            rel = np.max(np.abs(dc - dr)) / scale
            rels.append("W%d %.1e" % (l, rel))
            self.assertLessEqual(rel, TOL, "%s: dW of projection %d (layer %d -> %d): "
                                 "max|dW_C - dW_ref| / max|dW_ref| = %.3e (max|dW_ref| %.3e)"
                                 % (name, l, l, l + 1, rel, scale))
        oscale = np.max(np.abs(r.outputs))
        self.assertGreater(oscale, 0.0, "%s: degenerate test data, the reference's outputs "
                           "are all 0" % name)
        orel = np.max(np.abs(c.outputs - r.outputs)) / oscale
        rels.append("out %.1e" % orel)
        RESULTS.append("%-44s %s" % (name, "  ".join(rels)))
        self.assertLessEqual(orel, TOL, "%s: predict outputs differ: max|out_C - out_ref| / "
                             "max|out_ref| = %.3e\nC:\n%s\nref:\n%s"
                             % (name, orel, c.outputs, r.outputs))
        self.assertTrue(np.array_equal(c.labels, r.labels),
                        "%s: predicted labels differ: C %s, ref %s\nref outputs:\n%s"
                        % (name, c.labels.tolist(), r.labels.tolist(), r.outputs))
        self.assertEqual(c.train_error, r.train_error,
                         "%s: training error of the pass differs: C %r, ref %r"
                         % (name, c.train_error, r.train_error))

    def test_matrix(self):
        """base rule x SBP spread on/off x STP off/on, 12-7-4, batch 5."""
        p = self.small
        for base in BASES:
            for stp in (False, True):
                dws = {}
                for on in (False, True):
                    name = "12-7-4 %s spread=%s stp=%s" % (base, "on" if on else "off",
                                                          "on" if stp else "off")
                    with self.subTest(base=base, spread=on, stp=stp):
                        c = run_c(p, base, "on" if on else "off", stp)
                        r = run_ref(p, base, on, stp)
                        dws[on] = c.dw
                        self.compare(name, c, r)
                with self.subTest(base=base, stp=stp, check="spread has an effect"):
                    # the attached rule really switches the operator on
                    if len(dws) == 2:
                        self.assertFalse(all(np.array_equal(a, b)
                                             for a, b in zip(dws[False], dws[True])),
                                         "%s stp=%s: SBP spread on and off give the same "
                                         "weights in C" % (base, stp))

    def test_sparse_inputs(self):
        """Inputs silent over a whole batch: the C engine's input projection then works on
        the active inputs' rows only (lib/relax.c, update_input_rows); same results.
        Learning rate 0.1 everywhere, for the float32 floor explained in
        test_short_relaxation."""
        for x in self.sparse.x:
            silent = int(np.sum(~x.any(axis=0)))
            self.assertTrue(0 < silent < x.shape[1], "degenerate sparse data: %d of %d inputs "
                            "silent" % (silent, x.shape[1]))
        for p in (self.sparse, self.sparse_deep):
            # (differential leaves W0 alone; on 10-6-5-3 its W1 change is so small that
            # the float32 floor takes most of the tolerance, whatever the inputs)
            for base in BASES if p is self.sparse else ("symmetric", "sbp"):
                for on in (False, True):
                    name = "%s sparse %s spread=%s" % ("-".join(map(str, p.sizes)), base,
                                                      "on" if on else "off")
                    rates = [0.1] * (len(p.sizes) - 1)
                    with self.subTest(sizes=p.sizes, base=base, spread=on):
                        c = run_c(p, base, "on" if on else "off", False, rates=rates)
                        r = run_ref(p, base, on, False, rates=rates)
                        self.compare(name, c, r)
                        if base != "differential":
                            # the silent inputs' rows of W0 never move
                            silent = ~np.any([x.any(axis=0) for x in p.x], axis=0)
                            self.assertEqual(np.max(np.abs(c.dw[0][silent])), 0.0)

    def test_spread_parameters(self):
        """Non-default operator parameters reach the C engine and act like the docs say."""
        p = self.small
        for stp in (False, True):
            with self.subTest(stp=stp):
                c = run_c(p, "sbp", "on", stp, spread_params=CUSTOM_SPREAD)
                r = run_ref(p, "sbp", True, stp, spread_params=CUSTOM_SPREAD)
                self.compare("12-7-4 sbp spread=on(f .5, lpost 1, lbp .7) stp=%s"
                             % ("on" if stp else "off"), c, r)

    def test_four_layers(self):
        """10-6-5-3: two hidden layers (backward factors from a hidden projection)."""
        p = self.deep
        for base, on, stp in (("sbp", True, True), ("sbp", True, False),
                              ("symmetric", False, False), ("differential", True, True)):
            with self.subTest(base=base, spread=on, stp=stp):
                c = run_c(p, base, "on" if on else "off", stp)
                r = run_ref(p, base, on, stp)
                self.compare("10-6-5-3 %s spread=%s stp=%s" % (
                    base, "on" if on else "off", "on" if stp else "off"), c, r)

    def test_short_relaxation(self):
        """The LIF phase and STP, made visible: 1 free and 1 nudged iteration.

        With the default 20 free iterations the relaxation, a contraction, all but erases
        its starting point (the LIF end state): in the reference, switching STP on or off
        altogether changes dW by about 1e-5 and the outputs by about 1e-4 relative, so the
        matrix above cannot see an error in the LIF or STP equations.  With one iteration
        of each phase the same switch changes them by 1e-2 .. 1e-1.  (Iterations (1, 5)
        and (0, 5); with 0 free iterations s0 is the LIF end state itself.)

        Learning rate 0.1 for every projection here: with the defaults, the 4-layer output
        projection (rate 0.01) moves by only ~1e-4 in 6 batches, and the float32 storage of
        W (half an ulp, 3e-8, per batch for |W| ~ 0.8) alone would then make up several
        1e-4 of it -- a floor of the C engine's number format, not an error of either
        engine (rounding the reference's W to float32 after every batch makes the two
        agree exactly there).
        """
        for p in (self.small, self.deep):
            rates = [0.1] * (len(p.sizes) - 1)
            for base, on, stp in (("sbp", True, True), ("sbp", True, False),
                                  ("symmetric", False, True), ("differential", False, True)):
                for iters in ((1, 5), (0, 5)):
                    with self.subTest(sizes=p.sizes, base=base, spread=on, stp=stp,
                                      iters=iters):
                        c = run_c(p, base, "on" if on else "off", stp, iters=iters,
                                  rates=rates)
                        r = run_ref(p, base, on, stp, iters=iters, rates=rates)
                        self.compare("%s %s spread=%s stp=%s iters=%d/%d" % (
                            "-".join(map(str, p.sizes)), base, "on" if on else "off",
                            "on" if stp else "off", iters[0], iters[1]) + " rates .1", c, r)

    def test_naive_lif_path(self):
        """relax.naive = 1 (every product recomputed at every LIF step) matches too."""
        p = self.deep
        c = run_c(p, "sbp", "on", True, naive=True)
        r = run_ref(p, "sbp", True, True)
        self.compare("10-6-5-3 sbp spread=on stp=on naive", c, r)

    def test_disabled_rule_is_no_rule(self):
        """SBP 'off' as no rule and as a rule with enabled = 0: bit-identical."""
        for p, base, stp in ((self.small, "sbp", True), (self.deep, "symmetric", False)):
            with self.subTest(sizes=p.sizes, base=base, stp=stp):
                a = run_c(p, base, "off", stp)
                b = run_c(p, base, "disabled", stp)
                self.assertTrue(same_bits(a, b), "%s %s stp=%s: spread enabled=0 differs "
                                "from no spread rule" % (p.sizes, base, stp))

    def test_threads_bit_identical(self):
        """net.threads 1 and 2 (and 3) give bit-identical results."""
        # batch 5: two row blocks with 2 threads; batch 40: the blocks differ for every
        # thread count (3 x 14 rows, 4 x 10 rows, 3 x 14 rows)
        wide = Problem([12, 7, 4], 40)
        # sparse inputs, more active inputs than the operator's 16 row chunks
        wide_sparse = Problem([60, 7, 4], 40, sparse=True)
        for p, spread_params, counts in ((self.small, CUSTOM_SPREAD, (2,)),
                                         (self.deep, None, (2,)),
                                         (wide, None, (2, 3)),
                                         (wide_sparse, None, (2, 3))):
            a = run_c(p, "sbp", "on", True, spread_params, threads=1)
            for t in counts:
                with self.subTest(sizes=p.sizes, batch=p.batch, threads=t):
                    b = run_c(p, "sbp", "on", True, spread_params, threads=t)
                    self.assertTrue(same_bits(a, b), "%s batch %d: net.threads 1 and %d give "
                                    "different results" % (p.sizes, p.batch, t))


if __name__ == "__main__":
    unittest.main()
