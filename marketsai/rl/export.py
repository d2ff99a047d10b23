"""A policy export that holds only data: weights (``.npz``) and a JSON description.

Why: an RLlib checkpoint is a folder of pickles. ``RLModule.from_checkpoint`` unpickles
``class_and_ctor_args.pkl`` and the module state, and unpickling runs whatever code the
file names -- evaluating a checkpoint someone sent you runs their code. An export is
safe to receive:

* ``policy.json`` -- format and version, the resolved experiment (economy inline),
  agent -> module mapping, every array's name, shape and dtype, and the SHA-256 of
  the weights file;
* ``weights.npz`` -- one array per parameter, read with ``allow_pickle=False`` (object
  arrays, the one way an ``.npz`` can carry a pickle, are refused).

:func:`load_export` rebuilds the networks from *our* code and the experiment (the same
:func:`~marketsai.rl.algorithms.build_config` that training used), checks every array
against the freshly built module (names, shapes, dtypes: nothing missing, nothing
extra) and loads them. Nothing in the folder is executed. Making an export
(:func:`export_policy`) reads the checkpoint the unsafe way, so do it only on
checkpoints you trust -- your own.

Also here, the other ways to get modules without an ``Algorithm``: :func:`load_module`
(one module of a trusted checkpoint) and :func:`untrained_policies` (the fresh modules a
run starts from: the ``untrained`` baseline).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from marketsai.errors import SpecError
from marketsai.rl.policy import RL_MODULE_SUBDIR, STACKED_MODULE_ID, GreedyPolicies
from marketsai.runner.store import atomic_write_text, file_sha256, json_text

FORMAT = "marketsai-policy"
VERSION = 1
META = "policy.json"
WEIGHTS = "weights.npz"
UNSAFE_WARNING = ("{what} is a raw RLlib checkpoint: loading it unpickles files from the "
                  "folder, which can execute arbitrary code. Only load checkpoints you made "
                  "or trust; share policies as `marketsai export` folders, which hold data only.")


class UnsafeCheckpointWarning(UserWarning):
    """Loading a raw RLlib checkpoint (pickles) -- see :data:`UNSAFE_WARNING`."""


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is a policy export folder (it has ``policy.json``)."""
    return (Path(path) / META).is_file()


def warn_unsafe(path) -> None:
    warnings.warn(UNSAFE_WARNING.format(what=str(path)), UnsafeCheckpointWarning, stacklevel=3)


def find_experiment(checkpoint: str | Path) -> Path:
    """The run folder's ``experiment.yaml`` above a checkpoint (up to 4 levels)."""
    from marketsai.rl.train import EXPERIMENT_FILE

    path = Path(checkpoint).resolve()
    for parent in [path, *path.parents][:5]:
        if (parent / EXPERIMENT_FILE).is_file():
            return parent / EXPERIMENT_FILE
    refuse_batched_unit(checkpoint)
    raise SpecError(f"no {EXPERIMENT_FILE} found above the checkpoint; pass --experiment",
                    path="CHECKPOINT", value=str(checkpoint),
                    allowed="a checkpoint_* folder inside a kind: rllib or kind: learn run folder")


def refuse_batched_unit(checkpoint: str | Path) -> None:
    """Stop with a message saying how to export a seed when ``checkpoint`` is (or lies in) a
    seed-batched learner's unit: its torch file is no RLlib checkpoint."""
    from marketsai.rl.spec import rllib_names

    path = Path(checkpoint).resolve()
    batched = batched_checkpoints()
    for parent in [path, *path.parents][:5]:
        for file, learner in batched.items():
            if (parent / file).is_file():
                raise SpecError(
                    f"{parent / file} is the checkpoint of the {learner} learner (every seed of a "
                    f"unit in one torch file), not an RLlib checkpoint: `marketsai evaluate` reads a "
                    f"trial's checkpoint_* folder (kind: rllib, or kind: learn with "
                    f"{', '.join(rllib_names())}) or a policy export. Export one seed first: "
                    f"`marketsai export {parent / file} --seed S --out DIR`, then "
                    f"`marketsai evaluate DIR`", path="CHECKPOINT", value=str(checkpoint),
                    allowed="a checkpoint_* folder of an RLlib trial, or a policy export")


#: (learner registry generation, batched_checkpoints' answer for it)
_BATCHED: tuple[int, dict[str, str]] | None = None


def batched_checkpoints() -> dict[str, str]:
    """File name -> learner name of the seed-batched learners' checkpoints (``dqn_batched.pt``,
    ...: one torch file per unit, which export does not read). Read from the learner
    registry once, again only after a learner is registered or forgotten."""
    global _BATCHED
    from marketsai.learners import learners

    if _BATCHED is None or _BATCHED[0] != learners.generation:
        generation, found = learners.generation, {}
        for name in learners.names():
            file = getattr(getattr(learners.get(name), "run_class", None), "checkpoint", None)
            if isinstance(file, str):
                found[file] = name
        _BATCHED = (generation, found)
    return dict(_BATCHED[1])


def read_experiment(exp_file: str | Path):
    """The run's ``experiment.yaml`` as a checked :class:`~marketsai.rl.spec.RLExperimentSpec`.

    A ``kind: learn`` trial written before the learner put ``model`` under ``algorithm``
    also has it at top level, a copy of ``algorithm.model``; that copy is dropped so the
    checkpoints of those runs can still be exported. Any other unknown key is refused.
    """
    from marketsai.rl.spec import RLExperimentSpec
    from marketsai.yamlio import read_yaml

    exp_file = Path(exp_file)
    data = read_yaml(exp_file)
    if isinstance(data, dict) and "model" in data and data["model"] == (data.get("algorithm") or {}).get("model"):
        data = {k: v for k, v in data.items() if k != "model"}
    return RLExperimentSpec.from_dict(data, base_dir=exp_file.parent, file=exp_file)


def _spaces(spec, econ, env_config: dict):
    """agent -> module id, and each module's (observation, action) spaces as training had them.

    A stacked population's one RowModule reads a sub-environment's stacked rows, a vector
    run's one shared module (``env.sessions`` without ``stacked``) one agent's observation;
    both are RLlib's single-agent ``default_policy``, with the spaces of one
    sub-environment whatever the number of sessions. Every other run (per-agent, DQN / SAC
    sessions) has a module per policy id.
    """
    from marketsai.rl.algorithms import policy_ids, sessions_replay, stacked_population

    if spec.env.get("sessions") is not None and not sessions_replay(spec):
        creator = econ.stacked_env_creator() if stacked_population(spec) else econ.vector_env_creator()
        env = creator({**env_config, "num_envs": 1 if stacked_population(spec) else len(econ.actors)})
        return ({a: STACKED_MODULE_ID for a in econ.actors},
                {STACKED_MODULE_ID: (env.single_observation_space, env.single_action_space)})
    env = econ.rllib_env_creator()(dict(spec.env))
    mapping = policy_ids(econ, spec.policies)
    spaces = {}
    for agent, pid in mapping.items():
        spaces.setdefault(pid, (env.observation_spaces[agent], env.action_spaces[agent]))
    return mapping, spaces


def build_modules(spec, econ):
    """A fresh MultiRLModule for ``spec`` (untrained), built from our code only."""
    from marketsai.rl.algorithms import build_config
    config = build_config(spec, econ, "marketsai-export")
    mapping, spaces = _spaces(spec, econ, config.env_config)
    return config.get_multi_rl_module_spec(spaces=spaces).build(), mapping


def export_policy(checkpoint: str | Path, out: str | Path, experiment: str | Path | None = None) -> Path:
    """Write the greedy policies of a (trusted) checkpoint as ``out/policy.json`` + weights.

    Only the parameters of a freshly built module are exported (the learner's extra
    copies, such as target networks, are not needed to act). A seed of a seed-batched
    learner's unit: :func:`marketsai.rl.seed_export.export_seed`.
    """
    from marketsai.economy import Economy
    from marketsai.rl.train import resolved_experiment

    checkpoint = Path(checkpoint).resolve()
    if not checkpoint.is_dir():
        raise SpecError("not a checkpoint", path="CHECKPOINT", value=str(checkpoint),
                        allowed="a checkpoint_* folder of an RLlib trial, or a batched learner's "
                                + " / ".join(sorted(batched_checkpoints())))
    spec = read_experiment(experiment if experiment else find_experiment(checkpoint))
    econ = Economy.from_dict(spec.economy_dict())
    fresh, mapping = build_modules(spec, econ)
    warn_unsafe(checkpoint)
    trained = GreedyPolicies(checkpoint, mapping, {}).multi
    arrays, described = {}, {}
    for mid in sorted(set(mapping.values())):
        want = fresh[mid].state_dict()
        have = trained[mid].state_dict()
        for name, tensor in want.items():
            if name not in have or tuple(have[name].shape) != tuple(tensor.shape):
                raise SpecError(f"checkpoint module {mid!r} does not match the experiment "
                                f"(parameter {name})", path="CHECKPOINT", value=str(checkpoint))
            arrays[f"{mid}/{name}"] = have[name].detach().cpu().numpy()
        described[mid] = {name: {"shape": list(t.shape), "dtype": str(arrays[f"{mid}/{name}"].dtype)}
                          for name, t in want.items()}
    return write_export(out, arrays, {"algorithm": spec.algorithm, "experiment": resolved_experiment(spec, econ),
                                      "mapping": mapping, "modules": described,
                                      "source_checkpoint": str(checkpoint)})


def write_export(out: str | Path, arrays: dict, meta: dict) -> Path:
    """``out/weights.npz`` holding ``arrays`` (``"<module>/<parameter>"`` -> array) and
    ``out/policy.json``: ``meta`` with the format, version and the weights' SHA-256."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (".tmp-" + WEIGHTS)
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    tmp.replace(out / WEIGHTS)
    meta = {"format": FORMAT, "version": VERSION, **meta, "weights": WEIGHTS,
            "weights_sha256": file_sha256(out / WEIGHTS)}
    atomic_write_text(out / META, json_text(meta))
    return out


def read_meta(folder: str | Path) -> dict:
    """``policy.json`` of an export, checked (format, version, weights hash)."""
    folder = Path(folder)
    path = folder / META
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError(f"unreadable {META} ({type(exc).__name__})", path="EXPORT",
                        value=str(path)) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise SpecError("not a policy export of this version", path="EXPORT", value=str(path),
                        allowed=f"format {FORMAT!r}, version {VERSION}")
    for key in ("experiment", "mapping", "modules"):
        if not isinstance(meta.get(key), dict):
            raise SpecError(f"{META} has no {key!r} mapping", path=f"EXPORT.{key}", value=str(path))
    weights = folder / WEIGHTS
    if not weights.is_file() or file_sha256(weights) != meta.get("weights_sha256"):
        raise SpecError(f"{WEIGHTS} is missing or does not match the SHA-256 in {META}",
                        path="EXPORT", value=str(weights))
    return meta


def load_export(folder: str | Path):
    """``(spec, econ, multi_module, mapping)`` of an export; never unpickles."""
    import torch

    from marketsai.economy import Economy
    from marketsai.rl.spec import RLExperimentSpec

    folder = Path(folder).resolve()
    meta = read_meta(folder)
    if meta.get("algorithm") in batched_checkpoints().values():
        raise SpecError("the export of a seed-batched learner's seed: read it with "
                        "marketsai.rl.seed_export.load_seed_export", path="EXPORT.algorithm",
                        value=meta.get("algorithm"), allowed="the export of an RLlib checkpoint")
    spec = RLExperimentSpec.from_dict(meta["experiment"], base_dir=folder, file=folder / META)
    econ = Economy.from_dict(spec.economy_dict())
    multi, mapping = build_modules(spec, econ)
    if mapping != meta["mapping"]:
        raise SpecError("the export's agent -> module mapping does not match its experiment",
                        path="EXPORT.mapping", value=meta["mapping"], allowed=str(mapping))
    arrays = read_weights(folder)
    for mid in sorted(set(mapping.values())):
        want = multi[mid].state_dict()
        got = module_weights(arrays, mid, {name: tuple(t.shape) for name, t in want.items()}, folder)
        state = {name: torch.from_numpy(np.ascontiguousarray(got[name])).to(t.dtype) for name, t in want.items()}
        multi[mid].load_state_dict(state, strict=True)
        multi[mid].eval()
    return spec, econ, multi, mapping


def read_weights(folder: Path) -> dict:
    """Every array of an export's ``weights.npz``, read without unpickling."""
    try:
        with np.load(folder / WEIGHTS, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (ValueError, OSError) as exc:  # object arrays (pickles) are refused here
        raise SpecError(f"{WEIGHTS} cannot be read without unpickling ({str(exc)[:100]})",
                        path="EXPORT", value=str(folder / WEIGHTS),
                        allowed="numeric arrays only") from None


def module_weights(arrays: dict, mid: str, want: dict, folder: Path) -> dict:
    """Module ``mid``'s arrays (``parameter -> array``), checked against the parameters
    ``want`` (``name -> shape``) of the network our code builds: nothing missing, nothing
    extra, same shapes, numbers only."""
    prefix = f"{mid}/"
    got = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    if set(got) != set(want):
        diff = sorted(set(got) ^ set(want))[:3]
        raise SpecError(f"weights of module {mid!r} do not match the network the experiment "
                        f"builds (e.g. {diff})", path="EXPORT", value=str(folder / WEIGHTS))
    for name, shape in want.items():
        arr = got[name]
        if tuple(arr.shape) != tuple(shape) or arr.dtype.kind not in "fiub":
            raise SpecError(f"parameter {mid}/{name} has shape {arr.shape} ({arr.dtype})",
                            path="EXPORT", value=str(folder / WEIGHTS), allowed=f"shape {tuple(shape)}")
    return got


def untrained_policies(spec, econ, seed: int = 0) -> GreedyPolicies:
    """The greedy policy of the modules a per-agent RLlib run of ``spec`` starts from, freshly
    initialised with torch seed ``seed``: what an RLlib learner's ``initial_policy`` gives
    the ``untrained`` baseline (:func:`marketsai.analysis.evaluations.initial_policy`)."""
    import torch

    torch.manual_seed(seed)
    multi, mapping = build_modules(spec, econ)
    return GreedyPolicies(None, mapping, econ.parallel_env().action_spaces,
                          normalize_actions=spec.settings.get("normalize_actions", True), multi=multi)


def load_module(checkpoint: str | Path, module_id: str | None = None):
    """The RLModule ``module_id`` of an Algorithm checkpoint; ``None``: its only module (an
    ``env.sessions`` run's ``default_policy``, a DQN / SAC sessions run's group).
    Unpickles the checkpoint: only your own runs."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    modules = Path(checkpoint) / RL_MODULE_SUBDIR
    if module_id is None:
        found = sorted(p.name for p in modules.iterdir() if p.is_dir()) if modules.is_dir() else []
        if len(found) != 1:
            raise SpecError("name the module: the checkpoint does not hold exactly one", path="module_id",
                            value=None, allowed=", ".join(found) or "an Algorithm checkpoint folder")
        module_id = found[0]
    path = modules / module_id
    if not path.is_dir():
        raise SpecError("no such module in the checkpoint", path="checkpoint", value=str(path),
                        allowed="an Algorithm checkpoint folder holding learner_group/learner/rl_module/"
                                + module_id)
    warn_unsafe(checkpoint)
    return RLModule.from_checkpoint(str(path))
