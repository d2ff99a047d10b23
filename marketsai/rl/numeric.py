"""Sign and range checks of an RLlib experiment's numeric settings (no ray import).

Why: RLlib accepts ``lr: -0.001`` or ``gamma: 1.5`` and trains to the end with exit 0,
producing nonsense; a negative batch size or a huge network width fails deep inside
torch. The settings we know are declared here as :class:`~marketsai.params.Check`\\ s (the
one validation dialect) and checked when the file is validated, each error a
:class:`~marketsai.errors.SpecError` naming ``algorithm.settings.<key>`` (or
``algorithm.model.<key>``) and the allowed range. Unknown names are left to
:func:`marketsai.rl.algorithms.check_settings`, which compares them with RLlib's own
config attributes.

Examples
--------
>>> check_numeric({"lr": 0.001, "gamma": 0.95, "train_batch_size_per_learner": 64}, {})
>>> check_numeric({"lr": -0.001}, {})
Traceback (most recent call last):
...
marketsai.errors.SpecError: algorithm.settings.lr = -0.001: out of range (allowed: a number in (0, 1], or a schedule [[timestep, value], ...] of such numbers)
>>> check_numeric({"vtrace_clip_rho_threshold": 0.0}, {})
Traceback (most recent call last):
...
marketsai.errors.SpecError: algorithm.settings.vtrace_clip_rho_threshold = 0.0: out of range (allowed: a number in (0, inf))
>>> check_numeric({}, {"fcnet_hiddens": [64, 10**9]})
Traceback (most recent call last):
...
marketsai.errors.SpecError: algorithm.model.fcnet_hiddens = [64, 1000000000]: out of range (allowed: a list of at most 64 integers in [1, 65536])
"""

from __future__ import annotations

import math

from marketsai.errors import SpecError
from marketsai.limits import MAX_SESSIONS, is_int
from marketsai.params import Check, check_present

MAX_BATCH = 10_000_000  # samples in one batch or replay buffer
MAX_WIDTH = 65_536  # units of one hidden layer
MAX_LAYERS = 64
_WHY = "out of range"


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _in(lo, hi, lo_open=False, hi_open=False) -> Check:
    def ok(x):
        return _num(x) and (x > lo if lo_open else x >= lo) and (
            hi is None or (x < hi if hi_open else x <= hi))
    left, right = "(" if lo_open else "[", ")" if hi_open or hi is None else "]"
    return Check(ok, f"a number in {left}{lo}, {'inf' if hi is None else hi}{right}", reason=_WHY)


def _ints(lo, hi) -> Check:
    return Check(lambda x: is_int(x) and lo <= x <= hi, f"an integer in [{lo}, {hi:,}]", reason=_WHY)


def _schedule(rule: Check) -> Check:
    """A number, or RLlib's piecewise schedule ``[[timestep, value], ...]``."""
    def ok(x):
        if isinstance(x, list):
            return 1 <= len(x) <= 1000 and all(
                isinstance(p, list) and len(p) == 2 and is_int(p[0]) and p[0] >= 0 and rule(p[1])
                for p in x)
        return rule(x)
    return Check(ok, f"{rule.allowed}, or a schedule [[timestep, value], ...] of such numbers", reason=_WHY)


def _or_auto(rule: Check) -> Check:
    return Check(lambda x: x == "auto" or rule(x), f"'auto' or {rule.allowed}", reason=_WHY)


def _or_none(rule: Check) -> Check:
    return Check(lambda x: x is None or rule(x), f"null or {rule.allowed}", reason=_WHY)


def _layers(x) -> bool:
    return isinstance(x, list) and len(x) <= MAX_LAYERS and all(
        is_int(v) and 1 <= v <= MAX_WIDTH for v in x)


_LAYERS = Check(_layers, f"a list of at most {MAX_LAYERS} integers in [1, {MAX_WIDTH}]", reason=_WHY)
_UNIT = _in(0, 1)
_POS = _in(0, None, lo_open=True)
_NONNEG = _in(0, None)

#: algorithm.settings keys we check; settings absent here are checked by type only
SETTINGS: dict[str, Check] = {
    "lr": _schedule(_in(0, 1, lo_open=True)),
    "actor_lr": _in(0, 1, lo_open=True), "critic_lr": _in(0, 1, lo_open=True),
    "alpha_lr": _in(0, 1, lo_open=True),
    "gamma": _UNIT, "lambda_": _UNIT, "tau": _in(0, 1, lo_open=True),
    "train_batch_size_per_learner": _ints(1, MAX_BATCH), "train_batch_size": _ints(1, MAX_BATCH),
    "minibatch_size": _or_none(_ints(1, MAX_BATCH)), "num_epochs": _ints(1, 10_000),
    "clip_param": _POS, "vf_clip_param": _POS, "grad_clip": _or_none(_POS),
    "entropy_coeff": _schedule(_NONNEG), "vf_loss_coeff": _NONNEG, "kl_coeff": _NONNEG,
    "kl_target": _POS, "initial_alpha": _POS,
    "target_network_update_freq": _ints(0, MAX_BATCH),
    "num_steps_sampled_before_learning_starts": _ints(0, MAX_BATCH),
    "min_sample_timesteps_per_iteration": _ints(0, MAX_BATCH),
    "min_time_s_per_iteration": _or_none(_NONNEG),
    "rollout_fragment_length": _or_auto(_ints(1, MAX_BATCH)),
    "n_step": _ints(1, 1000), "num_atoms": _ints(1, 1000),
    "epsilon": _schedule(_UNIT),
    "sigma0": _NONNEG,
    "training_intensity": _or_none(_POS),
    "min_train_timesteps_per_iteration": _ints(0, MAX_BATCH),
    # IMPALA / APPO (V-trace, Espeholt et al. 2018): the truncation levels rho-bar and
    # c-bar of the importance weights must be > 0 (0 zeroes every correction; RLlib
    # accepts it and learns nothing). RLlib 2.60 supports only vtrace: true.
    "vtrace": Check(lambda x: x is True, "true (RLlib 2.60's IMPALA and APPO support only V-trace)",
                    reason=_WHY),
    "vtrace_clip_rho_threshold": _POS, "vtrace_clip_pg_rho_threshold": _POS,
    "broadcast_interval": _ints(1, MAX_BATCH),
    "circular_buffer_num_batches": _ints(1, 100_000),
    "circular_buffer_iterations_per_batch": _ints(1, 100_000),
    "target_worker_clipping": _POS,
    "timeout_s_sampler_manager": _NONNEG, "timeout_s_aggregator_manager": _NONNEG,
    "grad_clip_by": Check(lambda x: x in ("value", "norm", "global_norm"),
                          "one of 'value', 'norm', 'global_norm'", reason=_WHY),
}
#: algorithm.model keys that size a network
MODEL: dict[str, Check] = {
    "fcnet_hiddens": _LAYERS, "head_fcnet_hiddens": _LAYERS, "pi_head_fcnet_hiddens": _LAYERS,
    "vf_head_fcnet_hiddens": _LAYERS, "critic_hiddens": _LAYERS,
    "lstm_cell_size": _ints(1, MAX_WIDTH), "max_seq_len": _ints(1, MAX_SESSIONS),
}
REPLAY: dict[str, Check] = {"capacity": _ints(1, MAX_BATCH), "alpha": _UNIT, "beta": _UNIT}


def check_numeric(settings: dict, model: dict, file: str | None = None) -> None:
    """Raise SpecError for a known numeric setting out of its range (see the module doc)."""
    check_present(settings, SETTINGS, "algorithm.settings", file)
    check_present(model, MODEL, "algorithm.model", file)
    replay = (settings or {}).get("replay_buffer_config")
    if isinstance(replay, dict):
        check_present(replay, REPLAY, "algorithm.settings.replay_buffer_config", file)
    s = settings or {}
    mb, tb = s.get("minibatch_size"), s.get("train_batch_size_per_learner")
    if is_int(mb) and is_int(tb) and mb > tb:
        raise SpecError("minibatch larger than the train batch", path="algorithm.settings.minibatch_size",
                        value=mb, allowed=f"an integer <= train_batch_size_per_learner ({tb})", file=file)
