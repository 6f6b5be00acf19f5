"""The rows of ``att_gt`` aggregations as sparse matrices, for many assignments.

:func:`~sahel_eval.did.cs.aggregate._term_estimates` and
:func:`~sahel_eval.did.cs.aggregate._term_coefficients` walk the rows of a plan one by
one, which is most of the cost of an assignment in randomisation inference once the
cells are batched. For a fixed plan the rows' structure (which cells, which rows they
combine) does not change from one assignment to the next; only ``att`` and the cohort
shares ``pg`` do. :class:`TermMatrices` holds that structure once and gives, per
assignment, the same estimates and coefficients (up to the order of floating-point
sums; the tests compare both to 1e-12) in a few vectorised operations, as cell rows
and the weights that combine them into the overall rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from sahel_eval.did.cs.aggregate import _Term

_CELL_MODES = ("pg", "mean")


class TermMatrices:
    """The rows of several plans (concatenated, in order) over ``k`` cells.

    Cell rows (``pg``, ``mean``) average cells; combined rows (``pg_rows``,
    ``mean_rows``) average cell rows of their own plan.
    """

    def __init__(self, plans: Sequence[list[_Term]], gi_cell: np.ndarray, k: int) -> None:
        self._k, self._gi = k, gi_cell
        rows, cols, pg_entry = [], [], []
        combos: list[tuple[int, str, np.ndarray]] = []
        offset = 0
        for plan in plans:
            for j, term in enumerate(plan, start=offset):
                if term.mode in _CELL_MODES:
                    rows.append(np.full(len(term.index), j))
                    cols.append(term.index)
                    pg_entry.append(np.full(len(term.index), term.mode == "pg"))
                else:
                    combos.append((j, term.mode, np.asarray(term.index) + offset))
            offset += len(plan)
        self.n_rows = offset
        self._row = np.concatenate(rows)
        self._col = np.concatenate(cols)
        self._pg = np.concatenate(pg_entry)
        self._combos = combos
        combined = {j for j, _, _ in combos}
        if any(i in combined for _, _, idx in combos for i in idx):
            raise ValueError("a combined row may only average cell rows")
        # Rows × rows weights of the combined rows on the cell rows: fixed, except a
        # pg_rows row's weights P(G = g) / Σ pg (``_pg_slot``: the cohort of the entry,
        # −1 for a fixed weight).
        w_row: list[int] = []
        w_col: list[int] = []
        w_val: list[float] = []
        slot: list[int] = []
        for j, mode, idx in combos:
            w_row += idx.tolist()
            w_col += [j] * len(idx)
            w_val += [1.0 / len(idx)] * len(idx)
            slot += list(range(len(idx))) if mode == "pg_rows" else [-1] * len(idx)
        self._w_row, self._w_col = np.array(w_row, dtype=int), np.array(w_col, dtype=int)
        self._w_val, self._pg_slot = np.array(w_val), np.array(slot, dtype=int)

    def parts(
        self, att: np.ndarray, pg: np.ndarray
    ) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray, sparse.csc_matrix, np.ndarray]:
        """The rows as cell rows and their combinations, for ATT(g, t) ``att`` and
        cohort shares ``pg``.

        Returns the estimates (rows), the cell rows' coefficients on the cells (cells ×
        rows, sparse) and on the cohort shares (cohorts × rows), the weights of each
        combined row on the cell rows (rows × rows, sparse; zero columns for cell rows)
        and the combined rows' own cohort-share terms (cohorts × rows). A combined
        row's coefficients are its weights applied to the cell rows' plus its own.
        """
        n_rows, n_groups = self.n_rows, len(pg)
        row, col = self._row, self._col
        # A pg row weighs its cells by P(G = g); a mean row equally.
        vals = np.where(self._pg, pg[self._gi[col]], 1.0)
        total = np.bincount(row, vals, minlength=n_rows)
        theta = np.bincount(row, vals * att[col], minlength=n_rows)
        cell_rows = total > 0
        theta[cell_rows] /= total[cell_rows]
        coef_vals = vals / total[row]
        # The wif term of a pg row: Σ over its cells of cohort g of (att − θ) / Σ pg.
        pg_row = row[self._pg]
        omega = np.zeros((n_groups, n_rows))
        np.add.at(
            omega,
            (self._gi[col[self._pg]], pg_row),
            (att[col[self._pg]] - theta[pg_row]) / total[pg_row],
        )
        cells = sparse.csr_matrix((coef_vals, (col, row)), shape=(self._k, n_rows))
        s = pg.sum()
        own = np.zeros((n_groups, n_rows))
        for j, mode, idx in self._combos:
            if mode == "pg_rows":
                theta[j] = float(pg @ theta[idx] / s)
                own[: len(idx), j] = (theta[idx] - theta[j]) / s
            else:
                theta[j] = float(np.mean(theta[idx]))
        slot = self._pg_slot
        w_val = np.where(slot >= 0, pg[slot] / s, self._w_val)
        weights = sparse.csc_matrix((w_val, (self._w_row, self._w_col)), shape=(n_rows, n_rows))
        return theta, cells, omega, weights, own
