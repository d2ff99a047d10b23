"""The smallest Calvano run that still exercises chunks, resume and the run folder: the
experiment the run-folder tests (hardening, disk errors, provenance) share."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tiny_experiment(seed: int, sessions: int = 6) -> dict:
    """A ``kind: tabular`` duopoly of ``sessions`` short sessions in chunks of 2."""
    return {
        "kind": "tabular", "name": "tiny", "economy": str(ROOT / "economies" / "bertrand_duopoly.yaml"),
        "seed": seed, "sessions": sessions, "chunk_size": 2,
        "learner": {"stable_periods": 50, "max_periods": 3000, "beta": 1e-3},
        "analysis": {"impulse_response": [], "equilibrium_check": False},
    }


def finished_run(folder: Path, experiment: dict) -> Path:
    """``experiment`` run to the end in ``folder/run`` (the module-scoped 'clean' run the
    run-folder tests compare an interrupted or failing run with)."""
    from marketsai.runner import run_experiment

    out = Path(folder) / "run"
    run_experiment(experiment, out=out, progress=False)
    return out
