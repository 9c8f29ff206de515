"""The same run from C and from Python gives the same bits.

Each case trains a small network on the first MNIST samples with the `sbp`
command (C: tools/sbp.c, `sbp train ... --save FILE`) and builds and trains
the same network through the binding, the way docs/cli.md says the command
builds it. The model file the command wrote must equal the Python network's
bytes, and the loaded file and the Python network must predict
bit-identically (labels and output states). The per-epoch errors must agree,
and `sbp eval` must read a model file saved from Python.

One case per engine, each with a different mix of rules and options.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import sbp

from support import SOURCE_DIR, flat

MNIST = os.path.join(SOURCE_DIR, "data", "mnist")
N_TRAIN, N_TEST, BATCH, EPOCHS, HIDDEN = 200, 100, 20, 2, 16


def find_tool():
    path = os.environ.get("SBP_TOOL")
    if path and os.path.exists(path):
        return path
    build = os.environ.get("SBP_BUILD_DIR")
    if build and os.path.exists(os.path.join(build, "tools", "sbp")):
        return os.path.join(build, "tools", "sbp")
    return None


TOOL = find_tool()


def layers(net, sizes, **layer_params):
    """The input layer as is, the others with the --set layer.* values."""
    net.add_layer(sizes[0])
    for size in sizes[1:]:
        net.add_layer(size, **layer_params)


def attach(net, rule, first, last):
    """One rule description on layers first..last, then freed."""
    with rule:
        for layer in range(first, last + 1):
            net.attach_rule(layer, rule)


# Each case: the command line, and a function building the same network.

def relax_case():
    args = ["--model", "relax", "--hidden", str(HIDDEN), "--with", "stp",
            "--set", "stp.U=0.3", "--set", "layer.learning_rate=0.08",
            "--set", "relax.beta=0.4", "--seed", "7"]

    def build():
        net = sbp.Network("relax", seed=7)
        net["net.batch_size"] = BATCH
        net["relax.base_rule"] = sbp.BaseRule.SBP          # --sbp on
        net["relax.beta"] = 0.4
        layers(net, (784, HIDDEN, 10), learning_rate=0.08)
        attach(net, sbp.Rule(sbp.RuleKind.SBP_SPREAD, enabled=1), 1, 2)
        attach(net, sbp.Rule(sbp.RuleKind.STP, U=0.3), 1, 2)
        return net
    return args, build, False


def spike_case():
    args = ["--model", "spike", "--hidden", str(HIDDEN), "--with", "stdp,stp,homeo",
            "--set", "stdp.a_plus=0.02", "--set", "homeo.theta_plus=0.1",
            "--set", "spike.steps=20", "--set", "spread.lambda_f=0.4",
            "--seed", "11", "--shuffle"]

    def build():
        net = sbp.Network("spike", seed=11, batch_size=BATCH)
        net["spike.steps"] = 20
        layers(net, (784, HIDDEN, 10))
        attach(net, sbp.Rule("sbp_spread", enabled=1, lambda_f=0.4), 1, 2)
        attach(net, sbp.Rule("supervised_stdp", a_plus=0.02), 2, 2)
        attach(net, sbp.Rule("stdp", a_plus=0.02), 1, 1)
        attach(net, sbp.Rule("stp"), 1, 2)
        attach(net, sbp.Rule("homeostasis", theta_plus=0.1), 1, 2)
        return net
    return args, build, True


def ann_case():
    args = ["--model", "ann", "--replace-bp", "30", "--set", "ann.optimizer=adam",
            "--hidden", "%d,12" % HIDDEN, "--seed", "5", "--shuffle"]

    def build():
        net = sbp.Network(sbp.Engine.ANN, seed=5, batch_size=BATCH)
        net["ann.hidden_mode"] = sbp.HiddenMode.MIXED
        net["ann.replace_bp"] = 0.3
        net["ann.optimizer"] = sbp.Optimizer.ADAM
        layers(net, (784, HIDDEN, 12, 10))
        attach(net, sbp.Rule(sbp.RuleKind.SBP_SPREAD, enabled=1), 1, 3)
        return net
    return args, build, True


def rbm_case():
    args = ["--model", "rbm", "--hidden", str(HIDDEN), "--sbp", "off", "--set", "cd.k=2",
            "--seed", "3"]

    def build():
        net = sbp.Network("rbm", seed=3, batch_size=BATCH)
        layers(net, (784, HIDDEN, 10))
        attach(net, sbp.Rule(sbp.RuleKind.SBP_SPREAD, enabled=0), 1, 2)
        attach(net, sbp.Rule(sbp.RuleKind.RBM_CD, k=2), 1, 1)
        return net
    return args, build, False


CASES = {"relax": relax_case, "spike": spike_case, "ann": ann_case, "rbm": rbm_case}


@unittest.skipUnless(TOOL, "the sbp tool was not found (set SBP_TOOL or SBP_BUILD_DIR)")
@unittest.skipUnless(os.path.isdir(MNIST), "bundled MNIST sample not found")
class TestSameAsC(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sbp-parity-")
        with sbp.Dataset.load_mnist(MNIST, "train") as full:
            cls.train = full.subset(0, N_TRAIN)          # --train-limit: the first N
        with sbp.Dataset.load_mnist(MNIST, "test") as full:
            cls.test = full.subset(0, N_TEST)

    @classmethod
    def tearDownClass(cls):
        cls.train.close()
        cls.test.close()
        shutil.rmtree(cls.tmp)

    def run_tool(self, *args):
        r = subprocess.run([TOOL] + list(args) + ["--data", MNIST, "--json", "--quiet"],
                           capture_output=True, text=True, timeout=300, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def check(self, engine):
        if not sbp.engine_available(engine):
            self.skipTest("engine %s not in this build" % engine)
        args, build, shuffle = CASES[engine]()
        path = os.path.join(self.tmp, engine + ".sbpm")
        lines = self.run_tool("train", *args, "--epochs", str(EPOCHS), "--train-limit",
                              str(N_TRAIN), "--test-limit", str(N_TEST), "--batch", str(BATCH),
                              "--save", path)
        c_epochs = [ln for ln in lines if "epoch" in ln and "train_error" in ln]
        summary = lines[-1]

        self.train.reset_order()
        with build() as net:
            history = net.train(self.train, epochs=EPOCHS, test=self.test, shuffle=shuffle)
            # per-epoch errors
            self.assertEqual(len(c_epochs), len(history))
            for c, py in zip(c_epochs, history):
                self.assertEqual(c["epoch"], py.epoch)
                self.assertAlmostEqual(c["train_error"], py.train_error, places=9)
                self.assertAlmostEqual(c["test_error"], py.test_error, places=9)
            if net.layer_count == 3:
                self.assertEqual(summary["cost_per_epoch"], net.cost_per_epoch())
            # the whole trained network, byte for byte
            with open(path, "rb") as f:
                c_bytes = f.read()
            self.assertEqual(net.to_bytes(), c_bytes, "model trained by C differs")
            # bit-identical predictions of the C-trained model
            with sbp.Network.load(path) as from_c:
                want_labels, want_out = net.predict(self.test, outputs=True)
                got_labels, got_out = from_c.predict(self.test, outputs=True)
                self.assertEqual(flat(got_labels), flat(want_labels))
                self.assertEqual(flat(got_out), flat(want_out))
                self.assertEqual(from_c.evaluate(self.test), history[-1].test_error)
            # and C reads what Python saves
            py_path = os.path.join(self.tmp, engine + "-py.sbpm")
            net.save(py_path)
            ev = self.run_tool("eval", "--load", py_path, "--test-limit", str(N_TEST))[-1]
            self.assertEqual(ev["engine"], engine)
            self.assertEqual(ev["layers"], net.layer_sizes)
            self.assertAlmostEqual(ev["test_error"], net.evaluate(self.test), places=9)

    def test_relax(self):
        self.check("relax")

    def test_spike(self):
        self.check("spike")

    def test_ann(self):
        self.check("ann")

    def test_rbm(self):
        self.check("rbm")


if __name__ == "__main__":
    unittest.main()
