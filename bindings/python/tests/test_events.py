"""Event streams from Python: reading N-MNIST and AEDAT 3.1 files, binning
events into frames, the N-MNIST and DVS128 Gesture dataset loaders, and
their errors (the C suite tests/test_events.c covers the formats in
depth)."""

import os
import shutil
import struct
import tempfile
import unittest

import sbp

from support import SOURCE_DIR, flat, needs_numpy, np

EVENTS = [(5, 1, 2, 1), (9, 33, 0, 0), (9, 0, 33, 1), (120, 7, 7, 0)]


def bs2(events):
    out = bytearray()
    for t, x, y, p in events:
        out += bytes([x, y, (0x80 if p else 0) | (t >> 16) & 0x7F, (t >> 8) & 0xFF, t & 0xFF])
    return bytes(out)


def aedat(events, overflow=0):
    head = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"
    special = struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, 1, 1, 1) + b"\0" * 8
    pol = struct.pack("<hhiiiiii", 1, 1, 8, 4, overflow, len(events), len(events), len(events))
    for t, x, y, p in events:
        pol += struct.pack("<Ii", x << 17 | y << 2 | p << 1 | 1, t)
    return head + special + pol


class EventTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sbp-py-events-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def as_tuples(self, ev):
        if np is not None and isinstance(ev, np.ndarray):
            return [tuple(int(v) for v in e) for e in ev.tolist()]
        return list(ev)

    def test_read_bs2_and_aedat(self):
        p = self.write("a.bs2", bs2(EVENTS))
        self.assertEqual(self.as_tuples(sbp.read_events(p, 34, 34)), EVENTS)
        p = self.write("a.aedat", aedat(EVENTS, overflow=2))
        got = self.as_tuples(sbp.read_events(p, 34, 34))
        self.assertEqual(got, [(t + (2 << 31), x, y, q) for t, x, y, q in EVENTS])
        self.assertEqual(self.as_tuples(sbp.read_events(self.write("e.bs2", b""), 34, 34)), [])

    def test_errors_name_file_and_offset(self):
        p = self.write("bad.bs2", bs2(EVENTS) + b"\1\2")
        with self.assertRaises(sbp.Error) as cm:
            sbp.read_events(p, 34, 34)
        self.assertEqual(cm.exception.code, sbp.Status.E_TRUNCATED)
        self.assertIn("bad.bs2", str(cm.exception))
        self.assertIn("not a whole number of 5-byte events", str(cm.exception))
        p = self.write("x.bs2", bs2(EVENTS))
        with self.assertRaises(sbp.Error) as cm:
            sbp.read_events(p, 20, 34)
        self.assertEqual(cm.exception.code, sbp.Status.E_FORMAT)
        self.assertIn("event 1 at byte 5: x = 33 is outside the 20x34 sensor", str(cm.exception))
        with self.assertRaises(sbp.Error):
            sbp.frame_options(binning="sideways")

    def test_frames(self):
        o = sbp.frame_options(frames=2, downsample=17, binning="time", polarity="split")
        self.assertEqual(sbp.frame_features(34, 34, o), 2 * 2 * 2 * 2)
        f = sbp.events_to_frames(EVENTS, 34, 34, 0, 200, o)
        # [frame][channel][y][x]: all in frame 0 (t < 100)
        # index ((frame * 2 + channel) * 2 + y // 17) * 2 + x // 17
        want = [0.0] * 16
        want[0] = 1   # (5, 1, 2, ON): frame 0, ON, cell (0, 0)
        want[5] = 1   # (9, 33, 0, OFF): frame 0, OFF, cell (1, 0)
        want[2] = 1   # (9, 0, 33, ON): frame 0, ON, cell (0, 1)
        want[12] = 1  # (120, 7, 7, OFF): frame 1, OFF, cell (0, 0)
        self.assertEqual(flat(f), want)
        o = sbp.frame_options(frames=4, binning="count", polarity="merge", value="binary")
        f = sbp.events_to_frames(EVENTS, 34, 34, 0, 1000, o)
        self.assertEqual(sum(flat(f)), 4)
        with self.assertRaises(sbp.Error) as cm:
            sbp.events_to_frames(list(reversed(EVENTS)), 34, 34, 0, 200)
        self.assertEqual(cm.exception.code, sbp.Status.E_INVALID)
        self.assertIn("time order", str(cm.exception))

    @needs_numpy
    def test_frames_shape_and_structured_input(self):
        p = self.write("a.bs2", bs2(EVENTS))
        ev = sbp.read_events(p, 34, 34)
        self.assertEqual(ev.dtype.itemsize, 16)
        f = sbp.events_to_frames(ev, 34, 34, 0, 121, sbp.frame_options(frames=3, downsample=2))
        self.assertEqual(f.shape, (3, 2, 17, 17))
        self.assertEqual(float(f.sum()), 4.0)

    def test_nmnist_loader(self):
        self.write("1.bs2", bs2(EVENTS))
        self.write("2.bs2", bs2(EVENTS[:2]))
        self.write("labels.txt", b"#sample #class\r\n1\t7\r\n2\t3\r\n")
        with sbp.Dataset.load_nmnist(self.dir, frames=2, polarity="merge") as ds:
            self.assertEqual((ds.count, ds.features, ds.classes), (2, 2 * 34 * 34, 10))
            x, label = ds.sample(0)
            self.assertEqual((sum(flat(x)), label), (4.0, 7))
            self.assertEqual(ds.sample(1)[1], 3)
        self.write("labels.txt", b"#sample #class\n1\t7\n2\tseven\n")
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_nmnist(self.dir)
        self.assertIn("labels.txt: line 3", str(cm.exception))

    def test_dvsgesture_loader(self):
        g = os.path.join(self.dir, "DvsGesture")
        os.mkdir(g)
        ev = [(1000 + 10 * i, (i * 5) % 128, (i * 3) % 128, i % 2) for i in range(200)]
        self.write("DvsGesture/user01_led.aedat", aedat(ev))
        self.write("DvsGesture/user01_led_labels.csv",
                   b"class,startTime_usec,endTime_usec\r\n4,1000,1500\r\n11,1500,3000\r\n")
        self.write("DvsGesture/trials_to_train.txt", b"user01_led.aedat\r\n")
        self.write("DvsGesture/trials_to_test.txt", b"\r\n")
        with sbp.Dataset.load_dvsgesture(self.dir, "train", frames=5, downsample=4) as ds:
            self.assertEqual((ds.count, ds.features, ds.classes), (2, 5 * 2 * 32 * 32, 11))
            self.assertEqual([ds.sample(i)[1] for i in range(2)], [3, 10])
            self.assertEqual(sum(flat(ds.sample(0)[0])), 50.0)
            self.assertEqual(sum(flat(ds.sample(1)[0])), 150.0)
        with self.assertRaises(sbp.Error) as cm:
            sbp.Dataset.load_dvsgesture(g, "test")
        self.assertEqual(cm.exception.code, sbp.Status.E_FORMAT)
        self.assertIn("lists no recordings", str(cm.exception))


class RealData(unittest.TestCase):
    def test_real_nmnist_file(self):
        path = os.path.join(SOURCE_DIR, "..", "shared", "data", "nmnist", "train", "1.bs2")
        if not os.path.exists(path):
            self.skipTest("shared N-MNIST data not found")
        ev = sbp.read_events(path, 34, 34)
        self.assertGreater(len(ev), 1000)


if __name__ == "__main__":
    unittest.main()
