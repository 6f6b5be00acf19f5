"""Survey labels and codes (DESIGN §4): missing codes found per variable from its value
labels, labelled-code and design checks that fail with the file, column and rows.

* Don't-know / missing codes are found **per variable from its value labels**: a code
  whose label contains a missing word ("ne sait pas", "manquant", "incohérent", …)
  becomes missing for that variable only. Nothing else is touched, so ``hv009 = 8``
  (eight people), ``v201 = 8`` (eight children) or ``shoop = 998`` FCFA stay valid.
* A categorical variable (one whose labels name at least one valid code) may only hold
  labelled codes; an unlabelled code (``m15 = 55``) is an input error, not a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.survey_settings import DEFAULT_MISSING_WORDS
from sahel_eval.errors import InputError, Problem, problem

__all__ = [
    "ROW_LABEL",
    "check_design",
    "check_labelled_codes",
    "labelled_category",
    "missing_codes",
    "set_missing_codes",
]

#: Name of the row index in error messages.
ROW_LABEL = "observation"


def _norm(text: str) -> str:
    # Accents and case vary between rounds ("Incohérent", "INCOHERENT"): compare bare.
    bare = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", bare.casefold()).strip()


def _is_missing_label(label: str, words: Iterable[str]) -> bool:
    text = _norm(label)
    # Whole words only: "nsp" must not match inside another word.
    return any(re.search(rf"(?<!\w){re.escape(_norm(w))}(?!\w)", text) for w in words)


def missing_codes(
    value_labels: Mapping[str, Mapping[str, str]],
    words: Iterable[str] = DEFAULT_MISSING_WORDS,
) -> dict[str, list[float]]:
    """Don't-know / missing codes of each variable, read from its value labels.

    Parameters
    ----------
    value_labels
        Variable -> {code as text: label} (the ingest sidecar's ``value_labels``).
    words
        A code is missing when its label contains one of these (case and accents
        ignored, whole words).

    Returns
    -------
    dict
        Variable -> sorted missing codes; variables without any are absent.
    """
    words = tuple(words)
    out: dict[str, list[float]] = {}
    for var, labels in value_labels.items():
        codes = sorted(float(c) for c, lab in labels.items() if _is_missing_label(lab, words))
        if codes:
            out[var] = codes
    return out


def set_missing_codes(
    frame: pd.DataFrame,
    value_labels: Mapping[str, Mapping[str, str]],
    *,
    words: Iterable[str] = DEFAULT_MISSING_WORDS,
) -> pd.DataFrame:
    """Replace each variable's labelled don't-know / missing codes by a missing value.

    Only codes that the variable's own labels call missing are replaced; a variable
    without labels is left alone, whatever its values (see :func:`missing_codes`).

    Returns
    -------
    pandas.DataFrame
        A copy.
    """
    out = frame.copy()
    for var, codes in missing_codes(value_labels, words).items():
        if var in out.columns and pd.api.types.is_numeric_dtype(out[var]):
            out[var] = out[var].mask(out[var].isin(codes))
    return out


def _valid_codes(labels: Mapping[str, str], words: Iterable[str]) -> set[float]:
    return {float(c) for c, lab in labels.items() if not _is_missing_label(lab, words)}


def _problem(frame: pd.DataFrame, bad: pd.Series, column: str, rule: str, detail: str) -> Problem:
    positions = np.flatnonzero(bad.to_numpy(dtype=bool))
    return problem(
        column,
        rule,
        detail,
        positions.tolist(),
        frame[column].to_numpy()[positions].tolist(),
        row_offset=1,
    )


def check_labelled_codes(
    frame: pd.DataFrame,
    value_labels: Mapping[str, Mapping[str, str]],
    *,
    file: str,
    words: Iterable[str] = DEFAULT_MISSING_WORDS,
    categorical: Iterable[str] | None = None,
) -> None:
    """Raise if a categorical variable holds a code its labels do not define.

    Parameters
    ----------
    frame
        Interim survey table (codes as numbers, default index: position 0 =
        observation 1).
    value_labels
        The file's value labels.
    file
        File name for the message.
    categorical
        Variables to check; default: those whose labels name a valid code (a variable
        labelled only for its missing codes, like an amount, is continuous).

    Raises
    ------
    InputError
        Rule ``labelled_code``, naming the variable and example observations.
    """
    words = tuple(words)
    frame = frame.reset_index(drop=True)
    if categorical is None:
        names = [v for v, lab in value_labels.items() if _valid_codes(lab, words)]
    else:
        names = list(categorical)
    problems = []
    for var in names:
        if var not in frame.columns or var not in value_labels:
            continue
        if not pd.api.types.is_numeric_dtype(frame[var]):
            continue
        allowed = [float(c) for c in value_labels[var]]
        values = frame[var].astype(float)
        bad = values.notna() & ~values.isin(allowed)
        if bad.any():
            problems.append(
                _problem(
                    frame,
                    bad,
                    var,
                    "labelled_code",
                    "code not among the variable's value labels ("
                    + ", ".join(str(int(c)) if c.is_integer() else str(c) for c in allowed)
                    + ")",
                )
            )
    if problems:
        raise InputError(
            file,
            problems,
            hint="correct the code in the file, or add its value label if the code is "
            "real (a missing code needs a label such as 'Manquant').",
            row_label=ROW_LABEL,
        )


def check_design(
    frame: pd.DataFrame,
    variables: Mapping[str, Any],
    *,
    file: str,
) -> None:
    """Raise if a survey file cannot carry design-based inference.

    Rules: ``weight_positive`` (weight present and > 0), ``psu_present`` (a PSU on
    every row; a round whose PSU is missing throughout is named as such) and
    ``strata_present``.

    Raises
    ------
    InputError
        One problem per failing rule, with example observations (no identifiers).
    """
    frame = frame.reset_index(drop=True)
    weight, psu, strata = variables["weight"], variables["psu"], variables["strata"]
    problems: list[Problem] = []
    missing_cols = [c for c in (weight, psu, strata) if c not in frame.columns]
    if missing_cols:
        raise InputError(
            file,
            [Problem(c, "column_present", "design variable absent") for c in missing_cols],
            hint="name the design variables under survey.variables in the config.",
        )
    w = pd.to_numeric(frame[weight], errors="coerce").astype(float)
    bad = w.isna() | (w <= 0)
    if bad.any():
        problems.append(
            _problem(frame, bad, weight, "weight_positive", "sampling weight missing or ≤ 0")
        )
    if len(frame) and frame[psu].isna().all():
        problems.append(
            Problem(
                psu,
                "psu_present",
                "this round has no PSU: the variable is missing for every respondent",
                n_failed=len(frame),
            )
        )
    elif frame[psu].isna().any():
        problems.append(_problem(frame, frame[psu].isna(), psu, "psu_present", "PSU missing"))
    if frame[strata].isna().any():
        problems.append(
            _problem(frame, frame[strata].isna(), strata, "strata_present", "stratum missing")
        )
    if problems:
        raise InputError(
            file,
            problems,
            hint="design-based standard errors need a positive weight, a PSU and a "
            "stratum for every respondent: get the round's full recode file.",
            row_label=ROW_LABEL,
        )


def labelled_category(
    codes: pd.Series, labels: Mapping[str, str] | None, words: Iterable[str]
) -> pd.Series:
    # Missing codes are already gone from the data: keep them out of the categories too.
    labels = {c: lab for c, lab in (labels or {}).items() if not _is_missing_label(lab, words)}
    if not labels:
        return pd.Series(pd.NA, index=codes.index, dtype="string")
    ordered = sorted(labels.items(), key=lambda kv: float(kv[0]))
    lookup = {float(c): lab for c, lab in ordered}
    return pd.Series(
        pd.Categorical(
            codes.astype(float).map(lookup),
            categories=list(dict.fromkeys(lab for _, lab in ordered)),
        ),
        index=codes.index,
    )
