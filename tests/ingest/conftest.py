"""A small, hand-made raw data set in the formats of data/raw/README.md, and its config.

The identifiers (names, phones, user names) are written into the files so tests can
assert that they never reach an output or an error message.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pyreadstat
import pytest
import yaml
from demo_variants import write_gz

from sahel_eval.config import validate_config

REPO = Path(__file__).resolve().parents[2]

FAC = ["Abcdefghij1", "Bcdefghijk2", "Cdefghijkl3"]
DE_CONSULT, DE_CPN1 = "DeConsult01", "DeCpn100001"
COC_U5, COC_5P, COC_DEFAULT = "CocU5000001", "Coc5plus001", "HllvX50cXC0"

# Direct identifiers planted in the fixtures; none may appear in outputs or messages.
IDENTIFIERS = [
    "Aminata Traoré",
    "Sékou Diarra",
    "Fatoumata Coulibaly",
    "+223 76 12 34 56",
    "+223 66 98 76 54",
    "moussa.keita",
    "awa.sangare",
    "1982-04-17",
    "HH-SECRET-0001",
    "W-SECRET-0001",
]


def write_csv(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


FACILITIES = f"""orgunit_uid,orgunit_name,region,district,commune,aire_de_sante,type,opened,closed
{FAC[0]},CSCOM de Sévaré II,Mopti,Mopti,Sévaré,Sévaré II,CSCOM,2005-01-01,
{FAC[1]},CSCOM de Bandiagara,Mopti,Bandiagara,Bandiagara,Bandiagara Central,CSCOM,2001-06-01,
{FAC[2]},CSCOM de Missira,Bamako,Commune III,Commune III,Missira,CSCOM urbain,1999-03-15,2022-12-31
"""

POPULATION = f"""orgunit_uid,year,population
{FAC[0]},2020,12000
{FAC[0]},2021,12300
{FAC[1]},2020,9000
{FAC[2]},2020,15000
"""

DV_HEADER = (
    "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,"
    "storedby,lastupdated,comment,followup\n"
)
DATAVALUES = DV_HEADER + (
    f"{DE_CONSULT},202001,{FAC[0]},{COC_U5},{COC_DEFAULT},120,moussa.keita,"
    "2020-02-10T09:00:00.000,,false\n"
    f"{DE_CONSULT},202001,{FAC[0]},{COC_5P},{COC_DEFAULT},80,moussa.keita,"
    "2020-02-10T09:00:00.000,,false\n"
    f"{DE_CPN1},202001,{FAC[0]},{COC_DEFAULT},{COC_DEFAULT},15,awa.sangare,"
    "2020-02-11T10:00:00.000,Aminata Traoré a appelé,false\n"
    f"{DE_CPN1},202002,ASACO SEVARE 2,{COC_DEFAULT},{COC_DEFAULT},0,awa.sangare,"
    "2020-03-11T10:00:00.000,,false\n"
)

COMPLETENESS = f"""dataset,period,orgunit,attributeoptioncombo,date,storedby,completed
RmaCscom001,202001,{FAC[0]},{COC_DEFAULT},2020-02-10T09:05:00,moussa.keita,true
RmaCscom001,202002,{FAC[0]},{COC_DEFAULT},2020-03-20T09:05:00,awa.sangare,true
"""

PROGRAMMES = f"""programme,unit_level,unit_id,start,end
I3S,facility,{FAC[0]},2020-02-01,2021-12-31
I3S,facility,{FAC[1]},2020-02-15,2021-12-31
Djantoli,commune,Commune III,2020-02-01,2021-10-31
"""

EVENT_HEADER = (
    "event_id_cnty,event_date,year,event_type,sub_event_type,actor1,admin1,admin2,admin3,"
    "location,latitude,longitude,fatalities,notes\n"
)
EVENTS = EVENT_HEADER + (
    "MLI1001,2019-03-23,2019,Violence against civilians,Attack,Unidentified armed group,"
    "Mopti,Bankass,Ogossagou,Ogossagou,14.29,-3.32,160,attack\n"
    "MLI1002,2020-05-02,2020,Battles,Armed clash,Military forces,Mopti,Mopti,Sévaré,Sévaré,"
    "14.53,-4.10,3,\n"
)

MUTUAL_HEADER = (
    "mutuelle,regime,annee,population_cible,adherents,beneficiaires,renouvellements_attendus,"
    "renouveles,cotisation_annuelle_par_beneficiaire,cotisations_dues,cotisations_percues,"
    "prestations_payees,frais_gestion,subventions\n"
)
MUTUAL_CSV = MUTUAL_HEADER + (
    "Mutuelle de Bandiagara,AMV,2018,50000,1200,4800,1000,700,750,3600000,3000000,2500000,"
    "400000,1000000\n"
    "Mutuelle de Bandiagara,AMV,2019,51000,1300,5200,1200,800,750,3900000,3100000,2600000,"
    "410000,1000000\n"
)


def household_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hhid": ["HH-SECRET-0001", "  1  2", "  1  3"],
            "hv001": [1, 1, 2],
            "hv002": [1, 2, 1],
            "hv005": [1_200_000, 800_000, 1_000_000],
            "hv021": [1, 1, 2],
            "hv022": [3, 3, 4],
            "hv024": [1, 1, 1],
            "hv025": [1, 2, 2],
            "shdist": [6, 1, 7],
            "shcomm": [10, 11, 12],
            "hv009": [8, 5, 3],
            "hv270": [1, 3, 5],
            "shconso": [900_000, 1_500_000, 2_000_000],
            "shoop": [998, 9_999_998, 12_000],
            "shrenon": [0, 1, 0],
            "shnom": ["Aminata Traoré", "Sékou Diarra", "Fatoumata Coulibaly"],
            "shtel": ["+223 76 12 34 56", "+223 66 98 76 54", ""],
            "gps_lat": [14.49, 14.35, 14.51],
            "gps_lon": [-4.18, -3.61, -4.09],
        }
    )


HOUSEHOLD_LABELS = {
    "shdist": {1: "Bandiagara", 6: "Mopti", 7: "Ténenkou"},
    "hv025": {1: "urbain", 2: "rural"},
    "shoop": {9_999_998: "ne sait pas", 9_999_999: "manquant"},
}


def women_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "caseid": ["W-SECRET-0001", "  1  2  1", "  2  1  2"],
            "v001": [1.0, 1.0, 2.0],
            "v002": [1.0, 2.0, 1.0],
            "v003": [2.0, 1.0, 2.0],
            "v005": [1_100_000.0, 900_000.0, 1_000_000.0],
            "v021": [1.0, 1.0, 2.0],
            "v022": [3.0, 3.0, 4.0],
            "v024": [1.0, 1.0, 1.0],
            "v025": [1.0, 2.0, 2.0],
            "sdist": [6.0, 1.0, 7.0],
            "scomm": [10.0, 11.0, 12.0],
            "v008": [1456.0, 1456.0, 1457.0],
            "v012": [25.0, 31.0, 19.0],
            "v133": [0.0, 6.0, 98.0],
            "v106": [0.0, 1.0, 2.0],
            "v190": [1.0, 3.0, 5.0],
            "v201": [8.0, 2.0, 0.0],
            "v481": [0.0, 1.0, 8.0],
            "v481a": [0.0, 1.0, 9.0],
            "v481b": [0.0, 0.0, 9.0],
            "v481c": [0.0, 0.0, 9.0],
            "v481d": [0.0, 0.0, 9.0],
            "s481r": [0.0, 0.0, 9.0],
            "snom": ["Aminata Traoré", "Sékou Diarra", "Fatoumata Coulibaly"],
            "stel": ["+223 76 12 34 56", "+223 66 98 76 54", ""],
        }
    )


WOMEN_LABELS = {
    "v481": {0: "non", 1: "oui", 8: "ne sait pas", 9: "manquant"},
    "sdist": {1: "Bandiagara", 6: "Mopti", 7: "Ténenkou"},
}


def children_frame() -> pd.DataFrame:
    women = women_frame().drop(columns=["v481", "v481a", "v481b", "v481c", "v481d", "s481r"])
    return women.assign(
        bidx=[1.0, 1.0, 2.0],
        b3=[1420.0, 1430.0, 1435.0],
        b4=[1.0, 2.0, 1.0],  # sex of the child (survey.variables.children.sex)
        h11=[0.0, 2.0, 8.0],
        h12=[0.0, 1.0, 9.0],
        h22=[1.0, 0.0, 1.0],
        h32a=[1.0, 0.0, 0.0],
        h32t=[0.0, 0.0, 1.0],
        h32x=[0.0, 0.0, 0.0],
        h46b=[0.0, 1.0, 98.0],
        sdob=["1982-04-17", "2019-05-02", "2020-01-09"],
    )


def write_dta(frame: pd.DataFrame, path: Path, version: int, labels: dict) -> Path:
    frame.to_stata(
        path,
        version=version,
        write_index=False,
        value_labels=labels,
        variable_labels={"shdist": "District (cercle) de résidence"} if "shdist" in frame else {},
        time_stamp=dt.datetime(2024, 1, 1),
    )
    return path


def build_raw(root: Path) -> dict[str, Any]:
    """Write every raw input under ``root``; return their paths."""
    root.mkdir(parents=True, exist_ok=True)
    survey = root / "survey"
    survey.mkdir()
    mutuals = root / "mutuals"
    mutuals.mkdir()
    paths: dict[str, Any] = {
        "facilities": write_csv(root / "facilities.csv", FACILITIES),
        "population": write_csv(root / "population.csv", POPULATION),
        "dhis2_datavalues": write_gz(root / "dhis2_datavalues.csv.gz", DATAVALUES),
        "dhis2_completeness": write_csv(root / "dhis2_completeness.csv", COMPLETENESS),
        "programmes": write_csv(root / "programmes.csv", PROGRAMMES),
        "events": write_csv(root / "events.csv", EVENTS),
    }
    paths["hr2015"] = write_dta(household_frame(), survey / "MLHR2015.dta", 114, HOUSEHOLD_LABELS)
    women = women_frame()
    paths["ir2018"] = survey / "MLIR2018.sav"
    pyreadstat.write_sav(women, str(paths["ir2018"]), variable_value_labels=WOMEN_LABELS)
    paths["kr2021"] = write_dta(
        children_frame(), survey / "MLKR2021.dta", 118, {"h11": {8: "ne sait pas", 9: "manquant"}}
    )
    paths["mutual_csv"] = write_csv(mutuals / "mutuelle_bandiagara.csv", MUTUAL_CSV)
    xlsx = pd.read_csv(io.StringIO(MUTUAL_CSV)).assign(mutuelle="Mutuelle de Mopti")
    paths["mutual_xlsx"] = mutuals / "mutuelle_mopti.xlsx"
    xlsx.to_excel(paths["mutual_xlsx"], index=False, engine="openpyxl")
    return paths


def build_config(paths: dict[str, Any]) -> dict[str, Any]:
    """The shipped config pointed at the fixture files, validated."""
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config["inputs"] = {
        key: str(paths[key])
        for key in (
            "facilities",
            "population",
            "dhis2_datavalues",
            "dhis2_completeness",
            "programmes",
            "events",
        )
    }
    config["inputs"]["surveys"] = [
        {
            "round": 1,
            "year": 2015,
            "files": [{"unit": "households", "path": str(paths["hr2015"]), "format": "stata"}],
        },
        {"round": 2, "year": 2018, "files": [{"unit": "women", "path": str(paths["ir2018"])}]},
        {
            "round": 3,
            "year": 2021,
            "files": [{"unit": "children", "path": str(paths["kr2021"]), "format": "stata"}],
        },
    ]
    config["inputs"]["mutuals"] = [str(paths["mutual_csv"]), str(paths["mutual_xlsx"])]
    indicators = {
        "consultations_all": [
            {"data_element": DE_CONSULT, "category_option_combo": COC_U5},
            {"data_element": DE_CONSULT, "category_option_combo": COC_5P},
        ],
        "consultations_u5": [{"data_element": DE_CONSULT, "category_option_combo": COC_U5}],
        "anc1": [{"data_element": DE_CPN1, "category_option_combo": COC_DEFAULT}],
    }
    config["dhis2"]["indicators"] = indicators
    config["dhis2"]["dataset"] = "RmaCscom001"
    # Each area keeps the districts the three fixture facilities are in.
    config["areas"]["mopti"]["districts"] = ["Bandiagara", "Mopti"]
    config["areas"]["bamako"]["districts"] = ["Commune III"]
    # No comparison CSCOM of the demo's spillover list is among the fixture facilities.
    config["did"]["spillover_exclude"] = []
    config["dq"]["outliers"]["seasonal_indicators"] = []
    config["resilience"]["essential_services"] = ["consultations_all", "anc1"]
    # The fixture export has no ANC4, Penta or deliveries: no quality-of-care ratio.
    config["quality_of_care"]["ratios"] = {}
    # The three fixture facilities hold no urban and rural CSCOM pair in one area: no
    # facility subgroup (make check would refuse the empty group, as it should).
    config["did"]["subgroups"] = {
        name: sub
        for name, sub in config["did"]["subgroups"].items()
        if sub["variable"] != "facility_urban"
    }
    primary = config["reporting"]["primary_outcomes"]
    for analysis in config["analyses"]:
        if analysis["data"] == "facility":
            analysis["outcomes"] = ["consultations_all", "anc1"]
            # Primary outcomes must be among the analysis's own (config v3).
            name = analysis["name"]
            primary[name] = [o for o in primary[name] if o in analysis["outcomes"]]
    return validate_config(config)


@pytest.fixture
def raw(tmp_path: Path) -> dict[str, Any]:
    return build_raw(tmp_path / "raw")


@pytest.fixture
def config(raw: dict[str, Any]) -> dict[str, Any]:
    return build_config(raw)


@pytest.fixture
def fresh_config(config: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(config)


@pytest.fixture
def identifiers() -> list[str]:
    return list(IDENTIFIERS)


@pytest.fixture
def fx() -> ModuleType:
    """This module: its builders and constants, for tests (importlib mode cannot import it)."""
    return sys.modules[__name__]
