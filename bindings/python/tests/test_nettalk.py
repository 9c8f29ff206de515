"""NETtalk through the binding: the bundled corpus, the code table, decoding
and the cosine metric."""

import math
import os
import unittest

import sbp

from support import SOURCE_DIR, flat

BUNDLED = os.path.join(SOURCE_DIR, "data", "nettalk")


class TestNettalk(unittest.TestCase):
    def test_paper_split(self):
        train, test = sbp.load_nettalk(BUNDLED, "paper")
        with train, test:
            self.assertEqual((train.count, test.count), (5438, 140209))
            self.assertEqual((train.features, train.targets, train.classes), (189, 26, 0))
            x, label = train.sample(0)
            self.assertEqual(label, -1)
            self.assertEqual(sum(flat(x)), 7.0)

    def test_words_split_seeded(self):
        a, b = sbp.load_nettalk(BUNDLED, sbp.NettalkSplit.WORDS, seed=5)
        c, d = sbp.load_nettalk(BUNDLED, "words", seed=5)
        with a, b, c, d:
            self.assertEqual(a.count + b.count, 145647)
            self.assertEqual(b.count, d.count)
            self.assertEqual(flat(b.target(17)), flat(d.target(17)))

    def test_paper_val_split(self):
        a, b = sbp.load_nettalk(BUNDLED, "paper-val", seed=3)
        c, d = sbp.load_nettalk(BUNDLED, sbp.NettalkSplit.PAPER_VAL, seed=3)
        with a, b, c, d:
            self.assertEqual(a.count + b.count, 5438)  # the paper's training windows
            self.assertTrue(800 < b.count < 1400)
            self.assertEqual(b.count, d.count)
            self.assertEqual(flat(b.target(5)), flat(d.target(5)))

    def test_codes_decode_score(self):
        codes = sbp.NettalkCodes.load(BUNDLED)
        self.assertEqual(len(codes.phonemes), 51)
        self.assertEqual(codes.stress, "012<>")
        self.assertEqual(codes.code("J", "1"), codes.code("G", "1"))
        rows = [codes.code("D", ">"), codes.code("J", "0"), [0.0] * 26]
        ph, st = codes.decode(rows)
        self.assertEqual(ph, "DG?")
        self.assertEqual(st, ">0?")
        score = codes.score(rows, [codes.code("D", ">"), codes.code("G", "0"),
                                   codes.code("a", "1")])
        self.assertAlmostEqual(score.phoneme_accuracy, 2 / 3)
        self.assertAlmostEqual(score.stress_accuracy, 2 / 3)
        self.assertAlmostEqual(score.cosine_score, 2 / 3)
        with self.assertRaises(sbp.Error) as cm:
            codes.score(rows, rows[:2])
        self.assertEqual(cm.exception.code, sbp.Status.E_MISMATCH)

    def test_errors_carry_the_diagnostic(self):
        with self.assertRaises(sbp.Error) as cm:
            sbp.load_nettalk(os.path.join(BUNDLED, "nettalk.data"))
        self.assertEqual(cm.exception.code, sbp.Status.E_IO)
        self.assertIn("not a directory", str(cm.exception))
        with self.assertRaises(sbp.Error):
            sbp.load_nettalk(BUNDLED, "alphabetical")
        self.assertTrue(math.isfinite(sbp.NettalkCodes.load(BUNDLED).score(
            [[1.0] * 26], [[1.0] * 26]).cosine_score))


if __name__ == "__main__":
    unittest.main()
