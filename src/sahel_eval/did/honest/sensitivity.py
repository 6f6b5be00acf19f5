"""Robust confidence intervals over a grid of restriction sizes (DESIGN §6.1).

``sensitivity`` returns one interval per grid value for ``θ = l_vec' τ_post``: under
relative magnitudes (``ΔRM(M̄)``, conditional least-favourable hybrid, "C-LF") or under
smoothness (``ΔSD(M)``, fixed-length interval, "FLCI"), the defaults of R HonestDiD's
``createSensitivityResults_relativeMagnitudes`` and ``createSensitivityResults``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sahel_eval.did.honest.inputs import EventStudy, check_event_study
from sahel_eval.did.honest.relative_magnitude import RelativeMagnitude
from sahel_eval.did.honest.smoothness import flci

__all__ = [
    "RESTRICTIONS",
    "check_grid",
    "check_restriction",
    "grid_table",
    "intervals_at",
    "sensitivity",
]

#: Restriction name → (parameter name, method of the interval).
RESTRICTIONS = {"relative_magnitude": ("Mbar", "C-LF"), "smoothness": ("M", "FLCI")}


def sensitivity(
    betahat: Iterable[float],
    sigma: Iterable[Iterable[float]],
    *,
    n_pre: int,
    n_post: int,
    restriction: str = "relative_magnitude",
    grid: Iterable[float],
    l_vec: Iterable[float] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Robust confidence intervals for ``θ = l_vec' τ_post`` at each value of ``grid``.

    Parameters
    ----------
    betahat
        Event-study coefficients: the ``n_pre`` pre-period ones (reference period
        excluded), then the ``n_post`` post-period ones, in time order.
    sigma
        Their covariance, symmetric positive definite (the rank is checked).
    n_pre, n_post
        Number of pre- and post-period coefficients.
    restriction
        ``"relative_magnitude"``: ``grid`` holds values of ``M̄`` (post-period changes of the
        differential trend at most ``M̄`` times the largest pre-period change); C-LF
        interval. ``"smoothness"``: ``grid`` holds values of ``M`` in outcome units (the
        slope of the differential trend changes by at most ``M`` per period); FLCI.
    grid
        Non-negative values of the restriction's parameter, in the order wanted.
    l_vec
        Weights of the post-period effects in ``θ``; default the first post-period
        (on-impact) effect.
    alpha
        Level: intervals have coverage ``1 − alpha`` under the restriction.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter, lower, upper``, one row per grid value; ``attrs`` records
        ``restriction``, ``method``, ``alpha`` and ``l_vec``. An end that is not bounded is
        ``±inf``.

    Raises
    ------
    ValueError
        For inputs that do not fit (see :func:`check_event_study`), an unknown
        restriction or a grid value that is negative or not finite.
    """
    check_restriction(restriction)
    es = check_event_study(betahat, sigma, n_pre, n_post, l_vec, alpha)
    values = check_grid(grid)
    rows = zip(values, intervals_at(es, restriction, values), strict=True)
    return grid_table(es, restriction, [(v, *ends) for v, ends in rows])


def grid_table(
    es: EventStudy, restriction: str, rows: list[tuple[float, float, float]]
) -> pd.DataFrame:
    """The ``parameter, lower, upper`` table of :func:`sensitivity`, with its ``attrs``."""
    out = pd.DataFrame(rows, columns=["parameter", "lower", "upper"])
    out.attrs.update(
        restriction=restriction,
        method=RESTRICTIONS[restriction][1],
        alpha=es.alpha,
        l_vec=es.l_vec.tolist(),
    )
    return out


def intervals_at(
    es: EventStudy, restriction: str, values: list[float], rm: RelativeMagnitude | None = None
) -> list[tuple[float, float]]:
    """The robust interval under ``restriction`` at each parameter value of ``values``;
    ``rm``, the tests of ``es`` under relative magnitudes, when the caller asks again.
    Relative magnitudes test all values together (the same intervals)."""
    if restriction == "relative_magnitude":
        return (rm or RelativeMagnitude(es)).intervals(values)
    check_restriction(restriction)
    return [flci(es, v) for v in values]


def check_restriction(restriction: str) -> None:
    """Raise ``ValueError`` unless ``restriction`` is a known name."""
    if restriction not in RESTRICTIONS:
        raise ValueError(f"restriction must be one of {sorted(RESTRICTIONS)}; got {restriction!r}")


def check_grid(grid: Iterable[float]) -> list[float]:
    """The grid as a list of floats; ``ValueError`` if empty, negative or not finite."""
    values = np.asarray(list(grid), dtype=float).reshape(-1)
    if values.size == 0:
        raise ValueError("grid is empty; give at least one value of the restriction's parameter")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"grid values must be finite and >= 0; got {values.tolist()}")
    return values.tolist()
