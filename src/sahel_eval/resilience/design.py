"""Design of the expected-volume model (DESIGN §7): the trend and seasonal columns
(:func:`design_matrix`) and which pre-shock months a series may be fitted on
(:func:`pre_shock_mask`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["COLUMNS", "design_matrix", "pre_shock_mask"]


#: Design columns, in order (``programme`` only when a programme series is given).
COLUMNS: tuple[str, ...] = ("intercept", "trend_years", "sin1", "cos1", "sin2", "cos2")


def design_matrix(
    t: npt.ArrayLike, month_of_year: npt.ArrayLike, programme: npt.ArrayLike | None = None
) -> np.ndarray:
    """Build the design of the expected-volume model.

    Parameters
    ----------
    t : array_like of int, shape (..., T)
        Month index (1 = first month of the data).
    month_of_year : array_like of int, shape (..., T)
        Calendar month, 1–12.
    programme : array_like of {0, 1}, shape (..., T), optional
        Programme exposure; adds a last column ``programme``.

    Returns
    -------
    numpy.ndarray, shape (..., T, p)
        Columns :data:`COLUMNS` (+ ``programme``).
    """
    t_arr = np.asarray(t, dtype=float)
    moy = np.asarray(month_of_year)
    if not np.all(np.isin(moy, np.arange(1, 13))):
        raise ValueError("month_of_year must hold calendar months 1-12")
    t_arr, moy = np.broadcast_arrays(t_arr, moy.astype(float))
    angle = 2.0 * np.pi * moy / 12.0
    cols = [
        np.ones_like(t_arr),
        t_arr / 12.0,
        np.sin(angle),
        np.cos(angle),
        np.sin(2.0 * angle),
        np.cos(2.0 * angle),
    ]
    if programme is not None:
        prog = np.asarray(programme, dtype=float)
        if not np.all(np.isin(prog, (0.0, 1.0))):
            raise ValueError("programme must be a 0/1 series")
        prog, _ = np.broadcast_arrays(prog, t_arr)
        cols = [np.broadcast_to(c, prog.shape) for c in cols] + [prog]
    return np.stack(cols, axis=-1)


def pre_shock_mask(
    reported: npt.ArrayLike,
    t: npt.ArrayLike,
    onset_t: npt.ArrayLike,
    *,
    other_onsets_t: npt.ArrayLike | None = None,
    window_length: int = 12,
) -> np.ndarray:
    """Months usable to fit the pre-shock model of each series.

    A month is usable when it is reported, strictly before the series' onset and
    outside every other shock window ``[onset_k, onset_k + window_length)``.

    Parameters
    ----------
    reported : array_like of bool, shape (n, T)
    t : array_like of int, shape (T,)
        Month index of the columns.
    onset_t : array_like of int, shape (n,)
        Onset month index ``m0`` of each series' shock.
    other_onsets_t : array_like of float, shape (n, K), optional
        Onsets of the other shocks affecting each series (pad with NaN).
    window_length : int, default 12
        H, the length of a shock window.

    Returns
    -------
    numpy.ndarray of bool, shape (n, T)
    """
    rep = np.asarray(reported, dtype=bool)
    t_arr = np.asarray(t, dtype=float)
    onset = np.asarray(onset_t, dtype=float)
    usable = rep & (t_arr[None, :] < onset[:, None])
    if other_onsets_t is not None:
        other = np.asarray(other_onsets_t, dtype=float)
        if other.ndim == 1:
            other = other[:, None]
        inside = (t_arr[None, None, :] >= other[:, :, None]) & (
            t_arr[None, None, :] < other[:, :, None] + window_length
        )
        usable &= ~inside.any(axis=1)
    return usable
