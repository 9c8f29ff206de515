"""Model files: Network.save / load and to_bytes / from_bytes. A loaded
network predicts and goes on training bit-identically; a damaged file
raises sbp.Error with the library's message."""

import os
import shutil
import tempfile
import unittest

import sbp

from support import flat, xor_like

AVAILABLE = [e for e in sbp.Engine if sbp.engine_available(e)]


def make_net(engine, seed=4):
    net = sbp.Network(engine, seed=seed)
    net["net.batch_size"] = 8
    for size in (4, 8, 2):
        net.add_layer(size)
    if engine in (sbp.Engine.RELAX, sbp.Engine.ANN, sbp.Engine.SPIKE):
        net.attach_rule(1, sbp.RuleKind.SBP_SPREAD, lambda_p=0.7)
    if engine is sbp.Engine.RBM:
        net.attach_rule(1, sbp.RuleKind.RBM_CD, persistent=1)
    if engine is sbp.Engine.SPIKE:
        net.attach_rule(1, sbp.RuleKind.HOMEOSTASIS)
    return net


class TestModelFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sbp-model-")
        rows, labels = xor_like(40)
        self.rows = rows
        self.data = sbp.Dataset.from_arrays(rows, labels, 2)

    def tearDown(self):
        self.data.close()
        shutil.rmtree(self.dir)

    def predict(self, net):
        labels, outputs = net.predict(self.rows, outputs=True)
        return flat(labels), flat(outputs)

    def test_roundtrip_every_engine(self):
        for engine in AVAILABLE:
            with self.subTest(engine=engine.name):
                path = os.path.join(self.dir, "%s.sbpm" % engine.name.lower())
                with make_net(engine) as net:
                    net.train_epoch(self.data)
                    net.save(path)
                    with open(path, "rb") as f:
                        on_disk = f.read()
                    self.assertEqual(net.to_bytes(), on_disk)
                    with sbp.Network.load(path) as copy, \
                            sbp.Network.from_bytes(bytearray(on_disk)) as copy2:
                        self.assertIs(copy.engine, engine)
                        self.assertEqual(copy.layer_sizes, [4, 8, 2])
                        self.assertEqual(copy["net.batch_size"], 8)
                        want = self.predict(net)
                        self.assertEqual(self.predict(copy), want)
                        self.assertEqual(self.predict(copy2), want)
                        net.train_epoch(self.data)
                        copy.train_epoch(self.data)
                        self.assertEqual(copy.to_bytes(), net.to_bytes())
                        self.assertEqual(self.predict(copy), self.predict(net))

    def test_inspect_a_loaded_network(self):
        with sbp.Network("relax", seed=2**63 + 5) as net:
            net["net.batch_size"] = 8
            net.add_layer(4)
            net.add_layer(8)
            net.add_layer(6)
            net.add_layer(2, learning_rate=0.0125)
            net.attach_rule(1, sbp.RuleKind.SBP_SPREAD, lambda_p=0.7)
            net.attach_rule(3, sbp.RuleKind.SBP_SPREAD, fraction=0.5)
            net.train_epoch(self.data)
            with sbp.Network.from_bytes(net.to_bytes()) as copy:
                self.assertEqual(copy.seed, 2**63 + 5)
                with copy.layer(3) as layer:
                    self.assertEqual(layer.size, 2)
                    self.assertEqual(layer["layer.learning_rate"], 0.0125)
                with copy.layer(1) as layer:
                    self.assertIsNone(layer["layer.learning_rate"])  # the engine's default
                with copy.rule(1, "sbp_spread") as rule:
                    self.assertIs(rule.kind, sbp.RuleKind.SBP_SPREAD)
                    self.assertEqual(rule["spread.lambda_p"], 0.7)
                with copy.rule(3, sbp.RuleKind.SBP_SPREAD) as rule:
                    self.assertEqual(rule["spread.fraction"], 0.5)
                self.assertIsNone(copy.rule(2, sbp.RuleKind.SBP_SPREAD))
                # copies: changing one leaves the network alone
                with copy.layer(3) as layer:
                    layer["layer.learning_rate"] = 0.5
                with copy.layer(3) as layer:
                    self.assertEqual(layer["layer.learning_rate"], 0.0125)
                for bad, code in ((lambda: copy.layer(4), sbp.Status.E_RANGE),
                                  (lambda: copy.rule(0, "sbp_spread"), sbp.Status.E_RANGE)):
                    with self.assertRaises(sbp.Error) as cm:
                        bad()
                    self.assertIs(cm.exception.code, code)

    def test_unbuilt(self):
        with make_net(sbp.Engine.ANN) as net:
            with sbp.Network.from_bytes(net.to_bytes()) as copy:
                self.assertEqual(copy.layer_sizes, [4, 8, 2])
                copy.add_layer(3)  # an unbuilt network stays open to changes
                self.assertEqual(copy.layer_count, 4)

    def test_corrupt_file(self):
        path = os.path.join(self.dir, "model.sbpm")
        with make_net(sbp.Engine.ANN) as net:
            net.train_epoch(self.data)
            net.save(path)
        with open(path, "rb") as f:
            good = f.read()
        bad = bytearray(good)
        bad[len(bad) // 2] ^= 0x04
        with open(path, "wb") as f:
            f.write(bad)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Network.load(path)
        self.assertIs(cm.exception.code, sbp.Status.E_CHECKSUM)
        self.assertIn("CRC-32C mismatch", cm.exception.message)
        self.assertIn("model.sbpm", cm.exception.message)

        with open(path, "wb") as f:
            f.write(good[:100])
        with self.assertRaises(sbp.Error) as cm:
            sbp.Network.load(path)
        self.assertIs(cm.exception.code, sbp.Status.E_TRUNCATED)
        self.assertIn("truncated", cm.exception.message)

        with self.assertRaises(sbp.Error) as cm:
            sbp.Network.from_bytes(b"not a model")
        self.assertIs(cm.exception.code, sbp.Status.E_FORMAT)
        self.assertIn("SBPMODEL", cm.exception.message)

        newer = bytearray(good)
        newer[8] = 2
        with self.assertRaises(sbp.Error) as cm:
            sbp.Network.from_bytes(newer)
        self.assertIs(cm.exception.code, sbp.Status.E_VERSION)

        with self.assertRaises(sbp.Error) as cm:
            sbp.Network.load(os.path.join(self.dir, "missing.sbpm"))
        self.assertIs(cm.exception.code, sbp.Status.E_IO)

    def test_failed_save(self):
        with make_net(sbp.Engine.ANN) as net:
            with self.assertRaises(sbp.Error) as cm:
                net.save(os.path.join(self.dir, "no", "such", "dir.sbpm"))
            self.assertIs(cm.exception.code, sbp.Status.E_IO)
            self.assertIn("No such file or directory", cm.exception.message)
            with self.assertRaises(TypeError):
                net.save(3.5)
        self.assertEqual(os.listdir(self.dir), [])


if __name__ == "__main__":
    unittest.main()
