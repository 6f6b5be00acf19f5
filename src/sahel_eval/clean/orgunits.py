"""Match the org units of a DHIS2 export to the master facility list.

Legacy exports sometimes carry a facility's name instead of its UID
(``ASACO SEVARE 2``, ``cscom  de sévaré ii``). Each distinct ``orgunit`` text is
matched, in this order:

1. ``uid``: it is a UID of the master list;
2. ``mapping``: it is listed in the explicit mapping file (``name_in_export,
   orgunit_uid``) — an explicit decision of the user, so it wins over the name
   heuristic and is how an ambiguous name is resolved;
3. ``name``: its normalised name (:func:`normalise_name`) equals the normalised name
   of exactly one facility. A normalised name shared by two facilities is an error,
   never a guess.

Anything left unmatched raises :class:`~sahel_eval.errors.InputError` listing the
names (org-unit names are not personal identifiers, so they are shown).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sahel_eval.errors import InputError, Problem, display_path, rows_problem
from sahel_eval.io.columns import Coercer, read_text_table, require_columns

__all__ = [
    "MATCH_COLUMNS",
    "apply_orgunit_matches",
    "match_orgunits",
    "normalise_name",
    "read_orgunit_mapping",
]

MATCH_COLUMNS = ("name_in_export", "method", "orgunit_uid", "n_rows")

# Only prefixes that say "community health centre" in general; a place name is never
# stripped. "d" is what "d'" becomes once punctuation is a space.
_PREFIX = re.compile(
    r"^(?:centre de sante communautaire|cs communautaire|cscom|asaco)"
    r"(?: (?:de la|de|du|des|d))? (?=\S)"
)
_ROMAN = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "v": "5",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "x": "10",
}


def normalise_name(name: object) -> str:
    """Normalised facility name used for matching.

    Accents, case, punctuation and repeated spaces are dropped, one generic prefix
    (``CSCOM``, ``CSCOM de``, ``ASACO``, ``CS communautaire``, ``Centre de santé
    communautaire``, each optionally followed by de/du/des/d') is removed and Roman
    numerals written as separate words become digits (``Sévaré II`` = ``SEVARE 2``).

    Parameters
    ----------
    name
        A facility name as written anywhere.

    Returns
    -------
    str
        The matching key (empty for an empty name).
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
    text = _PREFIX.sub("", text, count=1)
    return " ".join(_ROMAN.get(word, word) for word in text.split())


def read_orgunit_mapping(path: str | Path, facility_ids: Iterable[str]) -> pd.DataFrame:
    """Read the explicit org-unit mapping file.

    Parameters
    ----------
    path
        CSV with columns ``name_in_export`` and ``orgunit_uid``.
    facility_ids
        UIDs of the master list; every mapped UID must be one of them.

    Returns
    -------
    pandas.DataFrame
        ``name_in_export, orgunit_uid`` (text, surrounding spaces stripped).

    Raises
    ------
    InputError
        Missing file or column, empty cells, a name mapped twice, or a UID not in
        the master list.
    """
    frame = read_text_table(path, "org-unit mapping")
    require_columns(frame, ("name_in_export", "orgunit_uid"), path)
    typer = Coercer(frame[["name_in_export", "orgunit_uid"]].copy(), path)
    typer.text("name_in_export", required=True)
    typer.text("orgunit_uid", required=True)
    typer.raise_if_any("every row needs the name as it appears in the export and its UID.")
    frame = typer.frame
    problems: list[Problem] = []
    dup = frame["name_in_export"].duplicated(keep=False)
    if dup.any():
        problems.append(
            rows_problem(
                "name_in_export",
                "unique_key",
                "the same name is mapped more than once",
                frame,
                dup,
            )
        )
    unknown = ~frame["orgunit_uid"].isin(set(facility_ids))
    if unknown.any():
        problems.append(
            rows_problem(
                "orgunit_uid",
                "known_facility",
                "UID not in the master facility list",
                frame,
                unknown,
            )
        )
    if problems:
        raise InputError(
            display_path(path),
            problems,
            hint="map each export name once, to a UID of the master facility list.",
            row_label="line",
        )
    return frame.reset_index(drop=True)


def match_orgunits(
    orgunits: pd.Series,
    facilities: pd.DataFrame,
    mapping: pd.DataFrame | None = None,
    *,
    source: str = "DHIS2 export",
) -> pd.DataFrame:
    """Match every distinct org-unit text of an export to a facility UID.

    Parameters
    ----------
    orgunits
        The ``orgunit`` column of an export (one value per row).
    facilities
        Master list with ``orgunit_uid`` and ``orgunit_name``.
    mapping
        Optional explicit mapping (``name_in_export, orgunit_uid``), e.g. from
        :func:`read_orgunit_mapping`.
    source
        The file the org units come from, for the error message.

    Returns
    -------
    pandas.DataFrame
        The mapping used, one row per distinct text: ``name_in_export, method
        (uid | mapping | name), orgunit_uid, n_rows``, sorted by method then text.

    Raises
    ------
    InputError
        Naming the unmatched texts, and the ambiguous ones (a normalised name
        shared by several facilities) with the facilities they could be.
    """
    counts = orgunits.value_counts(dropna=False, sort=False)
    texts = counts.index.to_series(index=counts.index).astype("str")
    uids = set(facilities["orgunit_uid"])
    out = pd.DataFrame({"name_in_export": texts.to_numpy(), "n_rows": counts.to_numpy()})
    out["method"] = pd.Series(pd.NA, index=out.index, dtype="str")
    out["orgunit_uid"] = pd.Series(pd.NA, index=out.index, dtype="str")

    is_uid = out["name_in_export"].isin(uids)
    out.loc[is_uid, "method"] = "uid"
    out.loc[is_uid, "orgunit_uid"] = out.loc[is_uid, "name_in_export"]

    if mapping is not None and len(mapping):
        lookup = dict(zip(mapping["name_in_export"], mapping["orgunit_uid"], strict=True))
        mapped = out["orgunit_uid"].isna() & out["name_in_export"].isin(lookup)
        out.loc[mapped, "method"] = "mapping"
        out.loc[mapped, "orgunit_uid"] = out.loc[mapped, "name_in_export"].map(lookup)

    todo = out["orgunit_uid"].isna()
    ambiguous: list[str] = []
    ambiguous_texts: set[str] = set()
    if todo.any():
        keys = facilities["orgunit_name"].map(normalise_name)
        per_key = facilities.groupby(keys.to_numpy(), sort=True)["orgunit_uid"].agg(list)
        wanted = out.loc[todo, "name_in_export"].map(normalise_name)
        hits = wanted.map(per_key)
        single = hits.map(lambda h: isinstance(h, list) and len(h) == 1)
        many = hits.map(lambda h: isinstance(h, list) and len(h) > 1)
        idx = hits.index[single.to_numpy()]
        out.loc[idx, "method"] = "name"
        out.loc[idx, "orgunit_uid"] = hits[single].map(lambda h: h[0])
        for text, cands in zip(
            out.loc[hits.index[many], "name_in_export"], hits[many], strict=True
        ):
            names = facilities.loc[facilities["orgunit_uid"].isin(cands), "orgunit_name"]
            ambiguous.append(f"{text!r} could be any of: " + "; ".join(sorted(names)))
            ambiguous_texts.add(text)

    problems: list[Problem] = []
    unmatched = out["orgunit_uid"].isna()
    if ambiguous:
        problems.append(
            Problem(
                "orgunit",
                "unambiguous_name",
                "a name matches several facilities once normalised: " + " | ".join(ambiguous),
            )
        )
    lost = sorted(set(out.loc[unmatched, "name_in_export"]) - ambiguous_texts)
    if lost:
        problems.append(
            Problem(
                "orgunit",
                "known_orgunit",
                f"{len(lost)} org unit(s) match no UID, no facility name and no mapping "
                "entry: "
                + ", ".join(repr(x) for x in lost[:20])
                + (" ..." if len(lost) > 20 else ""),
            )
        )
    if problems:
        raise InputError(
            display_path(source),
            problems,
            hint="add each name with its UID to the org-unit mapping file "
            "(inputs.orgunit_mapping: columns name_in_export, orgunit_uid), or correct "
            "the master facility list.",
        )
    order = {"uid": 0, "mapping": 1, "name": 2}
    out = out.assign(_o=out["method"].map(order)).sort_values(
        ["_o", "name_in_export"], kind="mergesort"
    )
    out["n_rows"] = out["n_rows"].astype("int64")
    return out[list(MATCH_COLUMNS)].reset_index(drop=True)


def apply_orgunit_matches(
    frame: pd.DataFrame, matches: pd.DataFrame, *, column: str = "orgunit"
) -> pd.DataFrame:
    """Replace the org-unit texts of ``frame`` by the matched UIDs.

    Parameters
    ----------
    frame
        An export with an org-unit column.
    matches
        Output of :func:`match_orgunits` for that column.
    column
        The org-unit column; it is replaced by ``orgunit_uid``.

    Returns
    -------
    pandas.DataFrame
        A copy with ``orgunit_uid`` in place of ``column``.
    """
    lookup = pd.Series(matches["orgunit_uid"].to_numpy(), index=matches["name_in_export"])
    out = frame.copy()
    uid = out[column].map(lookup).astype("str")
    out.insert(out.columns.get_loc(column), "orgunit_uid", uid)
    return out.drop(columns=[column])
