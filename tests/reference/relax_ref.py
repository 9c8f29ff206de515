"""Naive float64 reference of libsbp's "relax" engine (the authors' released SNN).

Independent of the C code: written only from /work/shared/docs/model.md (sections 2b, 4, 7)
and /work/shared/docs/paper-notes.md (sections 2.1-2.8, 6.1).  Nothing here is optimised;
every formula is written the way the docs state it, so it can be checked by reading.
All arithmetic is numpy float64.

Indexing used throughout (0-based, same shape as the docs' 1-based formulas):
  layer 0 is the input, layers 1..L-1 are hidden, layer L-1 is the output;
  W[l] (N_l x N_{l+1}) connects layer l to layer l+1, so layer l's input weights are W[l-1]
  and its output weights are W[l]; b[l] is layer l's bias (b[0] is None);
  alphas[l-1] is the learning rate of W[l-1] and of b[l] (docs: "b_l += alpha_{l-1} ...").
With this convention the docs' formulas read identically, e.g. the hidden relaxation
  s_l <- sigma(s_l - eps (s_l - s_{l-1} W_{l-1} - s_{l+1} W_l^T - b_l)).

Reading decisions for places the docs leave open are marked "DECISION" below.
"""

import copy

import numpy as np

# Learning rates per projection used by the authors (paper-notes 1.1, 2.1:
# main_snn_server_multilayers.m lists [0.1 0.05] for 2 projections, [0.4 0.1 0.01] for 3,
# [0.4 0.1 0.1 0.01] for 4).  No list exists for 5 projections (6 layers): give alphas.
DEFAULT_ALPHAS = {
    2: [0.1, 0.05],
    3: [0.4, 0.1, 0.01],
    4: [0.4, 0.1, 0.1, 0.01],
}

BASE_RULES = ('symmetric', 'differential', 'sbp')


# ---------------------------------------------------------------------------------------
# Elementary functions
# ---------------------------------------------------------------------------------------

def sigma(z):
    """model.md 4 / paper-notes 2: sigma(z) = 2/(1+exp(-z)) - 1 (= tanh(z/2)).

    Written literally; exp(-z) may overflow to inf for z << 0, giving 2/inf - 1 = -1,
    which is the correct limit, so the overflow warning is silenced.
    """
    with np.errstate(over='ignore'):
        return 2.0 / (1.0 + np.exp(-z)) - 1.0


def relu(z):
    """ReLU(z) = max(z, 0) (model.md 4; the authors' snn_sigmoid mode 5)."""
    return np.maximum(z, 0.0)


def normalise(v):
    """model.md 2b / paper-notes 2.6: N(v) = v / sum(v), or v itself when sum(v) == 0."""
    total = np.sum(v)
    if total == 0.0:
        return v
    return v / total


def nan_to_zero(m):
    """Replace NaN entries by 0 (the code's W(isnan(W)) = 0), leaving everything else."""
    return np.where(np.isnan(m), 0.0, m)


def stp_step(u, x, I_s, I, U=0.45, tau_f=10.0, tau_d=2.0, tau_s=2.0):
    """One Euler step (step = 1 time unit, dt NOT used) of the per-neuron STP.

    model.md 4 (last paragraph) and paper-notes 2.7:
        u   <- u   - u/tau_f + U * I * (1 - u)
        x   <- x   + (1 - x)/tau_d - u * x * I
        I_s <- I_s - I_s/tau_s + u * x * I      (A = 1, hard-coded in the authors' code)
    DECISION (order): the three assignments are applied one after the other, each using
    the values already updated above it: x uses the NEW u, and I_s uses the NEW u and NEW x.
    Support: paper-notes 2.7 and model.md write them as a sequence of assignments "<-", and
    the authors' code does exactly this, both in snn_lif.m
        u = u + (-u/tauf + U*inputs.*(1-u)); x = x + ((1-x)/taud - u.*x.*inputs);
        I = I + (-I/taus + A*u.*x.*inputs);
    and in demos/demo_stp.m, i.e. x is computed with the u of the same step.
    (Whether the result is carried to the next step: see RelaxRef, stp_mode.)
    Returns the new (u, x, I_s); I_s then replaces I in the conductance update.
    """
    u = u - u / tau_f + U * I * (1.0 - u)
    x = x + (1.0 - x) / tau_d - u * x * I
    I_s = I_s - I_s / tau_s + u * x * I
    return u, x, I_s


# ---------------------------------------------------------------------------------------
# The multiplicative SBP operator (model.md 2b, paper-notes 2.6)
# ---------------------------------------------------------------------------------------

def sbp_operator(dW_list, fraction=0.2, lambda_pre=1.0, lambda_post=0.5, lambda_bp=1.0,
                 propagation_range=0.1, return_factors=False):
    """Apply the multiplicative SBP operator to a list of base changes, OUTPUT FIRST.

    dW_list[0] is the base change of the output projection W[L-2] (N_{L-2} x N_{L-1}),
    dW_list[1] that of W[L-3], ..., dW_list[-1] that of W[0].  Returns the final changes in
    the same order (and, with return_factors, a list of dicts with the factor vectors).

    For each projection, with P = max(dW, 0) (LTP) and D = min(dW, 0) (LTD):
      pre-lateral  (rows, i.e. all synapses leaving presynaptic neuron i):
          a = 1 + lambda_pre  * f * N(r * rowsum P)          P_pre  = diag(a) P
          c = 1 + lambda_pre  * f * N(r * |rowsum D|)        D_pre  = diag(c) D
      post-lateral (columns, LTD only; all synapses converging on postsynaptic neuron j):
          d = 1 + lambda_post * f * N(r * |colsum D|)        D_post = D diag(d)
      backward (hidden projections only, i.e. every entry but the first of the list):
          e  = 1 + lambda_bp * f * N(r * rowsum P_pre_next)  P_bp = P diag(e)
          e' = 1 + lambda_bp * f * N(r * rowsum D_pre_next)  D_bp = D diag(e')
        where P_pre_next / D_pre_next are the PRE-LATERAL-SCALED LTP / LTD of the NEXT
        projection (the one processed in the previous loop iteration: the neuron's output
        synapses).  rowsum D_pre_next has no abs (as in the code); N() of an all-negative
        vector is still non-negative.
      combine: output   dW = P_pre + (D_pre + D_post)/2
               hidden   dW = (P_pre + P_bp)/2 + (D_pre + D_post + D_bp)/3
      NaN -> 0 (model.md 2b "Replace NaN by 0"; applied to every component of every layer).
    f = fraction.  r = propagation_range is multiplied in literally, as in the authors' code
    (sbpnonlinear(propagation_range * ...)); since N(r v) = N(v) it has no effect beyond
    rounding (model.md 2b, paper-notes 2.6) -- selftest.py checks that numerically.
    """
    f = fraction
    r = propagation_range
    out = []
    factors = []
    P_pre_next = None   # pre-lateral-scaled LTP of the previously processed (next) projection
    D_pre_next = None
    for idx, dW in enumerate(dW_list):
        dW = np.asarray(dW, dtype=np.float64)
        P = np.where(dW > 0.0, dW, 0.0)
        D = np.where(dW < 0.0, dW, 0.0)

        a = 1.0 + lambda_pre * f * normalise(r * np.sum(P, axis=1))
        c = 1.0 + lambda_pre * f * normalise(r * np.abs(np.sum(D, axis=1)))
        d = 1.0 + lambda_post * f * normalise(r * np.abs(np.sum(D, axis=0)))
        P_pre = a[:, None] * P
        D_pre = c[:, None] * D
        D_post = D * d[None, :]

        fac = {'pre_ltp': a, 'pre_ltd': c, 'post_ltd': d}
        if idx == 0:
            new = nan_to_zero(P_pre) + (nan_to_zero(D_pre) + nan_to_zero(D_post)) / 2.0
        else:
            e = 1.0 + lambda_bp * f * normalise(r * np.sum(P_pre_next, axis=1))
            e2 = 1.0 + lambda_bp * f * normalise(r * np.sum(D_pre_next, axis=1))
            P_bp = P * e[None, :]
            D_bp = D * e2[None, :]
            fac['bp_ltp'] = e
            fac['bp_ltd'] = e2
            new = ((nan_to_zero(P_pre) + nan_to_zero(P_bp)) / 2.0
                   + (nan_to_zero(D_pre) + nan_to_zero(D_post) + nan_to_zero(D_bp)) / 3.0)
        # What the next (upstream) projection's backward factor reads: the pre-lateral
        # scaled matrices, stored before NaN removal as in the code (W_post_layer_LTP{m}).
        P_pre_next = P_pre
        D_pre_next = D_pre
        out.append(new)
        factors.append(fac)
    if return_factors:
        return out, factors
    return out


# ---------------------------------------------------------------------------------------
# Computational cost (model.md 7, paper-notes 6.1)
# ---------------------------------------------------------------------------------------

def linspace5(lo, hi):
    """Five thresholds evenly spaced from lo to hi, computed like numpy.linspace(lo, hi, 5)
    (the figure notebooks are numpy): t_i = i * ((hi - lo) / 4) + lo, and the last one is
    set to hi exactly, so both end points are exact (a curve whose value equals lo or hi
    is counted as reaching it)."""
    step = (hi - lo) / 4.0
    t = [i * step + lo for i in range(5)]
    t[0] = lo
    t[4] = hi
    return t


def first_epoch_reaching(curve, threshold, budget):
    """First epoch (1-based) whose error is <= threshold; the budget if never."""
    for i, err in enumerate(curve):
        if err <= threshold:
            return i + 1
    return budget


def epochs_to_reach(curve, thresholds, budget=None):
    """Mean over the thresholds of first_epoch_reaching (shared-threshold form, paper-notes
    6.1 "multi-method comparison": a threshold never reached counts as the budget)."""
    if budget is None:
        budget = len(curve)
    return float(np.mean([first_epoch_reaching(curve, t, budget) for t in thresholds]))


def mean_epochs(a, b, cap=None, budget=None):
    """model.md 7: mean epochs of test-error curves a (without SBP) and b (with SBP).

    lo = max(min a, min b); hi = min(max a, max b), then hi = min(hi, cap) if a cap is given;
    five thresholds linspace(lo, hi, 5); for each, the first 1-based epoch whose error is
    <= the threshold (never reached: budget, default the curve's length); mean over the five.
    Returns (mean_epochs_a, mean_epochs_b).
    """
    a = [float(v) for v in a]
    b = [float(v) for v in b]
    lo = max(min(a), min(b))
    hi = min(max(a), max(b))
    if cap is not None:
        hi = min(hi, float(cap))
    th = linspace5(lo, hi)
    return (epochs_to_reach(a, th, len(a) if budget is None else budget),
            epochs_to_reach(b, th, len(b) if budget is None else budget))


def cost_per_epoch(model, m, n, k):
    """model.md 7 / paper-notes 6.1 per-epoch complexity (m inputs, n hidden, k outputs).

    'snn' (SNN with or without SBP, Fig. 2 bars): mn + nk + n
    'bbt' (SNN w/o SBP in the comparison figure): mn + nk + n + m
    'rbm', 'ann', 'bp' (RBM and BP-trained nets):  mn + nk + kn + nm
    """
    if model == 'snn':
        return m * n + n * k + n
    if model == 'bbt':
        return m * n + n * k + n + m
    if model in ('rbm', 'ann', 'bp'):
        return m * n + n * k + k * n + n * m
    raise ValueError('unknown model %r' % (model,))


# ---------------------------------------------------------------------------------------
# The relaxation engine
# ---------------------------------------------------------------------------------------

def glorot_init(sizes, seed=0):
    """W_l ~ U(-1,1) * sqrt(6/(N_l + N_{l+1})), biases 0 (model.md 4, paper-notes 2.1).
    Drawn with numpy's legacy RandomState(seed), projections in order, each as
    rand(N_l, N_{l+1}) * 2 - 1 (row-major).  Only a convenience: the C engine's generator
    differs, so fidelity tests pass the weights explicitly."""
    rs = np.random.RandomState(seed)
    W = []
    for l in range(len(sizes) - 1):
        w = (rs.rand(sizes[l], sizes[l + 1]) * 2.0 - 1.0) * np.sqrt(6.0 / (sizes[l] + sizes[l + 1]))
        W.append(w)
    b = [np.zeros(sizes[l]) for l in range(1, len(sizes))]
    return W, b


class RelaxRef:
    """Reference relaxation engine (model.md 4; paper-notes 2.2-2.8).

    Persistent state (per non-input layer l = 1..L-1), each of shape (batch_size, N_l):
      V, g     membrane potential and conductance of the LIF integrator,
      h        the "homeostatic" particles saved by the last free relaxation,
      u, x, I_s  per-neuron STP state (used only with stp=True).
    V, g, h start at 0; u, x, I_s start at 0.1, 1, 0.1 (model.md 4).
    WHY batch-shaped: in the authors' MATLAB code these are arrays of the size of one
    mini-batch (B x N_l), initialised once before training and never reset (paper-notes 2.2:
    "V and g are initialised to 0 once before training and are never reset between
    mini-batches or samples"; h "persists across mini-batches").  So row i of the state
    left by batch k is the starting state of sample i of batch k+1: a per-batch-slot memory,
    not a per-sample one.  The batch size is therefore fixed at construction and every
    train/predict call must use exactly that many samples.
    DECISION (STP state), two modes, stp_mode:
      'persistent' -- the reading of model.md 4 / paper-notes 2.7: u, x, I_s are integrated
          from step to step and carried across batches like V/g/h.  WARNING: as written this
          recursion is unstable for negative drive: u's multiplier per step is
          1 - 1/tau_f - U*I = 0.9 - 0.45*I, which exceeds 1 when I < -2/9, and I = sigma(.)
          lies in (-1, 1); hidden drives are negative about half the time, so u, x, I_s and
          then V overflow within one batch of 100 steps (selftest.py shows it).
      'code' (default) -- what the authors' released snn_lif.m actually does: it reads
          u = nn.lifu, x = nn.lifx, I = nn.lifI, computes the three updates into locals,
          uses I as the drive, and saves back only nn.lifvolt and nn.lifge, never u, x, I.
          So every LIF step starts again from the initial values u 0.1, x 1, I_s 0.1 and
          STP is a memoryless function of the current drive:
              u' = 0.09 + 0.405 I,  x' = 1 - u' I,  I_s = 0.05 + u' x' I.
          It is bounded (I_s in [0.05, 0.31]) and it is how the published STP runs (Fig. 2
          C/G/K) could work at all.  (Source: SBP_SNN_STDP/snn/snn_lif.m at 1c5ddcb, read
          through the code index; model.md and paper-notes do not mention the missing
          write-back.)  Here the state arrays simply stay at their start values.
    """

    def __init__(self, sizes, weights, biases=None, batch_size=50, *,
                 base_rule='sbp', sbp_on=None, alphas=None,
                 free_iters=20, nudge_iters=5, epsilon=0.5, beta=0.5,
                 dt=0.1, T=10.0, tau_m=10.0, tau_s=2.0, g_leak=5.0, v_leak=0.0,
                 v_e=0.2, v_th=0.05, v_reset=-0.5,
                 fraction=0.2, lambda_pre=1.0, lambda_post=0.5, lambda_bp=1.0,
                 propagation_range=0.1,
                 stp=False, U=0.45, tau_f=10.0, tau_d=2.0, tau_s_stp=2.0,
                 stp_mode='code'):
        sizes = [int(n) for n in sizes]
        if not 3 <= len(sizes) <= 6:
            raise ValueError('3..6 layers required')
        L = len(sizes)
        if len(weights) != L - 1:
            raise ValueError('need one weight matrix per projection')
        self.sizes = sizes
        self.L = L
        self.W = []
        for l, w in enumerate(weights):
            w = np.array(w, dtype=np.float64, copy=True)
            if w.shape != (sizes[l], sizes[l + 1]):
                raise ValueError('W[%d] has shape %s, expected %s'
                                 % (l, w.shape, (sizes[l], sizes[l + 1])))
            self.W.append(w)
        if biases is None:
            biases = [np.zeros(sizes[l]) for l in range(1, L)]
        if len(biases) != L - 1:
            raise ValueError('need one bias vector per non-input layer')
        self.b = [None]
        for l in range(1, L):
            bl = np.array(biases[l - 1], dtype=np.float64, copy=True).reshape(-1)
            if bl.shape != (sizes[l],):
                raise ValueError('bias of layer %d has wrong size' % l)
            self.b.append(bl)

        if base_rule not in BASE_RULES:
            raise ValueError('base_rule must be one of %s' % (BASE_RULES,))
        self.base_rule = base_rule
        # DECISION: sbp_on=None means "as in the authors' code": the operator is applied
        # exactly when the rule is 'sbp' (their stdp_type 'SBP' contains it; 'symmetricSTDP'
        # and 'differentialSTDP' have none, paper-notes 2.5/2.6).  True/False override.
        self.sbp_on = (base_rule == 'sbp') if sbp_on is None else bool(sbp_on)
        if alphas is None:
            if L - 1 not in DEFAULT_ALPHAS:
                raise ValueError('no published learning rates for %d projections; give alphas'
                                 % (L - 1))
            alphas = DEFAULT_ALPHAS[L - 1]
        if len(alphas) != L - 1:
            raise ValueError('need one alpha per projection')
        self.alphas = [float(a) for a in alphas]

        self.batch_size = int(batch_size)
        self.free_iters = int(free_iters)
        self.nudge_iters = int(nudge_iters)
        self.epsilon = float(epsilon)
        self.beta = float(beta)
        self.dt = float(dt)
        self.T = float(T)
        self.n_steps = int(round(self.T / self.dt))   # 100 with the defaults
        self.tau_m = float(tau_m)
        self.tau_s = float(tau_s)
        self.g_leak = float(g_leak)
        self.v_leak = float(v_leak)
        self.v_e = float(v_e)
        self.v_th = float(v_th)
        self.v_reset = float(v_reset)
        self.fraction = float(fraction)
        self.lambda_pre = float(lambda_pre)
        self.lambda_post = float(lambda_post)
        self.lambda_bp = float(lambda_bp)
        self.propagation_range = float(propagation_range)
        self.stp = bool(stp)
        self.U = float(U)
        self.tau_f = float(tau_f)
        self.tau_d = float(tau_d)
        self.tau_s_stp = float(tau_s_stp)
        if stp_mode not in ('code', 'persistent'):
            raise ValueError("stp_mode must be 'code' or 'persistent'")
        self.stp_mode = stp_mode

        self.state = self.initial_state()
        self.last = {}   # intermediate results of the last train_batch, for inspection

    # ---- state ------------------------------------------------------------------------

    def initial_state(self):
        """Fresh state dict: lists indexed by layer (index 0, the input, is None)."""
        B = self.batch_size
        st = {k: [None] for k in ('V', 'g', 'h', 'u', 'x', 'I_s')}
        for l in range(1, self.L):
            n = self.sizes[l]
            st['V'].append(np.zeros((B, n)))
            st['g'].append(np.zeros((B, n)))
            st['h'].append(np.zeros((B, n)))
            st['u'].append(np.full((B, n), 0.1))
            st['x'].append(np.full((B, n), 1.0))
            st['I_s'].append(np.full((B, n), 0.1))
        return st

    def _check_batch(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape != (self.batch_size, self.sizes[0]):
            raise ValueError('x must have shape %s (the batch size is fixed, see class doc)'
                             % ((self.batch_size, self.sizes[0]),))
        return x

    # ---- step 1: LIF integration --------------------------------------------------------

    def lif_phase(self, x, state, n_steps=None):
        """model.md 4 step 1 / paper-notes 2.2.  Mutates state['V','g'] (and STP state);
        reads state['h'].  Returns the list of layer states s (s[0] = x).

        For step = 1..n_steps: t = dt*step, kappa = t/T (0.01 .. 1).  For l = 1..L-1 in
        order (so s[l-1] is the state of the previous layer AS UPDATED IN THIS STEP, and
        s[0] = x is re-clamped every step):
            I = sigma(s[l-1] W[l-1] + b[l])       recomputed at every step (naive)
            [STP: u, x, I_s updated from I; I_s replaces I]
            g <- g + (dt/tau_s)(-g + g_leak + I)
            V <- V + (dt/tau_m)(-(V - V_leak) - (g/g_leak)(V - V_E))   (uses the NEW g)
            V <- V_reset where V > V_th (strict), no refractory period
            u = kappa V + (1 - kappa) h[l];  V <- u;  s[l] = sigma(u)
        DECISION (activation): sigma for EVERY layer here, the output included: paper-notes
        2.2 item 6 says "the new state is s_l = sigma(u)" for each l = 2..n and model.md 4
        step 1 says the same; ReLU is only used for the output in the relaxations (2.3/2.4).
        The states s[l] of the previous batch are never read: at step 1 layer 1 reads x and
        every later layer reads the layer below it, already updated in this step.
        """
        if n_steps is None:
            n_steps = self.n_steps
        V, g, h = state['V'], state['g'], state['h']
        s = [x] + [None] * (self.L - 1)
        for step in range(1, n_steps + 1):
            t = self.dt * step
            kappa = t / self.T
            for l in range(1, self.L):
                I = sigma(s[l - 1] @ self.W[l - 1] + self.b[l])
                if self.stp:
                    nu, nx, nI = stp_step(
                        state['u'][l], state['x'][l], state['I_s'][l], I,
                        U=self.U, tau_f=self.tau_f, tau_d=self.tau_d, tau_s=self.tau_s_stp)
                    if self.stp_mode == 'persistent':
                        state['u'][l], state['x'][l], state['I_s'][l] = nu, nx, nI
                    # 'code': not written back (see class doc), state keeps its start values
                    drive = nI
                else:
                    drive = I
                g[l] = g[l] + (self.dt / self.tau_s) * (-g[l] + self.g_leak + drive)
                V[l] = V[l] + (self.dt / self.tau_m) * (
                    -(V[l] - self.v_leak) - (g[l] / self.g_leak) * (V[l] - self.v_e))
                V[l] = np.where(V[l] > self.v_th, self.v_reset, V[l])
                u = kappa * V[l] + (1.0 - kappa) * h[l]
                V[l] = u
                s[l] = sigma(u)
        return s

    # ---- steps 2 and 3: relaxations -----------------------------------------------------

    def relax(self, s, n_iters, y=None):
        """One relaxation phase, in place on a copy of s; returns the new list.

        paper-notes 2.3 (free, y None) / 2.4 (nudged, y given).  Each iteration:
          hidden l = 1..L-2 IN ORDER:
            s[l] <- sigma(s[l] - eps (s[l] - (s[l-1] W[l-1] + s[l+1] W[l]^T) - b[l]))
          then the output:
            s[n] <- ReLU(s[n] - eps (s[n] - s[n-1] W[n-1] - b[n] [+ beta (s[n] - y)]))
        DECISION (order, Gauss-Seidel): the list is updated in place, so hidden layer l uses
        s[l-1] as ALREADY UPDATED in this iteration (s[0] = x for l = 1) and s[l+1] from the
        PREVIOUS iteration (it is updated later in the loop); the output uses the NEW s[n-1].
        Support: paper-notes 2.3 "Hidden layers (l = 2..n-1, in order)" and "Output layer
        (after the hidden layers, using their new values)"; 2.4 "hidden layers as in 2.3";
        paper-notes 8 item 6 "Hidden layers ascending, then output (Gauss-Seidel)".  The
        authors' snnplasticitysbp.m updates nn.layers_positive_tmp{i} in place in exactly
        this loop, reading layers_positive_tmp{i+1} before it is updated, and the same
        structure is used for both phases here.
        """
        s = [v if v is None else v.copy() for v in s]
        n = self.L - 1
        eps = self.epsilon
        for _ in range(n_iters):
            for l in range(1, n):
                drive = s[l - 1] @ self.W[l - 1] + s[l + 1] @ self.W[l].T
                s[l] = sigma(s[l] - eps * (s[l] - drive - self.b[l]))
            bracket = s[n] - s[n - 1] @ self.W[n - 1] - self.b[n]
            if y is not None:
                bracket = bracket + self.beta * (s[n] - y)
            s[n] = relu(s[n] - eps * bracket)
        return s

    # ---- step 5: base rules -------------------------------------------------------------

    def base_change(self, l, s0, sb):
        """model.md 4 step 5 / paper-notes 2.5: base change of W[l] (layer l -> l+1),
        normalised by 1/(beta B).  pre = layer l, post = layer l+1."""
        B = s0[0].shape[0]
        pre0, post0 = s0[l], s0[l + 1]
        preb, postb = sb[l], sb[l + 1]
        if self.base_rule == 'symmetric':
            return (preb.T @ postb - pre0.T @ post0) / (self.beta * B)
        if self.base_rule == 'differential':
            return (preb.T @ post0 - pre0.T @ post0) / (self.beta * B)
        # 'sbp': pre x delta-post.  Written like the code: (pre0' post_b - pre0' post0)/(beta B)
        return (pre0.T @ postb - pre0.T @ post0) / (self.beta * B)

    def sbp(self, dW_list):
        """The operator with this network's parameters (output first)."""
        return sbp_operator(dW_list, fraction=self.fraction, lambda_pre=self.lambda_pre,
                            lambda_post=self.lambda_post, lambda_bp=self.lambda_bp,
                            propagation_range=self.propagation_range)

    # ---- public API ---------------------------------------------------------------------

    def train_batch(self, x, y):
        """Steps 1-5 of model.md 4 on one mini-batch.  Returns the free-phase output s0_n.

        1. LIF, 100 steps (lif_phase) -> s; DECISION: these end-of-LIF states are the
           starting point of the free relaxation (paper-notes 2.3 "Starting from the
           feed-forward end state").
        2. free relaxation, free_iters (20) -> s0; save h <- s0 for every non-input layer.
        3. nudged relaxation, nudge_iters (5), starting from s0 (paper-notes 2.4 "Start from
           the free-phase states (copy s0 <- s)") -> sb.  The input stays clamped to x.
        4. biases: b[l] += alphas[l-1] * mean over the batch of (sb[l] - s0[l]) / beta.
        5. weights: base change for every projection; output projection first; SBP operator
           (if sbp_on) over the list; W[l] += alphas[l] * dW[l].  The weight changes depend
           only on the states, never on W, so computing all of them before applying any is
           the same as the code's interleaved loop.  Biases are updated before weights (as
           in the code) but neither affects the other within a batch.
        """
        x = self._check_batch(x)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.batch_size, self.sizes[-1]):
            raise ValueError('y must have shape %s' % ((self.batch_size, self.sizes[-1]),))

        s_lif = self.lif_phase(x, self.state)
        s0 = self.relax(s_lif, self.free_iters)
        for l in range(1, self.L):
            self.state['h'][l] = s0[l].copy()
        sb = self.relax(s0, self.nudge_iters, y=y)

        for l in range(1, self.L):
            self.b[l] = self.b[l] + self.alphas[l - 1] * np.mean((sb[l] - s0[l]) / self.beta,
                                                                 axis=0)

        projections = list(range(self.L - 2, -1, -1))        # output projection first
        base = [self.base_change(l, s0, sb) for l in projections]
        final = self.sbp(base) if self.sbp_on else [d.copy() for d in base]
        for l, d in zip(projections, final):
            self.W[l] = self.W[l] + self.alphas[l] * d

        self.last = {'s_lif': s_lif, 's0': s0, 'sb': sb,
                     'base': dict(zip(projections, base)),
                     'final': dict(zip(projections, final))}
        return s0[-1].copy()

    def outputs(self, x):
        """Output states after LIF + free relaxation, WITHOUT disturbing the training state.

        DECISION: the released code's test pass runs on the live state and overwrites h (and
        V, g); model.md 4 asks to keep training and evaluation apart.  Here every call works
        on a deep copy of the training state, which is discarded afterwards, so each call
        (each test batch) starts from the state left by the last train_batch and calls do
        not influence each other or later training.
        """
        x = self._check_batch(x)
        st = copy.deepcopy(self.state)
        s = self.lif_phase(x, st)
        s0 = self.relax(s, self.free_iters)
        return s0[-1].copy()

    def predict(self, x):
        """model.md 4 step 6: argmax of the free-phase output (first index on ties)."""
        return np.argmax(self.outputs(x), axis=1)


def mse_cost(out, y):
    """paper-notes 2.4: C = sum_k (s_n,k - y_k)^2 per sample, averaged over the batch."""
    return float(np.mean(np.sum((out - y) ** 2, axis=1)))
