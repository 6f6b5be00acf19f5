"""Spillover robustness rows: which CSCOMs leave the sample, and an unknown UID refused."""

from __future__ import annotations

import pandas as pd
import pytest

from sahel_eval.did.analyses.spillover import spillover_units
from sahel_eval.errors import InputError
from sahel_eval.ingest.crosscheck import check_spillover_units

PANEL = pd.DataFrame(
    {
        "facility_id": ["Aaaaaaaaaa1", "Bbbbbbbbbb2", "Cccccccccc3", "Dddddddddd4", "Eeeeeeeeee5"],
        "district": ["Koro", "Koro", "Mopti", "Bankass", "Djenné"],
        "group": [0, 0, 7, 0, 0],
    }
)


def test_spillover_units_are_the_named_never_treated_cscoms() -> None:
    # Koro by name, a treated CSCOM by id (stays: it is the effect), one by id.
    got = spillover_units(PANEL, ["Koro", "Cccccccccc3", "Eeeeeeeeee5", "Commune II"])
    assert list(got) == ["Aaaaaaaaaa1", "Bbbbbbbbbb2", "Eeeeeeeeee5"]
    assert spillover_units(PANEL, []).empty


def test_unknown_spillover_uid_is_refused_with_its_position_masked() -> None:
    facilities = PANEL.rename(columns={"facility_id": "orgunit_uid"})
    check_spillover_units({"did": {"spillover_exclude": ["Koro", "Dddddddddd4"]}}, facilities)
    with pytest.raises(InputError) as info:
        check_spillover_units({"did": {"spillover_exclude": ["Koro", "Zzzzzzzzzz9"]}}, facilities)
    message = str(info.value)
    assert "did.spillover_exclude" in message and "'spillover_unit_known'" in message
    assert "did.spillover_exclude[1]" in message and "Zzzzzzzzzz9" not in message
