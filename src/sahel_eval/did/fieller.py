"""Confidence set for a ratio of two estimates from their influence functions (Fieller).

For ``ρ = a / b`` the set ``{ρ : (a − ρ b)² ≤ c² · Var(a − ρ b)}`` inverts the test of the
linear hypothesis ``a − ρ b = 0``, whose variance comes from the same influence functions
as the delta method (``Var(a − ρ b) = V_a − 2ρ C_ab + ρ² V_b``). The delta method is its
first-order approximation around ``ρ̂``; unlike it, the Fieller set does not assume the
denominator is known: it is an interval when ``b`` is clearly non-zero
(``b² > c² V_b``) and unbounded otherwise (Fieller 1954, *J. R. Stat. Soc. B* 16:175;
Franz 2007, "Ratios: a short guide to confidence limits and proper use",
arXiv:0710.2024).

The critical value ``c`` is Student's t with Welch–Satterthwaite degrees of freedom
from the cluster sums ``s_g`` of the ratio's influence function,
``df = (Σ s_g²)² / Σ s_g⁴`` (each ``s_g²`` one degree of freedom), capped at ``G − 1``.
When a few clusters carry the variance (8 treated CSCOMs in one commune, 2 treated
cercles) ``df`` falls to about their number and the interval widens accordingly; with
many comparable clusters it is ``G − 1``, the usual cluster-robust choice.

Why not the normal delta-method interval alone: on 200 synthetic replicates of the demo
design (``benchmarks/bench_persistence_coverage.py``) its coverage of the planted
persistence ratio was 87.5–95 % for Djantoli (facility clusters) and 46–60 % at the
commune level; this interval's was 94.5–97.5 % (facility), 97.5–99.5 % (I3S, cercles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.did.inference.multiplier import cluster_sums
from sahel_eval.stats.distributions import t_ppf, t_sf

__all__ = ["fieller_ratio", "fieller_set", "satterthwaite_df"]


def satterthwaite_df(psi: np.ndarray, codes: np.ndarray | None) -> float:
    """Welch–Satterthwaite degrees of freedom of a cluster-robust variance, capped at G − 1.

    Parameters
    ----------
    psi
        (n,) influence function.
    codes
        (n,) integer cluster codes, or None for one cluster per row.
    """
    return _df_from_sums(cluster_sums(np.asarray(psi, float)[:, None], codes)[:, 0])


def _df_from_sums(sums: np.ndarray) -> float:
    s2 = sums**2
    g = len(s2)
    if g < 2 or not np.any(s2 > 0):
        return float("nan")
    return float(min(s2.sum() ** 2 / np.sum(s2**2), g - 1))


def fieller_set(qa: float, qb: float, qc: float) -> list[tuple[float, float]]:
    """The set ``{ρ : qa ρ² + qb ρ + qc ≤ 0}`` as sorted closed pieces (±inf for rays).

    ``qa > 0``: one interval (ρ̂ always lies in it); ``qa < 0``: the whole line when the
    quadratic has no real root, else two rays with a gap; ``qa = 0``: one ray.
    """
    if qa == 0:
        if qb == 0:
            return [(-np.inf, np.inf)] if qc <= 0 else []
        cut = -qc / qb
        return [(-np.inf, cut)] if qb > 0 else [(cut, np.inf)]
    disc = qb * qb - 4 * qa * qc
    if disc < 0:
        return [] if qa > 0 else [(-np.inf, np.inf)]
    r1, r2 = sorted(((-qb - np.sqrt(disc)) / (2 * qa), (-qb + np.sqrt(disc)) / (2 * qa)))
    if qa > 0:
        return [(float(r1), float(r2))]
    return [(-np.inf, float(r1)), (float(r2), np.inf)]


def fieller_ratio(
    a: float,
    psi_a: np.ndarray,
    b: float,
    psi_b: np.ndarray,
    *,
    level: float = 0.95,
    cluster: np.ndarray | None = None,
) -> dict[str, float | str | None]:
    """Ratio ``a / b`` with its delta-method SE and Fieller confidence set.

    Parameters
    ----------
    a, b
        Numerator and denominator estimates (``b`` not exactly 0).
    psi_a, psi_b
        Their (n,) influence functions on the R ``did`` scale (``se = sqrt(Σψ²)/n``),
        rows aligned.
    level
        Confidence level.
    cluster
        Optional (n,) cluster labels: variances and ``df`` use cluster sums.

    Returns
    -------
    dict
        ``estimate``; ``se`` (delta method), ``se_numerator``, ``se_denominator``;
        ``df``; ``ci_low, ci_high`` (the Fieller set) and ``ci_note`` (None, or
        ``"unbounded"`` when the denominator is not distinguishable from 0 at this
        level: the exact set is then the whole line or two rays with a gap, reported as
        ``-inf, inf``, which contains it); ``ci_set``, the exact set as a list of
        ``(low, high)`` pieces (:func:`fieller_set`), so that a report can say "at most
        0.1 or at least 0.4" or "any value" rather than print a number; ``p`` (t test
        of a = 0, i.e. ratio = 0) and
        ``p_vs_1`` (of a = b), both with ``df``: for a bounded set, 0 and 1 lie outside
        it exactly when their p-value is below ``1 − level``.
    """
    pa, pb = np.asarray(psi_a, float), np.asarray(psi_b, float)
    if pa.shape != pb.shape or pa.ndim != 1:
        raise ValueError("fieller_ratio: influence functions must be 1-d and of equal length")
    if b == 0:
        raise ValueError("fieller_ratio: the denominator estimate is exactly zero")
    n = len(pa)
    codes = None if cluster is None else pd.factorize(np.asarray(cluster))[0]
    sums = cluster_sums(np.column_stack([pa, pb]), codes)
    va, vb = np.sum(sums**2, axis=0) / n**2
    cab = float(sums[:, 0] @ sums[:, 1]) / n**2
    r = a / b
    se = float(np.sqrt(max(va - 2 * r * cab + r * r * vb, 0.0)) / abs(b))
    # Cluster sums are linear: those of ψ_a − rψ_b follow from the two already taken.
    df = _df_from_sums(sums[:, 0] - r * sums[:, 1])
    c = float(t_ppf(0.5 + level / 2, df)) if np.isfinite(df) else float("nan")
    # (a − ρb)² − c²(V_a − 2ρC + ρ²V_b) ≤ 0  ⇔  qa ρ² + qb ρ + qc ≤ 0
    qa, qb, qc = b * b - c * c * vb, -2 * (a * b - c * c * cab), a * a - c * c * va
    pieces = fieller_set(qa, qb, qc)
    if qa > 0 and len(pieces) == 1:
        (low, high), note = pieces[0], None
    else:
        low, high, note = -np.inf, np.inf, "unbounded"
    p0, p1 = (
        float(2 * t_sf(abs(diff) / np.sqrt(v), df)) if v > 0 else float("nan")
        for diff, v in ((a, va), (a - b, va - 2 * cab + vb))
    )
    return {
        "estimate": r,
        "se": se,
        "se_numerator": float(np.sqrt(va)),
        "se_denominator": float(np.sqrt(vb)),
        "df": df,
        "ci_low": float(low),
        "ci_high": float(high),
        "ci_note": note,
        "ci_set": pieces,
        "p": p0,
        "p_vs_1": p1,
    }
