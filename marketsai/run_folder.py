"""A finished run folder read back as Python objects: :func:`load_run`.

Why: a run folder is the one output of every experiment kind (``config.yaml``,
``results.parquet`` and further tables, ``summary.json``, ``figures/*.png``), so one
reader serves notebooks, reports and tests alike. It only reads: nothing is recomputed
or redrawn (``marketsai report`` does that).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from marketsai.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, eq=False)
class RunResults:
    """What one run folder holds: configuration, tables, summary and figures.

    Parameters
    ----------
    path : Path
        The run folder.
    config : dict
        The fully resolved configuration (``config.yaml``; itself a valid experiment file).
    tables : dict of str to pandas.DataFrame
        Every assembled table of the folder by name (``results`` -- one row per session or
        trial -- and kind-specific ones such as ``impulse_response``).
    summary : dict
        ``summary.json``: the kind's summary statistics (null values read as ``None``).
    figures : dict of str to Path
        ``figures/<name>.png`` by name, in name order.
    """

    path: Path
    config: dict
    tables: dict[str, pd.DataFrame]
    summary: dict
    figures: dict[str, Path]

    @property
    def results(self) -> pd.DataFrame:
        """The ``results`` table: one row per session (or per trial)."""
        return self.tables["results"]

    @property
    def kind(self) -> str:
        """The experiment kind that made the folder (``tabular``, ``rllib``, ...)."""
        return self.config.get("kind", "")

    def __repr__(self) -> str:
        tables = ", ".join(f"{k}[{len(v)}]" for k, v in self.tables.items())
        return (f"RunResults({str(self.path)!r}: kind {self.kind}; tables {tables}; "
                f"{len(self.summary)} summary keys; {len(self.figures)} figures)")


def load_run(folder: str | Path) -> RunResults:
    """Read a finished run folder (written by :func:`marketsai.run_experiment`).

    Parameters
    ----------
    folder : str or Path
        The run folder (``runs/<name>`` by default).

    Returns
    -------
    RunResults
        ``config``, ``tables`` (``results`` first among them), ``summary`` and the paths
        of the ``figures``.

    Raises
    ------
    SpecError
        The folder is not a run folder, the run has not finished (no ``results.parquet``
        or ``summary.json``), or a file in it cannot be read.

    Examples
    --------
    A tiny tabular run (two sessions, learning cut off early), read back:

    >>> import marketsai as mai
    >>> small = {"sessions": 2, "chunk_size": 2, "learner.max_periods": 5000,
    ...          "learner.stable_periods": 1000}
    >>> folder = mai.run_experiment("experiments/calvano2020/baseline.yaml",
    ...                             out=getfixture("tmp_path"), overrides=small, progress=False)
    >>> run = load_run(folder)
    >>> len(run.results), run.kind, list(run.tables)
    (2, 'tabular', ['results', 'benchmarks', 'impulse_response', 'learning_curve'])
    >>> run.config["sessions"], "profit_gain" in run.summary
    (2, True)
    >>> sorted(run.figures)[:2]
    ['cycle_lengths', 'impulse_response_best_response']
    """
    from marketsai.runner.store import RunFolder

    root = Path(folder)
    if not root.is_dir():
        raise SpecError("run folder not found", value=str(root),
                        allowed="a folder written by marketsai run / run_experiment")
    store = RunFolder(root)
    config = store.config()
    tables = store.tables()
    if "results" not in tables:
        raise SpecError("the run has not finished (no results.parquet)", value=str(root),
                        allowed="a finished run folder; rerun the same command to resume it")
    if not (root / "summary.json").is_file():
        raise SpecError("the run folder has no summary.json", value=str(root),
                        allowed="a finished run folder; `marketsai report` redraws the summary")
    tables = {"results": tables["results"], **{k: v for k, v in tables.items() if k != "results"}}
    figures = {p.stem: p for p in sorted((root / "figures").glob("*.png"))}
    return RunResults(path=root, config=config, tables=tables, summary=store.summary(),
                      figures=figures)
