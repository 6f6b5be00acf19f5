"""Attrition by programme arm: closures and reporting gaps per year (DESIGN §5).

Arms follow the assignment level of each programme: a district (cercle or Bamako
commune) is *treated* when it holds any unit of the programme — for I3S the cercles of
its facilities, for Djantoli Commune III — and the other districts of the same
region(s) are the *comparison* arm. Differential attrition between arms (closures
after attacks, reports lost in conflict zones) is what would bias a comparison of
reporting facilities, so it is reported beside every estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sahel_eval.clean.completeness import gap_runs

__all__ = ["area_attrition", "attrition_by_arm", "programme_arms"]


def programme_arms(facilities: pd.DataFrame, programmes: pd.DataFrame) -> pd.DataFrame:
    """Each facility's arm for each programme, by district of assignment.

    Parameters
    ----------
    facilities
        Master list: ``orgunit_uid, region, district, commune``.
    programmes
        Roll-out table: ``programme, unit_level, unit_id``.

    Returns
    -------
    pandas.DataFrame
        ``programme, facility_id, region, district, arm`` (``treated`` /
        ``comparison``) for every facility of the programme's region(s).
    """
    frames = []
    for name, rows in programmes.groupby("programme", sort=True):
        covered = pd.Series(False, index=facilities.index)
        for level, col in (
            ("facility", "orgunit_uid"),
            ("district", "district"),
            ("region", "region"),
        ):
            units = set(rows.loc[rows["unit_level"] == level, "unit_id"])
            covered |= facilities[col].isin(units)
        # A commune-level unit may be a rural commune or, in Bamako, a district.
        communes = set(rows.loc[rows["unit_level"] == "commune", "unit_id"])
        covered |= facilities["commune"].isin(communes) | facilities["district"].isin(communes)
        districts = set(facilities.loc[covered, "district"])
        regions = set(facilities.loc[covered, "region"])
        sub = facilities[facilities["region"].isin(regions)]
        frames.append(
            pd.DataFrame(
                {
                    "programme": name,
                    "facility_id": sub["orgunit_uid"].astype("str").to_numpy(),
                    "region": sub["region"].to_numpy(),
                    "district": sub["district"].to_numpy(),
                    "arm": sub["district"]
                    .isin(districts)
                    .map({True: "treated", False: "comparison"})
                    .to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["programme", "facility_id", "region", "district", "arm"])
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["programme", "facility_id"], kind="mergesort").reset_index(drop=True)


def attrition_by_arm(
    status: pd.DataFrame,
    facilities: pd.DataFrame,
    programmes: pd.DataFrame,
    *,
    inactive_months: int = 6,
) -> pd.DataFrame:
    """Closures and reporting gaps per programme, arm, district and year.

    Parameters
    ----------
    status
        Output of :func:`sahel_eval.clean.completeness.reporting_status`.
    facilities
        Master list (``orgunit_uid, region, district, commune, closed``).
    programmes
        Roll-out table.
    inactive_months
        Length of a run of unreported months that makes a facility inactive.

    Returns
    -------
    pandas.DataFrame
        ``programme, arm, district`` (``all`` for the arm total), ``year``,
        ``facilities_open`` (expected at least one month), ``closures`` (closing
        date in the year), ``expected``, ``reported``, ``unreported``,
        ``unreported_share``, ``facilities_inactive`` (in a run of ≥
        ``inactive_months`` unreported months during the year).
    """
    arms = programme_arms(facilities, programmes)
    st = status.assign(year=status["period"].str[:4].astype("int64"))
    runs = gap_runs(status)
    long_runs = runs[runs["run_length"] >= inactive_months]
    inactive = long_runs.assign(year=long_runs["period"].str[:4].astype("int64"))[
        ["facility_id", "year"]
    ].drop_duplicates()
    inactive["inactive"] = 1

    per_fy = (
        st.groupby(["facility_id", "year"], sort=True)
        .agg(expected=("period", "size"), reported=("reported", "sum"))
        .reset_index()
    )
    per_fy = per_fy.merge(inactive, on=["facility_id", "year"], how="left")
    per_fy["inactive"] = per_fy["inactive"].fillna(0).astype("int64")
    per_fy["open"] = 1
    closed = facilities[["orgunit_uid", "closed"]].dropna()
    closures = pd.DataFrame(
        {
            "facility_id": closed["orgunit_uid"].astype("str").to_numpy(),
            "year": closed["closed"].dt.year.astype("int64").to_numpy(),
            "closure": 1,
        }
    )
    per_fy = per_fy.merge(closures, on=["facility_id", "year"], how="outer")
    per_fy = per_fy.fillna({"expected": 0, "reported": 0, "inactive": 0, "open": 0, "closure": 0})
    years = sorted(st["year"].unique())
    per_fy = per_fy[per_fy["year"].isin(years)]

    merged = arms.merge(per_fy, on="facility_id", how="inner")
    cols = ["open", "closure", "expected", "reported", "inactive"]
    by_district = merged.groupby(["programme", "arm", "district", "year"], sort=True)[cols].sum()
    by_arm = merged.groupby(["programme", "arm", "year"], sort=True)[cols].sum()
    by_arm = by_arm.assign(district="all").set_index("district", append=True)
    by_arm = by_arm.reorder_levels(["programme", "arm", "district", "year"])
    out = pd.concat([by_district, by_arm]).reset_index()
    out = out.rename(
        columns={
            "open": "facilities_open",
            "closure": "closures",
            "inactive": "facilities_inactive",
        }
    )
    for col in ("facilities_open", "closures", "expected", "reported", "facilities_inactive"):
        out[col] = out[col].astype("int64")
    out["unreported"] = out["expected"] - out["reported"]
    out["unreported_share"] = out["unreported"] / out["expected"].where(out["expected"] > 0)
    out["_all"] = out["district"] == "all"
    out = out.sort_values(["programme", "arm", "_all", "district", "year"], kind="mergesort")
    return out[
        [
            "programme",
            "arm",
            "district",
            "year",
            "facilities_open",
            "closures",
            "expected",
            "reported",
            "unreported",
            "unreported_share",
            "facilities_inactive",
        ]
    ].reset_index(drop=True)


def area_attrition(attrition: pd.DataFrame, districts: Sequence[str]) -> pd.DataFrame:
    """Rows of ``attrition_by_arm`` for the programme(s) assigned within the area.

    A programme belongs to the area when any of its districts (in either arm) is one
    of the area's districts; its arm totals (``district == "all"``) are kept.
    """
    progs = sorted(set(attrition.loc[attrition["district"].isin(list(districts)), "programme"]))
    return attrition[attrition["programme"].isin(progs)].reset_index(drop=True)
