#!/usr/bin/env python3
"""Learning curves of the paper's SNN on MNIST, with and without SBP.

Trains the relax engine's 784-500-10 network (the paper's SNN, as the
authors' code runs it) twice from the same seed on a slice of the bundled
MNIST sample: once "with SBP" (the pre x delta-post base rule plus the SBP
spread on the hidden layer) and once "without SBP" (the published symmetric
rule). A per-epoch callback of Network.train records and prints each epoch;
a per-batch progress callback shows progress on a terminal. The curves are written
as a CSV file and as a small self-made SVG chart (no plotting library
needed); with --png and matplotlib installed, also as a PNG. Finally the
paper's cost measure, the mean number of epochs to reach five error
thresholds, is computed for the pair of curves.

Run it by hand from the source tree, against a build directory:

    SBP_LIBRARY=build/lib/libsbp.so.0 PYTHONPATH=bindings/python \\
        python3 examples/relax_curves.py [--train 1000] [--test 300] \\
        [--epochs 3] [--out DIR] [--png] [--data data/mnist]

(or with an installed libsbp and binding: python3 examples/relax_curves.py).
It writes DIR/relax_curves.csv and DIR/relax_curves.svg (DIR defaults to the
current directory); open the SVG in any browser. Exit status 0 on success,
1 on a library error (the sbp.Error message is printed) or if the network
with SBP does not learn. numpy is used if installed, never required.
"""

import argparse
import csv
import os
import sys
import xml.etree.ElementTree as ET

import sbp

VARIANTS = (("with SBP", "#d62728"), ("without SBP", "#1f77b4"))


def make_network(variant, seed):
    """The paper's 784-500-10 SNN, relax engine, default parameters."""
    net = sbp.Network("relax", seed=seed)
    for size in (784, 500, 10):
        net.add_layer(size)
    if variant == "with SBP":
        net["relax.base_rule"] = sbp.BaseRule.SBP
        net.attach_rule(1, sbp.RuleKind.SBP_SPREAD)  # the spread into the hidden layer
    else:
        net["relax.base_rule"] = sbp.BaseRule.SYMMETRIC
    return net


def write_csv(path, curves):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["variant", "epoch", "train_error", "test_error", "seconds"])
        for variant, rows in curves.items():
            for r in rows:
                w.writerow([variant, r.epoch, "%.6f" % r.train_error, "%.6f" % r.test_error,
                            "%.3f" % r.seconds])


def write_svg(path, curves, title):
    """A line chart of test error (%) against epoch, one line per variant."""
    width, height = 560, 360
    left, right, top, bottom = 60, 150, 40, 50
    pw, ph = width - left - right, height - top - bottom
    epochs = max(r.epoch for rows in curves.values() for r in rows)
    errors = [100 * r.test_error for rows in curves.values() for r in rows]
    y_max = max(10.0, 10.0 * (int(max(errors) / 10.0) + 1))

    def px(epoch):
        return left + (pw * (epoch - 1) / (epochs - 1) if epochs > 1 else pw / 2)

    def py(err):
        return top + ph * (1 - err / y_max)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
           % (width, height, width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="14">%s</text>' % (left, _esc(title))]
    for i in range(6):  # horizontal grid and y labels
        v = y_max * i / 5
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                   % (left, py(v), left + pw, py(v)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>'
                   % (left - 6, py(v) + 4, v))
    for e in range(1, epochs + 1):  # x ticks
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>'
                   % (px(e), top + ph + 18, e))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>'
               % (left, top, pw, ph))
    out.append('<text x="%.1f" y="%d" text-anchor="middle">epoch</text>'
               % (left + pw / 2, height - 10))
    out.append('<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">'
               'test error (%%)</text>' % (top + ph / 2))
    for i, (variant, color) in enumerate(VARIANTS):
        rows = curves.get(variant)
        if not rows:
            continue
        pts = " ".join("%.1f,%.1f" % (px(r.epoch), py(100 * r.test_error)) for r in rows)
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>'
                   % (pts, color))
        for r in rows:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>'
                       % (px(r.epoch), py(100 * r.test_error), color))
        ly = top + 16 + 20 * i
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>'
                   % (left + pw + 12, ly - 4, left + pw + 32, ly - 4, color))
        out.append('<text x="%d" y="%d">%s</text>' % (left + pw + 38, ly, _esc(variant)))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def _esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_png(path, curves):
    """The same chart with matplotlib, if it is installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--png: matplotlib is not installed; the SVG has the same chart")
        return False
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for variant, color in VARIANTS:
        rows = curves.get(variant, [])
        ax.plot([r.epoch for r in rows], [100 * r.test_error for r in rows], "o-",
                color=color, label=variant)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test error (%)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                "mnist")
    ap.add_argument("--data", default=os.environ.get("SBP_DATA", default_data),
                    help="MNIST directory (default: $SBP_DATA, else the bundled data/mnist)")
    ap.add_argument("--train", type=int, default=1000, help="training images")
    ap.add_argument("--test", type=int, default=300, help="test images")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=".", help="directory for the CSV and SVG files")
    ap.add_argument("--png", action="store_true", help="also a PNG, if matplotlib is installed")
    args = ap.parse_args(argv)
    if args.train < 1 or args.test < 1 or args.epochs < 1:
        ap.error("--train, --test and --epochs must be at least 1")

    print("libsbp %s from %s" % (sbp.version_string(), sbp.library_path))
    with sbp.Dataset.load_mnist(args.data, "train") as all_train, \
            sbp.Dataset.load_mnist(args.data, "test") as all_test:
        train = all_train.subset(0, min(args.train, all_train.count))
        test = all_test.subset(0, min(args.test, all_test.count))
    print("MNIST: %d training and %d test images" % (train.count, test.count))

    curves = {}
    for variant, _ in VARIANTS:
        def on_batch(done, total):  # after every mini-batch (training and testing)
            if sys.stderr.isatty():
                sys.stderr.write("\r  %d/%d " % (done, total))
            return False  # True would cancel the call (sbp.Error E_CANCELLED)

        def on_epoch(epoch, train_error, test_error, seconds):  # after every epoch
            if sys.stderr.isatty():
                sys.stderr.write("\r")
            print("  epoch %d: train error %6.2f %%  test error %6.2f %%  (%.1f s)"
                  % (epoch, 100 * train_error, 100 * test_error, seconds))
            return False  # True would stop training after this epoch

        print("%s:" % variant)
        with make_network(variant, args.seed) as net:
            net.set_progress(on_batch)
            curves[variant] = net.train(train, epochs=args.epochs, test=test,
                                        callback=on_epoch)

    os.makedirs(args.out, exist_ok=True)
    csv_path = os.path.join(args.out, "relax_curves.csv")
    svg_path = os.path.join(args.out, "relax_curves.svg")
    write_csv(csv_path, curves)
    write_svg(svg_path, curves, "784-500-10 SNN on %d MNIST images" % train.count)
    print("wrote %s and %s" % (csv_path, svg_path))
    if args.png and write_png(os.path.join(args.out, "relax_curves.png"), curves):
        print("wrote %s" % os.path.join(args.out, "relax_curves.png"))

    # The paper's cost measure: mean epochs to reach five error thresholds.
    with_sbp = [r.test_error for r in curves["with SBP"]]
    without = [r.test_error for r in curves["without SBP"]]
    e_without, e_with = sbp.cost_mean_epochs(without, with_sbp)
    print("mean epochs to the thresholds: %.2f without SBP, %.2f with SBP"
          % (e_without, e_with))

    # Checks: the files are what they claim to be, and SBP learns.
    ET.parse(svg_path)  # well-formed XML
    with open(csv_path, newline="") as f:
        n_rows = sum(1 for _ in csv.DictReader(f))
    if n_rows != 2 * args.epochs:
        print("relax_curves: %s has %d rows, expected %d" % (csv_path, n_rows, 2 * args.epochs),
              file=sys.stderr)
        return 1
    if with_sbp[-1] > 0.5:  # chance is 90 %
        print("relax_curves: with SBP the test error is still %.1f %%" % (100 * with_sbp[-1]),
              file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except sbp.Error as e:
        print("relax_curves: libsbp error: %s" % e, file=sys.stderr)
        sys.exit(1)
