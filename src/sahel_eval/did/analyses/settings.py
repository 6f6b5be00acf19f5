"""Run settings shared by every DiD analysis, read from the validated config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from sahel_eval.did.persistence import PERSISTENCE_MONTHS
from sahel_eval.did.verdicts import OutcomeSetting

__all__ = ["AnalysisSettings"]


@dataclass(frozen=True)
class AnalysisSettings:
    """Run settings shared by every analysis.

    Parameters
    ----------
    level
        Confidence level (``1 − reporting.test_level``).
    seed_bootstrap
        Seed of the multiplier and wild bootstraps (``seeds.bootstrap``).
    seed_randomisation
        Seed of random permutations (``seeds.randomisation``; unused when all
        assignments are enumerated, as with 8 or 6 districts).
    bootstrap_draws
        Multiplier-bootstrap draws for ``att_gt`` (999, as R ``did``'s default ``biters``
        is 1,000 and csdid's 999).
    wild_draws
        Random wild-bootstrap draws when there are more than 12 clusters (with ≤ 12 all
        2^G Rademacher draws are enumerated).
    synthdid_reps
        Placebo replicates of synthetic DiD (``did.synthdid_reps``).
    leads, lags
        Event-study window: event times before ``-leads`` and after ``lags`` are
        pooled into the end bins.
    persistence_months
        Window length of the persistence ratio (``sustainability.persistence_months``).
    outcomes
        Smallest effect that matters and good direction per outcome (``did.outcomes``);
        None (programmatic use only) leaves ``no_large_effect`` unreachable and MDEs in
        the increasing direction.
    primary_outcomes
        Analysis name → its primary outcomes (``reporting.primary_outcomes``).
    balanced_max_gap
        Longest run of unreported months of a CSCOM in the balanced subsample of the
        robustness rows (``did.balanced_max_gap``).
    spillover_exclude
        Facility ids or district names whose comparison CSCOMs leave the spillover
        robustness rows (``did.spillover_exclude``); empty: no such rows.
    spillover_displacement_hosts
        Whether the never-treated CSCOMs whose aire de santé hosts a displacement site
        leave the spillover rows too (``did.spillover_displacement_hosts``).
    displacement_hosts
        Facility ids (org-unit UIDs) of the CSCOMs hosting a displacement site in any
        month (``inputs.displacement_sites``), set by :meth:`with_displacement_sites`;
        empty when the option is off or no sites are configured.
    person_weighted
        Survey outcomes weighted by household size × sampling weight
        (``survey.person_weighted``; SDG 3.8.2 is a share of people).
    subgroups
        Subgroup name → ``{variable, label, groups[, analyses]}`` (``did.subgroups``):
        the primary outcomes of the survey analyses (survey variables) or of the
        facility analyses (``facility_urban``) split by characteristics the programme
        cannot move (DESIGN §4); empty: no subgroup rows.
    small_cell_k
        Fewest unweighted respondents a subgroup cell may have before its estimate is
        suppressed (``reporting.small_cell_k``).
    subgroup_min_facilities
        Fewest CSCOMs a facility subgroup may have in the treated or the comparison
        arm before its rows are suppressed (``did.subgroup_min_facilities``).
    sensitivity
        ``did.sensitivity`` (window and grids of the HonestDiD analysis); None
        (programmatic use only) computes no sensitivity.
    quality_ratios
        ``quality_of_care.ratios``: outcome name -> ``{numerator, denominator,
        complement}``, the facility panels' ratio columns (the SDID district block sums
        their parts).
    """

    level: float = 0.95
    seed_bootstrap: int | None = None
    seed_randomisation: int | None = None
    bootstrap_draws: int = 999
    wild_draws: int = 9999
    synthdid_reps: int = 200
    leads: int = 12
    lags: int = 48
    persistence_months: int = PERSISTENCE_MONTHS
    outcomes: Mapping[str, OutcomeSetting] | None = field(default=None, hash=False)
    primary_outcomes: Mapping[str, list[str]] | None = field(default=None, hash=False)
    balanced_max_gap: int = 2
    spillover_exclude: tuple[str, ...] = ()
    spillover_displacement_hosts: bool = True
    displacement_hosts: tuple[str, ...] = ()
    person_weighted: tuple[str, ...] = ()
    subgroups: Mapping[str, Any] = field(default_factory=dict, hash=False)
    small_cell_k: int = 5
    subgroup_min_facilities: int = 2
    sensitivity: Mapping[str, Any] | None = field(default=None, hash=False)
    quality_ratios: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def with_displacement_sites(self, sites: pd.DataFrame | None) -> AnalysisSettings:
        """These settings with the host CSCOMs of ``sites`` (the ingested displacement
        sites, ``orgunit_uid`` = host) as :attr:`displacement_hosts`; unchanged when
        ``spillover_displacement_hosts`` is off or ``sites`` is None."""
        if sites is None or not self.spillover_displacement_hosts:
            return self
        hosts = sites.loc[sites["persons"] > 0, "orgunit_uid"].dropna().astype(str)
        return replace(self, displacement_hosts=tuple(sorted(set(hosts))))

    def outcome_setting(self, outcome: str) -> OutcomeSetting | None:
        """The declared setting of ``outcome``; a ValueError when settings exist but it
        has none (``did.outcomes`` must declare every analysed outcome)."""
        if self.outcomes is None:
            return None
        if outcome not in self.outcomes:
            raise ValueError(
                f"outcome {outcome!r} has no entry in did.outcomes (config/config.yaml): "
                "declare its smallest_effect and good_direction (config/README.md, did)"
            )
        return self.outcomes[outcome]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AnalysisSettings:
        """Settings from the schema-validated config, defaults filled in.

        Reads ``reporting.test_level``, ``reporting.primary_outcomes``,
        ``reporting.small_cell_k``, ``seeds.bootstrap``, ``seeds.randomisation``,
        ``did.*``, ``survey.person_weighted``, ``quality_of_care.ratios`` and
        ``sustainability.persistence_months`` by
        indexing: ``config`` may hold only the sections a rule declares, and a missing
        key must raise a KeyError naming it rather than fall back to a default the
        schema does not see.
        """
        seeds, did = config["seeds"], config["did"]
        return cls(
            level=1.0 - float(config["reporting"]["test_level"]),
            seed_bootstrap=seeds["bootstrap"],
            seed_randomisation=seeds["randomisation"],
            bootstrap_draws=int(did["bootstrap_draws"]),
            wild_draws=int(did["wild_draws"]),
            synthdid_reps=int(did["synthdid_reps"]),
            leads=int(did["leads"]),
            lags=int(did["lags"]),
            balanced_max_gap=int(did["balanced_max_gap"]),
            spillover_exclude=tuple(did["spillover_exclude"]),
            spillover_displacement_hosts=bool(did["spillover_displacement_hosts"]),
            persistence_months=int(config["sustainability"]["persistence_months"]),
            outcomes={k: OutcomeSetting.from_config(v) for k, v in did["outcomes"].items()},
            primary_outcomes={
                k: list(v) for k, v in config["reporting"]["primary_outcomes"].items()
            },
            sensitivity=dict(did["sensitivity"]),
            subgroups=dict(did["subgroups"]),
            small_cell_k=int(config["reporting"]["small_cell_k"]),
            subgroup_min_facilities=int(did["subgroup_min_facilities"]),
            person_weighted=tuple(config["survey"]["person_weighted"]),
            quality_ratios=dict(config["quality_of_care"]["ratios"]),
        )
