"""Robustness rows: the headline estimate without comparison CSCOMs exposed to spillovers.

Comparison CSCOMs next to treated districts (patients cross the border to the cheaper
care) or hosting displacement sites (their catchment swells with people fleeing the
same shocks) may be moved by the programme or by the shocks, and then no longer show
what would have happened without it (DESIGN §6.1). Beside each headline the same
assignment-level estimate is re-run without them: ``did.spillover_exclude`` lists
facility ids (org-unit UIDs) or district names, and every **never-treated** CSCOM the
list names, itself or through its district, leaves the sample (treated CSCOMs stay:
they are the effect). With ``did.spillover_displacement_hosts`` (default true) the
never-treated CSCOMs whose aire de santé hosts a site of ``inputs.displacement_sites``
in any month leave it too (:attr:`AnalysisSettings.displacement_hosts`, from the
ingested sites). Items of another area's panel are that area's; the config check
and ``make check`` refuse items that name no district or facility at all. The rows
carry ``robustness: "spillover_excluded"`` and, like the balanced-subsample rows whose
machinery they reuse (:func:`~sahel_eval.did.analyses.balanced.subsample_fits`), no
verdict of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sahel_eval.did.analyses.balanced import subsample_fits
from sahel_eval.did.analyses.fits import _Fit
from sahel_eval.did.analyses.settings import AnalysisSettings

__all__ = ["ROBUSTNESS", "spillover_fits", "spillover_units"]

ROBUSTNESS = "spillover_excluded"


def spillover_units(
    panel: pd.DataFrame, exclude: Sequence[str], hosts: Sequence[str] = ()
) -> pd.Index:
    """Never-treated facilities of ``panel`` named by ``exclude`` (ids or districts) or
    among ``hosts`` (facility ids of the CSCOMs hosting a displacement site)."""
    named = set(exclude) | set(hosts)
    units = panel.drop_duplicates("facility_id").set_index("facility_id")
    hit = (units.index.isin(list(named)) | units["district"].isin(list(named))) & (
        units["group"] == 0
    )
    return units.index[hit].sort_values()


def spillover_fits(
    spec: Mapping[str, Any], panel: pd.DataFrame, settings: AnalysisSettings
) -> list[_Fit]:
    """The headline summary of every outcome without the listed comparison CSCOMs.

    No rows when the list names no comparison CSCOM of this area's panel: the
    estimate would be the headline itself.
    """
    drop = spillover_units(panel, settings.spillover_exclude, settings.displacement_hosts)
    if drop.empty:
        return []
    districts = sorted(set(panel.loc[panel["facility_id"].isin(drop), "district"]))
    hosts = spillover_units(panel, (), settings.displacement_hosts)
    facts = {
        "subsample": ROBUSTNESS,
        "excluded": list(settings.spillover_exclude),
        "displacement_hosts": list(hosts),
        "districts_touched": districts,
        "facilities_kept": int(panel["facility_id"].nunique()) - len(drop),
        "facilities_total": int(panel["facility_id"].nunique()),
    }
    return subsample_fits(spec, panel[~panel["facility_id"].isin(drop)], facts, settings)
