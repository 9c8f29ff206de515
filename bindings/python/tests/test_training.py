"""Network.train: epochs with a per-epoch callback (the notebook loop),
shuffling, continuing a run, stopping; predictions from a dataset; the
computational-cost functions; build information."""

import math
import unittest

import sbp

from support import HAVE_NUMPY, flat, np, xor_like

SIZES = (4, 8, 2)


def make_net(engine="ann", seed=3, **params):
    net = sbp.Network(engine, seed=seed, batch_size=10, **params)
    for size in SIZES:
        net.add_layer(size)
    return net


class TrainTest(unittest.TestCase):
    def setUp(self):
        rows, labels = xor_like(60)
        self.rows = rows
        self.train = sbp.Dataset.from_arrays(rows[:40], labels[:40], 2)
        self.test = sbp.Dataset.from_arrays(rows[40:], labels[40:], 2)
        self.addCleanup(self.train.close)
        self.addCleanup(self.test.close)

    def test_history_and_callback(self):
        seen = []
        with make_net() as net:
            history = net.train(self.train, epochs=3, test=self.test,
                                callback=lambda *a: seen.append(a))
        self.assertEqual(len(history), 3)
        self.assertEqual([r.epoch for r in history], [1, 2, 3])
        self.assertEqual([tuple(r) for r in history], seen)
        for r in history:
            self.assertIsInstance(r, sbp.EpochResult)
            self.assertTrue(0.0 <= r.train_error <= 1.0)
            self.assertTrue(0.0 <= r.test_error <= 1.0)
            self.assertGreaterEqual(r.seconds, 0.0)
        self.assertEqual(repr(history[0]).split("(")[0], "EpochResult")

    def test_same_as_the_manual_loop(self):
        with make_net() as a, make_net() as b:
            history = a.train(self.train, epochs=2, test=self.test)
            manual = []
            for _ in range(2):
                manual.append((b.train_epoch(self.train), b.evaluate(self.test)))
            self.assertEqual([(r.train_error, r.test_error) for r in history], manual)
            self.assertEqual(a.to_bytes(), b.to_bytes())

    def test_without_test_set(self):
        with make_net() as net:
            history = net.train(self.train, epochs=2)
        self.assertEqual([r.test_error for r in history], [None, None])

    def test_callback_stops(self):
        calls = []

        def stop_at_2(epoch, train_error, test_error, seconds):
            calls.append(epoch)
            return epoch == 2

        with make_net() as net:
            history = net.train(self.train, epochs=10, test=self.test, callback=stop_at_2)
        self.assertEqual(calls, [1, 2])
        self.assertEqual(len(history), 2)

    def test_callback_exception_propagates(self):
        def boom(*args):
            raise ValueError("stop here")

        with make_net() as net, make_net() as ref:
            with self.assertRaises(ValueError):
                net.train(self.train, epochs=5, callback=boom)
            ref.train_epoch(self.train)  # the first epoch stayed applied
            self.assertEqual(net.to_bytes(), ref.to_bytes())

    def test_zero_epochs_and_bad_arguments(self):
        with make_net() as net:
            self.assertEqual(net.train(self.train, epochs=0), [])
            with self.assertRaises(sbp.Error) as cm:
                net.train(self.train, epochs=-1)
            self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
            with self.assertRaises(TypeError):
                net.train(self.train, callback=42)
            with self.assertRaises(TypeError):
                net.train(self.rows)
            with self.assertRaises(TypeError):
                net.train(self.train, test=self.rows)

    def test_shuffle_is_seeded(self):
        with make_net(seed=5) as a, make_net(seed=5) as b, make_net(seed=5) as c:
            a.train(self.train, epochs=2, shuffle=True)           # the network's seed
            b.train(self.train, epochs=2, shuffle=True, seed=5)
            self.assertEqual(a.to_bytes(), b.to_bytes())
            c.train(self.train, epochs=2, shuffle=True, seed=6)
            self.assertNotEqual(a.to_bytes(), c.to_bytes())
        # the presentation order the last run left behind: reset, then 6+1, 6+2
        with sbp.Dataset.from_arrays(self.rows[:40], [0] * 40, 2) as ref:
            ref.shuffle(7).shuffle(8)
            self.assertEqual(flat(self.train.batch(0, 40).x), flat(ref.batch(0, 40).x))

    def test_continue_a_run(self):
        with make_net() as a, make_net() as b:
            whole = a.train(self.train, epochs=3, test=self.test, shuffle=True, seed=9)
            first = b.train(self.train, epochs=2, test=self.test, shuffle=True, seed=9)
            self.train.shuffle(1234)  # whatever happened in between
            with sbp.Network.from_bytes(b.to_bytes()) as c:
                rest = c.train(self.train, epochs=1, test=self.test, shuffle=True, seed=9,
                               epochs_done=2)
                self.assertEqual([r.epoch for r in rest], [3])
                self.assertEqual(c.to_bytes(), a.to_bytes())
                # a loaded network knows its creation seed: shuffle's default
                self.assertEqual(c.seed, b.seed)
            self.assertEqual([(r.train_error, r.test_error) for r in first + rest],
                             [(r.train_error, r.test_error) for r in whole])

    def test_every_engine(self):
        for engine in sbp.Engine:
            if not sbp.engine_available(engine):
                continue
            with self.subTest(engine=engine.name), make_net(engine) as net:
                history = net.train(self.train, epochs=1, test=self.test)
                self.assertEqual(len(history), 1)

    def test_predict_dataset(self):
        with make_net() as net:
            net.train(self.train)
            self.assertEqual(flat(net.predict(self.test)), flat(net.predict(self.rows[40:])))
            labels, outputs = net.predict(self.test, outputs=True)
            self.assertEqual(len(flat(outputs)), 20 * SIZES[-1])
            if HAVE_NUMPY:
                self.assertEqual(outputs.shape, (20, SIZES[-1]))
                self.assertEqual(labels.dtype, np.int32)

    def test_progress_during_train(self):
        with make_net() as net:
            seen = []
            net.set_progress(lambda done, total: seen.append((done, total)))
            net.train(self.train, epochs=1, test=self.test)
            self.assertEqual(seen[-1], (20, 20))
            self.assertIn((40, 40), seen)
            with self.assertRaises(TypeError):
                net.set_progress("not callable")


class TestClosingDuringACall(unittest.TestCase):
    def test_close_from_progress_callback(self):
        rows, labels = xor_like(40)
        with sbp.Dataset.from_arrays(rows, labels, 2) as ds, make_net() as net:
            net.set_progress(lambda done, total: net.close())
            with self.assertRaises(sbp.Error) as cm:
                net.train_epoch(ds)
            self.assertIs(cm.exception.code, sbp.Status.E_STATE)
            self.assertIn("in use", cm.exception.message)
            net.set_progress(lambda done, total: ds.close())
            with self.assertRaises(sbp.Error) as cm:
                net.evaluate(ds)
            self.assertIs(cm.exception.code, sbp.Status.E_STATE)
            self.assertFalse(ds.closed)
            self.assertFalse(net.closed)
            net.set_progress(None)
            self.assertTrue(0.0 <= net.evaluate(ds) <= 1.0)
        self.assertTrue(net.closed and ds.closed)

    def test_close_from_epoch_callback(self):
        rows, labels = xor_like(40)
        with sbp.Dataset.from_arrays(rows, labels, 2) as ds:
            net = make_net()
            with self.assertRaises(sbp.Error) as cm:
                net.train(ds, epochs=3, callback=lambda *a: net.close())
            self.assertIs(cm.exception.code, sbp.Status.E_STATE)
            self.assertEqual(cm.exception.message, "Network is closed")


class TestCost(unittest.TestCase):
    def test_per_epoch(self):
        m, n, k = 784, 500, 10
        self.assertEqual(sbp.cost_per_epoch(sbp.CostModel.SNN, m, n, k), m * n + n * k + n)
        self.assertEqual(sbp.cost_per_epoch(sbp.CostModel.BBT, m, n, k),
                         m * n + n * k + n + m)
        self.assertEqual(sbp.cost_per_epoch(sbp.CostModel.DENSE, m, n, k), 2 * (m * n + n * k))
        self.assertEqual(sbp.cost_per_epoch(99, m, n, k), 0.0)
        with self.assertRaises(sbp.Error):
            sbp.cost_per_epoch(sbp.CostModel.SNN, -1, n, k)

    def test_network_cost(self):
        self.assertIs(sbp.cost_model("relax"), sbp.CostModel.SNN)
        self.assertIs(sbp.cost_model(sbp.Engine.SPIKE), sbp.CostModel.SNN)
        self.assertIs(sbp.cost_model("ann"), sbp.CostModel.DENSE)
        self.assertIs(sbp.cost_model("rbm"), sbp.CostModel.DENSE)
        with make_net("relax") as net:
            self.assertIs(net.cost_model, sbp.CostModel.SNN)
            self.assertEqual(net.cost_per_epoch(), 4 * 8 + 8 * 2 + 8)
            self.assertEqual(net.cost_per_epoch(sbp.CostModel.BBT), 4 * 8 + 8 * 2 + 8 + 4)
            net.add_layer(3)
            with self.assertRaises(sbp.Error) as cm:
                net.cost_per_epoch()
            self.assertIs(cm.exception.code, sbp.Status.E_UNSUPPORTED)

    @staticmethod
    def mean_epochs(a, b, cap, budget):
        """sbp_cost_mean_epochs as sbp.h describes it."""
        lo, hi = max(min(a), min(b)), min(max(a), max(b))
        if cap > 0:
            hi = min(hi, cap)
        out = []
        for curve in (a, b):
            total = 0
            for i in range(5):
                t = lo + (hi - lo) * i / 4
                first = next((e + 1 for e, v in enumerate(curve) if v <= t), None)
                total += first if first is not None else (budget or len(curve))
            out.append(total / 5)
        return tuple(out)

    def test_mean_epochs(self):
        a = [0.5, 0.3, 0.2, 0.15, 0.1]
        b = [0.4, 0.2, 0.1, 0.08, 0.05]
        ea, eb = sbp.cost_mean_epochs(a, b)
        want = self.mean_epochs(a, b, 0.0, 0)
        self.assertAlmostEqual(ea, want[0])
        self.assertAlmostEqual(eb, want[1])
        self.assertLess(eb, ea)
        ea2, eb2 = sbp.cost_mean_epochs(a, b, cap=0.25, budget=10)
        want = self.mean_epochs(a, b, 0.25, 10)
        self.assertAlmostEqual(ea2, want[0])
        self.assertAlmostEqual(eb2, want[1])
        with self.assertRaises(sbp.Error) as cm:
            sbp.cost_mean_epochs([0.5, float("nan")], b)
        self.assertIs(cm.exception.code, sbp.Status.E_NUMERIC)

    def test_mean_std(self):
        mean, std = sbp.cost_mean_std([1.0, 2.0, 3.0, 4.0])
        self.assertEqual(mean, 2.5)
        self.assertAlmostEqual(std, math.sqrt(1.25))
        self.assertEqual(sbp.cost_mean_std((7,)), (7.0, 0.0))
        with self.assertRaises(sbp.Error) as cm:
            sbp.cost_mean_std([])
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)


class TestInfo(unittest.TestCase):
    def test_info(self):
        info = sbp.info()
        self.assertEqual(info["version"], sbp.version_string())
        self.assertEqual(info["version_number"], sbp.version_number())
        self.assertEqual(info["blas"], sbp.blas_name())
        self.assertEqual(info["default_threads"], sbp.default_threads())
        self.assertEqual(set(info["engines"]), {"relax", "spike", "ann", "rbm"})
        self.assertEqual(info["library"], sbp.library_path)
        self.assertEqual(info["binding"], sbp.__version__)


if __name__ == "__main__":
    unittest.main()
