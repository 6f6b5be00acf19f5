"""Checks on the event-study input of the sensitivity analysis, before any linear algebra.

``betahat`` holds the ``n_pre`` pre-period coefficients (reference period excluded) then the
``n_post`` post-period ones; ``sigma`` is their covariance. DESIGN §6.1 forbids inverting a
singular or near-singular matrix, so the rank of ``sigma`` is checked here, once, and every
later step may rely on a symmetric positive-definite covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EventStudy", "RANK_RTOL", "check_event_study"]

#: An eigenvalue of ``sigma`` below ``RANK_RTOL`` × its largest eigenvalue counts as zero
#: (condition number above 1e10: the coefficients are not separately estimable).
RANK_RTOL = 1e-10
#: Relative asymmetry ``max|Σ − Σ'| / max|Σ|`` tolerated (rounding in a sandwich product).
SYMMETRY_RTOL = 1e-8


@dataclass(frozen=True)
class EventStudy:
    """Validated input: coefficients, covariance, the split and the target weights.

    Attributes
    ----------
    betahat
        (n_pre + n_post,) coefficients, pre-periods first.
    sigma
        (n, n) symmetric positive-definite covariance (symmetrised).
    n_pre, n_post
        Number of pre- and post-period coefficients.
    l_vec
        (n_post,) weights of the target ``θ = l_vec' τ_post``.
    alpha
        Test level; intervals have coverage ``1 − alpha``.
    """

    betahat: np.ndarray
    sigma: np.ndarray
    n_pre: int
    n_post: int
    l_vec: np.ndarray
    alpha: float

    @property
    def theta_hat(self) -> float:
        """Plug-in estimate ``l_vec' β̂_post``."""
        return float(self.l_vec @ self.betahat[self.n_pre :])

    @property
    def theta_se(self) -> float:
        """Standard error of ``l_vec' β̂_post``."""
        post = self.sigma[self.n_pre :, self.n_pre :]
        return float(np.sqrt(self.l_vec @ post @ self.l_vec))


def check_event_study(
    betahat: object,
    sigma: object,
    n_pre: int,
    n_post: int,
    l_vec: object | None,
    alpha: float,
) -> EventStudy:
    """Validate and normalise the inputs of :func:`sensitivity` and :func:`breakdown`.

    Raises
    ------
    ValueError
        Naming the problem: counts that do not add up to ``len(betahat)``, non-finite values,
        ``sigma`` of the wrong shape, not symmetric, not positive semi-definite or of
        deficient rank (with the rank found), ``l_vec`` of the wrong length or all zero,
        ``alpha`` outside (0, 1).
    """
    if int(n_pre) != n_pre or int(n_post) != n_post or n_pre < 1 or n_post < 1:
        raise ValueError(
            f"n_pre and n_post must be positive integers (got n_pre={n_pre!r}, "
            f"n_post={n_post!r}): the restrictions compare post-period drift with at least "
            "one pre-period coefficient"
        )
    n_pre, n_post = int(n_pre), int(n_post)
    n = n_pre + n_post
    beta = np.asarray(betahat, dtype=float).reshape(-1)
    if beta.size != n:
        raise ValueError(
            f"betahat has {beta.size} coefficients but n_pre + n_post = {n_pre} + {n_post} = "
            f"{n}; pass the pre-period coefficients (reference period excluded) then the "
            "post-period ones"
        )
    if not np.all(np.isfinite(beta)):
        raise ValueError("betahat has non-finite values (NaN or inf)")
    sig = np.asarray(sigma, dtype=float)
    if sig.shape != (n, n):
        raise ValueError(f"sigma has shape {sig.shape}; expected ({n}, {n}) to match betahat")
    if not np.all(np.isfinite(sig)):
        raise ValueError("sigma has non-finite values (NaN or inf)")
    scale = float(np.max(np.abs(sig)))
    if scale == 0.0:
        raise ValueError("sigma is all zeros: the coefficients have no sampling variance")
    asym = float(np.max(np.abs(sig - sig.T)))
    if asym > SYMMETRY_RTOL * scale:
        raise ValueError(
            f"sigma is not symmetric (largest |sigma - sigma'| = {asym:.3g}, "
            f"largest |sigma| = {scale:.3g})"
        )
    sig = (sig + sig.T) / 2.0
    eig = np.linalg.eigvalsh(sig)
    if eig[0] < -RANK_RTOL * eig[-1]:
        raise ValueError(
            f"sigma is not positive semi-definite (smallest eigenvalue {eig[0]:.3g}, "
            f"largest {eig[-1]:.3g}); it is not a covariance matrix"
        )
    rank = int(np.sum(eig > RANK_RTOL * eig[-1]))
    if rank < n:
        raise ValueError(
            f"sigma has rank {rank} < {n} (eigenvalues below {RANK_RTOL:g} x the largest count "
            "as zero): the coefficients are not separately estimable with this covariance. "
            "A cluster-robust covariance has rank <= G - 1; use one with more clusters "
            "(DESIGN §6.1: the facility-clustered covariance) or fewer event times"
        )
    if l_vec is None:
        lv = np.zeros(n_post)
        lv[0] = 1.0
    else:
        lv = np.asarray(l_vec, dtype=float).reshape(-1)
        if lv.size != n_post:
            raise ValueError(f"l_vec has {lv.size} weights; expected n_post = {n_post}")
        if not np.all(np.isfinite(lv)) or not np.any(lv != 0):
            raise ValueError("l_vec must be finite and not all zero")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
    return EventStudy(beta, sig, n_pre, n_post, lv, float(alpha))
