"""Networks, layers and rules. Engines that this build lacks must report
E_UNSUPPORTED through sbp.Error; engines it has must train."""

import unittest

import sbp

from support import HAVE_NUMPY, flat, np, xor_like

AVAILABLE = [e for e in sbp.Engine if sbp.engine_available(e)]
MISSING = [e for e in sbp.Engine if not sbp.engine_available(e)]
SIZES = (4, 8, 2)


def make_net(engine, seed=1):
    net = sbp.Network(engine, seed=seed)
    for size in SIZES:
        net.add_layer(size)
    return net


def make_data(n=40):
    rows, labels = xor_like(n)
    return sbp.Dataset.from_arrays(rows, labels, 2)


class TestTopology(unittest.TestCase):
    def test_layers(self):
        with sbp.Network(sbp.Engine.RELAX, seed=3) as net:
            self.assertEqual(net.layer_count, 0)
            self.assertEqual(net.add_layer(784), 0)
            with sbp.Layer(500, learning_rate=0.1) as hidden:
                self.assertEqual(net.add_layer(hidden), 1)
                self.assertEqual(net.add_layer(hidden), 2)  # copied, reusable
            self.assertEqual(net.add_layer(10, activation=sbp.Activation.CLIP01), 3)
            self.assertEqual(net.layer_sizes, [784, 500, 500, 10])
            self.assertEqual(net.layer_count, 4)
            self.assertEqual(repr(net), "<sbp.Network relax 784x500x500x10>")
            with self.assertRaises(TypeError):
                net.add_layer(sbp.Layer(3), activation=1)

    def test_rule_indices(self):
        with make_net(sbp.Engine.RELAX) as net:
            for bad in (0, 3):
                with self.assertRaises(sbp.Error) as cm:
                    net.attach_rule(bad, sbp.RuleKind.SBP_SPREAD)
                self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
            with self.assertRaises(sbp.Error) as cm:
                net.attach_rule(-1, sbp.RuleKind.SBP_SPREAD)
            self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
            net.detach_rule(1, sbp.RuleKind.STDP)  # nothing attached: fine
            net.detach_rule(2, "stp")
            with self.assertRaises(sbp.Error) as cm:
                net.detach_rule(1, 42)
            self.assertIs(cm.exception.code, sbp.Status.E_INVALID)

    def test_weight_indices(self):
        for engine in sbp.Engine:
            with make_net(engine) as net:
                for bad in (0, 3):
                    with self.assertRaises(sbp.Error) as cm:
                        net.get_weights(bad)
                    self.assertIs(cm.exception.code, sbp.Status.E_RANGE)

    def test_predict_shape_checked(self):
        with make_net(sbp.Engine.RELAX) as net:
            with self.assertRaises(sbp.Error) as cm:
                net.predict([[0.0, 1.0, 2.0]])
            self.assertIs(cm.exception.code, sbp.Status.E_MISMATCH)
            with self.assertRaises(sbp.Error) as cm:
                net.predict([0.0] * 6)
            self.assertIs(cm.exception.code, sbp.Status.E_MISMATCH)

    def test_dataset_type(self):
        with make_net(sbp.Engine.RELAX) as net:
            with self.assertRaises(TypeError):
                net.train_epoch([[0.0] * 4])
            with self.assertRaises(TypeError):
                net.evaluate(None)

    def test_too_few_layers(self):
        with sbp.Network(sbp.Engine.RELAX) as net, make_data() as ds:
            net.add_layer(4)
            with self.assertRaises(sbp.Error) as cm:
                net.train_epoch(ds)
            self.assertIn(cm.exception.code, (sbp.Status.E_STATE, sbp.Status.E_UNSUPPORTED))


@unittest.skipUnless(MISSING, "every engine is implemented in this build")
class TestUnsupportedEngines(unittest.TestCase):
    def test_calls_report_unsupported(self):
        with make_data() as ds:
            for engine in MISSING:
                with self.subTest(engine=engine.name), make_net(engine) as net:
                    calls = {
                        "train_epoch": lambda: net.train_epoch(ds),
                        "evaluate": lambda: net.evaluate(ds),
                        "predict": lambda: net.predict([[0.0] * 4]),
                        "get_weights": lambda: net.get_weights(1),
                        "attach_rule": lambda: net.attach_rule(1, sbp.RuleKind.STDP),
                    }
                    for name, call in calls.items():
                        with self.assertRaises(sbp.Error, msg=name) as cm:
                            call()
                        self.assertIs(cm.exception.code, sbp.Status.E_UNSUPPORTED, name)
                        self.assertIn(sbp.engine_name(engine), cm.exception.message, name)
                    # the network stays usable
                    self.assertEqual(net.layer_sizes, list(SIZES))


@unittest.skipUnless(AVAILABLE, "no engine is implemented in this build yet")
class TestAvailableEngines(unittest.TestCase):
    def setUp(self):
        self.ds = make_data()
        self.addCleanup(self.ds.close)

    def test_train_evaluate_predict(self):
        for engine in AVAILABLE:
            with self.subTest(engine=engine.name), make_net(engine) as net:
                err = net.train_epoch(self.ds)
                self.assertTrue(0.0 <= err <= 1.0, err)
                err = net.evaluate(self.ds)
                self.assertTrue(0.0 <= err <= 1.0, err)
                rows, _ = xor_like(5, seed=9)
                labels = net.predict(rows)
                self.assertEqual(len(labels), 5)
                self.assertTrue(all(v in (0, 1) for v in flat(labels)))
                labels2, outputs = net.predict(rows, outputs=True)
                self.assertEqual(flat(labels2), flat(labels))
                self.assertEqual(len(flat(outputs)), 5 * SIZES[-1])
                if HAVE_NUMPY:
                    self.assertEqual(outputs.shape, (5, SIZES[-1]))
                    self.assertEqual(flat(net.predict(np.array(rows, dtype=np.float64))),
                                     flat(labels))

    def test_topology_frozen(self):
        for engine in AVAILABLE:
            with self.subTest(engine=engine.name), make_net(engine) as net:
                net.get_weights(1)
                with self.assertRaises(sbp.Error) as cm:
                    net.add_layer(3)
                self.assertIs(cm.exception.code, sbp.Status.E_STATE)

    def test_weights_round_trip(self):
        for engine in AVAILABLE:
            with self.subTest(engine=engine.name), make_net(engine) as net:
                for layer in (1, 2):
                    w = net.get_weights(layer)
                    rows, cols = SIZES[layer - 1], SIZES[layer]
                    self.assertEqual(len(flat(w)), rows * cols)
                    if HAVE_NUMPY:
                        self.assertEqual(w.shape, (rows, cols))
                    new = [[(r * cols + c) / 100.0 for c in range(cols)] for r in range(rows)]
                    net.set_weights(layer, new)
                    self.assertEqual([round(v, 6) for v in flat(net.get_weights(layer))],
                                     [round(v, 6) for v in sum(new, [])])
                with self.assertRaises(sbp.Error) as cm:
                    net.set_weights(1, [0.0] * 5)
                self.assertIs(cm.exception.code, sbp.Status.E_MISMATCH)
                with self.assertRaises(sbp.Error) as cm:
                    net.set_weights(1, [float("nan")] * (SIZES[0] * SIZES[1]))
                self.assertIs(cm.exception.code, sbp.Status.E_NUMERIC)

    def test_deterministic(self):
        for engine in AVAILABLE:
            with self.subTest(engine=engine.name):
                results = []
                for _ in range(2):
                    with make_net(engine, seed=42) as net:
                        net.train_epoch(self.ds)
                        results.append(flat(net.get_weights(1)))
                self.assertEqual(results[0], results[1])

    def test_dataset_mismatch(self):
        for engine in AVAILABLE:
            with self.subTest(engine=engine.name), make_net(engine) as net:
                with sbp.Dataset.from_arrays([[0.0] * 3], [0], 2) as wrong:
                    with self.assertRaises(sbp.Error) as cm:
                        net.train_epoch(wrong)
                    self.assertIs(cm.exception.code, sbp.Status.E_MISMATCH)

    def test_progress(self):
        engine = AVAILABLE[0]
        with make_net(engine) as net:
            net["net.batch_size"] = 10
            calls = []
            net.set_progress(lambda done, total: calls.append((done, total)))
            net.train_epoch(self.ds)
            self.assertTrue(calls)
            self.assertEqual(calls[-1], (40, 40))

            net.set_progress(lambda done, total: True)
            with self.assertRaises(sbp.Error) as cm:
                net.train_epoch(self.ds)
            self.assertIs(cm.exception.code, sbp.Status.E_CANCELLED)

            def boom(done, total):
                raise KeyError("from the callback")
            net.set_progress(boom)
            with self.assertRaises(KeyError):
                net.train_epoch(self.ds)

            net.set_progress(None)
            calls.clear()
            net.train_epoch(self.ds)
            self.assertEqual(calls, [])


if __name__ == "__main__":
    unittest.main()
