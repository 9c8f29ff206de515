"""Datasets built from Python data: every accepted input form, round trips,
order, derived datasets and ownership."""

import array
import gc
import unittest

import sbp

from support import HAVE_NUMPY, flat, needs_numpy, np

ROWS = [[0.0, 0.5, 1.0], [0.25, 0.75, 0.125], [1.0, 0.0, 0.5], [0.5, 0.5, 0.5]]
LABELS = [0, 1, 2, 1]


class TestFromArrays(unittest.TestCase):
    def check(self, ds):
        self.assertEqual((ds.count, ds.features, ds.targets, ds.classes), (4, 3, 3, 3))
        self.assertEqual(len(ds), 4)
        for i, (row, label) in enumerate(zip(ROWS, LABELS)):
            x, lab = ds.sample(i)
            self.assertEqual(flat(x), row)  # all values are exact in float32
            self.assertEqual(lab, label)
            target = flat(ds.target(i))
            self.assertEqual(target, [1.0 if c == label else 0.0 for c in range(3)])

    def test_list_of_lists(self):
        with sbp.Dataset.from_arrays(ROWS, LABELS, 3) as ds:
            self.check(ds)

    def test_tuples(self):
        with sbp.Dataset.from_arrays(tuple(tuple(r) for r in ROWS), tuple(LABELS), 3) as ds:
            self.check(ds)

    def test_flat_list(self):
        with sbp.Dataset.from_arrays(sum(ROWS, []), LABELS, 3) as ds:
            self.check(ds)

    def test_array_array(self):
        x = array.array("f", sum(ROWS, []))
        with sbp.Dataset.from_arrays(x, array.array("i", LABELS), 3) as ds:
            self.check(ds)
        x = array.array("d", sum(ROWS, []))  # converted
        with sbp.Dataset.from_arrays(x, LABELS, 3) as ds:
            self.check(ds)

    def test_memoryview(self):
        x = array.array("f", sum(ROWS, []))
        with sbp.Dataset.from_arrays(memoryview(x), LABELS, 3) as ds:
            self.check(ds)

    def test_input_is_copied(self):
        x = array.array("f", sum(ROWS, []))
        ds = sbp.Dataset.from_arrays(x, LABELS, 3)
        x[0] = 42.0
        self.assertEqual(flat(ds.sample(0)[0])[0], 0.0)
        ds.close()

    @needs_numpy
    def test_numpy(self):
        x = np.array(ROWS, dtype=np.float32)
        with sbp.Dataset.from_arrays(x, np.array(LABELS), 3) as ds:
            self.check(ds)
        with sbp.Dataset.from_arrays(x.astype(np.float64), LABELS, 3) as ds:
            self.check(ds)
        with sbp.Dataset.from_arrays(np.asfortranarray(x), LABELS, 3) as ds:
            self.check(ds)
        with sbp.Dataset.from_arrays(x.reshape(-1), LABELS, 3) as ds:
            self.check(ds)
        with sbp.Dataset.from_arrays(x.reshape(4, 3, 1), np.array(LABELS, dtype=np.int64),
                                     3) as ds:
            self.check(ds)

    @needs_numpy
    def test_numpy_outputs(self):
        with sbp.Dataset.from_arrays(ROWS, LABELS, 3) as ds:
            x, _ = ds.sample(0)
            self.assertIsInstance(x, np.ndarray)
            self.assertEqual((x.dtype, x.shape), (np.float32, (3,)))
            b = ds.batch(1, 2)
            self.assertEqual(b.x.shape, (2, 3))
            self.assertEqual(b.targets.shape, (2, 3))
            self.assertEqual((b.labels.dtype, b.labels.shape), (np.int32, (2,)))

    @unittest.skipIf(HAVE_NUMPY, "numpy in use")
    def test_plain_outputs(self):
        with sbp.Dataset.from_arrays(ROWS, LABELS, 3) as ds:
            x, _ = ds.sample(0)
            self.assertIsInstance(x, array.array)
            self.assertEqual(x.typecode, "f")
            b = ds.batch(1, 2)
            self.assertIsInstance(b.x, array.array)
            self.assertEqual(len(b.x), 6)
            self.assertEqual(len(b.targets), 6)
            self.assertEqual(list(b.labels), [1, 2])

    def test_mismatches(self):
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.from_arrays(ROWS, [0, 1], 3)
        self.assertEqual(cm.exception.code, sbp.Status.E_MISMATCH)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.from_arrays([[0.0, 1.0], [2.0]], [0, 1], 3)
        self.assertEqual(cm.exception.code, sbp.Status.E_MISMATCH)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.from_arrays([0.0] * 7, [0, 1], 3)
        self.assertEqual(cm.exception.code, sbp.Status.E_MISMATCH)

    def test_bad_label(self):
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.from_arrays(ROWS, [0, 1, 2, 3], 3)
        self.assertIn(cm.exception.code, (sbp.Status.E_RANGE, sbp.Status.E_INVALID))
        with self.assertRaises(TypeError):
            sbp.Dataset.from_arrays(ROWS, [0, 1, 2, 0.5], 3)

    def test_not_constructible(self):
        with self.assertRaises(TypeError):
            sbp.Dataset()


class TestFromTargets(unittest.TestCase):
    def test_multi_hot(self):
        targets = [[1, 0, 0], [0, 1, 1], [0, 0, 1], [1, 1, 0]]
        with sbp.Dataset.from_targets(ROWS, targets) as ds:
            self.assertEqual((ds.count, ds.features, ds.targets), (4, 3, 3))
            self.assertEqual(ds.classes, 0)
            self.assertEqual([ds.sample(i)[1] for i in range(4)], [0, -1, 2, -1])
            self.assertEqual(flat(ds.target(1)), [0.0, 1.0, 1.0])

    def test_one_hot_is_classification(self):
        targets = [[1.0 if c == lab else 0.0 for c in range(3)] for lab in LABELS]
        with sbp.Dataset.from_targets(sum(ROWS, []), targets) as ds:
            self.assertEqual(ds.classes, 3)
            self.assertEqual([ds.sample(i)[1] for i in range(4)], LABELS)


class TestOrder(unittest.TestCase):
    def setUp(self):
        rows = [[float(i), float(i) / 2] for i in range(20)]
        self.ds = sbp.Dataset.from_arrays(rows, [i % 2 for i in range(20)], 2)
        self.addCleanup(self.ds.close)

    def first_column(self, batch):
        return flat(batch.x)[0::2]

    def test_batch(self):
        self.assertEqual(self.first_column(self.ds.batch(5, 3)), [5.0, 6.0, 7.0])
        self.assertEqual(flat(self.ds.batch(5, 3).labels), [1, 0, 1])
        self.assertEqual(self.first_column(self.ds.batch(20, 0)), [])

    def test_batch_past_end(self):
        with self.assertRaises(sbp.Error) as cm:
            self.ds.batch(15, 6)
        self.assertEqual(cm.exception.code, sbp.Status.E_RANGE)
        with self.assertRaises(sbp.Error) as cm:
            self.ds.batch(-1, 2)
        self.assertEqual(cm.exception.code, sbp.Status.E_RANGE)

    def test_sample_out_of_range(self):
        with self.assertRaises(sbp.Error):
            self.ds.sample(20)
        with self.assertRaises(sbp.Error):
            self.ds.sample(-1)

    def test_shuffle(self):
        self.ds.shuffle(7)
        a = self.first_column(self.ds.batch(0, 20))
        self.assertNotEqual(a, [float(i) for i in range(20)])
        self.assertEqual(sorted(a), [float(i) for i in range(20)])
        # storage order is untouched
        self.assertEqual(flat(self.ds.sample(3)[0]), [3.0, 1.5])
        self.ds.reset_order().shuffle(7)
        self.assertEqual(self.first_column(self.ds.batch(0, 20)), a)
        self.ds.reset_order()
        self.assertEqual(self.first_column(self.ds.batch(0, 20)), [float(i) for i in range(20)])

    def test_subset(self):
        with self.ds.subset(4, 6) as sub:
            self.assertEqual(sub.count, 6)
            self.assertEqual(flat(sub.sample(0)[0]), [4.0, 2.0])
        with self.assertRaises(sbp.Error):
            self.ds.subset(18, 5)

    def test_split(self):
        train, val = self.ds.split(5, 11)
        with train, val:
            self.assertEqual((train.count, val.count), (15, 5))
            seen = self.first_column(train.batch(0, 15)) + self.first_column(val.batch(0, 5))
            self.assertEqual(sorted(seen), [float(i) for i in range(20)])
            train2, val2 = self.ds.split(5, 11)
            with train2, val2:
                self.assertEqual(self.first_column(val2.batch(0, 5)),
                                 self.first_column(val.batch(0, 5)))

    def test_normalize(self):
        self.ds.normalize()
        values = flat(self.ds.batch(0, 20).x)
        self.assertEqual(min(values), 0.0)
        self.assertEqual(max(values), 1.0)

    def test_nan_refused(self):
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.from_arrays([[0.0, float("nan")]], [0], 1)
        self.assertEqual(cm.exception.code, sbp.Status.E_NUMERIC)
        self.assertIn("sbp_dataset_create", cm.exception.message)


class TestOwnership(unittest.TestCase):
    def test_close(self):
        ds = sbp.Dataset.from_arrays(ROWS, LABELS, 3)
        self.assertFalse(ds.closed)
        ds.close()
        self.assertTrue(ds.closed)
        ds.close()  # idempotent
        self.assertIn("closed", repr(ds))
        for use in (lambda: ds.count, lambda: ds.sample(0), lambda: ds.batch(0, 1),
                    lambda: ds.shuffle(1), lambda: ds.split(1, 1), lambda: ds.normalize()):
            with self.assertRaises(sbp.Error) as cm:
                use()
            self.assertEqual(cm.exception.code, sbp.Status.E_STATE)
            self.assertIn("Dataset is closed", cm.exception.message)

    def test_context_manager(self):
        with sbp.Dataset.from_arrays(ROWS, LABELS, 3) as ds:
            self.assertEqual(ds.count, 4)
        self.assertTrue(ds.closed)

    def test_finalizer(self):
        ds = sbp.Dataset.from_arrays(ROWS, LABELS, 3)
        fin = ds._finalizer
        self.assertTrue(fin.alive)
        del ds
        gc.collect()
        self.assertFalse(fin.alive)

    def test_derived_datasets_are_independent(self):
        ds = sbp.Dataset.from_arrays(ROWS, LABELS, 3)
        sub = ds.subset(0, 2)
        ds.close()
        self.assertEqual(sub.count, 2)
        sub.close()


if __name__ == "__main__":
    unittest.main()
