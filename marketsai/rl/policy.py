"""Trained RLlib policies as plain greedy functions ``observations -> actions``.

Why separate from evaluation: the measures (profit gain, limit cycles, impulse
responses) come from :mod:`marketsai.analysis` and only need an economy and a way to
ask "what does agent i do given this observation?". This module answers that from a
checkpoint, without building an ``Algorithm`` (no env runners, no learners): it loads
the trained RLModules and applies each one's deterministic (greedy) action:

* DQN: ``argmax`` of the Q-values (RLlib's inference forward pass returns it);
* PPO / centralised critic / SAC-discrete: the mode of the action distribution;
* continuous actions: the distribution's mean (squashed for SAC), mapped from RLlib's
  normalised [-1, 1] range to the economy's action interval, as RLlib's env runners do
  (``normalize_actions=True``, the default).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

RL_MODULE_SUBDIR = Path("learner_group") / "learner" / "rl_module"


def module_dir(checkpoint: str | Path) -> Path:
    """The MultiRLModule folder inside an Algorithm checkpoint."""
    path = Path(checkpoint) / RL_MODULE_SUBDIR
    if not path.is_dir():
        raise FileNotFoundError(f"{checkpoint} is not an RLlib Algorithm checkpoint "
                                f"(no {RL_MODULE_SUBDIR}/ inside)")
    return path


class GreedyPolicies:
    """Greedy actions of every agent from a checkpoint's RLModules.

    ``mapping`` is agent -> module id (as in training); ``action_spaces`` the env's.
    ``multi``: modules already built (from a safe export, :mod:`marketsai.rl.export`);
    otherwise they are read from ``checkpoint`` with ``RLModule.from_checkpoint``, which
    unpickles files of the checkpoint -- only for checkpoints you trust.
    """

    def __init__(self, checkpoint: str | Path | None, mapping: dict[str, str], action_spaces: dict,
                 normalize_actions: bool = True, *, multi=None):
        import torch  # noqa: F401  (RLModules are torch modules)

        if multi is None:
            from ray.rllib.core.rl_module.rl_module import RLModule
            multi = RLModule.from_checkpoint(module_dir(checkpoint))
        self.multi = multi
        self.mapping = dict(mapping)
        missing = sorted(set(self.mapping.values()) - set(self.multi.keys()))
        if missing:
            raise KeyError(f"checkpoint has no module(s) {missing}; it has {sorted(self.multi.keys())}")
        self.action_spaces = dict(action_spaces)
        self.normalize_actions = normalize_actions

    def act_batch(self, agent: str, obs: np.ndarray) -> np.ndarray:
        """Greedy actions of ``agent`` for a batch of observations ``(B, obs_dim)``."""
        import torch
        from ray.rllib.core.columns import Columns

        module = self.multi[self.mapping[agent]]
        with torch.no_grad():
            out = module.forward_inference({Columns.OBS: torch.as_tensor(np.asarray(obs, np.float32))})
            if Columns.ACTIONS in out:
                actions = out[Columns.ACTIONS]
            else:
                dist = module.get_inference_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
                actions = dist.to_deterministic().sample()
        actions = actions.cpu().numpy()
        space = self.action_spaces[agent]
        if isinstance(space, gym.spaces.Box):
            actions = actions.reshape((-1,) + space.shape).astype(np.float64)
            if self.normalize_actions:
                lo, hi = space.low.astype(np.float64), space.high.astype(np.float64)
                actions = lo + (np.clip(actions, -1.0, 1.0) + 1.0) * (hi - lo) / 2.0
            return np.clip(actions, space.low, space.high)
        return actions.astype(np.int64).reshape(-1)

    def act(self, observations: dict) -> dict:
        """One greedy action per agent for one period's observations."""
        out = {}
        for agent, obs in observations.items():
            a = self.act_batch(agent, np.asarray(obs)[None])[0]
            out[agent] = int(a) if np.ndim(a) == 0 else a
        return out
