#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Run from anywhere: python3 tests/fuzz/make_seeds.py. The seeds are small
real inputs in each harness's input layout (see the comment at the top of
each fuzz_<target>.c); the IDX seeds are cut from the bundled MNIST test
files in data/mnist. The output is deterministic (gzip mtime 0)."""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- idx: flags byte, u16 LE image length, image part, label part ----------

def idx_input(flags, images, labels):
    assert len(images) < 65536
    return bytes([flags]) + struct.pack("<H", len(images)) + images + labels


def idx_seeds():
    with gzip.open(os.path.join(ROOT, "data/mnist/t10k-images-idx3-ubyte.gz")) as f:
        img = f.read(16 + 3 * 784)
    with gzip.open(os.path.join(ROOT, "data/mnist/t10k-labels-idx1-ubyte.gz")) as f:
        lab = f.read(8 + 3)
    # the first three test images, with the header count set to 3
    images = img[:4] + struct.pack(">I", 3) + img[8:16] + img[16:]
    labels = lab[:4] + struct.pack(">I", 3) + lab[8:]
    write("idx", "mnist3-raw", idx_input(0, images, labels))
    write("idx", "mnist3-gzip-by-harness", idx_input(3, images, labels))
    write("idx", "mnist3-gzip-files", idx_input(4, gz(images), gz(labels)))
    tiny = struct.pack(">IIII", 0x803, 2, 2, 3) + bytes([0, 255, 128, 1, 2, 3] * 2)
    tiny_lab = struct.pack(">II", 0x801, 2) + bytes([7, 9])
    write("idx", "tiny-2x3-raw", idx_input(0, tiny, tiny_lab))
    write("idx", "tiny-2x3-gzip-images", idx_input(5, tiny, tiny_lab))
    write("idx", "labels-as-images", idx_input(0, tiny_lab, tiny))
    write("idx", "truncated-gzip", idx_input(0, gz(tiny)[:-6], tiny_lab))


# ---- params: a program of operations (fuzz_params.c) ------------------------

OP = dict(net_create=0, net_free=1, layer_create=2, layer_free=3, rule_create=4,
          rule_free=5, set_int=6, set_real=7, get_int=8, get_real=9, add_layer=10,
          attach=11, detach=12, build=13, info=14, shape=15)
ON_NET, ON_LAYER, ON_RULE = 0, 1, 2


def params_program(engine, sizes, rules=(), sets=()):
    b = bytearray()
    b += bytes([OP["net_create"], 0, engine]) + struct.pack("<Q", 42)
    for s in sizes:
        b += bytes([OP["layer_create"], 0, s - 1])  # pick_size: b % 12 + 1
        b += bytes([OP["add_layer"], 0, 0, 0])      # net slot 0, layer slot 0
    for slot, (kind, layer) in enumerate(rules):
        b += bytes([OP["rule_create"], slot, kind])
        b += bytes([OP["attach"], 0, 0, slot, 0, layer])
    for owner, param_slot, value_byte, is_int in sets:
        op = OP["set_int"] if is_int else OP["set_real"]
        b += bytes([op, 0, owner, 0, param_slot, value_byte])
    b += bytes([OP["info"], 0, 5, 10]) + b"relax.beta"
    b += bytes([OP["shape"], 0, 0, 0, 0])
    b += bytes([OP["build"], 0, 0, 1, 0, 1])        # get weights of layer 1
    b += bytes([OP["build"], 0, 0, 1, 1, 1])        # set weights of layer 1 (reads the rest)
    b += bytes(range(0, 256, 5))
    return bytes(b)


def params_seeds():
    # engines 1 relax, 2 spike, 3 ann, 4 rbm; rule kinds 1..6; set: value byte
    # picks min / max / min-1ulp / max+1ulp / NaN ... (pick_int, pick_real)
    write("params", "relax-spread", params_program(1, [4, 3, 2], rules=[(5, 1)],
                                                   sets=[(ON_NET, 0, 1, 1), (ON_NET, 7, 3, 0)]))
    write("params", "spike-stdp-stp", params_program(2, [5, 4, 3], rules=[(1, 1), (3, 1), (2, 2)],
                                                     sets=[(ON_NET, 19, 0, 0)]))
    write("params", "ann-deep", params_program(3, [6, 5, 4, 3], rules=[(5, 1)],
                                               sets=[(ON_NET, 26, 4, 0)]))
    write("params", "rbm-cd", params_program(4, [6, 4, 2], rules=[(6, 1)],
                                             sets=[(ON_NET, 0, 6, 1)]))
    write("params", "wrong-kinds", bytes([OP["layer_create"], 0, 3, OP["rule_create"], 0, 5,
                                          OP["net_create"], 0, 1]) + struct.pack("<Q", 1) +
          bytes([OP["add_layer"], 0, 5, 5, OP["attach"], 0, 0, 6, 0, 1,
                 OP["set_real"], 0, ON_LAYER, 5, 3, 4, OP["shape"], 0, 5, 5, 5]))


# ---- dataset: shape, values, labels, targets, then operations ---------------

def dataset_seeds():
    n, d, k = 6, 4, 3
    head = bytes([0, n - 1, d - 1, k - 1, 0])
    values = bytes((i * 37) % 256 for i in range(n * d))
    labels = bytes(i % k for i in range(n))
    targets = bytes((i * 11) % 256 for i in range(n * k))
    ops = bytes([0x87, 1, 3,      # subset [1, 4) and keep it (op % 9 == 0, bit 7)
                 2, 0, 3, 7,      # batch all outputs
                 3]) + struct.pack("<Q", 5) + bytes([
                 5, 6, 2, 4, 8, 7,
                 1, 1, 0]) + struct.pack("<Q", 9)
    write("dataset", "classify-6x4", head + values + labels + targets + ops)
    write("dataset", "targets-6x4", bytes([1]) + head[1:] + values + labels + targets + ops)
    nonfinite = bytes([4, n - 1, d - 1, k - 1, 0]) + bytes([254, 253] + [128] * (n * d - 2))
    write("dataset", "nonfinite", nonfinite + labels + targets + bytes([5, 6, 0]))
    write("dataset", "over-limit", bytes([0, 1, 1, 1, 248]))


# ---- events: flags byte, frame options byte, recording (fuzz_events.c) ------

def bs2(events):
    out = bytearray()
    for t, x, y, p in events:
        out += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
    return bytes(out)


def aedat(events, overflow=0):
    head = (b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
            b"#Start-Time: fuzz seed\r\n#!END-HEADER\r\n")
    body = bytearray(struct.pack("<hhiiiiii", 1, 1, 8, 4, overflow, len(events), len(events),
                                 len(events)))
    for t, x, y, p in events:
        body += struct.pack("<Ii", x << 17 | y << 2 | p << 1 | 1, t)
    special = struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, 1, 1, 1) + struct.pack("<Ii", 0, 0)
    return head + bytes(body) + special


def events_seeds():
    ev34 = [(10 * i + (i % 3), (7 * i) % 34, (11 * i) % 34, i % 2) for i in range(24)]
    ev128 = [(25 * i, (37 * i) % 128, (53 * i) % 128, (i >> 1) % 2) for i in range(24)]
    # flags: bit 0 AEDAT, bit 1 gzip here, bits 2-4 sensor (0: 34x34, 1: 128x128)
    write("events", "bs2-34x34", bytes([0 << 2, 0]) + bs2(ev34))
    write("events", "bs2-34x34-gzip-count-binning", bytes([2, 0x21]) + bs2(ev34))
    write("events", "bs2-128-merged-binary", bytes([1 << 2, 0xC6]) + bs2(ev128))
    write("events", "aedat-128x128", bytes([1 | 1 << 2, 0x10]) + aedat(ev128))
    write("events", "aedat-128x128-gzip-file", bytes([1 | 1 << 2, 0]) + gz(aedat(ev128, 1)))
    write("events", "bs2-cut", bytes([0, 0]) + bs2(ev34)[:-2])


# ---- nettalk: flags byte, then four u16-length-prefixed files -------------

def nettalk_seeds():
    src = os.path.join(ROOT, "data/nettalk")
    with open(os.path.join(src, "features.tsv"), "rb") as f:
        features = f.read()
    with open(os.path.join(src, "stress.tsv"), "rb") as f:
        stress = f.read()
    words = {}
    with open(os.path.join(src, "nettalk.data"), "rb") as f:
        for line in f:
            w = line.split(b"\t", 1)[0]
            words.setdefault(w, line)
    listed = [b"the", b"of", b"and", b"to", b"in"]
    extra = [b"aback", b"abacus", b"abbe", b"aardvark"]
    data = b"".join(words[w] for w in listed + extra)
    lst = b"Note: a fuzz seed\n\n(" + b" ".join(w.upper() for w in listed) + b")\n"

    def pack(flags, parts):
        out = bytearray([flags])
        for part in parts[:3]:
            out += struct.pack("<H", len(part)) + part
        return bytes(out + struct.pack("<H", len(parts[3])) + parts[3])

    write("nettalk", "paper-split", pack(0, [data, features, stress, lst]))
    write("nettalk", "words-split-train-only", pack(1 | 4, [data, features, stress, lst]))
    write("nettalk", "crlf", pack(2, [data.replace(b"\n", b"\r\n"), features, stress, lst]))
    write("nettalk", "word-not-in-corpus", pack(0, [data, features, stress,
                                                    lst.replace(b"IN)", b"IN ZYZZYVA)")]))


if __name__ == "__main__":
    idx_seeds()
    params_seeds()
    dataset_seeds()
    events_seeds()
    nettalk_seeds()
