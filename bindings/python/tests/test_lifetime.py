"""Handles at the end of their life: closing, garbage collection, interpreter
exit (with objects still alive, in cycles, used from atexit handlers, or in
the middle of a call on a daemon thread) and Ctrl-C during training. The
exit scenarios run in child processes, which must exit cleanly: status 0 and
nothing on stderr (no crash, no "Exception ignored" noise)."""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import unittest
import weakref

import sbp

from support import xor_like

BINDING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(sbp.__file__)))

PRELUDE = textwrap.dedent("""\
    import os, sys, threading, time
    import sbp

    def data(n=40, d=4, k=2):
        rows = [[((i * 7 + j * 3) % 10) / 10.0 for j in range(d)] for i in range(n)]
        return sbp.Dataset.from_arrays(rows, [i % k for i in range(n)], k)

    def net(engine="ann", sizes=(4, 8, 2), seed=1):
        n = sbp.Network(engine, seed=seed, batch_size=10)
        for s in sizes:
            n.add_layer(s)
        return n
    """)


def run_script(body, before="", timeout=60):
    env = dict(os.environ, PYTHONPATH=BINDING_DIR, PYTHONFAULTHANDLER="1")
    code = textwrap.dedent(before) + PRELUDE + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=timeout)


class TestExit(unittest.TestCase):
    def assertClean(self, r, stdout=None):
        self.assertEqual(r.returncode, 0, "exit status %d; stderr:\n%s" % (r.returncode,
                                                                          r.stderr))
        self.assertEqual(r.stderr, "")
        if stdout is not None:
            self.assertEqual(r.stdout.split(), stdout.split())

    def test_objects_alive_at_exit(self):
        r = run_script("""
            ds = data()
            n = net()
            n.train_epoch(ds)
            n.set_progress(lambda done, total: None)
            layer, rule = sbp.Layer(3), sbp.Rule("stdp")
            cycle = net("relax")
            cycle.me = cycle                  # a reference cycle
            ds.owner = n; n.data = ds         # another
            closed = net(); closed.close()
            parts = ds.split(10, 1)
            blob = n.to_bytes()
            copy = sbp.Network.from_bytes(blob)
            print("done")
            """)
        self.assertClean(r, "done")

    def test_exit_from_a_function_with_gc_disabled(self):
        r = run_script("""
            import gc
            gc.disable()
            def main():
                ds, n = data(), net("rbm")
                n.train_epoch(ds)
                sys.exit(0)
            main()
            """)
        self.assertClean(r)

    def test_atexit_handlers(self):
        # registered before sbp is imported: runs after the binding's
        # finalizers, so the object is closed by then (an sbp.Error, not a
        # crash); registered after: runs first, the object still works.
        r = run_script(before="""
            import atexit
            early = {}
            def use_early():
                try:
                    early["net"].get_weights(1)
                except Exception as e:
                    print("early:", e.code.name, e.message.replace(" ", "_"))
                print("early closed:", early["net"].closed)
                early["net"].close()
            atexit.register(use_early)
            """, body="""
            early["net"] = net()
            ds = data()
            def use_late():
                print("late:", 0.0 <= early["net"].train_epoch(ds) <= 1.0)
            atexit.register(use_late)
            """)
        self.assertClean(r, "late: True early: E_STATE Network_is_closed early closed: True")

    def test_daemon_thread_inside_a_call(self):
        # The main thread exits while a daemon thread is inside train_epoch:
        # the binding must not free the network or the dataset under it.
        r = run_script("""
            rows = [[((i * 13 + j) % 97) / 97.0 for j in range(784)] for i in range(3000)]
            ds = sbp.Dataset.from_arrays(rows, [i % 10 for i in range(3000)], 10)
            n = net("relax", sizes=(784, 300, 10))
            started = threading.Event()
            def work():
                started.set()
                while True:
                    n.train_epoch(ds)
            threading.Thread(target=work, daemon=True).start()
            started.wait()
            time.sleep(0.3)
            print("bye")
            """)
        self.assertClean(r, "bye")

    def test_daemon_thread_with_progress_callback(self):
        r = run_script("""
            rows = [[((i * 13 + j) % 97) / 97.0 for j in range(784)] for i in range(3000)]
            ds = sbp.Dataset.from_arrays(rows, [i % 10 for i in range(3000)], 10)
            n = net("relax", sizes=(784, 300, 10))
            seen = threading.Event()
            n.set_progress(lambda done, total: seen.set())
            def work():
                while True:
                    n.train_epoch(ds)
            threading.Thread(target=work, daemon=True).start()
            seen.wait()
            print("bye")
            """)
        self.assertClean(r, "bye")

    @unittest.skipUnless(hasattr(signal, "SIGINT") and os.name == "posix", "POSIX signals")
    def test_ctrl_c_stops_training(self):
        r = run_script("""
            import signal
            rows = [[((i * 13 + j) % 97) / 97.0 for j in range(784)] for i in range(3000)]
            ds = sbp.Dataset.from_arrays(rows, [i % 10 for i in range(3000)], 10)
            n = net("relax", sizes=(784, 300, 10))
            n["net.batch_size"] = 20
            for use_callback in (False, True):
                calls = []
                if use_callback:
                    n.set_progress(lambda done, total: calls.append(done))
                threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
                t0 = time.perf_counter()
                try:
                    n.train_epoch(ds)
                    print("not interrupted")
                except KeyboardInterrupt:
                    print("interrupted", time.perf_counter() - t0 < 5)
                print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)
                print(use_callback == bool(calls))
            n.set_progress(None)
            small = data(20, 784, 10)
            print(0.0 <= n.evaluate(small) <= 1.0)
            """)
        self.assertClean(r, "interrupted True True True interrupted True True True True")


class TestInProcess(unittest.TestCase):
    def test_garbage_collection_frees(self):
        rows, labels = xor_like(20)
        for make in (lambda: sbp.Dataset.from_arrays(rows, labels, 2),
                     lambda: sbp.Network("ann", seed=1), lambda: sbp.Layer(4),
                     lambda: sbp.Rule("stp")):
            obj = make()
            fin = obj._finalizer
            ref = weakref.ref(obj)
            del obj
            gc.collect()
            self.assertIsNone(ref())
            self.assertFalse(fin.alive)

    def test_network_with_callback_is_collected(self):
        net = sbp.Network("ann", seed=1)
        net.set_progress(lambda done, total: None)
        fin = net._finalizer
        del net
        gc.collect()
        self.assertFalse(fin.alive)

    def test_closed_everywhere(self):
        rows, labels = xor_like(20)
        with sbp.Dataset.from_arrays(rows, labels, 2) as ds, sbp.Network("ann") as net:
            for s in (4, 3, 2):
                net.add_layer(s)
            net.train_epoch(ds)
        for obj, name in ((ds, "Dataset"), (net, "Network")):
            self.assertTrue(obj.closed)
            self.assertIn("closed", repr(obj))
        uses = [lambda: net.train(ds), lambda: net.predict([[0.0] * 4]), lambda: net.save("x"),
                lambda: net.to_bytes(), lambda: net.set_progress(None),
                lambda: net.detach_rule(1, "stdp"), lambda: net.attach_rule(1, "stdp"),
                lambda: net.cost_per_epoch(), lambda: net.set_weights(1, [0.0] * 12),
                lambda: ds.subset(0, 1), lambda: ds.target(0), lambda: ds.reset_order()]
        for use in uses:
            with self.assertRaises(sbp.Error) as cm:
                use()
            self.assertIs(cm.exception.code, sbp.Status.E_STATE)
            self.assertTrue(cm.exception.message.endswith("is closed"), cm.exception.message)


if __name__ == "__main__":
    unittest.main()
