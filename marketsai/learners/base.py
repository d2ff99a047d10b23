"""The learner contract: train on an economy for a batch of seeds, give back policies.

Why one contract: tabular Q-learning, every RLlib algorithm and a user's own rule
(best-response dynamics, a fixed price) all answer "given this economy and these
settings, what does each agent end up doing?". The runner, the resume rule and the
evaluations (:mod:`marketsai.policies`) need nothing else from them.

Contract
--------
* ``settings``: the learner's declared settings, ``name -> Param | dict`` (a section),
  the one dialect of :mod:`marketsai.params`: the runner fills every default, refuses
  unknown keys (naming the nearest) and ``marketsai validate`` prints them. A learner
  whose settings are an open mapping checked elsewhere (RLlib's ``AlgorithmConfig``
  attributes) sets ``open_settings = True``: undeclared keys pass to :meth:`check`.
* ``check(economy, settings) -> settings``: cross-field checks that need the economy
  (before any run folder exists); raise :class:`~marketsai.errors.SpecError` with the
  path below ``learner.settings``.
* ``train(economy, settings, seeds, run_dir, *, root_seed=0, threads=None,
  address=None) -> list[Policy]``: one policy per seed, in the order of ``seeds``. Why a
  batch: the tabular engine runs many sessions on all cores in one call, and a
  seed-batched deep learner steps seeds together. The result for seed ``s`` is a pure
  function of ``(economy, settings, root_seed, s)`` -- whatever else is in the batch,
  whatever ``threads`` -- so the runner may chunk, resume and distribute seeds freely.
  ``run_dir`` is the unit's own folder (it exists and was written for this exact unit:
  the runner empties a folder left by another configuration). A learner keeps there what
  it needs to resume: a rerun of the same unit after an interruption resumes or skips.
  A policy's ``info`` holds the learner's own diagnostics (``converged``, ``periods``,
  ``iterations``): one row of the run's results table, before the evaluations' columns.
* ``seeds_per_unit``: seeds per unit of the runner by default (``chunk_size`` overrides).
* ``keeps_policies(settings)`` / ``kept_policies(run_dir)`` (optional): whether training
  with these settings keeps each seed's policy at its checkpoints, and those kept in a
  unit folder (:mod:`marketsai.learners.kept_policies`), which an experiment's ``curve:``
  evaluations score into a learning curve. By default none are kept.

Adding a learner: subclass :class:`Learner` and register it, in your own package::

    from marketsai.learners import Learner, learners
    from marketsai.params import Param, positive_int

    @learners.register("my_rule")
    class MyRule(Learner):
        settings = {"rounds": Param(10, positive_int, "how many rounds")}

        def train(self, economy, settings, seeds, run_dir, **kw):
            return [my_policy(economy, settings, seed) for seed in seeds]

or declare an entry point ``[project.entry-points."marketsai.learners"] my_rule =
"mypkg.rules:MyRule"``; an experiment file may also name ``mypkg.rules:MyRule``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from marketsai.policies import Policy
from marketsai.registry import Registry


class Learner:
    """Base class of learners (see the module docstring)."""

    #: declared settings: ``name -> Param | dict`` (one dialect: :mod:`marketsai.params`)
    settings: ClassVar[dict] = {}
    #: undeclared settings are accepted and left to :meth:`check` (RLlib's config attributes)
    open_settings: ClassVar[bool] = False
    #: seeds per unit of the runner unless the experiment's ``chunk_size`` says otherwise
    seeds_per_unit: ClassVar[int] = 1
    #: the learner's libraries print logs of their own (Ray, RLlib); a run that is not
    #: ``verbose`` sends them to the run's log file (:mod:`marketsai.runner.console`)
    noisy: ClassVar[bool] = False
    #: training starts a Ray instance of its own (RLlib's Tune trials): the runner does not
    #: run its units side by side in local processes (``--processes``)
    starts_ray: ClassVar[bool] = False

    def is_noisy(self, settings: dict) -> bool:
        """Whether training with ``settings`` prints library logs (:attr:`noisy`, unless the
        settings choose the library)."""
        return self.noisy

    def check(self, economy, settings: dict) -> dict:
        """Cross-field checks that need the economy; return the (normalised) settings."""
        return settings

    def keeps_policies(self, settings: dict) -> bool:
        """Whether training with ``settings`` keeps policies along the way (a learning curve)."""
        return False

    def kept_policies(self, run_dir: Path) -> list[dict]:
        """The policies kept in the unit folder ``run_dir``, by period
        (:func:`marketsai.learners.kept_policies.kept`); none by default."""
        return []

    def train(self, economy, settings: dict, seeds: Sequence[int], run_dir: Path, *,
              root_seed: int = 0, threads: int | None = None,
              address: str | None = None) -> list[Policy]:
        """One greedy :class:`~marketsai.policies.Policy` per seed (see the module docstring)."""
        raise NotImplementedError


def checked(learner: Learner, economy, settings: dict, prefix: str) -> dict:
    """``learner.check`` with its errors on settings placed under ``prefix`` (the section
    of the experiment file holding the settings); other paths (``economy...``) as raised."""
    from marketsai.errors import SpecError
    try:
        return learner.check(economy, settings)
    except SpecError as err:
        head = err.path.split(".")[0].split("[")[0]
        raise (err.under(prefix) if head in learner.settings or head in settings else err) from None


#: every learner by name; entry point group ``marketsai.learners``
learners: Registry[Learner] = Registry("learners", Learner)
