"""One seed of a seed-batched learner's unit as a policy export (``policy.json`` + ``weights.npz``).

Why: ``dqn_batched``, ``sac_batched`` and ``ppo_batched`` keep every seed of a unit in one
torch file (``RUN/units/<chunk id>/<learner>.pt``), and a seed's policy should still travel
alone (issue 20: export stays per seed). :func:`export_seed` writes the members of one seed
(with ``policies: agent`` one network per agent, else the seed's shared one) in the format
of :mod:`marketsai.rl.export`; :func:`load_seed_export` rebuilds the policy the run
evaluated from our code -- the run class's ``policy_net``: the greedy Q-value (DQN), the
actor's most probable price (SAC on a grid, PPO), the actor's mean mapped onto the interval
(SAC on an interval) -- after checking every array against the network the settings build.
Nothing in an export is unpickled.

Reading the unit's torch file: ``torch.load(weights_only=True)``, torch's restricted
unpickler, with an allowlist of the only types such a file holds beside tensors and plain
containers (numpy arrays and dtypes, ``bytes``, the sessions' :class:`EconomyState`); it
builds nothing else and runs no function the file names. A file that needs anything more is
refused, not read the unsafe way. The file's ``key`` (economy, settings, seeds, root seed,
as training wrote it) says which run class wrote it; the class's ``policy_state`` finds the
members' policy networks in the saved learner state, and nothing is built but the export
(no learner, no Ray, no replay rings).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from marketsai.errors import SpecError
from marketsai.rl.batched_dqn import seed_info, seed_members, seed_policy
from marketsai.rl.ensemble import member_layers
from marketsai.rl.export import (
    batched_checkpoints,
    export_policy,
    module_weights,
    read_meta,
    read_weights,
    write_export,
)

#: the module id of a seed's one network when its agents share it (``policies: shared``)
SHARED_MODULE_ID = "shared"


def unit_checkpoint(path: str | Path) -> tuple[Path, str] | None:
    """``(file, learner name)`` when ``path`` is a seed-batched learner's checkpoint file or
    a unit folder holding one; ``None`` for anything else."""
    path = Path(path)
    batched = batched_checkpoints()
    if path.is_file():
        return (path.resolve(), batched[path.name]) if path.name in batched else None
    found = [(path.resolve() / file, name) for file, name in batched.items() if (path / file).is_file()]
    if len(found) > 1:
        raise SpecError("the unit folder holds the checkpoints of several batched learners; name the file",
                        path="CHECKPOINT", value=str(path), allowed=", ".join(str(f) for f, _ in found))
    return found[0] if found else None


def read_unit(file: Path) -> dict:
    """A batched unit's checkpoint, read by torch's restricted unpickler (see the module
    docstring for the allowlist)."""
    import torch

    from marketsai.dynamics import EconomyState
    rebuild_array = np.zeros(0).__reduce__()[0]  # the function numpy pickles an array with
    numeric = {type(np.dtype(c)) for c in np.typecodes["All"] if c not in "OUSVMmT"}  # no object/str dtypes
    allowed = [np.ndarray, np.dtype, rebuild_array, bytes, EconomyState, *numeric]
    try:
        with torch.serialization.safe_globals(allowed):
            snap = torch.load(file, map_location="cpu", weights_only=True)
        key = json.loads(snap["key"])
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, KeyError, IndexError, TypeError,
            ValueError) as exc:
        first = type(exc).__name__ + ": " + (str(exc).strip().splitlines() or [""])[0][:160]
        raise SpecError(f"not readable as a batched learner's checkpoint by torch's restricted loader "
                        f"(weights_only, numpy arrays and the sessions' state allowed; {first})",
                        path="CHECKPOINT", value=str(file),
                        allowed="a dqn_batched / sac_batched / ppo_batched unit file written by marketsai") from None
    return {"economy": key[0], "settings": key[1], "seeds": [int(s) for s in key[2]], "root_seed": int(key[3]),
            "run": snap["run"]}


def export_checkpoint(checkpoint: str | Path, out: str | Path, *, experiment: str | Path | None = None,
                      seed: int | None = None) -> Path:
    """``marketsai export``: seed ``seed`` of a batched learner's unit (its ``<learner>.pt``
    or the unit folder), or the policies of an RLlib checkpoint
    (:func:`~marketsai.rl.export.export_policy`, which unpickles: trusted checkpoints only)."""
    unit = unit_checkpoint(checkpoint)
    if unit is not None:
        if experiment:
            raise SpecError("a batched learner's unit carries its economy and settings; --experiment is not used",
                            path="--experiment", value=str(experiment))
        return export_seed(*unit, seed, out)
    if seed is not None:
        raise SpecError("--seed picks a seed of a seed-batched learner's unit; an RLlib checkpoint holds one seed",
                        path="--seed", value=seed, allowed="no --seed, or a RUN/units/<chunk id>/<learner>.pt")
    return export_policy(checkpoint, out, experiment=experiment)


def export_seed(file: Path, learner_name: str, seed: int | None, out: str | Path) -> Path:
    """Write seed ``seed``'s policy of the batched unit ``file`` (a checkpoint of
    ``learner_name``) as a policy export in ``out``."""
    from marketsai.economy import Economy
    from marketsai.learners import learners

    unit = read_unit(file)
    seeds = unit["seeds"]
    if seed is None or int(seed) not in seeds:
        raise SpecError("name a seed that the unit holds" if seed is None else "the unit does not hold this seed",
                        path="--seed", value=seed, allowed=f"a seed of {file.name}: {', '.join(map(str, seeds))}")
    econ = Economy.from_dict(unit["economy"])
    learner = learners.get(learner_name)
    settings = checked_settings(learner, unit["settings"], "CHECKPOINT.key.settings")
    run_class = learner().run_class_for(econ)
    state = run_class.policy_state(settings, unit["run"]["ensemble"])
    s = seeds.index(int(seed))
    mapping = member_ids(run_class.actors_of(econ).actors, settings["policies"] == "agent")
    mids = list(dict.fromkeys(mapping.values()))
    arrays = {}
    for mid, m in zip(mids, seed_members(s, len(mids)), strict=True):
        for i, (w, b) in enumerate(member_layers(state, m)):
            arrays[f"{mid}/weights.{i}"], arrays[f"{mid}/biases.{i}"] = w, b
    described = {mid: {k[len(mid) + 1:]: {"shape": list(a.shape), "dtype": str(a.dtype)}
                       for k, a in arrays.items() if k.startswith(f"{mid}/")} for mid in mids}
    name = file.parents[2].name if file.parent.parent.name == "units" else file.stem  # RUN/units/<chunk>/
    experiment = {"name": name, "seed": int(seed), "root_seed": unit["root_seed"],
                  "learner": {"name": learner_name, "settings": settings}, "economy": unit["economy"],
                  "evaluation": evaluation_defaults()}
    return write_export(out, arrays, {"algorithm": learner_name, "experiment": experiment, "mapping": mapping,
                                      "modules": described, "source_checkpoint": str(file),
                                      "info": seed_info(seed, s, unit["run"], settings["sessions"])})


def checked_settings(learner, settings, path: str) -> dict:
    """A batched learner's ``settings`` as a file holds them, checked as the learner checks
    its own (a bad value: an error naming ``path``, the key and what is allowed)."""
    from marketsai.params import validate_mapping
    return validate_mapping(settings, learner.settings, path, "settings")


def member_ids(actors, per_agent: bool) -> dict:
    """agent -> module id of a seed's members: each agent's own network, or one shared."""
    return {a: a if per_agent else SHARED_MODULE_ID for a in actors}


def evaluation_defaults() -> dict:
    """What ``marketsai evaluate`` plays an export with: the ``evaluation`` section of a
    ``kind: rllib`` file at its defaults (as for an RLlib learner's export)."""
    from marketsai.rl.spec import RL_SCHEMA
    from marketsai.runner.schema import resolve
    return resolve({}, RL_SCHEMA["evaluation"])


def is_seed_export(meta: dict) -> bool:
    """Whether an export's ``policy.json`` (read by :func:`~marketsai.rl.export.read_meta`)
    holds a seed of a batched learner."""
    return meta.get("algorithm") in batched_checkpoints().values()


def load_seed_export(folder: str | Path):
    """``(economy, policy, experiment)`` of a seed's export: the policy the run evaluated,
    rebuilt from our code and the export's arrays; never unpickles."""
    from marketsai.economy import Economy
    from marketsai.learners import learners

    folder = Path(folder).resolve()
    meta = read_meta(folder)
    if not is_seed_export(meta):
        raise SpecError("not the export of a seed-batched learner's seed", path="EXPORT.algorithm",
                        value=meta.get("algorithm"), allowed=", ".join(sorted(batched_checkpoints().values())))
    exp = meta["experiment"]
    learner = learners.get(meta["algorithm"])
    settings = checked_settings(learner, exp["learner"]["settings"], "EXPORT.experiment.learner.settings")
    econ = Economy.from_dict(exp["economy"])
    run_class = learner().run_class_for(econ)
    grid = run_class.actors_of(econ)
    mapping = member_ids(grid.actors, settings["policies"] == "agent")
    if mapping != meta["mapping"]:
        raise SpecError("the export's agent -> module mapping does not match its settings",
                        path="EXPORT.mapping", value=meta["mapping"], allowed=str(mapping))
    sizes = [grid.obs_dim, *settings["hiddens"], run_class.policy_outputs(grid)]
    want = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        want[f"weights.{i}"], want[f"biases.{i}"] = (a, b), (b,)
    arrays, nets = read_weights(folder), []
    for mid in dict.fromkeys(mapping.values()):
        got = module_weights(arrays, mid, want, folder)
        layers = [(got[f"weights.{i}"].astype(np.float32), got[f"biases.{i}"].astype(np.float32))
                  for i in range(len(sizes) - 1)]
        nets.append(run_class.policy_net(layers, grid))
    return econ, seed_policy(nets, grid.actors, dict(meta.get("info") or {})), exp
