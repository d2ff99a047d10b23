"""What can be named in a file: every registered market, agent type, process, learner,
evaluation and experiment kind, and every shipped economy (``marketsai list``).

Why one place: a user who installed a plugin (an entry point in ``marketsai.<kind>``)
or wrote a new market should see it beside the shipped ones without reading the source.
Listing imports no deep-learning code: kinds whose module is imported on demand are
listed by name and module.
"""

from __future__ import annotations

import importlib

#: registries that may not exist in every installation: section -> (module, attribute)
OPTIONAL_REGISTRIES = {
    "learners": ("marketsai.learners", "learners"),
    "evaluations": ("marketsai.analysis.evaluations", "evaluations"),
}

#: one line per process kind of :data:`marketsai.processes.PROCESS_KINDS`
PROCESS_TEXT = {
    "ar1": "an AR(1) process discretised to a Markov chain (Rouwenhorst or Tauchen)",
    "markov": "a finite Markov chain: values, transition matrix, initial distribution",
    "krusell_smith": "the joint (z, e) chain of Krusell and Smith (1998)",
}


def _describe(cls) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    first = doc[0].strip() if doc else ""
    return f"{cls.__module__}.{cls.__qualname__}" + (f" -- {first}" if first else "")


def _registry_rows(registry) -> list[tuple[str, str]]:
    return [(name, _describe(registry.get(name))) for name in registry.names()]


def optional_registry(section: str):
    """The registry of an optional section, or None where its module is not installed.

    The one place that knows where such registries live (:data:`OPTIONAL_REGISTRIES`).

    Parameters
    ----------
    section : str
        A key of :data:`OPTIONAL_REGISTRIES` (``learners``, ``evaluations``).

    Returns
    -------
    Registry or None
    """
    module_name, attr = OPTIONAL_REGISTRIES[section]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):  # the module itself is absent
            return None
        raise
    return getattr(module, attr, None)


def catalog() -> dict[str, list[tuple[str, str]]]:
    """Every name a file can use, by section: ``{section: [(name, what it is), ...]}``.

    Plugins registered by entry point are included; sections whose registry is not
    installed are left out.

    Returns
    -------
    dict of str to list of (str, str)

    Examples
    --------
    >>> cat = catalog()
    >>> {"bertrand_logit", "capital_rental"} <= {name for name, _ in cat["markets"]}
    True
    >>> "household" in dict(cat["agent types"]), "ar1" in dict(cat["processes"])
    (True, True)
    >>> {"tabular", "learn", "rllib", "interventions"} <= set(dict(cat["experiment kinds"]))
    True
    >>> dict(cat["economies"])["bertrand_duopoly"][:19]  # shipped economy files, by name
    'Calvano et al. (202'

    """
    from marketsai.agents import agent_types
    from marketsai.markets import markets
    from marketsai.processes import PROCESS_KINDS
    from marketsai.runner.kinds import experiment_kinds
    from marketsai.shipped import shipped_rows

    out = {
        "markets": _registry_rows(markets),
        "agent types": _registry_rows(agent_types),
        "processes": [(name, PROCESS_TEXT.get(name, f"processes: {{kind: {name}}}"))
                      for name in PROCESS_KINDS],
    }
    for section in OPTIONAL_REGISTRIES:
        registry = optional_registry(section)
        if registry is not None:
            out[section] = _registry_rows(registry)
    out["experiment kinds"] = _registry_rows(experiment_kinds)
    out["economies"] = shipped_rows()
    return out


def catalog_text() -> str:
    """:func:`catalog` as the text ``marketsai list`` prints."""
    lines = []
    for section, rows in catalog().items():
        lines.append(f"{section}:")
        width = max((len(n) for n, _ in rows), default=0)
        lines += [f"  {name:<{width}}  {what}" for name, what in rows]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
