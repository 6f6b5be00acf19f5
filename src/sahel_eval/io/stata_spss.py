"""Survey recode files: Stata ``.dta`` and SPSS ``.sav`` through pyreadstat.

Codes are kept as numbers and the value labels returned beside them, because the
meaning of a code (8 = "ne sait pas" or 8 children) is defined per variable by its
labels. Stata files before release 118 (Stata 14) carry no encoding and are Latin-1 in
practice; they are read as such unless the config names another encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyreadstat

from sahel_eval.errors import InputError, Problem, display_path
from sahel_eval.io.columns import missing_file, unreadable_file

FORMATS = {".dta": "stata", ".sav": "spss", ".zsav": "spss"}
FIRST_UNICODE_STATA = 118


@dataclass
class SurveyFile:
    """A survey file as read.

    Attributes
    ----------
    frame
        The data, codes as numbers, a default RangeIndex (position 0 = observation 1).
    variable_labels
        Variable -> label (variables without one are absent).
    value_labels
        Variable -> {code as text: label}; codes written as integers when integral.
    file_format
        ``"stata"`` or ``"spss"``.
    release
        Stata format release (114, 118 …); ``None`` for SPSS.
    encoding
        Encoding passed to pyreadstat, ``None`` when the file declares its own.
    """

    frame: pd.DataFrame
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    file_format: str = "stata"
    release: int | None = None
    encoding: str | None = None


def detect_format(path: str | Path, declared: str = "auto") -> str:
    """``"stata"`` or ``"spss"`` from the config, else from the file extension."""
    if declared != "auto":
        return declared
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            display_path(path),
            [Problem(None, "file_format", f"'{suffix}' is neither .dta nor .sav")],
            hint="set `format: stata` or `format: spss` for this file in the config.",
        )
    return FORMATS[suffix]


def stata_release(path: str | Path) -> int:
    """Format release of a ``.dta`` file, read from its first bytes.

    Releases 117+ start with an XML-like ``<stata_dta><header><release>NNN``; older
    ones with the release number as a single byte.
    """
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(b"<stata_dta>"):
        match = re.search(rb"<release>(\d+)</release>", head)
        if match:
            return int(match.group(1))
        raise ValueError("no release tag")
    if head and 102 <= head[0] <= 115:
        return int(head[0])
    raise ValueError("not a Stata file")


def _code_key(code: object) -> str:
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code)


def read_survey(
    path: str | Path,
    *,
    file_format: str = "auto",
    encoding: str | None = None,
) -> SurveyFile:
    """Read a Stata or SPSS recode file with its labels.

    Parameters
    ----------
    path
        ``.dta`` or ``.sav``.
    file_format
        ``"stata"``, ``"spss"`` or ``"auto"`` (from the extension).
    encoding
        Force an encoding; by default Stata releases before 118 are read as Latin-1
        and the others as the file declares.

    Returns
    -------
    SurveyFile
        Data and labels.

    Raises
    ------
    InputError
        Missing file, unknown format, damaged file.
    """
    path = Path(path)
    if not path.is_file():
        raise missing_file(path, "survey")
    fmt = detect_format(path, file_format)
    release = None
    try:
        if fmt == "stata":
            release = stata_release(path)
            if encoding is None and release < FIRST_UNICODE_STATA:
                encoding = "latin1"
            frame, meta = pyreadstat.read_dta(str(path), encoding=encoding)
        else:
            frame, meta = pyreadstat.read_sav(str(path), encoding=encoding)
    except (
        OSError,
        ValueError,
        UnicodeDecodeError,
        LookupError,
        pyreadstat.ReadstatError,
        pyreadstat.PyreadstatError,
    ) as exc:
        raise unreadable_file(path, "survey", exc) from None
    variable_labels = {str(k): str(v) for k, v in meta.column_names_to_labels.items() if v}
    value_labels = {
        str(var): {_code_key(code): str(label) for code, label in labels.items()}
        for var, labels in meta.variable_value_labels.items()
    }
    return SurveyFile(
        frame=frame.reset_index(drop=True),
        variable_labels=variable_labels,
        value_labels=value_labels,
        file_format=fmt,
        release=release,
        encoding=encoding,
    )
