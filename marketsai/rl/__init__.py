"""Deep RL with RLlib (new API stack): a thin layer over the economy's environments.

Importing this package does not import ray or torch; the modules that need them do.

* :mod:`~marketsai.rl.spec` -- experiment files (``kind: rllib``) and their validation;
* :mod:`~marketsai.rl.algorithms` -- a registered RLlib learner (:mod:`marketsai.rl.learners`:
  DQN, SAC, PPO, IMPALA, APPO, centralised critic) and a spec -> ``AlgorithmConfig``,
  settings checked against RLlib's attributes;
* :mod:`~marketsai.rl.critic_module`, :mod:`~marketsai.rl.critic_connector`,
  :mod:`~marketsai.rl.critic_learner` -- the centralised critic (MAPPO-style);
* :mod:`~marketsai.rl.envs` -- registering an economy's env with Tune;
* :mod:`~marketsai.rl.train` -- the ``rllib`` experiment kind of the runner (one seed a unit,
  a Ray Tune trial): checkpoints, resume, logs;
* :mod:`~marketsai.rl.stacked` -- a shared policy over a stacked population (one network
  per row, per-row returns);
* :mod:`~marketsai.rl.policy` -- trained (or fresh) modules as
  :class:`~marketsai.policies.Policy` objects in economy units (the one action transform);
* :mod:`~marketsai.rl.evaluate` -- ``marketsai evaluate``: a checkpoint through the
  ``calvano`` evaluation of :mod:`marketsai.analysis`;
* :mod:`~marketsai.rl.commands` -- ``marketsai train`` / ``marketsai evaluate``.
"""

from marketsai.rl.spec import RLExperimentSpec, load_rl_experiment

__all__ = ["RLExperimentSpec", "load_rl_experiment"]
