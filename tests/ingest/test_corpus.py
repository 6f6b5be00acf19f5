"""Must-refuse corpus: bad variants of the demo inputs, refused by ``check`` clearly.

Each case breaks one file (or the config) of the slice of the demo data made by
tests/demo_variants.py and names the file, the column (or key) and the rule its
message must give. Cases that break different files run together through one
``check`` (it lists every failing file), in this process, to keep the suite fast;
every case must still get its own error, and nothing may be written.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import demo_variants as dv
import pandas as pd
import pytest
import yaml
from demo_variants import (
    cell,
    delete,
    header_only,
    raw_bytes,
    register,
    rows,
    set_key,
    survey,
    table,
)

from sahel_eval import cli

Edit = dv.Edit


@dataclass(frozen=True)
class Case:
    name: str
    key: str  # input key (or "config") the case breaks: one case per key in a batch
    edit: Edit
    file: str  # file name the message must give
    column: str | None  # column / key the message must give (None: file-level rule)
    rule: str
    needs: tuple[str, ...] = ()  # inputs the rule compares with: kept intact in its batch
    shows: str | None = None  # an example row the message must show (row and value)

    def clashes(self, other: Case) -> bool:
        return self.key == other.key or self.key in other.needs or other.key in self.needs


DV, REG, FAC, POP = "dhis2_datavalues", "dhis2_completeness", "facilities", "population"
PROG, EV, MAP = "programmes", "events", "orgunit_mapping"
DVF, REGF, FACF, POPF = (
    "dhis2_datavalues.csv.gz",
    "dhis2_completeness.csv",
    "facilities.csv",
    ("population.csv"),
)
PROGF, EVF, MAPF = "programmes.csv", "events.csv", "orgunit_mapping.csv"
DP, DPF = "district_population", "district_population.csv"

DISP, DISPF = "displacement_sites", "displacement_sites.csv"


def _typo_district(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[frame["admin2"] == "Bandiagara", "admin2"] = "Bandiagra"
    return frame


CASES = [
    # master facility list
    Case("fac_missing_file", FAC, delete(FAC), FACF, None, "file_exists"),
    Case("fac_header_only", FAC, header_only(FAC), FACF, None, "not_empty"),
    Case("fac_empty_file", FAC, raw_bytes(FAC, lambda b: b""), FACF, None, "not_empty"),
    Case(
        "fac_missing_column",
        FAC,
        table(FAC, lambda f: f.drop(columns="district")),
        FACF,
        "district",
        "required_column",
    ),
    Case(
        "fac_renamed_column",
        FAC,
        table(FAC, lambda f: f.rename(columns={"orgunit_uid": "uid"})),
        FACF,
        "orgunit_uid",
        "required_column",
    ),
    Case(
        "fac_duplicated_row",
        FAC,
        table(FAC, lambda f: pd.concat([f, f.head(1)])),
        FACF,
        "orgunit_uid",
        "unique_key",
    ),
    Case(
        # An extra column is ignored, unless it repeats a header: which one to read?
        "fac_extra_column_repeats_header",
        FAC,
        table(FAC, lambda f: f.assign(District=f["district"].str.upper())),
        FACF,
        "district",
        "unique_column",
        shows="columns 4, 10",
    ),
    Case(
        "fac_district_typo",
        FAC,
        cell(FAC, "district", "Bandiagra"),
        FACF,
        "district",
        "known_district",
    ),
    Case("fac_bad_date", FAC, cell(FAC, "opened", "2005-13-45"), FACF, "opened", "date_format"),
    Case("fac_empty_uid", FAC, cell(FAC, "orgunit_uid", ""), FACF, "orgunit_uid", "not_missing"),
    Case(
        "area_district_without_facility",
        "areas",
        lambda c: [
            c["geography"]["Mopti"].append("Sofara"),
            c["areas"]["mopti"]["districts"].append("Sofara"),
        ],
        "config",
        "areas.mopti.districts",
        "area_district_has_facilities",
        (FAC,),
    ),
    # catchment population
    Case("pop_fractional", POP, cell(POP, "population", "12000.5"), POPF, "population", "integer"),
    Case("pop_text", POP, cell(POP, "population", "douze mille"), POPF, "population", "integer"),
    Case("pop_negative", POP, cell(POP, "population", "-5"), POPF, "population", "non_negative"),
    Case(
        "pop_unknown_facility",
        POP,
        cell(POP, "orgunit_uid", "Zzzzzzzzzz9"),
        POPF,
        "orgunit_uid",
        "known_facility",
        (FAC,),
    ),
    Case(
        "pop_duplicated_row",
        POP,
        table(POP, lambda f: pd.concat([f, f.head(1)])),
        POPF,
        "orgunit_uid",
        "unique_key",
    ),
    Case("pop_header_only", POP, header_only(POP), POPF, None, "not_empty"),
    # district population projections (WHO DQR domain 4)
    Case(
        "dp_unknown_district",
        DP,
        cell(DP, "district", "Bandiagra"),
        DPF,
        "district",
        "known_district",
        (FAC,),
    ),
    Case("dp_zero", DP, cell(DP, "population", "0"), DPF, "population", "positive"),
    Case("dp_decimal_comma", DP, cell(DP, "population", "2,5"), DPF, "population", "integer"),
    Case(
        "dp_duplicated_row",
        DP,
        table(DP, lambda f: pd.concat([f, f.head(1)])),
        DPF,
        "district",
        "unique_key",
    ),
    Case(
        "dp_missing_column",
        DP,
        table(DP, lambda f: f.drop(columns="year")),
        DPF,
        "year",
        "required_column",
    ),
    # DHIS2 data values
    Case("dv_decimal_comma_count", DV, cell(DV, "value", "12,5"), DVF, "value", "whole_number"),
    Case("dv_fractional_count", DV, cell(DV, "value", "12.5"), DVF, "value", "whole_number"),
    Case("dv_future_period", DV, cell(DV, "period", "209901"), DVF, "period", "period_not_future"),
    Case("dv_week_period", DV, cell(DV, "period", "2016W01"), DVF, "period", "period_format"),
    Case("dv_quarterly_period", DV, cell(DV, "period", "2016Q1"), DVF, "period", "one_period_type"),
    Case("dv_negative_count", DV, cell(DV, "value", "-3"), DVF, "value", "non_negative"),
    Case("dv_text_count", DV, cell(DV, "value", "beaucoup"), DVF, "value", "numeric"),
    Case(
        "dv_unmapped_element",
        DV,
        cell(DV, "dataelement", "Zunknown001"),
        DVF,
        "dataelement",
        "known_data_element",
    ),
    Case(
        "dv_unknown_combo",
        DV,
        cell(DV, "categoryoptioncombo", "Zunknown001"),
        DVF,
        "categoryoptioncombo",
        "known_category_option_combo",
    ),
    Case("dv_truncated_gzip", DV, raw_bytes(DV, lambda b: b[: len(b) // 2]), DVF, None, "readable"),
    Case(
        "dv_missing_column",
        DV,
        table(DV, lambda f: f.drop(columns="value")),
        DVF,
        "value",
        "required_column",
    ),
    Case("dv_header_only", DV, header_only(DV), DVF, None, "not_empty"),
    Case(
        "dv_extra_value_column",
        DV,
        table(DV, lambda f: f.assign(Value="999")),
        DVF,
        "value",
        "unique_column",
    ),
    Case(
        "dv_bad_timestamp",
        DV,
        cell(DV, "lastupdated", "hier"),
        DVF,
        "lastupdated",
        "date_format",
    ),
    Case(
        "dv_unknown_orgunit",
        DV,
        cell(DV, "orgunit", "CSCOM inconnu"),
        DVF,
        "orgunit",
        "known_orgunit",
        (FAC, MAP),
    ),
    Case(
        "dv_mapped_element_absent",
        DV,
        rows(DV, lambda f: f["dataelement"] != "UR8KL6eP2Y1"),
        DVF,
        "dataelement",
        "mapped_data_element_present",
    ),
    Case(
        "dv_mapped_combo_absent",
        DV,
        rows(DV, lambda f: f["categoryoptioncombo"] != "uKjmaSOIuQj"),
        DVF,
        "categoryoptioncombo",
        "mapped_combo_present",
    ),
    # DHIS2 registrations
    Case(
        "reg_dataset_uid_typo",
        REG,
        (set_key(["dhis2", "dataset"], "lmyddKdiCqJ")),
        REGF,
        "dataset",
        "dataset_present",
    ),
    Case("reg_bad_date", REG, cell(REG, "date", "demain"), REGF, "date", "date_format"),
    Case(
        "reg_future_period",
        REG,
        cell(REG, "period", "209912"),
        REGF,
        "period",
        "period_not_future",
    ),
    Case(
        "reg_missing_column",
        REG,
        table(REG, lambda f: f.drop(columns="orgunit")),
        REGF,
        "orgunit",
        "required_column",
    ),
    # programme roll-out
    Case(
        "prog_unknown_programme",
        PROG,
        cell(PROG, "programme", "I4S"),
        PROGF,
        "programme",
        "known_programme",
    ),
    Case(
        "prog_end_before_start",
        PROG,
        cell(PROG, "end", "2015-12-31"),
        PROGF,
        "end",
        "end_after_start",
    ),
    Case(
        "prog_unknown_facility",
        PROG,
        cell(PROG, "unit_id", "Zzzzzzzzzz9"),
        PROGF,
        "unit_id",
        "known_facility",
        (FAC,),
    ),
    Case(
        "prog_unknown_commune",
        PROG,
        cell(PROG, "unit_id", "Commune 3", row=-1),
        PROGF,
        "unit_id",
        "known_district",
    ),
    Case(
        "prog_rollout_before_data",
        PROG,
        cell(PROG, "start", "2013-06-01"),
        PROGF,
        "start",
        "rollout_after_data_start",
        (DV,),
    ),
    Case(
        "prog_rollout_after_data",
        PROG,
        # The slice's data end in 2017-12: a 2019 start has no treated month.
        cell(PROG, "start", "2019-01-01"),
        PROGF,
        "start",
        "rollout_before_data_end",
        (DV,),
        shows="line 2 ('2019-01-01')",
    ),
    Case("prog_bad_date", PROG, cell(PROG, "start", "01-2016"), PROGF, "start", "date_format"),
    # security events
    Case("ev_district_typo", EV, table(EV, _typo_district), EVF, "admin2", "known_district"),
    Case(
        "ev_negative_fatalities",
        EV,
        cell(EV, "fatalities", "-1"),
        EVF,
        "fatalities",
        "non_negative",
    ),
    Case(
        "ev_duplicated_id",
        EV,
        table(EV, lambda f: pd.concat([f, f.head(1)])),
        EVF,
        "event_id_cnty",
        "unique_key",
    ),
    Case(
        "ev_fractional_fatalities",
        EV,
        cell(EV, "fatalities", "2.5"),
        EVF,
        "fatalities",
        "integer",
    ),
    Case(
        "ev_configured_type_absent",
        EV,
        (set_key(["shocks", "local", "event_types"], ["Riots"])),
        EVF,
        "event_type",
        "configured_event_type_present",
    ),
    Case(
        "ev_future_date",
        EV,
        cell(EV, "event_date", "2099-01-01"),
        EVF,
        "event_date",
        "period_not_future",
        shows="line 2 ('2099-01-01')",
    ),
    # org-unit mapping
    Case(
        "map_unknown_uid",
        MAP,
        cell(MAP, "orgunit_uid", "Zzzzzzzzzz9"),
        MAPF,
        "orgunit_uid",
        "known_facility",
        (FAC, DV),
    ),
    # surveys
    Case(
        "survey_missing_weight",
        "survey_women",
        survey("women", lambda f: f.drop(columns="v005")),
        "MLIR2015.dta",
        "v005",
        "required_column",
    ),
    Case(
        "survey_names_differ_in_case",
        "survey_households",
        survey("households", lambda f: f.assign(HV001=f["hv001"])),
        "MLHR2015.dta",
        "hv001",
        "unique_variable",
    ),
    # displacement sites: each aire, host and origin, is one CSCOM's of the master list
    Case(
        "disp_unknown_aire",
        DISP,
        cell(DISP, "aire_de_sante", "Sévaré Nord"),
        DISPF,
        "aire_de_sante",
        "known_aire",
        (FAC,),
    ),
    Case(
        "disp_origin_district_typo",
        DISP,
        cell(DISP, "origin_district", "Bankas"),
        DISPF,
        "origin_district",
        "known_district",
        (FAC,),
    ),
    Case(
        "disp_bad_month",
        DISP,
        cell(DISP, "month", "2019-13"),
        DISPF,
        "month",
        "period_format",
        (FAC,),
    ),
    Case(
        "disp_negative",
        DISP,
        cell(DISP, "persons", "-3"),
        DISPF,
        "persons",
        "non_negative",
        (FAC,),
    ),
    Case(
        "disp_site_month_twice",
        DISP,
        table(DISP, lambda f: pd.concat([f, f.head(1)])),
        DISPF,
        "site",
        "unique_key",
        (FAC,),
    ),
    Case(
        "disp_missing_column",
        DISP,
        table(DISP, lambda f: f.drop(columns="origin_aire_de_sante")),
        DISPF,
        "origin_aire_de_sante",
        "required_column",
        (FAC,),
    ),
    # mutual registers
    Case(
        "mutual_text_amount",
        "mutual_csv",
        register(lambda f: f.assign(cotisations_dues="beaucoup")),
        "mutuelle_agriculteurs.csv",
        "cotisations_dues",
        "numeric",
    ),
    Case(
        "mutual_decimal_comma_members",
        "mutual_csv",
        cell("mutual_csv", "adherents", "12,5", row=1),
        "mutuelle_agriculteurs.csv",
        "adherents",
        "whole_number",
        shows="line 3 ('12,5')",
    ),
    Case(
        "mutual_fractional_members",
        "mutual_csv",
        cell("mutual_csv", "adherents", "12.5", row=1),
        "mutuelle_agriculteurs.csv",
        "adherents",
        "whole_number",
        shows="line 3 ('12.5')",
    ),
    Case(
        "mutual_future_year",
        "mutual_csv",
        cell("mutual_csv", "annee", "2099", row=-1),
        "mutuelle_agriculteurs.csv",
        "annee",
        "period_not_future",
        shows="(2099)",
    ),
    Case(
        "mutual_missing_column",
        "mutual_csv",
        (lambda c: c["mutuals"]["columns"].update({"adherents_total": "members"})),
        "mutuelle_agriculteurs.csv",
        "adherents_total",
        "required_column",
    ),
]

# Config errors stop `check` before any file is read: one run each.
CONFIG_CASES = [
    Case(
        "cfg_area_district_unknown",
        "config",
        (lambda c: c["areas"]["mopti"]["districts"].append("Sévaré")),
        "config.yaml",
        "areas.mopti.districts",
        "known_district",
    ),
    Case(
        "cfg_unknown_outcome",
        "config",
        (lambda c: c["analyses"][0]["outcomes"].append("consultation_all")),
        "config.yaml",
        "analyses[0].outcomes",
        "known_outcome",
    ),
    Case(
        "cfg_unknown_format",
        "config",
        (set_key(["dhis2", "format"], "excel")),
        "config.yaml",
        "dhis2.format",
        "enum",
    ),
    Case(
        "cfg_area_without_districts",
        "config",
        (lambda c: c["areas"]["bamako"].update({"districts": []})),
        "config.yaml",
        "areas.bamako.districts",
        "area_has_districts",
    ),
]


def batches(cases: list[Case]) -> list[list[Case]]:
    """Greedy batches in which no two cases break the same input."""
    out: list[list[Case]] = []
    for case in cases:
        home = next((b for b in out if not any(c.clashes(case) for c in b)), None)
        if home is None:
            out.append([case])
        else:
            home.append(case)
    return out


BATCHES = batches(CASES)


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("corpus") / "mini"
    return root, dv.build_mini_demo(root)


def _relocated(config: dict, old: Path, new: Path) -> dict:
    return json.loads(json.dumps(config).replace(str(old), str(new)))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def run_check(
    mini: tuple[Path, dict], tmp_path: Path, cases: list[Case], capsys
) -> tuple[int, list[str]]:
    """Apply the cases to a copy of the slice, run ``check`` once: exit code, errors."""
    src, base = mini
    root = tmp_path / "mini"
    shutil.copytree(src, root)
    config = _relocated(base, src, root)
    for case in cases:
        case.edit(config)
    path = dv.write_config(config, tmp_path / "config.yaml")
    before = _tree(tmp_path)
    code = cli.main(["check", "--config", str(path)])
    assert _tree(tmp_path) == before, "check wrote or changed a file"
    err = capsys.readouterr().err
    # One block per failing file: a headline, then indented details.
    blocks: list[str] = []
    for line in err.splitlines():
        if line.startswith("  ") and blocks:
            blocks[-1] += "\n" + line
        elif "rule '" in line:
            blocks.append(line)
    return code, blocks


def assert_refused(case: Case, blocks: list[str]) -> str:
    mine = [b for b in blocks if b.split(":")[0].endswith(case.file) and f"'{case.rule}'" in b]
    assert mine, f"{case.name}: no error naming {case.file} and rule {case.rule}:\n" + "\n".join(
        blocks
    )
    if case.column is not None:
        assert any(f"'{case.column}'" in b for b in mine), f"{case.name}: column not named"
    assert "Traceback" not in mine[0] and "what to do:" in mine[0]
    if case.shows is not None:
        assert any(case.shows in b for b in mine), f"{case.name}: example row not shown"
    return mine[0]


def test_corpus_is_large_enough() -> None:
    assert len(CASES) + len(CONFIG_CASES) >= 45
    assert len({c.name for c in CASES + CONFIG_CASES}) == len(CASES) + len(CONFIG_CASES)


def test_mini_demo_passes(mini: tuple[Path, dict], tmp_path: Path, capsys) -> None:
    code, blocks = run_check(mini, tmp_path, [], capsys)
    assert (code, blocks) == (0, [])


@pytest.mark.parametrize("batch", BATCHES, ids=[f"batch{i}" for i in range(len(BATCHES))])
def test_must_refuse(mini: tuple[Path, dict], tmp_path: Path, batch: list[Case], capsys) -> None:
    code, blocks = run_check(mini, tmp_path, batch, capsys)
    assert code == cli.EXIT_INPUT_ERROR
    for case in batch:
        assert_refused(case, blocks)
    # Every error is one a case asked for: no collateral failure of an intact file.
    files = {c.file for c in batch}
    assert all(any(b.split(":")[0].endswith(f) for f in files) for b in blocks), blocks
    # Example rows show facility identifiers masked, never as they are.
    uids = pd.read_csv(mini[0] / "facilities.csv", dtype=str)["orgunit_uid"]
    shown = [u for u in uids if any(u in b for b in blocks)]
    assert not shown, f"facility identifiers in the messages: {shown[:3]}"


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.name for c in CONFIG_CASES])
def test_must_refuse_config(mini: tuple[Path, dict], tmp_path: Path, case: Case, capsys) -> None:
    code, blocks = run_check(mini, tmp_path, [case], capsys)
    assert code == cli.EXIT_INPUT_ERROR
    assert_refused(case, blocks)


# Must-read: an extra column (a remark, a phone number someone added) is ignored, and
# never read: the canonical table is the demo's (config/README.md, "Extra columns").
EXTRA = {
    FAC: "ingest_facilities",
    POP: "ingest_population",
    DV: "ingest_dhis2_datavalues",
    EV: "ingest_events",
    "mutual_csv": "ingest_mutuals",
}


def test_extra_columns_are_ignored(mini: tuple[Path, dict], tmp_path: Path, capsys) -> None:
    from sahel_eval import ingest
    from sahel_eval.config import validate_config

    src, base = mini
    root = tmp_path / "mini"
    shutil.copytree(src, root)
    config = _relocated(base, src, root)
    for key in EXTRA:
        table(key, lambda f: f.assign(remarque="+223 76 12 34 56", commentaire_2="vu"))(config)
    path = dv.write_config(config, tmp_path / "config.yaml")
    assert cli.main(["check", "--config", str(path)]) == 0, capsys.readouterr().err
    want, got = validate_config(json.loads(json.dumps(base))), validate_config(config)
    for key, name in EXTRA.items():
        assert "remarque" in pd.read_csv(dv.input_path(config, key), nrows=1).columns
        fn = getattr(ingest, name)
        out = fn(got)
        assert "remarque" not in out.columns and "commentaire_2" not in out.columns
        pd.testing.assert_frame_equal(out, fn(want), obj=key)


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("config_version: 2\ninputs:\n  facilities: [a, b\n  population: x\n", "utf-8")
    assert cli.main(["check", "--config", str(path)]) == cli.EXIT_INPUT_ERROR
    err = capsys.readouterr().err
    assert "config.yaml" in err and "'yaml_syntax'" in err
    assert "line 4, column" in err and "Traceback" not in err


def test_dag_refuses_at_ingest_with_the_same_message(
    mini: tuple[Path, dict], tmp_path: Path, capsys
) -> None:
    """Two corpus cases through the DAG (skipping ``make check``): the ingest rules fail
    with the message ``check`` gives, and leave no interim table."""
    from tests_support import snakemake

    cases = [c for c in CASES if c.name in {"dv_future_period", "ev_district_typo"}]
    code, blocks = run_check(mini, tmp_path, cases, capsys)
    assert code == cli.EXIT_INPUT_ERROR
    expected = [assert_refused(case, blocks) for case in cases]
    config = yaml.safe_load((tmp_path / "config.yaml").read_text("utf-8"))
    (tmp_path / "config").mkdir()
    dv.write_config(config, tmp_path / "config" / "config.yaml")
    targets = ["results/interim/dhis2_datavalues.parquet", "results/interim/events.parquet"]
    proc = snakemake(tmp_path, "--keep-going", *targets, timeout=600)
    assert proc.returncode != 0
    logs = "".join(p.read_text("utf-8") for p in (tmp_path / "logs" / "ingest").glob("*.log"))
    for message in expected:
        # The same message, the file shown relative to the directory the DAG runs in.
        assert message.replace(f"{tmp_path}/", "") in logs, (message, logs[-2000:])
    assert not list((tmp_path / "results").rglob("*.parquet"))


def test_snakemake_gives_the_yaml_error_with_line_and_column(tmp_path: Path) -> None:
    from tests_support import snakemake

    (tmp_path / "config").mkdir()
    text = (dv.REPO / "config" / "config.yaml").read_text("utf-8")
    broken = text.replace("synthetic: true", "synthetic: [true", 1)
    (tmp_path / "config" / "config.yaml").write_text(broken, "utf-8")
    proc = snakemake(tmp_path, "-n", timeout=300)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "config/config.yaml" in out and "'yaml_syntax'" in out
    # Where the parser noticed, and where the unclosed list began (the typo).
    line = broken.splitlines().index("synthetic: [true") + 1
    assert f"started at line {line}, column 12" in out, out[-1500:]


def test_panel_rule_refuses_an_area_district_without_facilities(
    mini: tuple[Path, dict],
) -> None:
    from sahel_eval import ingest
    from sahel_eval.clean.panels import panel_for_area
    from sahel_eval.config import validate_config
    from sahel_eval.errors import InputError

    config = validate_config(json.loads(json.dumps(mini[1])))
    facilities = ingest.ingest_facilities(config)
    facilities = facilities[facilities["district"] != "Koro"]
    with pytest.raises(InputError) as info:
        panel_for_area(None, facilities, None, None, config, "mopti")
    message = str(info.value)
    assert "'areas.mopti.districts'" in message and "area_district_has_facilities" in message
    assert "Koro" in message
