"""Names of the pipeline's products, in one light module.

The Snakefile needs these names to build the DAG on every ``snakemake`` call, so they
live here, free of pandas and matplotlib (importing the modules that compute the
products would cost seconds of no-op time); those modules import them from here.
"""

from __future__ import annotations

__all__ = ["DQ_EXTERNAL_TABLES", "DQ_TABLES", "REPORT_TABLES", "SURVEY_UNITS", "TABLE_FORMATS"]

#: Survey recode units (DHS household, women, births and children recodes).
SURVEY_UNITS: tuple[str, ...] = ("households", "women", "births", "children")

#: Data-quality tables under results/dq/ (``clean.dq.dq_tables``).
DQ_TABLES: tuple[str, ...] = (
    "attrition_by_arm",
    "completeness_district",
    "completeness_district_month",
    "completeness_facility",
    "completeness_month",
    "consistency_internal",
    "consistency_over_time",
    "duplicates_conflicting",
    "duplicates_exact",
    "indicator_completeness",
    "keyed_zeros",
    "orgunit_matches",
    "outliers",
    "outliers_summary",
    "reporting_status",
    "unregistered_values",
    "values_outside_open_period",
)

#: WHO DQR domains 3-4 under results/dq/ (``clean.dq_external``; rule ``dq_external``).
DQ_EXTERNAL_TABLES: tuple[str, ...] = (
    "external_consistency",
    "external_fertility",
    "external_population",
)

#: Tables of the technical report under results/tables/{area}/, with their captions.
REPORT_TABLES: dict[str, str] = {
    "inventory": "Data used in this report",
    "estimates": "Programme effects: every analysis, estimand and inference method",
    "pretrends": "Joint pre-trend tests",
    "survey_cells": "Survey prevalence by round and arm (small cells suppressed)",
    "resilience_classes": "CSCOM resilience classes by shock and service",
    "resilience_districts": "CSCOM resilience by district, shock and service",
    "resilience_comparison": "Resilience index: programme vs comparison facilities",
    "persistence": "Persistence of programme effects after the end of funding",
    "mutual_kpis": "Mutual health insurance indicators with status",
    "sdid_weights": "Synthetic DiD: every non-zero unit weight and the time weights",
}

#: Formats every report table is written in.
TABLE_FORMATS: tuple[str, ...] = ("csv", "xlsx", "tex")
