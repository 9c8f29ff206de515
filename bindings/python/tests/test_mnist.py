"""The bundled MNIST sample (data/mnist in the source tree)."""

import os
import unittest

import sbp

from support import SOURCE_DIR, flat

MNIST_DIR = os.path.join(SOURCE_DIR, "data", "mnist")


def find(*names):
    for name in names:
        for suffix in ("", ".gz"):
            path = os.path.join(MNIST_DIR, name + suffix)
            if os.path.exists(path):
                return path
    return None


TEST_FILES = (find("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
              find("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"))
TRAIN10K_FILES = (find("train10k-images-idx3-ubyte"), find("train10k-labels-idx1-ubyte"))
PARTS = [part for part, files in ((sbp.MnistPart.TEST, TEST_FILES),
                                  (sbp.MnistPart.TRAIN, TRAIN10K_FILES)) if all(files)]


@unittest.skipUnless(PARTS, "bundled MNIST sample not found in %s (data/mnist not added yet?)"
                     % MNIST_DIR)
class TestBundledMnist(unittest.TestCase):
    def check_shape(self, ds):
        self.assertEqual(ds.count, 10000)
        self.assertEqual(ds.features, 784)
        self.assertEqual(ds.targets, 10)
        self.assertEqual(ds.classes, 10)

    def test_load_mnist(self):
        for part in PARTS:
            with self.subTest(part=part.name), sbp.Dataset.load_mnist(MNIST_DIR, part) as ds:
                self.check_shape(ds)
                x, label = ds.sample(0)
                values = flat(x)
                self.assertEqual(len(values), 784)
                self.assertTrue(all(0.0 <= v <= 1.0 for v in values))
                self.assertGreater(max(values), 0.5)
                self.assertIn(label, range(10))
                labels = flat(ds.batch(0, 1000).labels)
                self.assertEqual(sorted(set(labels)), list(range(10)))

    def test_part_by_name(self):
        part = PARTS[0]
        with sbp.Dataset.load_mnist(MNIST_DIR, part.name.lower()) as ds:
            self.check_shape(ds)

    def test_load_idx_matches(self):
        part = PARTS[0]
        files = TEST_FILES if part == sbp.MnistPart.TEST else TRAIN10K_FILES
        with sbp.Dataset.load_idx(*files) as a, sbp.Dataset.load_mnist(MNIST_DIR, part) as b:
            self.check_shape(a)
            for i in (0, 1, 9999):
                xa, la = a.sample(i)
                xb, lb = b.sample(i)
                self.assertEqual(la, lb)
                self.assertEqual(flat(xa), flat(xb))

    def test_split_and_subset(self):
        with sbp.Dataset.load_mnist(MNIST_DIR, PARTS[0]) as ds:
            train, val = ds.split(1000, 1)
            with train, val:
                self.assertEqual((train.count, val.count), (9000, 1000))
                self.assertEqual(val.features, 784)
            with ds.subset(100, 50) as sub:
                self.assertEqual(sub.count, 50)


if __name__ == "__main__":
    unittest.main()
