"""The configured DiD analyses on the demo data against the planted truth.

Data: what the session's demo pipeline run (``demo_run`` in tests/conftest.py) wrote
under results/estimates/ — the JSON document, the tidy table and the event-time table of
each configured analysis — so the analyses are not computed a second time; one survey
analysis is rerun in-process (ingest_survey → clean_survey_rounds → run_analysis) and must
equal the pipeline's document. Truth: data/raw/truth.json
(``effects[programme][indicator].event_time`` on the rate per 1,000;
``surveys.effects`` in percentage points; ``persistence``). The criteria are issue 5's
("Validation: demo data"). Numbers are printed (``pytest -s``) so they can be quoted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import demo_panels
import jsonschema
import numpy as np
import pandas as pd
import pytest
from demo_panels import RAW, demo_config

from sahel_eval import ingest
from sahel_eval.clean.survey import clean_survey_rounds
from sahel_eval.clean.survey_settings import SurveySettings, programme_districts
from sahel_eval.did.analyses import (
    AnalysisSettings,
    analysis_document,
    estimates_schema,
    round_floats,
    run_analysis,
)
from sahel_eval.did.analyses.planted import sdid_errors
from sahel_eval.did.assignment import not_informative

COVERAGE = 0.90  # issue 5: truth inside the 95 % CI for at least 90 % of the checks
UNITS = ("households", "women", "births", "children")


def _written(folder: Path, name: str) -> SimpleNamespace:
    """One analysis as the pipeline wrote it: spec, tables, fits, persistence, document."""
    doc = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return SimpleNamespace(
        spec=doc["analysis"],
        document=doc,
        fits=doc["fits"],
        persistence=doc["persistence"],
        estimates=pd.read_csv(folder / f"{name}.csv"),
        event_time=pd.read_csv(folder / f"{name}_event_time.csv"),
    )


@pytest.fixture(scope="module")
def demo(demo_run: Path) -> dict[str, Any]:
    # The demo data are committed: their absence is a broken checkout, not a skip.
    assert (RAW / "truth.json").is_file(), "data/raw/truth.json missing (make demo-data)"
    config = demo_config()
    folder = demo_run / "results" / "estimates"
    outputs = {spec["name"]: _written(folder, spec["name"]) for spec in config["analyses"]}
    truth = json.loads((RAW / "truth.json").read_text(encoding="utf-8"))
    return {"outputs": outputs, "truth": truth, "config": config}


def test_documents_follow_schema_and_are_rounded(demo: dict[str, Any]) -> None:
    schema = estimates_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name, out in demo["outputs"].items():
        doc = out.document
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, (name, errors[:5])
        assert doc == round_floats(doc)  # idempotent: already rounded, no NaN
        for fit in doc["fits"]:
            assert fit["clusters"] is not None and fit["treated_clusters"] is not None, fit["fit"]


def test_survey_analysis_in_process_equals_the_pipeline(demo: dict[str, Any]) -> None:
    config = demo["config"]
    run = demo_panels.demo_run()
    settings = SurveySettings.from_config(
        config, programme_districts(run.programmes, run.facilities)
    )
    surveys = {
        unit: clean_survey_rounds(
            [
                ingest.ingest_survey(config, year=r["year"], unit=unit)
                for r in config["inputs"]["surveys"]
            ],
            unit=unit,
            variables=config["survey"]["variables"][unit],
            settings=settings,
        )
        for unit in UNITS
    }
    spec = next(s for s in config["analyses"] if s["data"] == "survey")
    again = run_analysis(spec, surveys, AnalysisSettings.from_config(config))
    # Through JSON text, as the pipeline writes it (tuples become lists).
    doc = json.loads(json.dumps(analysis_document(again), sort_keys=True))
    assert doc == demo["outputs"][spec["name"]].document


def _by_name(demo: dict[str, Any], design: str) -> list[Any]:
    return [o for o in demo["outputs"].values() if o.spec["design"] == design]


def _i3s_coverage(demo: dict[str, Any], fit_suffix: str | None = None) -> pd.DataFrame:
    """Per outcome: planted event-time ATT inside a 95 % CI of the CS dynamic rows.

    Default: the headline rows (randomisation inference over districts); with
    ``fit_suffix`` the fit ``<outcome>:att_gt:<fit_suffix>`` (``district``: multiplier
    bootstrap by district; ``facility``: analytic, clustered by facility).
    """
    truth = demo["truth"]["effects"]["I3S"]
    rows = []
    for out in _by_name(demo, "staggered"):
        e = out.event_time
        cs = e[e["estimator"] == "callaway_santanna"]
        head = cs[cs["headline"]] if fit_suffix is None else cs[cs["fit"].str.endswith(fit_suffix)]
        for outcome, tab in head.groupby("outcome"):
            planted = truth.get(outcome, {}).get("event_time")
            if planted is None:  # penta3: no planted I3S effect recorded in the truth
                continue
            key = tab["event_time"].astype(int).astype(str)
            tab = tab[key.isin(planted)]
            value = key[key.isin(planted)].map(planted).astype(float)
            inside = (tab["ci_low"] <= value) & (value <= tab["ci_high"])
            width = (tab["ci_high"] - tab["ci_low"]).replace(np.inf, np.nan)
            rows.append(
                {
                    "outcome": outcome,
                    "covered": int(inside.sum()),
                    "checked": len(inside),
                    "median_width": float(width.median()),
                    "unbounded": int(width.isna().sum()),
                }
            )
    res = pd.DataFrame(rows)
    print(f"\nI3S: planted event-time ATT inside the 95% CI ({fit_suffix or 'headline: RI'})")
    print(res.to_string(index=False))
    return res


def test_i3s_assignment_level_ci_has_clusters(demo: dict[str, Any]) -> None:
    (out,) = _by_name(demo, "staggered")
    head = [f for f in out.fits if f["headline"]]
    assert head and all((f["clusters"], f["treated_clusters"]) == (8, 2) for f in head)
    codes = {w["code"] for f in head for w in f["warnings"]}
    assert "few_treated_clusters" in codes
    res = _i3s_coverage(demo)
    # Every outcome with a planted effect: four rates and two quality-of-care ratios.
    assert set(res["outcome"]) == {
        "consultations_all",
        "consultations_u5",
        "anc1",
        "deliveries",
        "anc_retention",
        "delivery_coverage",
    }
    assert (res["checked"] == 108).all()  # e = -12 … 95 (truth.json keys) all estimated


def test_i3s_truth_inside_assignment_level_ci(demo: dict[str, Any]) -> None:
    """Issue 5: truth inside the assignment-level CI for >= 90 % of the 108 event times.

    The assignment-level CI is randomisation inference permuting the treated districts
    (2 of 8: all 28 choices), inverted under a constant additive effect.  The district
    multiplier bootstrap (one effective degree of freedom on the treated side: too
    narrow, 83/83/82/102 of 108) and the facility-clustered CI are printed beside it.
    """
    res = _i3s_coverage(demo)
    # The district multiplier bootstrap is no longer written (issue 14: invalid with 2
    # treated districts); the facility-clustered CI is printed beside the headline.
    _i3s_coverage(demo, "facility")
    head = [f for f in _by_name(demo, "staggered")[0].fits if f["headline"]]
    assert {f["inference"] for f in head} == {"randomization"}
    assert all(f["p_min"] == pytest.approx(1 / 28) for f in head)
    assert (res["checked"] == 108).all() and (res["unbounded"] == 0).all()
    assert (res["covered"] >= COVERAGE * res["checked"]).all(), res.to_string()


def test_djantoli_not_informative_and_close_to_truth(demo: dict[str, Any]) -> None:
    truth = demo["truth"]["effects"]["Djantoli"]
    (out,) = _by_name(demo, "single_start")
    for fit in out.fits:
        if fit["headline"]:
            assert (fit["clusters"], fit["treated_clusters"]) == (6, 1)
            assert "not_informative" in {w["code"] for w in fit["warnings"]}, fit["fit"]
    e = out.event_time
    head = e[e["headline"]]
    assert not head["informative"].any() and head["ci_low"].isna().all()
    fac = e[(e["cluster"] == "facility_id") & (e["estimator"] == "event_study")]
    rows = []
    for outcome, tab in fac.groupby("outcome"):
        if outcome not in truth:  # nothing planted (Penta drop-out)
            continue
        planted = truth[outcome]["event_time"]
        lags = int(tab["event_time"].max())
        # End bins pool several event times; compare only the unpooled ones.
        tab = tab[(tab["event_time"] > tab["event_time"].min()) & (tab["event_time"] < lags)]
        value = tab["event_time"].astype(int).astype(str).map(planted).astype(float)
        close = (tab["estimate"] - value).abs() <= 2 * tab["se"]
        rows.append({"outcome": outcome, "within_2se": int(close.sum()), "checked": len(close)})
    res = pd.DataFrame(rows)
    print("\nDjantoli: event-study estimate within 2 facility-clustered SEs of the truth")
    print(res.to_string(index=False))
    # These SEs are conditional on no commune-level shocks, and the demo data plant
    # commune-month shocks (issue 14 item 7): they are expected to under-cover (72-81 %
    # of event times on the demo data); their coverage is the Monte Carlo's
    # (benchmarks/monte_carlo.py). Here only a gross error (estimates far from the truth
    # at most event times) fails.
    assert (res["within_2se"] >= 0.6 * res["checked"]).all(), res.to_string()
    notes = {f["note"] for f in out.fits if f["estimator"] == "event_study" and not f["headline"]}
    assert notes == {"conditional_on_no_cluster_shocks"}


def test_every_randomisation_row_is_labelled_by_its_own_p_min(demo: dict[str, Any]) -> None:
    # CS, TWFE and imputation share one labelling (did/analyses/assignment_fit.py): the
    # TWFE row once kept the facility fit's informative=True with one treated commune.
    level = AnalysisSettings.from_config(demo["config"]).level
    checked = 0
    for out in demo["outputs"].values():
        for table in (out.estimates, out.event_time):
            if table is None or not len(table):
                continue
            ri = table[table["inference"] == "randomization"]
            want = ~ri.apply(
                lambda r: not_informative(int(r["treated_clusters"]), r["p_min"], level), axis=1
            )
            assert (ri["informative"].astype(bool) == want).all(), out.spec["name"]
            assert ri.loc[~want, ["ci_low", "ci_high"]].isna().all().all(), out.spec["name"]
            checked += len(ri)
    outs = demo["outputs"].values()
    twfe = [f for out in outs for f in out.fits if f["fit"].endswith("twfe:district_ri")]
    assert twfe and checked > 100


def test_survey_2x2_recovers_planted_effects(demo: dict[str, Any]) -> None:
    eff = pd.DataFrame(demo["truth"]["surveys"]["effects"])
    rows = []
    for out in _by_name(demo, "survey_rounds"):
        area = out.spec["area"].capitalize()
        est = out.estimates.merge(
            eff[eff["area"] == area], on=["outcome", "round"], how="inner", validate="many_to_one"
        )
        inside = (100 * est["ci_low"] <= est["att_pp"]) & (est["att_pp"] <= 100 * est["ci_high"])
        for inference, hit in inside.groupby(est["inference"]):
            rows.append(
                {
                    "analysis": out.spec["name"],
                    "inference": inference,
                    "covered": int(hit.sum()),
                    "checked": len(hit),
                    "informative": bool(est.loc[hit.index, "informative"].all()),
                }
            )
    res = pd.DataFrame(rows)
    print("\nSurvey 2x2: planted effect (pp) inside the 95% CI")
    print(res.to_string(index=False))
    design = res[res["inference"] == "design"]
    # Every configured outcome has a planted effect in each follow-up round (2018, 2021).
    expected = sum(2 * len(o.spec["outcomes"]) for o in _by_name(demo, "survey_rounds"))
    assert design["checked"].sum() == expected
    assert design["covered"].sum() >= COVERAGE * design["checked"].sum()
    # Headline (issue 14): studentised RI over districts, informative in Mopti only
    # (2 treated cercles of 8, p_min = 1/28); no wild or district CRV1 rows at all.
    ri = res[(res["inference"] == "randomization") & res["informative"]]
    assert len(ri) == 1 and (ri["covered"] >= COVERAGE * ri["checked"]).all()
    assert not res["inference"].isin(["wild", "crv1"]).any()
    bamako = res[(res["analysis"] == "bamako_survey") & (res["inference"] == "randomization")]
    assert not bamako["informative"].any()


def test_persistence_ratios_reported(demo: dict[str, Any]) -> None:
    # DESIGN §6.1: the assignment-level (Conley–Taber) record says what it can (here
    # not_informative: p_min 1/16 and 1/6); the facility-level Fieller set beside it is
    # conditional, reported as a set (a ray or "any value" when unbounded).
    planted = {(p["programme"], p["indicator"]): p["ratio"] for p in demo["truth"]["persistence"]}
    rows = []
    for out in _by_name(demo, "staggered") + _by_name(demo, "single_start"):
        prog = out.spec["programme"]
        for p in out.persistence:
            assert p["after_months"] == 24 and p["estimate"] is not None, p
            if not p.get("conditional"):
                assert p["verdict"] == "not_informative" and p["p_min"] > 0.05
                assert p.get("ci_set") is None
                continue
            pieces = p["ci_set"]
            assert pieces, p
            for lo, hi in pieces:
                assert lo is None or hi is None or lo < hi
            truth = planted.get((prog, p["outcome"]))
            inside = None
            if truth is not None:
                inside = any(
                    (lo is None or lo <= truth) and (hi is None or truth <= hi) for lo, hi in pieces
                )
            rows.append(
                {
                    "programme": prog,
                    "outcome": p["outcome"],
                    "estimate": round(p["estimate"], 3),
                    "set": pieces,
                    "truth": truth,
                    "inside": inside,
                }
            )
    res = pd.DataFrame(rows)
    print("\nPersistence ratio (after / during), facility-level sets vs truth.json persistence")
    print(res.to_string(index=False))
    assert np.isfinite(res["estimate"]).all()
    judged = res["inside"].dropna()
    assert len(judged) >= 8 and judged.mean() >= 0.8


def test_honest_inference_rules(demo: dict[str, Any]) -> None:
    """Issue 14 "done when": verdicts on every headline row, no wild with < 5 treated or
    control districts, Bamako not informative, no pre-test statistic above 10^6, a
    Mopti assignment-level (RI) pre-test."""
    for name, out in demo["outputs"].items():
        e = out.estimates
        head = e[e["headline"] & ~(e["event_time"] < 0)]
        assert head["verdict"].notna().all(), name
        assert head["p_min"].notna().all(), name
        informative = head[head["verdict"] != "not_informative"]
        assert informative["confidence_attained"].notna().all(), name
        assert not (e["inference"].eq("wild") & e["treated_clusters"].lt(5)).any(), name
        assert not (
            e["cluster"].eq("district") & e["inference"].isin(["crv1", "multiplier_bootstrap"])
        ).any(), name
        for fit in out.fits:
            stat = (fit["pretest"] or {}).get("stat")
            assert stat is None or stat <= 1e6, (name, fit["fit"], stat)
        if out.spec["area"] == "bamako":
            assert (head["verdict"] == "not_informative").all(), name
            assert head["p"].isna().all() and head["ci_low"].isna().all(), name
    (mopti,) = _by_name(demo, "staggered")
    ri = [f["pretest"] for f in mopti.fits if f["headline"]]
    assert ri and all(p["level"] == "assignment" and p["verdict"] != "not_testable" for p in ri)
    head = mopti.estimates[mopti.estimates["headline"] & (mopti.estimates["term"] == "overall")]
    assert (head["confidence_attained"] == 0.964).all()


def test_spillover_rows_beside_every_facility_headline(
    demo: dict[str, Any], demo_run: Path
) -> None:
    """Issue 18 item 4: each facility outcome has a row without the comparison CSCOMs of
    did.spillover_exclude and those hosting a displacement site, with the headline's
    inference and no verdict; those never-treated CSCOMs (and only those) are out, so
    Mopti's RI runs over C(G − 1, 2) assignments and Bamako keeps Commune VI (only its
    host CSCOM, Yirimadio, leaves)."""
    exclude = set(demo["config"]["did"]["spillover_exclude"])
    assert demo["config"]["did"]["spillover_displacement_hosts"]
    sites = pd.read_parquet(demo_run / "results" / "interim" / "displacement_sites.parquet")
    hosts = set(sites["orgunit_uid"])
    for name, out in demo["outputs"].items():
        if out.spec["data"] != "facility":
            continue
        e = out.estimates
        spill = e[e["robustness"] == "spillover_excluded"]
        assert sorted(spill["outcome"]) == sorted(out.spec["outcomes"]), name
        assert not spill["headline"].any() and spill["verdict"].isna().all(), name
        facts = next(
            f["robustness"]
            for f in out.fits
            if (f.get("robustness") or {}).get("subsample") == "spillover_excluded"
        )
        panel = demo_panels.demo_run().panels[out.spec["area"]]
        units = panel.drop_duplicates("facility_id")
        as_host = units["facility_id"].isin(list(hosts)) & (units["group"] == 0)
        named = (units["district"].isin(list(exclude)) & (units["group"] == 0)) | as_host
        assert named.any(), name
        assert facts["facilities_kept"] == len(units) - int(named.sum()), name
        assert facts["displacement_hosts"] == sorted(units.loc[as_host, "facility_id"]), name
        head = e[e["headline"] & e["robustness"].isna() & e["inference"].eq("randomization")]
        g = int(units.loc[~named, "district"].nunique())
        g1 = int(head["treated_clusters"].iloc[0])
        assert (spill["clusters"] == g).all() and (spill["inference"] == "randomization").all()
        if g1 >= 2:
            assert np.allclose(spill["p_min"], 1 / math.comb(g, g1)), name


def test_imputation_beside_cs_on_the_same_terms(demo: dict[str, Any]) -> None:
    """Issue 19 item 4: imputation rows at the assignment level (RI over the same 28
    assignments) and by facility, on CS's overall and post event-time terms; the
    comparison code follows from the two intervals."""
    (out,) = _by_name(demo, "staggered")
    e = out.estimates
    cs = e[(e["estimator"] == "callaway_santanna") & (e["inference"] == "randomization")]
    imp = e[(e["estimator"] == "imputation") & (e["inference"] == "randomization")]
    assert set(imp["outcome"]) == set(cs["outcome"])
    keys = ["outcome", "aggregation", "term"]
    cs_post = cs[(cs["aggregation"] == "dynamic") & (cs["event_time"] >= 0)]
    assert set(map(tuple, imp.loc[imp["aggregation"] == "dynamic", keys].to_numpy())) == set(
        map(tuple, cs_post[keys].to_numpy())
    )
    assert np.allclose(imp["p_min"], 1 / 28) and imp["verdict"].notna().all()
    truth = demo["truth"]["cs_overall"]["programmes"]["I3S"]["overall"]
    checked = 0
    for fit in out.fits:
        if fit["estimator"] != "imputation" or fit["inference"] != "randomization":
            continue
        c = fit["comparison"]
        row = imp[(imp["fit"] == fit["fit"]) & (imp["term"] == "overall")].iloc[0]
        ref = cs[(cs["outcome"] == fit["outcome"]) & (cs["aggregation"] == "simple")].iloc[0]
        disjoint = row["ci_high"] < ref["ci_low"] or ref["ci_high"] < row["ci_low"]
        assert c["verdict"] == ("differ_beyond_intervals" if disjoint else "within_intervals")
        assert c["difference"] == pytest.approx(row["estimate"] - ref["estimate"])
        if fit["outcome"] not in truth:  # nothing planted (penta3)
            continue
        planted = truth[fit["outcome"]]["simple"]
        checked += 1
        print(
            f"\n{fit['outcome']}: imputation {row['estimate']:.3f} [{row['ci_low']:.3f}, "
            f"{row['ci_high']:.3f}], CS {ref['estimate']:.3f}, planted {planted:.3f}"
        )
        assert row["ci_low"] <= planted <= row["ci_high"]
    assert checked == 6  # four rates, ANC retention and delivery coverage


def test_sdid_rows_against_the_planted_window_mean(demo: dict[str, Any]) -> None:
    """Issue 19 item 2: with the truth file, each SDID row gets the planted mean effect
    over its window and its error; without it, ``planted`` is null."""
    (out,) = _by_name(demo, "single_start")
    truth = demo["truth"]
    assert demo["config"]["did"]["truth_file"]  # the demo names its truth file
    doc = out.document
    sdid = [f for f in out.fits if f["estimator"] == "synthdid"]
    assert len(doc["planted"]) == len(sdid) > 0
    # The stage's records equal a fresh computation from the written rows (rounded).
    fresh = sdid_errors(out.estimates, out.fits, truth["effects"], out.spec["programme"])
    assert [r["fit"] for r in fresh] == [r["fit"] for r in doc["planted"]]
    for a, b in zip(fresh, doc["planted"], strict=True):
        want = b["planted"]
        assert a["planted"] == (None if want is None else pytest.approx(want, rel=1e-6))
    for rec in doc["planted"]:
        if rec["outcome"] not in truth["effects"]["Djantoli"]:  # Penta drop-out
            assert rec["planted"] is None and rec["error"] is None
            continue
        cal = truth["effects"]["Djantoli"][rec["outcome"]]["calendar"]
        window = [v for m, v in cal.items() if rec["window_from"] <= m <= rec["window_to"]]
        assert len(window) == 24  # the programme's months, Nov 2017 - Oct 2019
        assert rec["planted"] == pytest.approx(np.mean(window), rel=1e-6)
        assert rec["error"] == pytest.approx(rec["estimate"] - rec["planted"], abs=1e-6)
