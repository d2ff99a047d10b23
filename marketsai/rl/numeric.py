"""The RLlib settings we know, declared as :class:`~marketsai.params.Param`\\ s (no ray import).

Why: RLlib accepts ``lr: -0.001`` or ``gamma: 1.5`` and trains to the end with exit 0,
producing nonsense; a negative batch size or a huge network width fails deep inside
torch. Each known setting is declared once here (its range, what it means; its default is
RLlib's or the learner's ``defaults``) in the one validation dialect of
:mod:`marketsai.params`, and checked when the file is validated, each error a
:class:`~marketsai.errors.SpecError` naming ``algorithm.settings.<key>`` (or
``algorithm.model.<key>``) and the allowed range. Unknown names are left to
:func:`marketsai.rl.algorithms.check_settings`, which compares them with RLlib's own
config attributes. ``marketsai validate`` prints these declarations.

Examples
--------
>>> def algorithm(settings, model=None):
...     return {"algorithm": {"settings": settings, "model": model or {}}}
>>> check_numeric(algorithm({"lr": 0.001, "gamma": 0.95, "train_batch_size_per_learner": 64}))
>>> check_numeric(algorithm({"lr": -0.001}))
Traceback (most recent call last):
...
marketsai.errors.SpecError: algorithm.settings.lr = -0.001: out of range (allowed: a number in (0, 1], or a schedule [[timestep, value], ...] of such values (the first at timestep 0, timesteps rising; linear between points, the last value after), at most 1,000 points)
>>> check_numeric(algorithm({"vtrace_clip_rho_threshold": 0.0}))
Traceback (most recent call last):
...
marketsai.errors.SpecError: algorithm.settings.vtrace_clip_rho_threshold = 0.0: out of range (allowed: a number in (0, inf))
>>> check_numeric(algorithm({}, {"fcnet_hiddens": [64, 10**9]}))
Traceback (most recent call last):
...
marketsai.errors.SpecError: algorithm.model.fcnet_hiddens = [64, 1000000000]: out of range (allowed: a list of at most 64 integers in [1, 65536])
>>> check_numeric(algorithm({"minibatch_size": 128, "train_batch_size_per_learner": 64}))
Traceback (most recent call last):
...
marketsai.errors.SpecError: algorithm.settings.minibatch_size = 128: minibatch larger than the train batch (allowed: an integer <= train_batch_size_per_learner (64))
"""

from __future__ import annotations

from marketsai.limits import MAX_SESSIONS, is_int
from marketsai.params import (
    UNSET,
    Check,
    Param,
    Rule,
    check_present,
    check_rules,
    or_null,
    real,
    schedule_of,
)

MAX_BATCH = 10_000_000  # samples in one batch or replay buffer
MAX_WIDTH = 65_536  # units of one hidden layer
MAX_LAYERS = 64
_WHY = "out of range"


def _in(lo, hi, lo_open=False, hi_open=False) -> Check:
    def ok(x):
        return real(x) and (x > lo if lo_open else x >= lo) and (
            hi is None or (x < hi if hi_open else x <= hi))
    left, right = "(" if lo_open else "[", ")" if hi_open or hi is None else "]"
    return Check(ok, f"a number in {left}{lo}, {'inf' if hi is None else hi}{right}", reason=_WHY)


def _ints(lo, hi) -> Check:
    return Check(lambda x: is_int(x) and lo <= x <= hi, f"an integer in [{lo}, {hi:,}]", reason=_WHY)


def _schedule(rule: Check) -> Check:
    """A number, or RLlib's piecewise schedule ``[[timestep, value], ...]`` in the form its
    ``Scheduler`` accepts (:func:`marketsai.params.schedule_of`), at most 1,000 points."""
    form = schedule_of(rule, unit="timestep")
    return Check(lambda x: form(x) and (not isinstance(x, list) or len(x) <= 1000),
                 form.allowed + ", at most 1,000 points", reason=_WHY)


def _or_auto(rule: Check) -> Check:
    return Check(lambda x: x == "auto" or rule(x), f"'auto' or {rule.allowed}", reason=_WHY)


def _layers(x) -> bool:
    return isinstance(x, list) and len(x) <= MAX_LAYERS and all(
        is_int(v) and 1 <= v <= MAX_WIDTH for v in x)


_LAYERS = Check(_layers, f"a list of at most {MAX_LAYERS} integers in [1, {MAX_WIDTH}]", reason=_WHY)
_UNIT = _in(0, 1)
_POS = _in(0, None, lo_open=True)
_NONNEG = _in(0, None)

_RATE = _in(0, 1, lo_open=True)


def _rllib(check: Check, doc: str) -> Param:
    """A setting RLlib owns: its default is RLlib's (or the learner's ``defaults``)."""
    return Param(UNSET, check, doc)


#: algorithm.settings keys we check; settings absent here are checked by type only
SETTINGS: dict[str, Param] = {
    "lr": _rllib(_schedule(_RATE), "learning rate (a schedule: piecewise linear in timesteps)"),
    "actor_lr": _rllib(_RATE, "SAC: learning rate of the policy"),
    "critic_lr": _rllib(_RATE, "SAC: learning rate of the Q-networks"),
    "alpha_lr": _rllib(_RATE, "SAC: learning rate of the entropy temperature"),
    "gamma": _rllib(_UNIT, "discount factor of returns"),
    "lambda_": _rllib(_UNIT, "PPO: GAE lambda"),
    "tau": _rllib(_RATE, "SAC: soft target-network update rate"),
    "train_batch_size_per_learner": _rllib(_ints(1, MAX_BATCH), "env steps per training batch of a learner"),
    "train_batch_size": _rllib(_ints(1, MAX_BATCH), "env steps per training batch (old name)"),
    "minibatch_size": _rllib(or_null(_ints(1, MAX_BATCH)), "PPO: SGD minibatch (<= the train batch)"),
    "num_epochs": _rllib(_ints(1, 10_000), "PPO: passes over each train batch"),
    "clip_param": _rllib(_POS, "PPO: clip of the probability ratio"),
    "vf_clip_param": _rllib(_POS, "PPO: clip of the value-function loss"),
    "grad_clip": _rllib(or_null(_POS), "gradient clip (null: none)"),
    "entropy_coeff": _rllib(_schedule(_NONNEG), "weight of the entropy bonus"),
    "vf_loss_coeff": _rllib(_NONNEG, "weight of the value-function loss"),
    "kl_coeff": _rllib(_NONNEG, "PPO: initial weight of the KL penalty"),
    "kl_target": _rllib(_POS, "PPO: target KL divergence"),
    "initial_alpha": _rllib(_POS, "SAC: initial entropy temperature"),
    "target_network_update_freq": _rllib(_ints(0, MAX_BATCH), "DQN: env steps between target updates"),
    "num_steps_sampled_before_learning_starts": _rllib(_ints(0, MAX_BATCH),
                                                       "off-policy: env steps before the first update"),
    "min_sample_timesteps_per_iteration": _rllib(_ints(0, MAX_BATCH), "env steps sampled per iteration (at least)"),
    "min_time_s_per_iteration": _rllib(or_null(_NONNEG), "seconds per iteration (at least; null: none)"),
    "rollout_fragment_length": _rllib(_or_auto(_ints(1, MAX_BATCH)), "env steps per sample of an env runner"),
    "n_step": _rllib(_ints(1, 1000), "off-policy: steps of the n-step return"),
    "num_atoms": _rllib(_ints(1, 1000), "DQN: atoms of the distributional Q (1: plain DQN)"),
    "epsilon": _rllib(_schedule(_UNIT), "DQN: exploration rate"),
    "sigma0": _rllib(_NONNEG, "DQN: initial noise of noisy networks"),
    "training_intensity": _rllib(or_null(_POS), "off-policy: trained over sampled steps (null: natural)"),
    "min_train_timesteps_per_iteration": _rllib(_ints(0, MAX_BATCH), "steps trained per iteration (at least)"),
    # IMPALA / APPO (V-trace, Espeholt et al. 2018): the truncation levels rho-bar and
    # c-bar of the importance weights must be > 0 (0 zeroes every correction; RLlib
    # accepts it and learns nothing). RLlib 2.60 supports only vtrace: true.
    "vtrace": _rllib(Check(lambda x: x is True, "true (RLlib 2.60's IMPALA and APPO support only V-trace)",
                           reason=_WHY), "IMPALA / APPO: V-trace off-policy correction"),
    "vtrace_clip_rho_threshold": _rllib(_POS, "IMPALA / APPO: rho-bar, truncation of the value target"),
    "vtrace_clip_pg_rho_threshold": _rllib(_POS, "IMPALA / APPO: truncation of the policy gradient"),
    "broadcast_interval": _rllib(_ints(1, MAX_BATCH), "IMPALA / APPO: updates between weight broadcasts"),
    "circular_buffer_num_batches": _rllib(_ints(1, 100_000), "APPO: batches kept in the circular buffer"),
    "circular_buffer_iterations_per_batch": _rllib(_ints(1, 100_000), "APPO: times each batch is learned from"),
    "target_worker_clipping": _rllib(_POS, "APPO: clip of the target-network ratio"),
    "timeout_s_sampler_manager": _rllib(_NONNEG, "IMPALA / APPO: seconds to wait for samples"),
    "timeout_s_aggregator_manager": _rllib(_NONNEG, "IMPALA / APPO: seconds to wait for aggregation"),
    "grad_clip_by": _rllib(Check(lambda x: x in ("value", "norm", "global_norm"),
                                 "one of 'value', 'norm', 'global_norm'", reason=_WHY), "what grad_clip bounds"),
}
#: algorithm.model keys that size a network
#: the model keys that list hidden layers (all checked by one rule)
_HIDDEN = {"fcnet_hiddens": "units of each hidden layer",
           "head_fcnet_hiddens": "hidden layers of the policy / value heads",
           "pi_head_fcnet_hiddens": "hidden layers of the policy head",
           "vf_head_fcnet_hiddens": "hidden layers of the value head",
           "critic_hiddens": "hidden layers of the centralised critic"}
MODEL: dict[str, Param] = {
    **{key: _rllib(_LAYERS, doc) for key, doc in _HIDDEN.items()},
    "lstm_cell_size": _rllib(_ints(1, MAX_WIDTH), "units of an LSTM cell"),
    "max_seq_len": _rllib(_ints(1, MAX_SESSIONS), "LSTM: steps of one training sequence"),
}
#: algorithm.settings.replay_buffer_config keys
REPLAY: dict[str, Param] = {
    "capacity": _rllib(_ints(1, MAX_BATCH), "transitions (or episodes) the buffer holds"),
    "alpha": _rllib(_UNIT, "prioritised replay: priority exponent"),
    "beta": _rllib(_UNIT, "prioritised replay: importance-weight exponent"),
}


def _batch(cfg: dict, key: str):
    value = cfg["algorithm"]["settings"].get(key)
    return value if is_int(value) else None


RULES = (
    Rule("algorithm.settings.minibatch_size",
         lambda c: None in (_batch(c, "minibatch_size"), _batch(c, "train_batch_size_per_learner"))
         or _batch(c, "minibatch_size") <= _batch(c, "train_batch_size_per_learner"),
         "minibatch larger than the train batch",
         lambda c: f"an integer <= train_batch_size_per_learner ({_batch(c, 'train_batch_size_per_learner')})"
         + ("; RLlib checks this on a stacked population too, where the minibatch counts rows and the "
            "train batch sub-environment steps of env.block sessions: a smaller block puts the same rows "
            "in more steps"
            if (c.get("env") or {}).get("stacked") else "")),
)


def check_numeric(cfg: dict, file: str | None = None) -> None:
    """Raise SpecError for a known setting of ``cfg["algorithm"]`` out of its range."""
    algo = cfg["algorithm"]
    check_present(algo["settings"], SETTINGS, "algorithm.settings", file)
    check_present(algo["model"], MODEL, "algorithm.model", file)
    replay = algo["settings"].get("replay_buffer_config")
    if isinstance(replay, dict):
        check_present(replay, REPLAY, "algorithm.settings.replay_buffer_config", file)
    check_rules(cfg, RULES, file)
