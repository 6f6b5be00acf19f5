"""The vertex enumeration the C-LF test used before :class:`DualCone`: a test oracle.

For one ``sd``, every support of ``k + 1`` moments is solved for the basic solution of
``[sd'; X'] γ = e_1`` and kept when it is well conditioned and non-negative. The tests
check that :class:`~sahel_eval.did.honest.arp.DualCone` finds the same vertices, in the
same order, at any ``sd``.
"""

from __future__ import annotations

import math

import numpy as np

from sahel_eval.did.honest.arp import _COND_MAX, _FEAS_TOL, _first_of_each, _supports

_BATCH = 20_000


def dual_vertices(sd: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vertices of ``{γ ≥ 0 : sd'γ = 1, X'γ = 0}``, one per row, duplicates removed.

    Parameters
    ----------
    sd
        (m,) positive standard deviations of the moments.
    x
        (m, k) nuisance columns, full column rank with ``sd`` appended.

    Returns
    -------
    numpy.ndarray
        (V, m) vertices; (0, m) when the polytope is empty (the program is unbounded below).
        :class:`DualCone` gives the same for many ``sd`` at once (the tests check it).
    """
    m, k = x.shape
    basis = np.vstack([sd[None, :], x.T])  # (k + 1, m)
    r = k + 1
    if np.linalg.matrix_rank(basis) < r:
        raise ValueError("the nuisance columns and the moment scales are linearly dependent")
    rhs = np.zeros(r)
    rhs[0] = 1.0
    found = []
    all_supports = _supports(m, r)
    for start in range(0, len(all_supports), _BATCH):
        chunk = all_supports[start : start + _BATCH]
        mats = np.transpose(basis[:, chunk], (1, 0, 2))  # (C, r, r), column j = moment chunk[j]
        ok = _well_conditioned(mats)
        if not np.any(ok):
            continue
        sol = np.linalg.solve(mats[ok], np.broadcast_to(rhs, (int(ok.sum()), r))[..., None])[..., 0]
        feasible = np.all(sol * sd[chunk[ok]] >= -_FEAS_TOL, axis=1)
        idx, vals = chunk[ok][feasible], sol[feasible]
        g = np.zeros((len(idx), m))
        np.put_along_axis(g, idx, np.clip(vals, 0.0, None), axis=1)
        found.append(g)
    verts = np.concatenate(found) if found else np.zeros((0, m))
    if not len(verts):
        return verts
    return verts[_first_of_each(np.round(verts * sd[None, :], 9))]


def _well_conditioned(mats: np.ndarray) -> np.ndarray:
    """Which (C, r, r) matrices have ``cond_2 < _COND_MAX``, as ``np.linalg.cond`` says.

    Bounds from ``|det|`` (one batched LU, no SVD) settle most matrices:
    ``‖M‖_F / (√r |det|^{1/r}) ≤ cond_2 ≤ ‖M‖_F^r / |det|``. Only those the bounds leave
    in doubt get the SVD.
    """
    r = mats.shape[-1]
    fro = np.linalg.norm(mats, axis=(1, 2))
    absdet = np.abs(np.linalg.det(mats))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        upper = fro**r / absdet
        lower = fro / (math.sqrt(r) * absdet ** (1.0 / r))
    ok = upper < _COND_MAX
    doubt = ~ok & ~(lower >= _COND_MAX)
    if np.any(doubt):
        ok[doubt] = np.linalg.cond(mats[doubt]) < _COND_MAX
    return ok
