"""The tabular sessions on a CUDA device: one thread per session (numba's CUDA target).

Why: sessions are independent and identical in control flow, so a GPU runs 10^4 to
10^6 of them at once (the (alpha, beta) map at the paper's resolution). Selected by the
learner setting ``device: cuda`` (:data:`marketsai.tabular.config.SETTINGS`); the front
end (:func:`marketsai.tabular.sessions.advance`) slices and re-dispatches as for the CPU,
so states, results and run folders are those of a CPU run.

What it covers: the case of the CPU fast path (:mod:`marketsai.tabular.fastpath`; the
Calvano baseline and its (alpha, beta) map): a finite game with two agents, any memory,
no exogenous state, simultaneous moves, epsilon-greedy exploration (``exp_decay`` or
``constant``), float64 Q-tables, plain Q-learning (no solver options), finite payoffs and
Q-tables, no per-agent controls and no recording. Anything else is refused with a
:class:`~marketsai.errors.SpecError` on ``device`` (:func:`check_covered`).

The same algorithm, bit for bit: the period loop below is the fast path's
(:func:`~marketsai.tabular.fastpath.run_duopoly`) step for step - the same floating-point
operations in the same order and the same draws. The helpers are *the CPU's own* ``njit``
functions, which numba compiles for the device from the same Python source when device
code calls them (:func:`device_function`): xoshiro256**,
``to_unit``, the explore/exploit select, the row rescan, the tie pick, the cache rebuild
(``argmax_count``, ``argmax_ties``, ``max_except``). The loop itself is written again here
because it cannot be shared: the CPU loop allocates its caches per call (a device thread
cannot); its cache upkeep, moved into a shared helper (inlined or not), cut the CPU fast
path from 30 to 10 M periods per CPU-second (measured, one session of the baseline, both
versions alternated in one process), so it stays written out in both; and two of its
operations need a different spelling on the device:

* **No fused multiply-add.** NVVM contracts ``a * b + c`` into one ``fma`` (one rounding
  instead of two) unless told not to, and numba's CUDA target has no switch for it
  (``fastmath=False`` leaves NVVM's default ``-fma=1``). The two Q-update lines therefore
  use libdevice's ``dmul_rn``/``dadd_rn`` (PTX ``mul.rn``/``add.rn``, which are never
  contracted); ``tests/test_tabular_gpu.py`` compiles the kernel to PTX and checks that it
  holds no ``fma``. The other arithmetic (``eps *= d``, ``to_unit(x) * m``) has no add
  to fuse with.
* **No device ``exp``.** libdevice's ``exp`` is not correctly rounded and may differ from
  the CPU's libm by an ulp, which would move the exploration schedule. The schedule
  ``eps_t`` (:func:`~marketsai.tabular.kernel_parts.exploration_rate`: ``exp(-beta t0)`` at
  each multiple ``t0`` of ``EPS_RESYNC``, then ``eps *= exp(-beta)`` each period) is
  therefore computed on the host by the CPU's own compiled code (:func:`schedule`) and
  read from a table; the device only multiplies.

What is guaranteed: on numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, every thread
run in Python, IEEE double arithmetic) the results equal the CPU engine's bit for bit -
tested in the default suite. There the helpers are the CPU's compiled functions
themselves, so the simulator tests the kernels' own code and the front end; that the
helpers compile for the device, and to what, is tested on the kernel's PTX (compiled
without a device). On a real device the kernel does only IEEE-754 round-to-nearest
additions and multiplications, comparisons, integer operations and table reads (no
``fma``, no ``exp``, no floating-point division, no flush-to-zero: ``fastmath`` is off),
so the same results are expected; ``benchmarks/bench_gpu_sessions.py`` checks sessions
against the CPU on the device (not yet run: no device was lent while this was built).

Memory layout: session-major, ``q[w, i, s, a]``, the CPU engine's own. One thread per
session means every Q access is at a data-dependent ``(s, a)`` of its own session:
threads of a warp read the same index only by chance, so an interleaved
(session-minor) layout would coalesce almost never while spreading each row over ``m``
memory sectors; session-major keeps a row in one or two 32-byte sectors (a rescan
reads the row) and needs no transposition to give the CPU layout back. The per-thread
scalars (RNG words, state, clock, counters, rates) live in registers during the loop.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import cuda, njit

from marketsai.errors import SpecError
from marketsai.tabular.config import EXPLORATION
from marketsai.tabular.fastpath import explore_select, finite_table, max_except, rescan_row
from marketsai.tabular.kernel_parts import (
    EPS_RESYNC,
    EXP_DECAY,
    argmax_count,
    argmax_random_ties,
    argmax_ties,
    eps_at,
    kth_tie,
)
from marketsai.tabular.rng import randint, to_unit, xoshiro

COVERS = ("a finite game with two agents, no exogenous state, simultaneous moves, "
          "exploration exp_decay or constant, dtype float64, plain Q-learning (no solver "
          "options), finite payoffs and Q-tables, no per-agent controls and no recording")
THREADS_PER_BLOCK = 128
MAX_SCHEDULE_BLOCKS = 1 << 24  # exploration-rate table entries per agent (128 MB)


def device_function(cpu_function):
    """A CPU helper (a numba ``njit`` dispatcher) for the kernel: numba compiles an
    ``njit`` function called from device code for the device, from its own Python source
    (and the helpers it calls with it), so each step is defined once. On the simulator:
    the CPU's compiled helper itself (:func:`_simulated`)."""
    return _simulated(cpu_function) if numba.config.ENABLE_CUDASIM else cpu_function


def _simulated(cpu_function):
    """The compiled CPU helper called from the simulator's Python threads: its arrays
    unwrapped, and its integer results given back their numba types (a compiled function
    returns Python ints, and the xoshiro words must stay ``uint64`` in the next call)."""
    from numba.cuda.simulator.cudadrv.devicearray import (
        FakeCUDAArray,
        FakeWithinKernelCUDAArray,
    )

    def host(a):  # the simulator's array as the ndarray it wraps (the same memory)
        return np.asarray(a) if isinstance(a, (FakeCUDAArray, FakeWithinKernelCUDAArray)) else a

    def typed(value, ty):
        return np.dtype(str(ty)).type(value) if isinstance(ty, numba.types.Integer) else value

    entry = {}  # argument types -> (compiled entry point, return type)

    def call(*args):
        args = tuple(host(a) for a in args)
        key = tuple((a.dtype, a.ndim, a.flags.c_contiguous) if isinstance(a, np.ndarray)
                    else type(a) for a in args)
        if key not in entry:
            sig = tuple(numba.typeof(a) for a in args)
            cpu_function.compile(sig)
            cres = cpu_function.overloads[sig]
            entry[key] = cres.entry_point, cres.signature.return_type
        fn, ret = entry[key]
        out = fn(*args)
        if isinstance(ret, numba.types.BaseTuple):
            return tuple(typed(v, ty) for v, ty in zip(out, ret.types, strict=True))
        return typed(out, ret)

    return call


_d_explore_select = device_function(explore_select)
_d_rescan = device_function(rescan_row)
_d_max_except = device_function(max_except)
_d_kth_tie = device_function(kth_tie)
_d_argmax_count = device_function(argmax_count)
_d_argmax_ties = device_function(argmax_ties)
_d_xoshiro = device_function(xoshiro)
_d_randint = device_function(randint)
_d_argmax_random_ties = device_function(argmax_random_ties)
_d_to_unit = device_function(to_unit)

if numba.config.ENABLE_CUDASIM:  # the simulator runs Python: IEEE operations, never fused
    def _mul_rn(a, b):
        return a * b

    def _add_rn(a, b):
        return a + b
else:  # PTX mul.rn / add.rn: NVVM and ptxas never contract these into an fma
    from numba.cuda import libdevice

    _mul_rn = libdevice.dmul_rn
    _add_rn = libdevice.dadd_rn


# ----------------------------------------------------------------------------- checks
def cuda_available() -> bool:
    """True when numba sees a CUDA device (or runs its simulator)."""
    return bool(cuda.is_available())


def check_device() -> None:
    """Raise SpecError on ``device`` when no CUDA device is present."""
    if not cuda_available():
        raise SpecError("no CUDA device found (numba.cuda.is_available() is False)",
                        path="device", value="cuda",
                        allowed="cpu, or cuda on a machine with an NVIDIA GPU and its driver")


def uncovered(game, cfg) -> str | None:
    """Why the GPU kernel does not cover ``game`` under ``cfg`` (None when it does)."""
    from marketsai.finite_model import FiniteModel

    if isinstance(game, FiniteModel):
        return "the problem is a finite model (the GPU kernel runs finite games)"
    if game.n_agents != 2:
        return f"the game has {game.n_agents} agents"
    if game.n_exo != 1:
        return f"the game has {game.n_exo} exogenous states"
    if cfg.protocol != "simultaneous":
        return f"protocol is {cfg.protocol}"
    if EXPLORATION[cfg.exploration] not in (EXPLORATION["exp_decay"], EXPLORATION["constant"]):
        return f"exploration is {cfg.exploration}"
    if cfg.dtype != "float64":
        return f"dtype is {cfg.dtype}"
    if cfg.solver_options:
        return "a solver option is on (step_size, target or update)"
    if not np.all(np.isfinite(game.payoffs)):
        return "the payoffs are not all finite"
    return None


def check_run(game, cfg) -> None:
    """Both checks of a ``device: cuda`` run: a device is present and the kernel covers it."""
    check_covered(game, cfg)
    check_device()


def check_covered(game, cfg) -> None:
    """Raise SpecError on ``device`` when the GPU kernel does not cover the run."""
    reason = uncovered(game, cfg)
    if reason is not None:
        raise SpecError(f"the GPU kernel does not cover this run: {reason}", path="device",
                        value="cuda", allowed=f"cpu, or cuda for {COVERS}")


def check_call(states, controls, record) -> None:
    """The per-call part of :func:`check_covered`: no controls, no recording, finite tables."""
    if any(c is not None for c in controls):
        raise SpecError("the GPU kernel does not cover this run: per-agent controls are set",
                        path="device", value="cuda", allowed=f"cpu, or cuda for {COVERS}")
    if record:
        raise SpecError("the GPU kernel does not cover this run: play is recorded "
                        f"(record={record})", path="device", value="cuda",
                        allowed=f"cpu, or cuda for {COVERS} (analysis.learning_curve_every: 0)")
    if not finite_table(states.q):  # compiled, no temporary (tens of GB at 10^6 sessions)
        raise SpecError("the GPU kernel does not cover this run: a Q-table has a NaN or "
                        "infinite entry", path="device", value="cuda",
                        allowed=f"cpu, or cuda for {COVERS}")


# --------------------------------------------------------------------------- schedule
@njit(cache=True)
def _schedule_row(beta, out):
    """``out[b] = eps_at(beta, b * EPS_RESYNC)`` (the CPU's ``exp``) until it underflows to
    0 (then every later entry is 0 too); returns the number of entries written."""
    for b in range(out.shape[0]):
        out[b] = eps_at(beta, b * EPS_RESYNC)
        if out[b] == 0.0:
            return b + 1
    return out.shape[0]


def schedule(beta, mode, epsilon, t_end):
    """Per agent the exploration rate at each multiple of ``EPS_RESYNC`` up to ``t_end``
    and the per-period factor: ``(table (n, L), decay (n,))``, by the CPU's own code
    (:func:`~marketsai.tabular.kernel_parts.eps_at`).

    A row stops early once every later entry equals its last (``exp`` underflowed to 0,
    ``beta == 0``, or constant exploration), shorter rows padded with their last entry;
    the kernel reads entry ``min(t // EPS_RESYNC, L - 1)``.
    """
    n = beta.shape[0]
    decay = np.ones(n)
    if mode != EXP_DECAY:
        return np.full((n, 1), float(epsilon)), decay
    blocks = int(t_end) // EPS_RESYNC + 1
    rows = []
    for i in range(n):
        decay[i] = eps_at(beta[i], 1)  # exp(-beta), as the CPU loop computes it
        row = np.empty(min(blocks, MAX_SCHEDULE_BLOCKS) if beta[i] > 0.0 else 1)
        used = _schedule_row(beta[i], row)
        if used == MAX_SCHEDULE_BLOCKS < blocks and row[-1] != 0.0:
            raise SpecError("the exploration schedule is too long for the GPU kernel's table",
                            path="max_periods", value=int(t_end),
                            allowed=f"at most {MAX_SCHEDULE_BLOCKS * EPS_RESYNC:.3g} periods "
                                    "before exp(-beta t) underflows, or device: cpu")
        rows.append(row[:used])
    table = np.empty((n, max(r.size for r in rows)))
    for i, row in enumerate(rows):
        table[i, :row.size] = row
        table[i, row.size:] = row[-1]
    return table, decay


# ----------------------------------------------------------------------------- kernel
@cuda.jit
def sessions_kernel(active, pay, Mk, M, delta, keep, rate, eps_table, decay, q, strategy, maxq,
                    other, rng, state, clock, stable_arr, budget, stop_converged,
                    stable_periods, max_periods, done_out):
    """Thread ``k`` advances session ``w = active[k]`` (a position in the batch) by at
    most ``budget[w]`` periods: :func:`~marketsai.tabular.fastpath.run_duopoly`'s loop."""
    k = cuda.grid(1)
    if k >= active.shape[0]:
        return
    w = active[k]
    qw = q[w]
    sw = strategy[w]
    mq = maxq[w]
    ot = other[w]
    n_states = qw.shape[1]
    m = qw.shape[2]
    s0 = rng[w, 0]
    s1 = rng[w, 1]
    s2 = rng[w, 2]
    s3 = rng[w, 3]
    # the caches, as the CPU's row_caches (repairing stale greedy actions) and _others_max
    for i in range(2):
        for x in range(n_states):
            g = sw[i, x]
            first, mx, count = _d_argmax_count(qw, i, x, m - 1)
            if g < 0 or g > m - 1 or qw[i, x, g] < mx:
                g, best, s0, s1, s2, s3 = _d_argmax_ties(qw, i, x, m - 1, s0, s1, s2, s3)
                sw[i, x] = g
            mq[i, x] = mx
    for i in range(2):
        for x in range(n_states):
            ot[i, x] = _d_max_except(qw, i, x, m, np.int64(sw[i, x]))
    s = state[w]
    t = clock[w]
    stable = stable_arr[w]
    n_blocks = eps_table.shape[1]
    d0 = decay[0]
    d1 = decay[1]
    # eps_t as the CPU's eps_at: the rate at the block start, then times d per period
    b = t // EPS_RESYNC
    b = b if b < n_blocks else n_blocks - 1  # (no min(): numba's CUDA target fails on it)
    eps0 = eps_table[0, b]
    eps1 = eps_table[1, b]
    for _ in range(t % EPS_RESYNC):
        eps0 *= d0
        eps1 *= d1
    keep0 = keep[0]
    keep1 = keep[1]
    rate0 = rate[0]
    rate1 = rate[1]
    k1 = Mk == M
    t_stop = t + budget[w] if budget[w] >= 0 else np.int64(2**62)
    if stop_converged and max_periods < t_stop:
        t_stop = max_periods
    stable_stop = stable_periods if stop_converged else np.int64(2**62)
    t_begin = t
    while t < t_stop and stable < stable_stop:
        g0 = np.int64(sw[0, s])
        g1 = np.int64(sw[1, s])
        a0, s0, s1, s2, s3 = _d_explore_select(eps0, g0, m, s0, s1, s2, s3)
        a1, s0, s1, s2, s3 = _d_explore_select(eps1, g1, m, s0, s1, s2, s3)
        j = a0 * m + a1
        s_next = j if k1 else (s * M + j) % Mk
        changed = False
        for i in range(2):
            # Q_i(s, a_i) <- (1 - alpha) Q_i(s, a_i) + alpha [pi_i + delta max_a Q_i(s', a)]
            a = a0 if i == 0 else a1
            g = g0 if i == 0 else g1
            target = _add_rn(pay[j, i], _mul_rn(delta, mq[i, s_next]))
            old = qw[i, s, a]
            new = _add_rn(_mul_rn(keep0 if i == 0 else keep1, old),
                          _mul_rn(rate0 if i == 0 else rate1, target))
            qw[i, s, a] = new
            mx = mq[i, s]
            sec = ot[i, s]
            rescan = False
            if a == g:
                if (new >= mx) | (new > sec):
                    mq[i, s] = new
                else:
                    rescan = True
            elif new > mx:
                sw[i, s] = a
                mq[i, s] = new
                ot[i, s] = mx
                changed = True
            elif new == mx:
                rescan = True
            elif new >= sec:
                ot[i, s] = new
            elif old == sec:
                ot[i, s] = _d_max_except(qw, i, s, m, g)
            if rescan:
                g2, mx2, count, sec2 = _d_rescan(qw, i, s, m)
                if count > 1:
                    x, s0, s1, s2, s3 = _d_xoshiro(s0, s1, s2, s3)
                    g2 = _d_kth_tie(qw, i, s, m - 1, g2, mx2, np.int64(_d_to_unit(x) * count))
                sw[i, s] = g2
                mq[i, s] = mx2
                ot[i, s] = sec2
                if g2 != g:
                    changed = True
        stable = 0 if changed else stable + 1
        t += 1
        s = s_next
        if t % EPS_RESYNC == 0:  # resynchronise (constant exploration: the table is [eps])
            b = t // EPS_RESYNC
            b = b if b < n_blocks else n_blocks - 1
            eps0 = eps_table[0, b]
            eps1 = eps_table[1, b]
        else:
            eps0 *= d0
            eps1 *= d1
    rng[w, 0] = s0
    rng[w, 1] = s1
    rng[w, 2] = s2
    rng[w, 3] = s3
    state[w] = s
    clock[w] = t
    stable_arr[w] = stable
    done_out[w] = t - t_begin


@cuda.jit
def init_kernel(q0, q0_div, Mk, q, strategy, state, rng):
    """Thread ``w`` initialises session ``w`` as the CPU's
    :func:`~marketsai.tabular.kernel.init_kernel` does (no exogenous state): a uniform
    initial state, ``Q = Q0``, greedy actions with random ties, the same draws in the same
    order. On the device because at 10^6 sessions the CPU's serial loop takes minutes."""
    w = cuda.grid(1)
    if w >= q.shape[0]:
        return
    st = rng[w]
    qw = q[w]
    n_states = qw.shape[1]
    m = qw.shape[2]
    state[w] = _d_randint(st, Mk)
    for i in range(qw.shape[0]):
        for x in range(n_states):
            for a in range(m):
                qw[i, x, a] = q0[i, x // q0_div, a]
    for i in range(qw.shape[0]):
        for x in range(n_states):
            g, best = _d_argmax_random_ties(qw, i, x, m - 1, st)
            strategy[w, i, x] = g


# ------------------------------------------------------------------------------- host
def session_device_bytes(ga) -> int:
    """Device bytes of one session: Q-table, greedy actions, both caches, small state."""
    rows = ga.n * ga.n_states
    return rows * ga.m * 8 + rows * (4 + 8 + 8) + 8 * 8


def device_free_bytes() -> int | None:
    """Free device memory, or None where it cannot be read (the simulator)."""
    if numba.config.ENABLE_CUDASIM:
        return None
    ctx = cuda.current_context()
    ctx.deallocations.clear()  # release arrays freed earlier (numba defers it) before reading
    free, _total = ctx.get_memory_info()
    return int(free)


def init_on_device(q0, q0_div, Mk, states) -> None:
    """Fill fresh ``states`` (RNG streams set) as :func:`marketsai.tabular.sessions.init_sessions`
    does on the CPU, on the device, in batches that fit its memory."""
    S = states.n_sessions
    free = device_free_bytes()
    per = states.q[:1].nbytes + states.strategy[:1].nbytes + 64
    size = max(S, 1) if free is None else max(1, int(0.8 * free) // per)
    d_q0 = cuda.to_device(np.ascontiguousarray(q0, dtype=np.float64))
    for lo in range(0, S, size):
        part = slice(lo, min(S, lo + size))
        d = {f: cuda.device_array_like(getattr(states, f)[part])  # written whole by the kernel
             for f in ("q", "strategy", "state")}
        d["rng"] = cuda.to_device(states.rng[part])
        count = part.stop - part.start
        tpb = min(THREADS_PER_BLOCK, count)
        init_kernel[(count + tpb - 1) // tpb, tpb](d_q0, q0_div, Mk, d["q"], d["strategy"],
                                                   d["state"], d["rng"])
        for f, arr in d.items():
            arr.copy_to_host(getattr(states, f)[part])


class DeviceBatch:
    """Positions ``lo..hi-1`` of a :class:`~marketsai.tabular.sessions.SessionState` held
    on the device while they run (their caches ``maxq``, ``other`` live there only)."""

    def __init__(self, ga, cfg, states, lo: int, hi: int, eps_table, decay):
        self.lo, self.hi, self.states = lo, hi, states
        part = slice(lo, hi)
        self.d = {f: cuda.to_device(getattr(states, f)[part])  # leading slices: contiguous
                  for f in ("q", "strategy", "rng", "state", "t", "stable")}
        shape = (hi - lo, ga.n, ga.n_states)
        self.maxq = cuda.device_array(shape, np.float64)
        self.other = cuda.device_array(shape, np.float64)
        alpha = cfg.per_agent("alpha", ga.n)
        up = cuda.to_device  # inputs go up once (a host array would be copied at each launch)
        self.args = (up(np.ascontiguousarray(ga.payoffs[0])), ga.Mk, ga.M, ga.delta,
                     up(1.0 - alpha), up(alpha), up(eps_table), up(decay))
        self.cfg = cfg

    def step(self, active, budget, done_out, until_converged: bool) -> None:
        """One slice: positions ``active`` (of the whole state) by ``budget`` periods each;
        periods run into ``done_out`` (whole-state arrays, as the CPU kernel's)."""
        local = np.ascontiguousarray(active - self.lo, dtype=np.int64)
        part = slice(self.lo, self.hi)
        d_done = cuda.to_device(np.zeros(self.hi - self.lo, np.int64))
        tpb = min(THREADS_PER_BLOCK, local.size)  # a few sessions: no idle threads
        d = self.d
        sessions_kernel[(local.size + tpb - 1) // tpb, tpb](
            cuda.to_device(local), *self.args, d["q"], d["strategy"], self.maxq, self.other, d["rng"],
            d["state"], d["t"], d["stable"], cuda.to_device(np.ascontiguousarray(budget[part])),
            bool(until_converged), self.cfg.stable_periods, self.cfg.max_periods, d_done)
        done_out[part] = d_done.copy_to_host()

    def download(self) -> None:
        """Copy the batch's session state back into the host arrays."""
        part = slice(self.lo, self.hi)
        for f, arr in self.d.items():  # straight into the host arrays: no second copy
            arr.copy_to_host(getattr(self.states, f)[part])


def advance_on_device(ga, cfg, states, active, remaining, until_converged, run_in_slices,
                      slice_periods) -> None:
    """Run ``active`` positions of ``states`` on the device, in batches that fit its memory;
    ``run_in_slices`` is the front end's slice loop (:func:`marketsai.tabular.sessions.advance`)."""
    S = states.n_sessions
    if not active.size:
        return
    t_max = int(states.t[active].max())
    left = remaining[active]
    t_end = t_max + int(left.max()) if (left >= 0).all() else cfg.max_periods
    if until_converged:
        t_end = min(t_end, cfg.max_periods)
    eps_table, decay = schedule(cfg.per_agent("beta", ga.n), EXPLORATION[cfg.exploration],
                                cfg.epsilon, t_end)
    free = device_free_bytes()
    per = session_device_bytes(ga)
    size = S if free is None else max(1, int(0.8 * free) // per)
    for lo in range(0, S, size):
        hi = min(S, lo + size)
        part = active[(active >= lo) & (active < hi)]
        if not part.size:
            continue
        batch = DeviceBatch(ga, cfg, states, lo, hi, eps_table, decay)
        run_in_slices(lambda a, budget, _done_total, done_out, b=batch:
                      b.step(a, budget, done_out, until_converged),
                      part, remaining, slice_periods)
        batch.download()


def kernel_ptx(cc=(9, 0)) -> str:
    """PTX of :data:`sessions_kernel` for compute capability ``cc`` (needs CUDA's NVVM,
    not a device): how the tests check that it holds no fused multiply-add."""
    i8, f8 = numba.types.int64, numba.types.float64

    def arr(dtype, ndim):
        return numba.types.Array(dtype, ndim, "C")

    sig = (arr(i8, 1), arr(f8, 2), i8, i8, f8, arr(f8, 1), arr(f8, 1), arr(f8, 2), arr(f8, 1),
           arr(f8, 4), arr(numba.types.int32, 3), arr(f8, 3), arr(f8, 3),
           arr(numba.types.uint64, 2), arr(i8, 1), arr(i8, 1), arr(i8, 1), arr(i8, 1),
           numba.types.boolean, i8, i8, arr(i8, 1))
    ptx, _ = cuda.compile_ptx(sessions_kernel.py_func, sig, cc=cc)
    return ptx
