"""Loops compiled by numba on first use, one way for every module that has them.

The refits of the randomisation inference and the synthetic DiD solver run loops over
rows, units or solver steps that numpy would run as many small calls. Each is written
as plain Python with the same floating-point operations in the same order as the numpy
steps it replaces (no fused multiply-add, numba's default; ``error_model="numpy"`` so a
division by zero gives inf/NaN as numpy does, not an exception), and compiled here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["compiled"]


def compiled(function: Callable[..., Any]) -> Callable[[], Callable[..., Any]]:
    """A function returning ``function`` compiled by numba, built on its first call.

    The machine code is cached on disk beside ``function``'s module (numba's cache), so
    a machine compiles each loop once. numba is imported only then: its import and the
    cache load cost about a second, paid only by the processes that run the loop.
    """

    @functools.cache
    def build() -> Callable[..., Any]:
        import numba

        return numba.njit(cache=True, error_model="numpy")(function)

    build.__doc__ = f":func:`{function.__name__}` compiled by numba (:func:`compiled`)."
    return build
