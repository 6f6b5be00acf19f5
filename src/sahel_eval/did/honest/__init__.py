"""Sensitivity of event-study conclusions to violations of parallel trends (HonestDiD).

Rambachan & Roth (2023, "A more credible approach to parallel trends", *Review of Economic
Studies* 90:2555), as DESIGN §6.1 asks for every event study: robust confidence intervals for
``θ = l_vec' τ_post`` under

* relative magnitudes ``ΔRM(M̄)`` — conditional least-favourable hybrid interval ("C-LF",
  Andrews, Roth & Pakes 2023), :mod:`~sahel_eval.did.honest.relative_magnitude`;
* smoothness ``ΔSD(M)`` — fixed-length interval ("FLCI", Armstrong & Kolesár 2018),
  :mod:`~sahel_eval.did.honest.smoothness`;

and the breakdown value of the restriction (:mod:`~sahel_eval.did.honest.breakdown`). Our own
implementation of the algorithms of R HonestDiD (github.com/asheshrambachan/HonestDiD),
checked against its published Medicaid-expansion example (tests/did/test_honest.py).
"""

from sahel_eval.did.honest.breakdown import breakdown, sensitivity_with_breakdown
from sahel_eval.did.honest.sensitivity import sensitivity

__all__ = ["breakdown", "sensitivity", "sensitivity_with_breakdown"]
