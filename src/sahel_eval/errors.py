"""The one error type for bad input, written for the person who holds the data.

An :class:`InputError` names the file, the column, the rule that failed, up to five
example rows and what to do. Values from identifier columns are masked before they
reach the message, so an error can be pasted into an issue or a log safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sahel_eval.privacy import mask

if TYPE_CHECKING:
    import pandas as pd

MAX_EXAMPLES = 5
MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Problem:
    """One failed rule on one column.

    Parameters
    ----------
    column
        Column (or config key path) the rule applies to; ``None`` for file-level rules.
    rule
        Name of the check, e.g. ``"known_district"``, ``"unique_key"``.
    detail
        One sentence saying what is wrong.
    rows
        Row labels of offending rows (already in the user's numbering: file line or
        observation number).
    values
        Offending values, aligned with ``rows``; already masked where needed.
    n_failed
        Number of failing rows in total (``rows`` holds at most a few).
    """

    column: str | None
    rule: str
    detail: str = ""
    rows: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    n_failed: int = 0


@dataclass(eq=False)
class InputError(Exception):
    """Bad input: which file, which column, which rule, which rows, what to do.

    Parameters
    ----------
    file
        The input file as the user named it (a config file for config errors).
    problems
        One or more failed rules; the first one is the headline.
    hint
        What to do about it.
    row_label
        How rows are numbered in this file ("line", "observation", "row").
    column_label
        What a column is called ("column"; "key" for a config file).
    """

    file: str
    problems: list[Problem] = field(default_factory=list)
    hint: str = ""
    row_label: str = "row"
    column_label: str = "column"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def column(self) -> str | None:
        """Column of the first problem."""
        return self.problems[0].column if self.problems else None

    @property
    def rule(self) -> str:
        """Rule of the first problem."""
        return self.problems[0].rule if self.problems else "input"

    @property
    def headline(self) -> str:
        """The one-line summary."""
        col = f"{self.column_label} '{self.column}'" if self.column else "file"
        return f"{self.file}: {col}: rule '{self.rule}' failed"

    @property
    def message(self) -> str:
        """Headline plus details, as printed by the CLI."""
        lines = [self.headline]
        for problem in self.problems[:MAX_PROBLEMS]:
            col = f"{self.column_label} '{problem.column}'" if problem.column else "file"
            text = f"  - {col}, rule '{problem.rule}'"
            if problem.detail:
                text += f": {problem.detail}"
            lines.append(text)
            if problem.rows:
                shown = ", ".join(
                    f"{self.row_label} {r} ({v})" if v != "" else f"{self.row_label} {r}"
                    for r, v in zip(problem.rows, problem.values, strict=False)
                )
                more = problem.n_failed - len(problem.rows)
                suffix = f" and {more} more" if more > 0 else ""
                lines.append(f"    {shown}{suffix}")
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - MAX_PROBLEMS} more problems")
        if self.hint:
            lines.append(f"  what to do: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message


def display_path(path: str | Path) -> str:
    """Path as shown in messages: relative to the working directory when possible.

    Parameters
    ----------
    path
        Any path.

    Returns
    -------
    str
        A relative path if ``path`` is under the working directory, else as given.
    """
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def examples(
    rows: Iterable[object],
    values: Iterable[object],
    *,
    masked: bool,
    row_offset: int = 0,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Format up to ``MAX_EXAMPLES`` offending rows and values for a :class:`Problem`.

    Parameters
    ----------
    rows
        Zero-based positions of the offending rows in the frame.
    values
        Offending values, aligned with ``rows``.
    masked
        Mask the values (identifier columns).
    row_offset
        Added to each position to give the user's numbering (2 for a CSV with a
        header: position 0 is line 2).

    Returns
    -------
    tuple of tuple of str
        Row labels and value texts.
    """
    out_rows: list[str] = []
    out_values: list[str] = []
    for row, value in zip(rows, values, strict=False):
        if len(out_rows) >= MAX_EXAMPLES:
            break
        out_rows.append(str(int(row) + row_offset) if _is_int(row) else str(row))
        out_values.append(mask(value) if masked else _show(value))
    return tuple(out_rows), tuple(out_values)


def problem(
    column: str | None,
    rule: str,
    detail: str,
    rows: Sequence[object] = (),
    values: Sequence[object] = (),
    *,
    masked: bool = False,
    row_offset: int = 0,
) -> Problem:
    """Build a :class:`Problem` from raw positions and values (see :func:`examples`)."""
    r, v = examples(rows, values, masked=masked, row_offset=row_offset)
    return Problem(column, rule, detail, r, v, n_failed=len(rows))


def rows_problem(
    column: str,
    rule: str,
    detail: str,
    frame: pd.DataFrame,
    bad: pd.Series,
    *,
    masked: bool = False,
    row_offset: int = 2,
) -> Problem:
    """:func:`problem` of the rows ``bad`` marks in ``frame``, showing their ``column``.

    ``row_offset`` defaults to 2: position 0 is line 2 of a CSV with a header.
    """
    return problem(
        column,
        rule,
        detail,
        frame.index[bad.to_numpy()].tolist(),
        frame.loc[bad, column].tolist(),
        masked=masked,
        row_offset=row_offset,
    )


def _is_int(x: object) -> bool:
    try:
        return float(x) == int(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    # Long free text is cut: it is an example, not a dump.
    return text if len(text) <= 40 else text[:37] + "..."
