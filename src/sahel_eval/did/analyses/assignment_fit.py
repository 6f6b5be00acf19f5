"""One labelling of an assignment-level randomisation-inference fit (DESIGN §6.1).

CS, TWFE and imputation each relabel their facility-level rows with the RI p-values and
test-inversion intervals over districts. What makes those rows a headline is the same
for all three and lives here once: the ``informative`` flag (p_min against the test
level), intervals blanked where it is not informative, the assignment warnings, and the
``randomization`` facts. A fit that was labelled by hand could (and TWFE's did) keep the
facility fit's ``informative`` = True on a one-treated-commune row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.fits import _Fit, _warning_dicts
from sahel_eval.did.assignment import (
    assignment_warnings,
    not_informative,
    not_informative_warning,
)
from sahel_eval.did.results import WarningCode


@dataclass(frozen=True)
class AssignmentRI:
    """The facts of one RI over districts that every relabelled row and fit carries."""

    fit_id: str
    clusters: int
    treated_clusters: int
    p_min: float
    confidence_attained: float
    permutations: int
    seed: int
    headline: bool


def assignment_ri_fit(
    rows: pd.DataFrame,
    base_facts: Mapping[str, Any],
    ri: AssignmentRI,
    level: float,
    *,
    randomization: Mapping[str, Any],
    extra_warnings: Iterable[WarningCode] = (),
    **facts: Any,
) -> _Fit:
    """``rows`` (already carrying the RI ``p``/``ci_low``/``ci_high``) labelled as the
    assignment-level fit ``ri``; ``facts`` are further keys of the fit's facts."""
    informative = not not_informative(ri.treated_clusters, ri.p_min, level)
    # What rows and facts both say of the fit.
    label = {
        "fit": ri.fit_id,
        "inference": "randomization",
        "cluster": "district",
        "clusters": ri.clusters,
        "treated_clusters": ri.treated_clusters,
        "headline": ri.headline,
        "p_min": ri.p_min,
    }
    rows = rows.assign(
        **label,
        informative=informative,
        confidence_attained=ri.confidence_attained,
        se=np.nan,
    )
    if not informative:
        rows[["ci_low", "ci_high"]] = np.nan
    warns = assignment_warnings(ri.clusters, ri.treated_clusters)
    if not informative:
        warns.append(not_informative_warning(ri.treated_clusters, ri.p_min, level, "randomization"))
    out = dict(base_facts)
    out.update(
        **label,
        seed=ri.seed,
        draws=ri.permutations,
        warnings=_warning_dicts([*warns, *extra_warnings]),
        randomization=dict(randomization),
        **facts,
    )
    return _Fit(rows, out)
