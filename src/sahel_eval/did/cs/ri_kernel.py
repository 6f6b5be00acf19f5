"""The unit loop of batched CS randomisation inference: influence-function cross-products.

For the units of one role (:class:`~sahel_eval.did.cs.ri_pieces._Batch`) the influence
function of row q on unit i is, for the outcome Y and the exposure D alike,

    ψ_iq = s_i · Σ_k (ΔY_ik · a_kq + 1_ik · b_kq) + w_i · ω_q − c_q

for a row that averages cells, and for a row that averages rows (the overalls) the
weighted sum of theirs plus its own cohort-share terms

(``a``: the row's coefficient on cell k times σ/S of the role; ``b``: the same times
−σ·μ; ``1_ik``: unit i observed in both periods of cell k). Only the sums
``Σ_i ψ_iq,Y²``, ``Σ_i ψ_iq,Y·ψ_iq,D`` and ``Σ_i ψ_iq,D²`` are needed, so the loop
accumulates them unit by unit and never stores ψ (units × rows, per outcome): a few
passes over the long differences instead of a gather and a sparse product per role.
"""

from __future__ import annotations

import numpy as np

from sahel_eval.compiled import compiled


def _role_cross(
    dy: np.ndarray,
    dd: np.ndarray,
    observed: np.ndarray,
    units: np.ndarray,
    cells: np.ndarray,
    indptr: np.ndarray,
    rows: np.ndarray,
    a: np.ndarray,
    b_y: np.ndarray,
    b_d: np.ndarray,
    scale: np.ndarray,
    w: np.ndarray,
    omega_y: np.ndarray,
    omega_d: np.ndarray,
    const_y: np.ndarray,
    const_d: np.ndarray,
    combine_ptr: np.ndarray,
    combine_rows: np.ndarray,
    combine_w: np.ndarray,
    acc: np.ndarray,
) -> None:
    """Add the role's cross-products to ``acc`` (rows × 3: YY, YD, DD), in place.

    ``dy``, ``dd``, ``observed``: units × live cells; ``units``: the role's units;
    ``cells``: the live cells the role takes part in; ``indptr``/``rows`` and ``a``,
    ``b_y``, ``b_d``: the coefficients compressed by cell; ``scale`` (n·w) and ``w`` per
    unit of ``units``; ``omega_*`` the role's cohort-share coefficients and ``const_*``
    the rows' Σ_g pg·ω terms. The cell coefficients are those of the cell rows only: a
    combined row j (an overall) adds ``combine_w`` times the finished values of its
    cell rows ``combine_rows[combine_ptr[j]:combine_ptr[j + 1]]``, which spares the
    inner loop the overalls that average every post-period cell.
    """
    n_rows = acc.shape[0]
    out_y = np.empty(n_rows)
    out_d = np.empty(n_rows)
    for ii in range(units.shape[0]):
        i = units[ii]
        out_y[:] = 0.0
        out_d[:] = 0.0
        for k in cells:
            if observed[i, k] == 0.0:
                continue  # ΔY is 0 there, and so is the indicator
            vy = dy[i, k]
            vd = dd[i, k]
            for p in range(indptr[k], indptr[k + 1]):
                q = rows[p]
                out_y[q] += vy * a[p] + b_y[p]
                out_d[q] += vd * a[p] + b_d[p]
        s = scale[ii]
        wi = w[ii]
        for q in range(n_rows):
            out_y[q] = out_y[q] * s + wi * omega_y[q] - const_y[q]
            out_d[q] = out_d[q] * s + wi * omega_d[q] - const_d[q]
        for j in range(n_rows):
            for p in range(combine_ptr[j], combine_ptr[j + 1]):
                out_y[j] += combine_w[p] * out_y[combine_rows[p]]
                out_d[j] += combine_w[p] * out_d[combine_rows[p]]
        for q in range(n_rows):
            y = out_y[q]
            d = out_d[q]
            acc[q, 0] += y * y
            acc[q, 1] += y * d
            acc[q, 2] += d * d


role_cross_kernel = compiled(_role_cross)
