"""Learners: registered classes that train on an economy and give back policies.

See :mod:`marketsai.learners.base` for the contract. Entries shipped here:
``q_learning`` (:mod:`~.q_learning`, the numba tabular engine), ``klein_q_learning``
(:mod:`~.klein`, Klein's sequential learners), ``reference`` (:mod:`~.reference`, a
solver's policy: the reference rows of the tables) and the RLlib algorithms
``DQN``, ``SAC``, ``PPO``, ``IMPALA``, ``APPO``, ``centralised_critic``
(:mod:`marketsai.rl.learners`, registered by entry point; ray is imported only when one trains)
and ``dqn_batched`` (:mod:`marketsai.rl.batched_dqn`: all seeds of a unit as one batched
ensemble; entry point; torch only, or RLlib's DQN learner with ``backend: rllib``) and ``sac_batched``
(:mod:`marketsai.rl.batched_sac`: SAC on an interval or a grid, all seeds of a unit as one RLModule in
RLlib's SAC learner; entry point) and ``ppo_batched`` (:mod:`marketsai.rl.batched_ppo`: PPO on a
grid, the same inside RLlib's PPO learner; entry point). Third-party learners register
by entry point (group ``marketsai.learners``) or are named by import path.

>>> from marketsai.learners import learners
>>> learners.get("q_learning").settings["alpha"].default
0.15
>>> learners.get("q_lerning")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
marketsai.errors.SpecError: <root> = 'q_lerning': unknown learners type; did you mean 'q_learning'? (allowed: APPO, DQN, IMPALA, PPO, SAC, centralised_critic, ...q_learning, reference, ...or an import path 'package.module:Class')
"""

from marketsai.learners import klein, q_learning, reference  # noqa: F401  (register the entries)
from marketsai.learners.base import Learner, checked, learners

__all__ = ["Learner", "checked", "learners"]
