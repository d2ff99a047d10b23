"""The Calvano duopoly as the tabular tests use it: the game of ``economies/bertrand_duopoly.yaml``
built by the economy layer. No fallback: if the economy path breaks, these tests must fail."""

from __future__ import annotations

from pathlib import Path

import marketsai as mai

DUOPOLY = Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml"


def calvano():
    """The duopoly's FiniteGame, from the economy file (absolute path: any working directory)."""
    return mai.load_economy(DUOPOLY).finite_game()
