#!/usr/bin/env python3
"""NETtalk from Python: letters to phonemes with the paper's SNN and SBP.

Shows the NETtalk loader (7-letter windows of the bundled corpus, 189 one-hot
inputs, 26 multi-hot phoneme and stress units), the paper's SNN (relax
engine) trained one window per update with SBP, and the two ways of scoring
its outputs: the phoneme and stress accuracy (decoding by the smallest angle)
and the paper's metric, the cosine score (1 - mean cosine distance). It then
decodes the network's outputs for the first few test words and prints them
beside the dictionary's pronunciation (docs/nettalk.md explains the codes).

Run it by hand from the source tree, against a build directory:

    SBP_LIBRARY=build/lib/libsbp.so.0 PYTHONPATH=bindings/python \\
        python3 examples/nettalk.py [--epochs 2] [--hidden 100] [--test 1000] \\
        [--baseline] [--data data/nettalk]

(or with an installed libsbp and binding: python3 examples/nettalk.py).
--baseline also trains the same network without SBP (the published
symmetric rule) for comparison. The test set is a seeded sample of the
140 209 test windows of the paper's split. Exit status 0 on success, 1 on a
library error (the sbp.Error message is printed) or if the network does not
learn. numpy is used if installed, never required.
"""

import argparse
import os
import sys

import sbp

SYMBOLS = "abcdefghijklmnopqrstuvwxyz_"  # 27 window symbols; "_" = beyond the word


def make_network(hidden, use_sbp, seed):
    """The paper's 189-N-26 SNN; with SBP: the pre x delta-post base rule and
    the spread operator on the hidden layer."""
    net = sbp.Network("relax", seed=seed)
    net.add_layer(189)
    net.add_layer(hidden)
    net.add_layer(26)
    net["net.batch_size"] = 1  # the paper trains NETtalk one window per update
    if use_sbp:
        net["relax.base_rule"] = sbp.BaseRule.SBP
        net.attach_rule(1, sbp.RuleKind.SBP_SPREAD)
    else:
        net["relax.base_rule"] = sbp.BaseRule.SYMMETRIC
    return net


def rows(flat, width):
    """Rows of a batch array, with numpy (2-D) or without (flat array.array)."""
    if hasattr(flat, "reshape"):
        flat = flat.reshape(-1)
    return [flat[i:i + width] for i in range(0, len(flat), width)]


def window_letters(x):
    """(centre letter, whether the window starts a word) of each input row."""
    out = []
    for row in rows(x, 189):
        centre = max(range(27), key=lambda s: row[3 * 27 + s])
        starts_word = row[2 * 27 + 26] > 0.5  # the letter before is a blank
        out.append((SYMBOLS[centre], starts_word))
    return out


def show_words(net, codes, data, n_windows):
    """Prints the words whose windows start data's first n_windows samples."""
    batch = data.batch(0, min(n_windows, data.count))
    _, outputs = net.predict(batch.x, outputs=True)
    got_ph, got_st = codes.decode(outputs)
    want_ph, want_st = codes.decode(batch.targets)
    words = []
    for i, (letter, starts) in enumerate(window_letters(batch.x)):
        if starts or not words:
            words.append([[], [], [], [], []])
        w = words[-1]
        for part, value in zip(w, (letter, want_ph[i], want_st[i], got_ph[i], got_st[i])):
            part.append(value)
    if len(words) > 1:
        words.pop()  # may be cut short
    print("%-14s %-14s %-14s %-14s %s" % ("word", "phonemes", "stress", "network", "stress"))
    for w in words:
        print("%-14s %-14s %-14s %-14s %s" % tuple("".join(p) for p in w))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                "nettalk")
    ap.add_argument("--data", default=os.environ.get("SBP_NETTALK_DATA", default_data),
                    help="NETtalk directory (default: the bundled data/nettalk)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=100, help="hidden neurons (paper: 500)")
    ap.add_argument("--test", type=int, default=1000, help="test windows to score")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline", action="store_true",
                    help="also train without SBP, for comparison")
    args = ap.parse_args(argv)
    if args.epochs < 1 or args.hidden < 1 or args.test < 1:
        ap.error("--epochs, --hidden and --test must be at least 1")

    print("libsbp %s from %s" % (sbp.version_string(), sbp.library_path))
    train, test_all = sbp.load_nettalk(args.data, "paper")
    codes = sbp.NettalkCodes.load(args.data)
    print("NETtalk, paper split: %d training windows (the 1 000 listed words), "
          "%d test windows; %d phonemes, %d stress symbols"
          % (train.count, test_all.count, len(codes.phonemes), len(codes.stress)))

    # A seeded sample of the test windows: the same for every run and variant.
    test_all.shuffle(0)
    test = test_all.subset(0, min(args.test, test_all.count))
    test_all.reset_order()  # corpus order again, for show_words below
    scored = test.batch(0, test.count)

    variants = [("with SBP", True)] + ([("without SBP", False)] if args.baseline else [])
    final = {}
    for name, use_sbp in variants:
        with make_network(args.hidden, use_sbp, args.seed) as net:
            print("\n%s: 189-%d-26 relax network, batch 1, seed %d"
                  % (name, args.hidden, args.seed))
            print("epoch  cosine score  phoneme acc.  stress acc.")
            for epoch in range(1, args.epochs + 1):
                train.shuffle(epoch)
                net.train_epoch(train)
                _, outputs = net.predict(scored.x, outputs=True)
                score = codes.score(outputs, scored.targets)
                print("%5d  %10.2f %%  %10.2f %%  %9.2f %%"
                      % (epoch, 100 * score.cosine_score, 100 * score.phoneme_accuracy,
                         100 * score.stress_accuracy))
            final[name] = score
            if use_sbp:
                print("\nthe first test words (corpus order), decoded:")
                show_words(net, codes, test_all, 40)

    score = final["with SBP"]
    # 51 phoneme codes: guessing gets a few per cent; a silent network scores 0.
    if score.phoneme_accuracy < 0.4 or score.cosine_score < 0.7:
        print("nettalk: the network did not learn (phoneme accuracy %.3f, cosine %.3f)"
              % (score.phoneme_accuracy, score.cosine_score), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except sbp.Error as e:
        print("nettalk: libsbp error: %s" % e, file=sys.stderr)
        sys.exit(1)
