"""Survey recodes, rule by rule, on small hand-made frames."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sahel_eval.clean.survey import clean_survey_file, clean_survey_rounds
from sahel_eval.clean.survey_codes import (
    check_design,
    check_labelled_codes,
    missing_codes,
    set_missing_codes,
)
from sahel_eval.clean.survey_recodes import (
    recode_births,
    recode_children,
    recode_households,
    recode_women,
)
from sahel_eval.clean.survey_settings import Programme, SurveySettings, programme_districts
from sahel_eval.config import load_config
from sahel_eval.errors import InputError

REPO = Path(__file__).resolve().parents[2]

SETTINGS = SurveySettings(
    areas={
        "mopti": ("Mopti", ("Bandiagara", "Bankass", "Mopti")),
        "bamako": ("Bamako", ("Commune I", "Commune III")),
    },
    programmes=(
        Programme("I3S", "mopti", ("Bandiagara", "Mopti")),
        Programme("Djantoli", "bamako", ("Commune III",)),
    ),
)
YES_NO_MISSING = {"0": "Non", "1": "Oui", "9": "Manquant"}
YES_NO_DK = {"0": "Non", "1": "Oui", "8": "Ne sait pas", "9": "Manquant"}
WOMEN_VARS = {
    "id": "caseid",
    "cluster": "v001",
    "weight": "v005",
    "psu": "v021",
    "strata": "v022",
    "region": "v024",
    "urban": "v025",
    "district": "sdist",
    "commune": "scomm",
}
HH_VARS = {
    "id": "hhid",
    "cluster": "hv001",
    "weight": "hv005",
    "psu": "hv021",
    "strata": "hv022",
    "region": "hv024",
    "urban": "hv025",
    "district": "shdist",
    "commune": "shcomm",
}


# --- missing codes from labels ------------------------------------------------------------


def test_missing_codes_come_from_each_variables_labels() -> None:
    labels = {
        "h22": YES_NO_DK,
        "v481": YES_NO_MISSING,
        "shoop": {"9999998": "Ne sait pas", "9999999": "Manquant"},
        "v133": {"97": "INCOHERENT", "98": "ne sait pas", "99": "Manquant"},
        "hv270": {"1": "Le plus pauvre", "5": "Le plus riche"},
        "v106": {"0": "Aucun", "1": "Primaire"},
    }
    codes = missing_codes(labels)
    assert codes == {
        "h22": [8.0, 9.0],
        "v481": [9.0],
        "shoop": [9999998.0, 9999999.0],
        "v133": [97.0, 98.0, 99.0],
    }


def test_missing_words_match_whole_words_only() -> None:
    labels = {"x": {"1": "Transport", "2": "NSP", "3": "Nsp/refus"}}
    assert missing_codes(labels, ["nsp"]) == {"x": [2.0, 3.0]}
    # Configured words decide: without "incohérent" code 97 stays a value.
    assert missing_codes({"v133": {"97": "Incohérent"}}, ["manquant"]) == {}


def test_valid_values_that_look_like_codes_stay() -> None:
    frame = pd.DataFrame(
        {
            "hv009": [8.0, 9.0, 98.0],  # household size: no labels at all
            "v201": [8.0, 9.0, 2.0],
            "v133": [8.0, 98.0, 97.0],  # years of schooling: 98/97 labelled, 8 not
            "shoop": [998.0, 9999998.0, 9999999.0],
            "h22": [8.0, 1.0, 9.0],
            "age_head": [98.0, 99.0, 40.0],  # 98 labelled as a value, 99 as missing
        }
    )
    labels = {
        "v133": {"97": "Incohérent", "98": "Ne sait pas", "99": "Manquant"},
        "shoop": {"9999998": "Ne sait pas", "9999999": "Manquant"},
        "h22": YES_NO_DK,
        "age_head": {"98": "98 ans ou plus", "99": "Manquant"},
    }
    out = set_missing_codes(frame, labels)
    assert out["hv009"].tolist() == [8.0, 9.0, 98.0]
    assert out["v201"].tolist() == [8.0, 9.0, 2.0]
    assert out["v133"].iloc[0] == 8.0 and out["v133"].iloc[1:].isna().all()
    assert out["shoop"].iloc[0] == 998.0 and out["shoop"].iloc[1:].isna().all()
    assert out["h22"].isna().tolist() == [True, False, True]
    assert out["age_head"].iloc[0] == 98.0 and np.isnan(out["age_head"].iloc[1])
    assert frame["h22"].iloc[0] == 8.0  # input untouched


def test_all_missing_variable_stays_missing() -> None:
    frame = pd.DataFrame({"h22": [np.nan, np.nan]})
    out = set_missing_codes(frame, {"h22": YES_NO_DK})
    assert out["h22"].isna().all()


# --- input errors ----------------------------------------------------------------------------


def test_unlabelled_code_of_categorical_variable_is_an_error() -> None:
    frame = pd.DataFrame({"m15": [11.0, 55.0, 23.0, 99.0], "shoop": [5.0, 6.0, 998.0, 1.0]})
    labels = {
        "m15": {"11": "Domicile", "23": "CSCOM", "99": "Manquant"},
        "shoop": {"9999998": "Ne sait pas"},  # only missing codes: continuous, not checked
    }
    with pytest.raises(InputError) as err:
        check_labelled_codes(frame, labels, file="MLBR2015.dta")
    exc = err.value
    assert exc.file == "MLBR2015.dta"
    assert exc.column == "m15" and exc.rule == "labelled_code"
    assert "observation 2 (55.0)" in exc.message
    check_labelled_codes(frame.iloc[[0, 2, 3]], labels, file="f")  # no error


def _women(n: int = 4, **cols: object) -> pd.DataFrame:
    base = {
        "round": [1] * n,
        "round_year": [2015] * n,
        "caseid": [f"hash{i:012d}" for i in range(n)],
        "v001": [1, 1, 2, 2][:n],
        "v005": [500_000.0, 1_500_000.0, 1_000_000.0, 1_000_000.0][:n],
        "v021": [1, 1, 2, 2][:n],
        "v022": [1, 1, 1, 1][:n],
        "v024": [5, 5, 5, 5][:n],
        "v025": [1, 2, 2, 2][:n],
        "sdist": [1, 1, 2, 3][:n],
        "scomm": ["Bandiagara", "Bandiagara", "Bankass", "Mopti"][:n],
        "v481": [1.0, 0.0, 9.0, 0.0][:n],
        "v481a": [1.0, 0.0, 9.0, 0.0][:n],
        "v201": [8.0, 2.0, 0.0, 3.0][:n],
    }
    base.update(cols)
    frame = pd.DataFrame(base)
    for c in ("v001", "v021", "v022", "v024", "v025", "sdist"):
        frame[c] = frame[c].astype("Int64")
    return frame


WOMEN_LABELS = {
    "file": "MLIR2015.dta",
    "round": 1,
    "year": 2015,
    "value_labels": {
        "v024": {"5": "Mopti", "9": "Bamako"},
        "v025": {"1": "Urbain", "2": "Rural"},
        "v481": YES_NO_MISSING,
        "v481a": YES_NO_MISSING,
    },
}


@pytest.mark.parametrize("weight", [0.0, -1.0, np.nan])
def test_weight_not_positive_is_an_error(weight: float) -> None:
    frame = _women(v005=[500_000.0, weight, 1e6, 1e6])
    with pytest.raises(InputError) as err:
        check_design(frame, WOMEN_VARS, file="MLIR2015.dta")
    assert err.value.column == "v005" and err.value.rule == "weight_positive"
    assert "observation 2" in err.value.message
    assert "hash" not in err.value.message  # ids never shown


def test_round_without_psu_is_an_error() -> None:
    frame = _women()
    frame["v021"] = pd.array([pd.NA] * 4, dtype="Int64")
    with pytest.raises(InputError) as err:
        clean_survey_file(
            frame, WOMEN_LABELS, unit="women", variables=WOMEN_VARS, settings=SETTINGS
        )
    assert err.value.column == "v021" and err.value.rule == "psu_present"
    assert "no PSU" in err.value.message and "MLIR2015.dta" in err.value.message


def test_unknown_district_is_an_error() -> None:
    frame = _women(scomm=["Bandiagara", "Bandiagara", "Bankas", "Mopti"])
    with pytest.raises(InputError) as err:
        clean_survey_file(
            frame, WOMEN_LABELS, unit="women", variables=WOMEN_VARS, settings=SETTINGS
        )
    assert err.value.rule == "known_district" and "observation 3" in err.value.message


# --- outcomes --------------------------------------------------------------------------------


def test_facility_delivery_dhs_definition() -> None:
    frame = pd.DataFrame(
        {
            "m15": [11, 12, 20, 23, 36, 39, 40, 96, np.nan, 23],
            "v008": [1384] * 10,
            "b3": [1384 - 10] * 9 + [1384 - 60],  # last: born 60 months ago, excluded
        },
        dtype=float,
    )
    labels = {"m15": {"11": "Domicile de la répondante", "23": "CSCOM", "99": "Manquant"}}
    out = recode_births(frame, SETTINGS, labels)
    assert out["facility_delivery"].tolist()[:8] == [0, 0, 1, 1, 1, 1, 0, 0]
    assert out["facility_delivery"].iloc[8:].isna().all()
    assert out["recent_birth"].tolist()[-1] is False
    assert out["place_of_delivery"].iloc[3] == "CSCOM"
    assert "Manquant" not in out["place_of_delivery"].cat.categories
    assert out["place_type"].tolist()[:2] == ["home", "home"]
    assert out["place_type"].iloc[4] == "private" and out["place_type"].iloc[7] == "other"


def test_fever_care_excludes_configured_sources() -> None:
    nan = np.nan
    frame = pd.DataFrame(
        {
            "h22": [0, 1, 1, 1, 1, nan, 1],
            "h32c": [nan, 1, 0, 0, 0, nan, nan],
            "h32j": [nan, 0, 0, 0, 0, nan, nan],
            "h32k": [nan, 0, 1, 0, 0, nan, nan],  # pharmacie
            "h32t": [nan, 0, 0, 1, 0, nan, nan],  # tradipraticien
            "h11": [0, 1, 2, 0, nan, 0, 0],
        }
    )
    out = recode_children(frame, SETTINGS)
    assert out["fever"].tolist()[:5] == [0, 1, 1, 1, 1] and np.isnan(out["fever"].iloc[5])
    care = out["fever_care"]
    assert care.iloc[1:5].tolist() == [1, 0, 0, 0]
    assert care.iloc[[0, 5, 6]].isna().all()  # no fever, fever unknown, sources all missing
    assert out["diarrhoea"].tolist()[:4] == [0, 1, 1, 0]
    # With pharmacies counted as care, child 3 is covered.
    wider = SurveySettings(areas=SETTINGS.areas, fever_excluded_sources=("h32s", "h32t", "h32x"))
    assert recode_children(frame, wider)["fever_care"].iloc[2] == 1


def test_catastrophic_spending_and_valid_998() -> None:
    frame = pd.DataFrame(
        {
            "shoop": [998.0, 20_000.0, 100_001.0, np.nan, 0.0, 10.0],
            "shconso": [100_000.0, 100_000.0, 1_000_000.0, 5e5, 5e5, 0.0],
        }
    )
    out = recode_households(frame, SETTINGS)
    cat = out["catastrophic_spending"]
    assert cat.iloc[:3].tolist() == [0, 1, 1] and cat.iloc[4] == 0
    assert np.isnan(cat.iloc[3]) and np.isnan(cat.iloc[5])
    assert out["oop"].iloc[0] == 998.0
    assert out["oop_any"].tolist()[:3] == [1, 1, 1] and out["oop_any"].iloc[4] == 0
    strict = SurveySettings(areas=SETTINGS.areas, catastrophic_threshold=0.25)
    assert recode_households(frame, strict)["catastrophic_spending"].iloc[1] == 0


def test_insurance_flags() -> None:
    """Scheme coverage follows survey.scheme_coverage; coverage_none needs every
    configured item known and none covered; without the items, no scheme outcome."""
    frame = pd.DataFrame(
        {
            "v481": [1.0, 0.0, np.nan, 1.0],
            "v481a": [1.0, 0.0, np.nan, 0.0],
            "s481r": [0.0, 0.0, 0.0, 1.0],
        }
    )
    schemes = {"mutual_membership": ("v481a", (1,)), "coverage_ramed": ("s481r", (1,))}
    out = recode_women(frame, replace(SETTINGS, scheme_coverage=schemes))
    assert out["any_insurance"].iloc[[0, 1, 3]].tolist() == [1, 0, 1]
    assert np.isnan(out["any_insurance"][2])
    assert out["mutual_membership"].iloc[[0, 1, 3]].tolist() == [1, 0, 0]
    assert out["coverage_ramed"].tolist() == [0, 0, 0, 1]
    assert out["coverage_none"].iloc[[0, 1, 3]].tolist() == [0, 1, 0]
    assert np.isnan(out["coverage_none"][2])  # an item unknown: not "none"
    assert "mutual_membership" not in recode_women(frame, SETTINGS)


# --- harmonisation ---------------------------------------------------------------------------


def test_clean_file_design_geography_and_arm() -> None:
    out = clean_survey_file(
        _women(), WOMEN_LABELS, unit="women", variables=WOMEN_VARS, settings=SETTINGS
    )
    assert out["psu"].tolist() == ["1-1", "1-1", "1-2", "1-2"]
    assert out["strata"].unique().tolist() == ["1-1"]
    assert out["weight"].tolist() == [0.5, 1.5, 1.0, 1.0]
    assert out["district"].tolist() == ["Bandiagara", "Bandiagara", "Bankass", "Mopti"]
    assert out["region"].unique().tolist() == ["Mopti"] and set(out["area"]) == {"mopti"}
    assert out["arm"].tolist() == ["treated", "treated", "comparison", "treated"]
    assert out["programme"].unique().tolist() == ["I3S"]
    assert out["urban"].tolist() == [True, False, False, False]
    assert out["any_insurance"].iloc[:2].tolist() == [1, 0] and np.isnan(out["v481"].iloc[2])
    assert out["v201"].iloc[0] == 8.0  # 8 children is a value
    assert "caseid" not in out and out["woman_id"].iloc[0] == "hash000000000000"
    # The raw design codes do not survive under their DHS names.
    assert not {"v001", "v005", "v021", "v022", "sdist", "scomm"} & set(out.columns)


def test_district_from_labels_and_rounds_pooled() -> None:
    frame = _women()
    hh = pd.DataFrame(
        {
            "round": [1, 1],
            "round_year": [2015, 2015],
            "hhid": ["h1", "h2"],
            "hv001": [1, 2],
            "hv005": [1e6, 1e6],
            "hv021": [1, 2],
            "hv022": [1, 2],
            "hv024": [9, 9],
            "hv025": [1, 1],
            "shdist": [11, 9],
            "shcomm": ["x", "y"],  # names that are not districts: the labels decide
            "shoop": [998.0, 9999998.0],
            "shconso": [1e5, 1e5],
            "hv009": [8.0, 3.0],
        }
    )
    hh_labels = {
        "file": "MLHR2015.dta",
        "round": 1,
        "year": 2015,
        "value_labels": {
            "shdist": {"9": "Commune I", "11": "Commune III"},
            "hv024": {"5": "Mopti", "9": "Bamako"},
            "shoop": {"9999998": "Ne sait pas", "9999999": "Manquant"},
        },
    }
    out = clean_survey_file(hh, hh_labels, unit="households", variables=HH_VARS, settings=SETTINGS)
    assert out["district"].tolist() == ["Commune III", "Commune I"]
    assert out["arm"].tolist() == ["treated", "comparison"]
    assert out["programme"].unique().tolist() == ["Djantoli"]
    assert out["oop"].iloc[0] == 998.0 and np.isnan(out["oop"].iloc[1])
    assert out["hv009"].iloc[0] == 8.0

    later = _women().assign(round=3, round_year=2021)
    pooled = clean_survey_rounds(
        [(later, {**WOMEN_LABELS, "round": 3, "year": 2021}), (frame, WOMEN_LABELS)],
        unit="women",
        variables=WOMEN_VARS,
        settings=SETTINGS,
    )
    assert pooled["round"].tolist() == [1] * 4 + [3] * 4
    assert pooled["psu"].nunique() == 4  # PSU 1 of round 1 is not PSU 1 of round 3
    assert pooled["year"].tolist()[-1] == 2021


def test_collapse_rule_merges_lonely_stratum_within_district() -> None:
    frame = _women(v022=[1, 2, 2, 2], v021=[1, 2, 3, 3]).assign(sdist=1, scomm=["Bandiagara"] * 4)
    frame["sdist"] = frame["sdist"].astype("Int64")
    collapse = SurveySettings(
        areas=SETTINGS.areas, programmes=SETTINGS.programmes, lonely_psu="collapse"
    )
    adjust = clean_survey_rounds(
        [(frame, WOMEN_LABELS)], unit="women", variables=WOMEN_VARS, settings=SETTINGS
    )
    merged = clean_survey_rounds(
        [(frame, WOMEN_LABELS)], unit="women", variables=WOMEN_VARS, settings=collapse
    )
    assert adjust["strata"].tolist() == ["1-1", "1-2", "1-2", "1-2"]
    assert merged["strata"].unique().tolist() == ["1-2"]
    with pytest.raises(ValueError):
        SurveySettings(areas=SETTINGS.areas, lonely_psu="certainty")


def test_programme_districts_from_rollout() -> None:
    programmes = pd.DataFrame(
        {
            "programme": ["I3S", "I3S", "I3S", "Djantoli"],
            "unit_level": ["facility", "facility", "facility", "commune"],
            "unit_id": ["F1", "F2", "F3", "Commune III"],
        }
    )
    facilities = pd.DataFrame(
        {
            "orgunit_uid": ["F1", "F2", "F3", "F4"],
            "district": ["Mopti", "Bandiagara", "Mopti", "Koro"],
        }
    )
    assert programme_districts(programmes, facilities) == {
        "Djantoli": ("Commune III",),
        "I3S": ("Bandiagara", "Mopti"),
    }


def test_settings_from_config() -> None:
    # A validated config (defaults filled by the schema), with a few keys changed.
    config = load_config(REPO / "config" / "config.yaml")
    config["areas"] = {"mopti": {"region": "Mopti", "districts": ["Mopti", "Koro"]}}
    config["programmes"] = [{"name": "I3S", "area": "mopti"}]
    survey = config["survey"]
    survey["missing_labels"] = ["manquant"]
    survey["codes"]["place_of_delivery"] = {"home": [11]}
    survey["catastrophic_threshold"] = 0.25
    survey["fever_excluded_sources"] = ["h32x"]
    s = SurveySettings.from_config(config, {"I3S": ("Mopti",)})
    assert s.programmes == (Programme("I3S", "mopti", ("Mopti",)),)
    assert s.missing_words == ("manquant",) and s.catastrophic_threshold == 0.25
    assert s.fever_excluded_sources == ("h32x",) and s.place_of_delivery == {"home": (11,)}
    assert s.lonely_psu == "adjust" and s.recent_birth_months == 60
