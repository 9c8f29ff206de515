"""How failures surface: sbp.Error with a Status code and a useful message."""

import os
import pickle
import shutil
import struct
import tempfile
import unittest

import sbp


class TestErrorType(unittest.TestCase):
    def test_fields(self):
        e = sbp.Error(sbp.Status.E_RANGE, "too big")
        self.assertIs(e.code, sbp.Status.E_RANGE)
        self.assertEqual(e.message, "too big")
        self.assertEqual(str(e), "E_RANGE: too big")
        self.assertEqual(e.args, (sbp.Status.E_RANGE, "too big"))
        self.assertIn("Status.E_RANGE", repr(e))
        self.assertIsInstance(e, Exception)

    def test_code_is_converted(self):
        self.assertIs(sbp.Error(4, "x").code, sbp.Status.E_IO)
        self.assertEqual(sbp.Error(999, "x").code, 999)
        self.assertIn("999", str(sbp.Error(999, "x")))


class TestErrorDetails(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sbp-errors-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_not_from_a_loader(self):
        e = sbp.Error(sbp.Status.E_RANGE, "too big")
        self.assertEqual((e.file, e.offset, e.line, e.expected, e.found), (None,) * 5)
        self.assertEqual(e.name, "SBP_E_RANGE")
        self.assertIsNone(sbp.Error(999, "x").name)
        with sbp.Layer(3) as layer:
            with self.assertRaises(sbp.Error) as cm:
                layer["layer.t_ref"] = -5
        self.assertIsNone(cm.exception.file)

    def test_loader_location(self):
        images = os.path.join(self.tmp, "images")
        labels = os.path.join(self.tmp, "labels")
        with open(images, "wb") as f:
            f.write(struct.pack(">IIII", 0x803, 3, 2, 2) + bytes(5))  # 12 pixels announced
        with open(labels, "wb") as f:
            f.write(struct.pack(">II", 0x801, 3) + bytes(3))
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_idx(images, labels)
        e = cm.exception
        self.assertIs(e.code, sbp.Status.E_TRUNCATED)
        self.assertEqual(e.file, images)
        self.assertIsInstance(e.offset, int)
        self.assertEqual(e.line, 0)

    def test_text_line(self):
        with open(os.path.join(self.tmp, "1.bs2"), "wb") as f:
            f.write(bytes([1, 2, 0x80, 0, 5]))
        with open(os.path.join(self.tmp, "labels.txt"), "w") as f:
            f.write("# header\n1\t7\n1\tseven\n")
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_nmnist(self.tmp)
        self.assertEqual(cm.exception.line, 3)
        self.assertTrue(cm.exception.file.endswith("labels.txt"), cm.exception.file)

    def test_pickle(self):
        try:
            sbp.Network.load(os.path.join(self.tmp, "missing.sbpm"))
        except sbp.Error as e:
            err = e
        copy = pickle.loads(pickle.dumps(err))
        self.assertIsInstance(copy, sbp.Error)
        self.assertIs(copy.code, sbp.Status.E_IO)
        self.assertEqual((copy.message, copy.file, copy.offset),
                         (err.message, err.file, err.offset))
        self.assertEqual(str(copy), str(err))


class TestBadPaths(unittest.TestCase):
    """Every loader and writer reports a missing path as E_IO naming it."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sbp-paths-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.missing = os.path.join(self.tmp, "does-not-exist")

    def test_each(self):
        calls = {
            "Dataset.load_idx": lambda p: sbp.Dataset.load_idx(p, p),
            "Dataset.load_mnist": lambda p: sbp.Dataset.load_mnist(p, "train"),
            "Dataset.load_nmnist": lambda p: sbp.Dataset.load_nmnist(p),
            "Dataset.load_dvsgesture": lambda p: sbp.Dataset.load_dvsgesture(p, "test"),
            "load_nettalk": lambda p: sbp.load_nettalk(p),
            "NettalkCodes.load": lambda p: sbp.NettalkCodes.load(p),
            "read_events": lambda p: sbp.read_events(p + ".bs2", 34, 34),
            "Network.load": lambda p: sbp.Network.load(p),
            "Network.save": lambda p: sbp.Network("ann").save(os.path.join(p, "m.sbpm")),
        }
        for name, call in calls.items():
            with self.subTest(call=name):
                with self.assertRaises(sbp.Error) as cm:
                    call(self.missing)
                self.assertIs(cm.exception.code, sbp.Status.E_IO, str(cm.exception))
                self.assertIn("does-not-exist", cm.exception.message)


class TestLoaderErrors(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sbp-errors-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_missing_file(self):
        images = os.path.join(self.tmp, "no-such-images-idx3-ubyte")
        labels = os.path.join(self.tmp, "no-such-labels-idx1-ubyte")
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_idx(images, labels)
        self.assertIs(cm.exception.code, sbp.Status.E_IO)
        self.assertIn(images, cm.exception.message)

    def test_missing_directory(self):
        d = os.path.join(self.tmp, "no-such-dir")
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_mnist(d, "test")
        self.assertIs(cm.exception.code, sbp.Status.E_IO)
        self.assertIn(d, cm.exception.message)

    def test_bad_magic(self):
        images = os.path.join(self.tmp, "images")
        labels = os.path.join(self.tmp, "labels")
        with open(images, "wb") as f:
            f.write(struct.pack(">IIII", 0x12345678, 1, 2, 2) + bytes(4))
        with open(labels, "wb") as f:
            f.write(struct.pack(">II", 0x801, 1) + bytes(1))
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_idx(images, labels)
        self.assertIs(cm.exception.code, sbp.Status.E_FORMAT)
        self.assertIn(images, cm.exception.message)

    def test_truncated(self):
        images = os.path.join(self.tmp, "images")
        labels = os.path.join(self.tmp, "labels")
        with open(images, "wb") as f:
            f.write(struct.pack(">IIII", 0x803, 3, 2, 2) + bytes(5))  # 12 pixels announced
        with open(labels, "wb") as f:
            f.write(struct.pack(">II", 0x801, 3) + bytes(3))
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_idx(images, labels)
        self.assertIs(cm.exception.code, sbp.Status.E_TRUNCATED)
        self.assertIn(images, cm.exception.message)

    def test_small_valid_idx(self):
        images = os.path.join(self.tmp, "images")
        labels = os.path.join(self.tmp, "labels")
        with open(images, "wb") as f:
            f.write(struct.pack(">IIII", 0x803, 2, 2, 2) + bytes([0, 255, 51, 102] * 2))
        with open(labels, "wb") as f:
            f.write(struct.pack(">II", 0x801, 2) + bytes([3, 9]))
        with sbp.Dataset.load_idx(images, labels) as ds:
            self.assertEqual((ds.count, ds.features, ds.classes), (2, 4, 10))
            x, label = ds.sample(1)
            self.assertEqual(label, 9)
            self.assertEqual([round(float(v), 6) for v in x], [0.0, 1.0, 0.2, 0.4])

    def test_path_types(self):
        with self.assertRaises(TypeError):
            sbp.Dataset.load_idx(3, "labels")
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_mnist(self.tmp, "validation")
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)


class TestParameterErrors(unittest.TestCase):
    def test_out_of_range(self):
        with sbp.Network(sbp.Engine.RELAX) as net:
            with self.assertRaises(sbp.Error) as cm:
                net["relax.beta"] = 1000.0
            self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
            self.assertIn("relax.beta", cm.exception.message)
            self.assertEqual(net["relax.beta"], 0.5)  # refused, not clamped
            with self.assertRaises(sbp.Error) as cm:
                net.set(sbp.Param.NET_BATCH_SIZE, 0)
            self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
        with sbp.Layer(10) as layer:
            with self.assertRaises(sbp.Error) as cm:
                layer.set("layer.t_ref", -1)
            self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
        with sbp.Rule(sbp.RuleKind.STP) as rule:
            with self.assertRaises(sbp.Error) as cm:
                rule["stp.U"] = 1.5
            self.assertIs(cm.exception.code, sbp.Status.E_RANGE)

    def test_wrong_owner(self):
        with sbp.Network("relax") as net:
            with self.assertRaises(sbp.Error) as cm:
                net["spike.dt"] = 1.0
            self.assertIs(cm.exception.code, sbp.Status.E_INVALID)
            self.assertIn("spike.dt", cm.exception.message)

    def test_wrong_type(self):
        with sbp.Network("relax") as net:
            with self.assertRaises(sbp.Error) as cm:
                net["net.batch_size"] = 2.5
            self.assertIs(cm.exception.code, sbp.Status.E_INVALID)
            net["net.batch_size"] = 20.0  # integral floats are fine
            self.assertEqual(net["net.batch_size"], 20)
            with self.assertRaises(TypeError):
                net["relax.beta"] = "0.5"
            with self.assertRaises(sbp.Error) as cm:
                net["relax.beta"] = float("inf")
            self.assertIs(cm.exception.code, sbp.Status.E_NUMERIC)

    def test_unknown_parameter(self):
        with self.assertRaises(sbp.Error) as cm:
            sbp.param_by_name("relax.no_such_thing")
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)
        self.assertIn("relax.no_such_thing", cm.exception.message)
        with self.assertRaises(sbp.Error) as cm:
            sbp.param_info(0x9999)
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Layer(10, no_such_thing=1)
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)

    def test_bad_constructors(self):
        with self.assertRaises(sbp.Error) as cm:
            sbp.Layer(0)
        self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Layer(-3)
        self.assertIs(cm.exception.code, sbp.Status.E_RANGE)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Rule("no_such_rule")
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Rule(99)
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Network(99)
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Network("no_such_engine")
        self.assertIs(cm.exception.code, sbp.Status.E_INVALID)


class TestUseAfterClose(unittest.TestCase):
    def check_closed(self, obj, name, uses):
        obj.close()
        self.assertTrue(obj.closed)
        obj.close()
        for use in uses:
            with self.assertRaises(sbp.Error) as cm:
                use(obj)
            self.assertIs(cm.exception.code, sbp.Status.E_STATE)
            self.assertEqual(cm.exception.message, "%s is closed" % name)

    def test_layer(self):
        self.check_closed(sbp.Layer(5), "Layer", [
            lambda o: o.size, lambda o: o.get("layer.tau_m"), lambda o: o.set("layer.tau_m", 2.0)])

    def test_rule(self):
        self.check_closed(sbp.Rule("stdp"), "Rule", [
            lambda o: o.kind, lambda o: o["stdp.a_plus"]])

    def test_network(self):
        self.check_closed(sbp.Network("relax"), "Network", [
            lambda o: o.engine, lambda o: o.add_layer(3), lambda o: o.layer_sizes,
            lambda o: o["relax.beta"], lambda o: o.get_weights(1), lambda o: o.predict([[0.0]])])

    def test_closed_argument(self):
        layer = sbp.Layer(3)
        layer.close()
        with sbp.Network("relax") as net:
            with self.assertRaises(sbp.Error) as cm:
                net.add_layer(layer)
            self.assertIs(cm.exception.code, sbp.Status.E_STATE)
            self.assertEqual(net.layer_count, 0)
        ds = sbp.Dataset.from_arrays([[0.0]], [0], 1)
        ds.close()
        with sbp.Network("relax") as net:
            net.add_layer(1)
            net.add_layer(1)
            with self.assertRaises(sbp.Error) as cm:
                net.train_epoch(ds)
            self.assertEqual(cm.exception.message, "Dataset is closed")

    def test_context_manager_on_closed(self):
        layer = sbp.Layer(3)
        layer.close()
        with self.assertRaises(sbp.Error):
            with layer:
                pass


if __name__ == "__main__":
    unittest.main()
