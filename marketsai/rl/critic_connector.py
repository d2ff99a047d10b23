"""Learner connector piece: the global observation the centralised critic learns from.

RLlib's learner connector pipeline turns sampled episodes into per-module train batches
(``AddObservationsFromEpisodesToBatch`` ... ``AgentToModuleMapping``,
``BatchIndividualItems``, ``NumpyToTensor``) and PPO's learner then appends
``GeneralAdvantageEstimation``, which calls each module's ``compute_values(batch)``.
This piece sits right after ``AddObservationsFromEpisodesToBatch`` and adds, for every
row of every agent, the column :data:`~marketsai.rl.critic_module.GLOBAL_OBS`:

    [obs of agent 0 at t, ..., obs of agent n-1 at t, one_hot(own index)]

Because GAE runs later in the same pipeline, advantages are computed from the
*central* value, and the loss sees the same column. Rows are keyed exactly as RLlib's
own observation column (multi-agent episode id, agent id, module id), so the column
lines up with ``obs``, ``actions`` and ``rewards`` after agent-to-module mapping.

The economies this layer trains are simultaneous-move games: every agent acts every
period, so all agents' single-agent episodes of one multi-agent episode chunk have the
same length and are aligned in time. A chunk where that fails is an error, not a guess.
"""

from __future__ import annotations

import numpy as np
from ray.rllib.connectors.connector_v2 import ConnectorV2

from marketsai.rl.critic_module import GLOBAL_OBS


class AddGlobalObservations(ConnectorV2):
    """Add ``GLOBAL_OBS`` (all agents' observations + one-hot agent index) to the batch."""

    def __init__(self, input_observation_space=None, input_action_space=None, *,
                 agents: list[str], **kwargs):
        super().__init__(input_observation_space, input_action_space, **kwargs)
        self.agents = list(agents)
        self._index = {a: i for i, a in enumerate(self.agents)}

    def __call__(self, *, rl_module, batch, episodes, explore=None, shared_data=None, **kwargs):
        if GLOBAL_OBS in batch:
            return batch
        n = len(self.agents)
        by_id = {ep.id_: ep for ep in episodes}
        joint_cache: dict[str, np.ndarray] = {}
        for sa in self.single_agent_episode_iterator(episodes, agents_that_stepped_only=False):
            ma = by_id[sa.multi_agent_episode_id]
            length = len(sa)
            joint = joint_cache.get(ma.id_)
            if joint is None:
                joint = joint_cache[ma.id_] = self._joint_observations(ma, length)
            if joint.shape[0] != length:
                raise RuntimeError(f"agent {sa.agent_id!r} has {length} steps in episode chunk "
                                   f"{ma.id_}, others {joint.shape[0]}: the centralised critic "
                                   "needs simultaneous moves (every agent acts every period)")
            one_hot = np.zeros((length, n), np.float32)
            one_hot[:, self._index[sa.agent_id]] = 1.0
            self.add_n_batch_items(batch, GLOBAL_OBS,
                                   items_to_add=np.concatenate([joint, one_hot], axis=1),
                                   num_items=length, single_agent_episode=sa)
        return batch

    def _joint_observations(self, ma, length: int) -> np.ndarray:
        parts = []
        for agent in self.agents:
            if agent not in ma.agent_episodes:
                raise RuntimeError(f"agent {agent!r} missing from episode chunk {ma.id_}: the "
                                   "centralised critic needs every agent in every period")
            sa = ma.agent_episodes[agent]
            if len(sa) != length:
                raise RuntimeError(f"agents' episode chunks differ in length ({len(sa)} vs {length}) "
                                   f"in {ma.id_}: the centralised critic needs simultaneous moves")
            obs = np.asarray(sa.get_observations(slice(0, length)), dtype=np.float32)
            parts.append(obs.reshape(length, -1))
        return np.concatenate(parts, axis=1)
