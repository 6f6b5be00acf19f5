"""Which mutual health insurances belong to which analysis area (config ``mutuals.areas``).

The mutual registers carry no area or district column. Reading the area from the
mutual's name ("… de Bandiagara") put mutuals in the wrong report as soon as a name
did not follow the pattern, so the assignment is now written down in the config and
nothing is guessed: a mutual the config does not place is shown in no area's report
and named in a warning in the rule's log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["mutuals_of_area", "register_columns"]

LOG = logging.getLogger(__name__)


def mutuals_of_area(names: Iterable[str], area: str, config: Mapping[str, Any]) -> list[str]:
    """The mutuals that ``config["mutuals"]["areas"]`` assigns to ``area``.

    Parameters
    ----------
    names
        Mutual names as in the ``mutual`` column of
        ``results/sustainability/mutual_kpis.csv``.
    area
        Area key of the config (``mopti``, ``bamako``).
    config
        The validated config; ``mutuals.areas`` (mutual name → area, default ``{}``)
        and ``areas`` are read.

    Returns
    -------
    list of str
        Sorted names of the mutuals of ``area`` that appear in ``names``.

    Raises
    ------
    ValueError
        When ``mutuals.areas`` names an area that is not a key of ``areas``.
    """
    assigned: Mapping[str, str] = config["mutuals"]["areas"]
    unknown = sorted({a for a in assigned.values() if a not in config["areas"]})
    if unknown:
        raise ValueError(
            f"config mutuals.areas: areas {unknown} are not keys of config areas "
            f"{sorted(config['areas'])}; fix the area or add it under areas"
        )
    names = sorted({str(n) for n in names})
    unplaced = [n for n in names if n not in assigned]
    if unplaced:
        LOG.warning(
            "mutuals %s have no area in config mutuals.areas: they are left out of every "
            "area's report; add 'name: area' lines under mutuals.areas to show them",
            unplaced,
        )
    return [n for n in names if assigned.get(n) == area]


def register_columns(kpis: Any) -> list[tuple[str, str, str]]:
    """The (mutual, scheme, label) columns of a KPI table, sorted: a mutual with members
    in two schemes (Commune III: AMV+ and RAMED+) gets one column per scheme."""
    pairs = sorted({(str(m), str(s)) for m, s in zip(kpis["mutual"], kpis["scheme"], strict=True)})
    return [(m, s, f"{m} — {s}") for m, s in pairs]
