"""Multiplier bootstrap for estimators that are linear in influence functions.

For an estimator with influence function ``psi_i`` (scaled so that
``se = sqrt(sum psi_i**2) / n``), one bootstrap draw is

    theta*_b - theta = (1/n) * sum_i v_ib * psi_i,          E v = 0, Var v = 1,

with ``v`` Rademacher (±1, what R ``did`` draws) or Mammen's two-point weights. With
clusters the multipliers are drawn per cluster and applied to cluster sums of ``psi``
(Callaway & Sant'Anna 2021, Remark 10). Standard errors are the interquartile range of
the draws divided by that of a standard normal, and the uniform band uses the
``level`` quantile of ``max_k |draw_k / se_k|`` (sup-t), both as in R ``did::mboot``.

Because every aggregation is a linear map of the same influence functions, the draws
are taken once for a basis matrix and every later quantity reuses them (``draws @ c``).
"""

from __future__ import annotations

import numpy as np

from sahel_eval.stats.distributions import norm_ppf

# R did treats standard errors below this as zero (a cell fixed by construction).
SE_ZERO = np.sqrt(np.finfo(float).eps) * 10
_IQR_NORMAL = float(norm_ppf(0.75) - norm_ppf(0.25))
_MAMMEN_LOW = (1 - np.sqrt(5)) / 2
_MAMMEN_HIGH = (1 + np.sqrt(5)) / 2
_MAMMEN_P_LOW = (np.sqrt(5) + 1) / (2 * np.sqrt(5))
# Rows of multipliers held in memory at once: bounds peak memory near 32 MB.
_CHUNK_CELLS = 4_000_000


def cluster_sums(psi: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Sum rows of ``psi`` (n × k) within clusters ``codes`` (0..G-1); identity if ``None``."""
    if codes is None:
        return psi
    n_clusters = int(codes.max()) + 1
    # One bincount per column: far faster than np.add.at, and k is small.
    return np.column_stack(
        [np.bincount(codes, weights=psi[:, j], minlength=n_clusters) for j in range(psi.shape[1])]
    ).reshape(n_clusters, psi.shape[1])


def multiplier_draws(
    sums: np.ndarray,
    n: int,
    *,
    draws: int,
    seed: int | np.random.Generator | None,
    weights: str = "rademacher",
) -> np.ndarray:
    """Bootstrap draws ``(1/n) V @ sums`` for ``V`` a (draws × G) multiplier matrix.

    Parameters
    ----------
    sums
        (G × k) influence functions, already summed within clusters (G = n units when
        not clustered).
    n
        Number of units (the influence-function scale).
    draws
        Number of bootstrap draws B.
    seed
        Seed or Generator; the same seed gives the same draws.
    weights
        ``"rademacher"`` (R ``did``) or ``"mammen"``.

    Returns
    -------
    numpy.ndarray
        (B × k) centred draws of the estimator.
    """
    if weights not in ("rademacher", "mammen"):
        raise ValueError(f"bootstrap weights must be 'rademacher' or 'mammen', got {weights!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    g, k = sums.shape
    colsum = sums.sum(axis=0)
    out = np.empty((draws, k))
    chunk = max(1, _CHUNK_CELLS // max(g, 1))
    for start in range(0, draws, chunk):
        b = min(chunk, draws - start)
        if weights == "rademacher":
            # v = 1 - 2u with u a fair bit: V @ S = colsum - 2 (U @ S); 8 bits per byte.
            raw = rng.integers(0, 256, size=(b, (g + 7) // 8), dtype=np.uint8)
            bits = np.unpackbits(raw, axis=1, count=g).astype(np.float64)
            out[start : start + b] = colsum - 2.0 * (bits @ sums)
        else:
            low = (rng.random((b, g), dtype=np.float32) < _MAMMEN_P_LOW).astype(np.float64)
            # v = high + (low_value - high) * 1{low}
            out[start : start + b] = _MAMMEN_HIGH * colsum + (_MAMMEN_LOW - _MAMMEN_HIGH) * (
                low @ sums
            )
    return out / n


def bootstrap_inference(draws: np.ndarray, level: float) -> tuple[np.ndarray, float]:
    """Standard errors (IQR / IQR of N(0,1)) and sup-t critical value from draws.

    Columns with a zero or undefined bootstrap spread get ``se = NaN`` and are left
    out of the sup-t maximum (as R ``did::mboot`` does for degenerate dimensions).
    Quantiles use R's type 1 (inverted CDF), as ``mboot`` does.
    """
    q75 = np.quantile(draws, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(draws, 0.25, axis=0, method="inverted_cdf")
    se = (q75 - q25) / _IQR_NORMAL
    ok = np.isfinite(se) & (se > SE_ZERO)
    se = np.where(ok, se, np.nan)
    if not ok.any():
        return se, float("nan")
    tmax = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    crit = float(np.quantile(tmax, level, method="inverted_cdf"))
    return se, crit
