"""Org-unit matching: UID, normalised name, explicit mapping, ambiguity, unknown names."""

from __future__ import annotations

import pandas as pd
import pytest

from sahel_eval.clean.orgunits import (
    apply_orgunit_matches,
    match_orgunits,
    normalise_name,
    read_orgunit_mapping,
)
from sahel_eval.errors import InputError

FAC = pd.DataFrame(
    {
        "orgunit_uid": ["Abcdefghij1", "Bcdefghijk2", "Cdefghijkl3", "Ddefghijkl4"],
        "orgunit_name": [
            "CSCOM de Sévaré II",
            "CSCOM de Sévaré",
            "CSCOM de N'Dodjiga",
            "CSCOM de Boni",
        ],
    }
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("CSCOM de Sévaré II", "sevare 2"),
        ("ASACO SEVARE 2", "sevare 2"),
        ("cscom  de sévaré ii", "sevare 2"),
        ("Sévaré II ", "sevare 2"),
        ("CSCOM d'Ndodjiga", "ndodjiga"),
        ("CS communautaire de Boni", "boni"),
        ("CSCOM", "cscom"),  # a bare prefix is a name, not stripped to nothing
        ("Asacobougou", "asacobougou"),  # a prefix inside a word is not a prefix
    ],
)
def test_normalise_name(raw: str, key: str) -> None:
    assert normalise_name(raw) == key


def test_match_by_uid_name_and_mapping() -> None:
    export = pd.Series(
        ["Abcdefghij1"] * 3 + ["ASACO SEVARE 2"] * 2 + ["Sévaré"] + ["CS Boni (ex-disp.)"] * 2
    )
    mapping = pd.DataFrame(
        {"name_in_export": ["CS Boni (ex-disp.)"], "orgunit_uid": ["Ddefghijkl4"]}
    )
    m = match_orgunits(export, FAC, mapping)
    got = {r.name_in_export: (r.method, r.orgunit_uid, r.n_rows) for r in m.itertuples()}
    assert got == {
        "Abcdefghij1": ("uid", "Abcdefghij1", 3),
        "ASACO SEVARE 2": ("name", "Abcdefghij1", 2),
        "Sévaré": ("name", "Bcdefghijk2", 1),
        "CS Boni (ex-disp.)": ("mapping", "Ddefghijkl4", 2),
    }
    assert list(m["method"]) == ["uid", "mapping", "name", "name"]
    frame = pd.DataFrame({"orgunit": export, "value": range(len(export))})
    out = apply_orgunit_matches(frame, m)
    assert list(out.columns) == ["orgunit_uid", "value"]
    assert out["orgunit_uid"].tolist()[3] == "Abcdefghij1"


def test_unknown_names_raise_listing_them() -> None:
    export = pd.Series(["Abcdefghij1", "CSCOM de Nulle Part", "Zzzzzzzzzz9"])
    with pytest.raises(InputError) as exc:
        match_orgunits(export, FAC, source="dv.csv")
    err = exc.value
    assert err.file == "dv.csv" and err.rule == "known_orgunit"
    assert "CSCOM de Nulle Part" in err.message and "Zzzzzzzzzz9" in err.message


def test_ambiguous_name_is_an_error_unless_mapped() -> None:
    fac = pd.concat(
        [
            FAC,
            pd.DataFrame({"orgunit_uid": ["Eefghijklm5"], "orgunit_name": ["ASACO de Boni"]}),
        ],
        ignore_index=True,
    )
    with pytest.raises(InputError) as exc:
        match_orgunits(pd.Series(["BONI"]), fac)
    assert exc.value.rule == "unambiguous_name"
    assert "CSCOM de Boni" in exc.value.message and "ASACO de Boni" in exc.value.message
    # An explicit mapping resolves it.
    mapping = pd.DataFrame({"name_in_export": ["BONI"], "orgunit_uid": ["Eefghijklm5"]})
    m = match_orgunits(pd.Series(["BONI"]), fac, mapping)
    assert m.loc[0, "orgunit_uid"] == "Eefghijklm5" and m.loc[0, "method"] == "mapping"


def test_mapping_file_checked(tmp_path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("name_in_export,orgunit_uid\nX,Abcdefghij1\nY,Nonexistent1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_orgunit_mapping(path, FAC["orgunit_uid"])
    assert exc.value.rule == "known_facility" and "Nonexistent1" in exc.value.message
    path.write_text("name_in_export,uid\nX,Abcdefghij1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_orgunit_mapping(path, FAC["orgunit_uid"])
    assert exc.value.rule == "required_column"
