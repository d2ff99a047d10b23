"""Trained RLlib modules as :class:`~marketsai.policies.Policy` objects in economy units.

Why here: the measures come from :mod:`marketsai.analysis` evaluations, which only need
an economy and a policy. This module answers "what does agent i do given this
observation?" from RLModules, without building an ``Algorithm`` (no env runners, no
learners), and holds the **one** action transform from a module's output to the
economy's units (:func:`economy_units`):

* DQN: ``argmax`` of the Q-values (RLlib's inference forward pass returns it);
* PPO / centralised critic / SAC-discrete: the mode of the action distribution;
* continuous actions: the distribution's deterministic value (squashed for SAC), mapped
  from RLlib's normalised [-1, 1] range to the action interval as RLlib's module-to-env
  connector does (``normalize_actions=True``, the default), then clipped to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

from marketsai.policies import Policy, SharedPolicy

RL_MODULE_SUBDIR = Path("learner_group") / "learner" / "rl_module"
#: the module id of a stacked population's RowModule (RLlib's single-agent default)
STACKED_MODULE_ID = "default_policy"


def module_dir(checkpoint: str | Path) -> Path:
    """The MultiRLModule folder inside an Algorithm checkpoint."""
    path = Path(checkpoint) / RL_MODULE_SUBDIR
    if not path.is_dir():
        raise FileNotFoundError(f"{checkpoint} is not an RLlib Algorithm checkpoint "
                                f"(no {RL_MODULE_SUBDIR}/ inside)")
    return path


def economy_units(actions: np.ndarray, space, normalize_actions: bool = True) -> np.ndarray:
    """A module's greedy actions ``(B, ...)`` in the economy's units: grid indices
    ``(B,)`` int64 for a discrete space; for a Box, values ``(B, *shape)`` unsquashed from
    [-1, 1] to its bounds when ``normalize_actions``, then clipped to them.

    >>> box = gym.spaces.Box(np.float32(1.0), np.float32(3.0), (1,))
    >>> economy_units(np.array([[-1.0], [0.0], [2.0]]), box).ravel().tolist()
    [1.0, 2.0, 3.0]
    >>> economy_units(np.array([[1.5]]), box, normalize_actions=False).ravel().tolist()
    [1.5]
    >>> economy_units(np.array([3, 1]), gym.spaces.Discrete(5)).tolist()
    [3, 1]
    """
    if not isinstance(space, gym.spaces.Box):
        return np.asarray(actions).astype(np.int64).reshape((-1,) + space.shape)
    lo, hi = space.low.astype(np.float64), space.high.astype(np.float64)
    a = np.asarray(actions, np.float64).reshape((-1,) + space.shape)
    if normalize_actions:
        a = lo + (np.clip(a, -1.0, 1.0) + 1.0) * (hi - lo) / 2.0
    return np.clip(a, lo, hi)


def greedy_module_actions(module, obs: np.ndarray, dist_cls=None) -> np.ndarray:
    """The module's deterministic actions on a batch of observations (module units)."""
    import torch
    from ray.rllib.core.columns import Columns

    with torch.no_grad():
        out = module.forward_inference({Columns.OBS: torch.as_tensor(np.asarray(obs, np.float32))})
        if Columns.ACTIONS in out and dist_cls is None:
            actions = out[Columns.ACTIONS]
        else:
            dist_cls = dist_cls or module.get_inference_action_dist_cls()
            actions = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS]).to_deterministic().sample()
    return actions.cpu().numpy()


class GreedyPolicies(Policy):
    """Greedy actions of every agent from RLModules, in economy units.

    ``mapping`` is agent -> module id (as in training); ``action_spaces`` the env's.
    ``multi``: modules already built (from a safe export, :mod:`marketsai.rl.export`);
    otherwise they are read from ``checkpoint`` with ``RLModule.from_checkpoint``, which
    unpickles files of the checkpoint -- only for checkpoints you trust.

    ``one_hot``: a stacked population's agents in row order (``policies: agent`` runs,
    :class:`~marketsai.envs.stacked.EconomyStackedEnv` with ``agent_ids``): agent ``i``'s
    observations get ``one_hot(i)`` appended, which selects its own head of the one
    RowModule.
    """

    def __init__(self, checkpoint: str | Path | None, mapping: dict[str, str], action_spaces: dict,
                 normalize_actions: bool = True, *, multi=None, one_hot: Sequence[str] | None = None):
        import torch  # noqa: F401  (RLModules are torch modules)

        if multi is None:
            from ray.rllib.core.rl_module.rl_module import RLModule
            multi = RLModule.from_checkpoint(module_dir(checkpoint))
        self.multi = multi
        self.mapping = dict(mapping)
        self.agents = tuple(self.mapping)
        missing = sorted(set(self.mapping.values()) - set(self.multi.keys()))
        if missing:
            raise KeyError(f"checkpoint has no module(s) {missing}; it has {sorted(self.multi.keys())}")
        self.action_spaces = dict(action_spaces)
        self.normalize_actions = normalize_actions
        self.one_hot = None if one_hot is None else list(one_hot)

    def observation(self, agent: str, obs: np.ndarray) -> np.ndarray:
        """What the module reads for ``agent``: ``(B, d)``, or ``(B, d + n_agents)`` with one-hots."""
        obs = np.asarray(obs, np.float32)
        if self.one_hot is None:
            return obs
        ids = np.zeros((len(obs), len(self.one_hot)), np.float32)
        ids[:, self.one_hot.index(agent)] = 1.0
        return np.concatenate([obs, ids], axis=1)

    def act(self, agent: str, observations: np.ndarray) -> np.ndarray:
        self._index(agent)
        module = self.multi[self.mapping[agent]]
        actions = greedy_module_actions(module, self.observation(agent, observations))
        return economy_units(actions, self.action_spaces[agent], self.normalize_actions)


class ModulePolicy(SharedPolicy):
    """One module shared by ``agents`` (a planner, N households), acting on their stacked
    observations in one forward pass (:meth:`~marketsai.policies.SharedPolicy.act_all`);
    called on a batch of observations, the ``(B, action_dim)`` actions.

    A stacked population's RowModule (``n_rows``) acts as one row: its training
    distribution and the first ``per_row`` bounds of its action space.
    """

    def __init__(self, module, agents: Sequence[str], normalize_actions: bool = True):
        self.module = module
        self.normalize_actions = normalize_actions
        space, self.dist_cls = module.action_space, None
        if hasattr(module, "n_rows"):
            self.dist_cls = module.get_train_action_dist_cls()
            if isinstance(space, gym.spaces.Box):
                k = module.per_row
                space = gym.spaces.Box(space.low.ravel()[:k], space.high.ravel()[:k], dtype=space.dtype)
        self.space = space
        super().__init__(agents, self.actions)

    def actions(self, obs: np.ndarray) -> np.ndarray:
        """``(B, action_dim)`` actions for a batch of any of the agents' observations."""
        a = economy_units(greedy_module_actions(self.module, obs, self.dist_cls), self.space,
                          self.normalize_actions)
        return a.reshape(len(a), -1)


def module_actor(module, normalize_actions: bool = True, agents: Sequence[str] = ()) -> ModulePolicy:
    """A module's greedy policy (callable: ``act(obs) -> (B, action_dim)`` in economy units)."""
    return ModulePolicy(module, agents, normalize_actions)
