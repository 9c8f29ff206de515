"""Sanity checks of the reference relax engine.  Run with Debian's python3:

    /usr/bin/python3 tests/reference/selftest.py

Exits 0 when every check passes; prints one line per check.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relax_ref as R  # noqa: E402

FAILURES = []


def check(name, cond, detail=''):
    print('%s  %s%s' % ('ok  ' if cond else 'FAIL', name, ('  [' + detail + ']') if detail else ''))
    if not cond:
        FAILURES.append(name)


def toy_set():
    """12 samples, 8 inputs in [0,1], 3 classes (noisy prototypes); fixed seed."""
    rs = np.random.RandomState(1)
    proto = rs.rand(3, 8)
    lab = np.arange(12) % 3
    x = np.clip(proto[lab] + 0.1 * rs.randn(12, 8), 0.0, 1.0)
    return x, np.eye(3)[lab], lab


def random_changes(shapes, seed, zero_frac=0.2):
    """Random base changes (output projection first) with some exact zeros."""
    rs = np.random.RandomState(seed)
    out = []
    for shp in shapes:
        d = rs.randn(*shp) * 0.01
        d[rs.rand(*shp) < zero_frac] = 0.0
        out.append(d)
    return out


def test_elementary():
    z = np.array([-800.0, -2.0, 0.0, 1e-3, 3.0, 800.0])
    check('sigma(z) == tanh(z/2)', np.allclose(R.sigma(z), np.tanh(z / 2), atol=1e-15, rtol=1e-12))
    check('N(v): v/sum(v), and v itself when sum is 0',
          np.allclose(R.normalise(np.array([1.0, 3.0])), [0.25, 0.75])
          and np.array_equal(R.normalise(np.zeros(3)), np.zeros(3)))
    # STP, one step from the start values u=0.1, x=1, I_s=0.1 with drive I=0.5 (by hand):
    #   u   = 0.1 - 0.1/10 + 0.45*0.5*(1-0.1)           = 0.09 + 0.2025        = 0.2925
    #   x   = 1 + (1-1)/2 - 0.2925*1*0.5 (new u)          = 1 - 0.14625          = 0.85375
    #   I_s = 0.1 - 0.1/2 + 0.2925*0.85375*0.5 (new u, x) = 0.05 + 0.1248609375  = 0.1748609375
    u, x, Is = R.stp_step(0.1, 1.0, 0.1, 0.5)
    check('STP step by hand (x uses new u, I_s new u and x)',
          abs(u - 0.2925) < 1e-15 and abs(x - 0.85375) < 1e-15 and abs(Is - 0.1748609375) < 1e-15,
          'u=%r x=%r I_s=%r' % (u, x, Is))


def test_lif_by_hand():
    # 1-1-1 net, all weights 0 and biases 0, one LIF step with kappa = 0.1*1/10 = 0.01.
    # Layer drive I = sigma(0) = 0.
    #   g = 0 + (0.1/2)(-0 + 5 + 0)                    = 0.25
    #   V = 0 + (0.1/10)(-(0-0) - (0.25/5)(0-0.2))     = 0.01*0.01 = 1e-4   (< V_th: no reset)
    #   u = 0.01*1e-4 + 0.99*h
    # With h = 0: u = 1e-6.  With h = 0.5: u = 0.495001.
    net = R.RelaxRef([1, 1, 1], [np.zeros((1, 1)), np.zeros((1, 1))], batch_size=1)
    st = net.initial_state()
    s = net.lif_phase(np.array([[1.0]]), st, n_steps=1)
    ok = (abs(st['g'][1][0, 0] - 0.25) < 1e-15 and abs(st['V'][1][0, 0] - 1e-6) < 1e-18
          and abs(s[1][0, 0] - R.sigma(1e-6)) < 1e-18 and abs(st['V'][2][0, 0] - 1e-6) < 1e-18)
    check('LIF one step by hand (h = 0)', ok, 'g=%r V=%r' % (st['g'][1][0, 0], st['V'][1][0, 0]))
    st = net.initial_state()
    st['h'][1][:] = 0.5
    net.lif_phase(np.array([[1.0]]), st, n_steps=1)
    check('LIF one step by hand (h = 0.5: u = 0.495001)', abs(st['V'][1][0, 0] - 0.495001) < 1e-15)
    # Reset: start V = 0.1 (g = 0): g -> 0.25; V = 0.1 + 0.01(-0.1 - 0.05(0.1-0.2)) = 0.09905
    # > V_th 0.05 -> V_reset -0.5; u = 0.01*(-0.5) + 0.99*0 = -0.005.
    st = net.initial_state()
    st['V'][1][:] = 0.1
    net.lif_phase(np.array([[1.0]]), st, n_steps=1)
    check('LIF threshold + reset by hand (u = -0.005)', abs(st['V'][1][0, 0] + 0.005) < 1e-15)


def test_operator():
    shapes = [(6, 3), (8, 6)]            # output projection first
    base = random_changes(shapes, seed=5)
    final, fac = R.sbp_operator(base, return_factors=True)

    ok_sign = all(np.array_equal(np.sign(f), np.sign(b0)) for f, b0 in zip(final, base))
    check('SBP never flips a sign and never creates a change where the base is 0', ok_sign)

    f, lp, lq, lb = 0.2, 1.0, 0.5, 1.0
    bounds = {'pre_ltp': lp, 'pre_ltd': lp, 'post_ltd': lq, 'bp_ltp': lb, 'bp_ltd': lb}
    ok_fac = True
    ok_sum = True
    for fd in fac:
        for key, vec in fd.items():
            lam = bounds[key]
            ok_fac &= bool(np.all(vec >= 1.0) and np.all(vec <= 1.0 + lam * f + 1e-15))
            # the shares sum to 1 (every vector here has a nonzero total)
            ok_sum &= abs(np.sum(vec - 1.0) - lam * f) < 1e-12
    check('every factor lies in [1, 1 + lambda*f]', ok_fac)
    check('factor excesses sum to lambda*f (shares sum to 1)', ok_sum)

    # Hence every combined change satisfies 1 <= final/base <= 1 + max(lambda)*f.
    ok_ratio = True
    for fm, b0 in zip(final, base):
        nz = b0 != 0
        ratio = fm[nz] / b0[nz]
        ok_ratio &= bool(np.all(ratio >= 1.0 - 1e-15) and np.all(ratio <= 1.0 + f * max(lp, lq, lb) + 1e-15))
    check('final/base ratio within [1, 1 + max(lambda)*f]', ok_ratio)

    # Backward factor of the hidden projection is read from the OUTPUT projection's
    # pre-lateral scaled LTP/LTD: recompute it by hand here.
    P_out = np.maximum(base[0], 0)
    D_out = np.minimum(base[0], 0)
    a_out = 1 + lp * f * P_out.sum(1) / P_out.sum(1).sum()
    c_out = 1 + lp * f * np.abs(D_out.sum(1)) / np.abs(D_out.sum(1)).sum()
    v = (a_out[:, None] * P_out).sum(1)
    w = (c_out[:, None] * D_out).sum(1)
    check('backward factors from the next layer\'s pre-scaled LTP/LTD',
          np.allclose(fac[1]['bp_ltp'], 1 + lb * f * v / v.sum(), rtol=1e-14)
          and np.allclose(fac[1]['bp_ltd'], 1 + lb * f * w / w.sum(), rtol=1e-14))

    # Output combination P_pre + (D_pre + D_post)/2, by elementwise reconstruction.
    d_out = 1 + lq * f * np.abs(D_out.sum(0)) / np.abs(D_out.sum(0)).sum()
    expect = a_out[:, None] * P_out + (c_out[:, None] * D_out + D_out * d_out[None, :]) / 2
    check('output combination P_pre + (D_pre + D_post)/2', np.allclose(final[0], expect, rtol=1e-14))

    # propagation_range cancels in N(): same result up to rounding for any r > 0.
    alt = R.sbp_operator(base, propagation_range=0.73)
    check('propagation_range has no effect (operator)',
          all(np.allclose(x1, x2, rtol=1e-13, atol=0) for x1, x2 in zip(final, alt)))

    # fraction 0 (or all lambdas 0): every factor is 1 and the operator returns the base
    # change (exactly for the output; hidden up to the rounding of (D+D+D)/3).
    same = R.sbp_operator(base, fraction=0.0)
    check('fraction 0 returns the base change',
          np.array_equal(same[0], base[0]) and np.allclose(same[1], base[1], rtol=1e-15, atol=0))

    # all-LTP base (no LTD at all): N of a zero vector is the zero vector, no NaN.
    pos = [np.abs(b0) for b0 in base]
    fpos = R.sbp_operator(pos)
    check('all-LTP base gives finite results with LTD factors 1',
          all(np.all(np.isfinite(m)) for m in fpos))

    # three projections (4-layer net): the middle one reads the output one, the first
    # reads the middle one's pre-scaled changes.
    b3 = random_changes([(5, 3), (6, 5), (8, 6)], seed=9)
    f3, fac3 = R.sbp_operator(b3, return_factors=True)
    P_mid = np.maximum(b3[1], 0)
    a_mid = 1 + lp * f * P_mid.sum(1) / P_mid.sum(1).sum()
    vv = (a_mid[:, None] * P_mid).sum(1)
    check('deeper nets: first projection reads the middle projection',
          np.allclose(fac3[2]['bp_ltp'], 1 + lb * f * vv / vv.sum(), rtol=1e-14)
          and all(np.array_equal(np.sign(m), np.sign(b0)) for m, b0 in zip(f3, b3)))


def make(rule='sbp', **kw):
    W, b = R.glorot_init([8, 6, 3], seed=0)
    return R.RelaxRef([8, 6, 3], W, b, batch_size=12, base_rule=rule, **kw)


def test_training():
    x, y, lab = toy_set()

    # propagation_range has no effect on training (up to rounding).
    n1, n2 = make(propagation_range=0.1), make(propagation_range=0.9)
    for _ in range(5):
        n1.train_batch(x, y)
        n2.train_batch(x, y)
    check('propagation_range has no effect (5 training batches)',
          all(np.allclose(a, c, rtol=1e-11, atol=1e-14) for a, c in zip(n1.W, n2.W)))

    # SBP off equals the bare base rule: the weight change is alpha * base change exactly.
    for rule in R.BASE_RULES:
        net = make(rule, sbp_on=False)
        W_before = [w.copy() for w in net.W]
        net.train_batch(x, y)
        s0, sb = net.last['s0'], net.last['sb']
        ok = True
        for l in range(2):
            pre0, post0, preb, postb = s0[l], s0[l + 1], sb[l], sb[l + 1]
            B, beta = 12, 0.5
            if rule == 'symmetric':
                d = (preb.T @ postb - pre0.T @ post0) / (beta * B)
            elif rule == 'differential':
                d = (preb.T @ post0 - pre0.T @ post0) / (beta * B)
            else:
                d = pre0.T @ (postb - post0) / (beta * B)
            ok &= np.allclose(net.W[l] - W_before[l], net.alphas[l] * d, rtol=1e-9, atol=1e-15)
        check('SBP off equals the bare %s rule' % rule, ok)

    # sbp_on default follows the authors' code: on only for the 'sbp' rule.
    check('sbp_on default: sbp->on, symmetric/differential->off',
          make('sbp').sbp_on and not make('symmetric').sbp_on and not make('differential').sbp_on)

    # With the operator on, every applied change keeps the base change's sign.
    net = make('sbp')
    net.train_batch(x, y)
    check('training with SBP: final changes keep the base signs',
          all(np.array_equal(np.sign(net.last['final'][l]), np.sign(net.last['base'][l]))
              for l in range(2)))

    # The hidden states of the free phase are in (-1,1) (sigma) and the output is >= 0 (ReLU);
    # h was saved from s0.
    s0 = net.last['s0']
    check('free phase: hidden in (-1,1), output >= 0, h == s0',
          np.all(np.abs(s0[1]) < 1) and np.all(s0[2] >= 0)
          and all(np.array_equal(net.state['h'][l], s0[l]) for l in (1, 2)))

    # predict/outputs do not disturb the training state.
    a, c = make(), make()
    a.train_batch(x, y)
    c.train_batch(x, y)
    snap = {k: [None if v is None else v.copy() for v in vs] for k, vs in a.state.items()}
    a.predict(x)
    a.outputs(x[::-1].copy())
    same_state = all(np.array_equal(snap[k][l], a.state[k][l])
                     for k in snap for l in range(1, 3))
    a.train_batch(x, y)
    c.train_batch(x, y)
    check('predict/outputs leave the training state untouched', same_state
          and all(np.array_equal(p, q) for p, q in zip(a.W, c.W)))
    check('outputs() is repeatable', np.array_equal(a.outputs(x), a.outputs(x)))

    # Training reduces the cost on the toy set (defaults: alphas 0.1/0.05, 'sbp' + operator;
    # and the published baseline 'symmetric').  Cost measured with outputs() (free phase).
    for rule in ('sbp', 'symmetric'):
        net = make(rule)
        c0 = R.mse_cost(net.outputs(x), y)
        for _ in range(30):
            net.train_batch(x, y)
        c1 = R.mse_cost(net.outputs(x), y)
        check('30 batches of %s reduce the toy cost' % rule, c1 < 0.9 * c0, '%.4f -> %.4f' % (c0, c1))
    net = make('sbp', alphas=[0.4, 0.2])
    for _ in range(150):
        net.train_batch(x, y)
    acc = float(np.mean(net.predict(x) == lab))
    c1 = R.mse_cost(net.outputs(x), y)
    check('150 batches (alphas 0.4/0.2): toy set learnt', acc == 1.0 and c1 < 0.05,
          'accuracy %.2f, cost %.4f' % (acc, c1))

    # STP, stp_mode 'code' (default; the released snn_lif.m never writes u, x, I back):
    # memoryless, the drive is I_s = 0.05 + u' x' I with u' = 0.09 + 0.405 I, x' = 1 - u' I.
    # Hand values: I = 1 -> u' = 0.495, x' = 0.505, I_s = 0.05 + 0.249975 = 0.299975;
    #              I = -1 -> u' = -0.315, x' = 0.685, I_s = 0.05 + 0.215775 = 0.265775.
    ok = True
    for I, want in ((1.0, 0.299975), (-1.0, 0.265775), (0.0, 0.05)):
        ok &= abs(R.stp_step(0.1, 1.0, 0.1, I)[2] - want) < 1e-15
    check('STP code mode: memoryless drive by hand (0.299975, 0.265775, 0.05)', ok)
    net, ref = make(stp=True), make()
    o1 = net.train_batch(x, y)
    o2 = ref.train_batch(x, y)
    for _ in range(4):
        o1 = net.train_batch(x, y)
    check('STP code mode: trains, finite, differs from STP off, state stays at start values',
          np.all(np.isfinite(o1)) and not np.allclose(net.last['s0'][2], ref.last['s0'][2])
          and np.all(net.state['u'][1] == 0.1) and np.all(net.state['x'][1] == 1.0)
          and np.all(net.state['I_s'][1] == 0.1))
    # stp_mode 'persistent' (the literal docs reading): u's per-step multiplier is
    # 0.9 - 0.45 I, > 1 for I < -2/9, so a constant drive I = -0.9 makes it blow up within
    # 100 steps, while I = +0.9 converges (u -> 0.80198, by iterating by hand).
    u, xx, Is = 0.1, 1.0, 0.1
    for _ in range(100):
        u, xx, Is = R.stp_step(u, xx, Is, 0.9)
    with np.errstate(all='ignore'):
        un, xn, In = np.float64(0.1), np.float64(1.0), np.float64(0.1)
        for _ in range(100):
            un, xn, In = R.stp_step(un, xn, In, np.float64(-0.9))
    check('STP persistent mode: stable for I = 0.9, diverges for I = -0.9 (documented flaw)',
          abs(u - 0.8019802) < 1e-6 and not (np.isfinite(un) and abs(un) < 1e6))
    # and it does carry state when the drive is non-negative (input-only toy, W >= 0)
    Wp = [np.abs(w) for w in R.glorot_init([8, 6, 3], seed=0)[0]]
    pnet = R.RelaxRef([8, 6, 3], Wp, batch_size=12, stp=True, stp_mode='persistent')
    pnet.train_batch(x, y)
    check('STP persistent mode: state is carried (u moved off 0.1) with positive drive',
          np.all(np.isfinite(pnet.state['V'][1])) and not np.allclose(pnet.state['u'][1], 0.1))

    # 4-layer net (two hidden layers) trains without NaN and uses published alphas.
    W, b = R.glorot_init([8, 7, 6, 3], seed=2)
    deep = R.RelaxRef([8, 7, 6, 3], W, b, batch_size=12)
    c0 = R.mse_cost(deep.outputs(x), y)
    for _ in range(30):
        deep.train_batch(x, y)
    c1 = R.mse_cost(deep.outputs(x), y)
    check('8-7-6-3 net: finite, cost does not blow up, alphas [0.4,0.1,0.01]',
          all(np.all(np.isfinite(w)) for w in deep.W) and c1 < c0
          and deep.alphas == [0.4, 0.1, 0.01], '%.4f -> %.4f' % (c0, c1))

    # wrong batch size is refused
    try:
        make().train_batch(x[:5], y[:5])
        refused = False
    except ValueError:
        refused = True
    check('a batch of another size is refused', refused)


def test_cost():
    # Hand-computed example.
    #   A = [0.9, 0.6, 0.4, 0.3, 0.25, 0.2]   (without SBP)
    #   B = [0.8, 0.5, 0.3, 0.2, 0.15, 0.1]   (with SBP)
    #   lo = max(min A, min B) = max(0.2, 0.1) = 0.2;  hi = min(max A, max B) = min(0.9, 0.8) = 0.8
    #   thresholds 0.2, 0.35, 0.5, 0.65, 0.8
    #   A first epoch <= t: 0.2->6 (0.2), 0.35->4 (0.3), 0.5->3 (0.4), 0.65->2 (0.6), 0.8->2 (0.6)
    #     mean (6+4+3+2+2)/5 = 17/5 = 3.4
    #   B: 0.2->4 (0.2), 0.35->3 (0.3), 0.5->2 (0.5), 0.65->2 (0.5), 0.8->1 (0.8)
    #     mean (4+3+2+2+1)/5 = 12/5 = 2.4
    A = [0.9, 0.6, 0.4, 0.3, 0.25, 0.2]
    B = [0.8, 0.5, 0.3, 0.2, 0.15, 0.1]
    ea, eb = R.mean_epochs(A, B)
    check('mean_epochs hand example: 3.4 and 2.4', abs(ea - 3.4) < 1e-12 and abs(eb - 2.4) < 1e-12,
          '%r %r' % (ea, eb))
    # With cap 0.5: hi = min(0.8, 0.5) = 0.5; thresholds 0.2, 0.275, 0.35, 0.425, 0.5
    #   A: 0.2->6, 0.275->5 (0.25), 0.35->4 (0.3), 0.425->3 (0.4), 0.5->3 (0.4): 21/5 = 4.2
    #   B: 0.2->4, 0.275->4 (0.2), 0.35->3 (0.3), 0.425->3 (0.3), 0.5->2 (0.5): 16/5 = 3.2
    ea, eb = R.mean_epochs(A, B, cap=0.5)
    check('mean_epochs hand example with cap 0.5: 4.2 and 3.2',
          abs(ea - 4.2) < 1e-12 and abs(eb - 3.2) < 1e-12, '%r %r' % (ea, eb))
    # Budget (shared thresholds, paper-notes 6.1): thresholds [0.3, 0.1], curve [0.5, 0.2]:
    #   0.3 -> epoch 2; 0.1 never -> budget 100; mean 51.
    check('epochs_to_reach with a never-reached threshold counts the budget',
          R.epochs_to_reach([0.5, 0.2], [0.3, 0.1], budget=100) == 51.0)
    # End points are exact: a curve touching hi exactly counts at that epoch.
    check('thresholds hit the end points exactly',
          R.linspace5(0.1, 0.7)[0] == 0.1 and R.linspace5(0.1, 0.7)[4] == 0.7)
    # Per-epoch complexity (paper-notes 6.1 table): MNIST 784-500-10.
    check('cost_per_epoch snn 784-500-10 = 397500', R.cost_per_epoch('snn', 784, 500, 10) == 397500)
    check('cost_per_epoch rbm 784-500-10 = 794000', R.cost_per_epoch('rbm', 784, 500, 10) == 794000)
    check('cost_per_epoch bbt 784-500-10 = 398284', R.cost_per_epoch('bbt', 784, 500, 10) == 398284)
    check('cost_per_epoch snn NETtalk 189-500-26 = 108000',
          R.cost_per_epoch('snn', 189, 500, 26) == 108000)
    # Published: MNIST SNN mean epochs 48.2 -> 22.1 give 1.916e7 -> 0.879e7 (paper-notes 6.2).
    c = R.cost_per_epoch('snn', 784, 500, 10)
    # (0.879 is the mean of per-seed costs; 22.1 x 397500 = 0.8785e7, so compare to 0.001e7)
    check('48.2 and 22.1 epochs x 397500 ~ 1.916e7 and 0.879e7',
          abs(48.2 * c / 1e7 - 1.916) < 1e-3 and abs(22.1 * c / 1e7 - 0.879) < 1e-3)


def main():
    test_elementary()
    test_lif_by_hand()
    test_operator()
    test_training()
    test_cost()
    if FAILURES:
        print('%d check(s) FAILED' % len(FAILURES))
        return 1
    print('all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
