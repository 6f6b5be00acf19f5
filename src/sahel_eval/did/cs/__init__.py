"""Callaway & Sant'Anna (2021) group-time average treatment effects.

Model. Units belong to cohorts ``g`` (first period of exposure; ``g = 0`` never
treated; treatment is absorbing). For each cohort ``g`` and period ``t`` the estimand is

    ATT(g, t) = E[Y_t(g) − Y_t(0) | G = g],

identified under conditional parallel trends from the 2×2 comparison of cohort ``g``
with a comparison group ``C`` (never treated, or not yet treated by
``max(t, b) + anticipation``) between ``t`` and a base period ``b``:

    ATT(g, t) = E[Y_t − Y_b | G = g] − E[ w(X) (Y_t − Y_b) | C ]   (IPW form),

with ``b = g − anticipation − 1`` (last untreated period) for post-treatment cells and,
for pre-treatment cells, ``b = t − 1`` (``base_period="varying"``) or ``g − δ − 1``
(``"universal"``). Each 2×2 is estimated by Sant'Anna & Zhao (2020) doubly robust,
normalised IPW or outcome regression (:mod:`sahel_eval.did.cs.drdid`), exactly as R
``did::att_gt`` does. Inference uses the influence functions ``psi`` (n_units ×
n_cells): analytic ``se = sqrt(sum psi**2) / n`` (cluster sums when ``cluster`` is
given) or the multiplier bootstrap with sup-t uniform bands
(:mod:`sahel_eval.did.inference.multiplier`).

Aggregations (``AttGtResult.aggregate``) follow R ``did::aggte``: weighted averages of
ATT(g, t) with cohort-size weights ``P(G = g)``, whose estimation is part of the
influence function (the "wif" term). Every aggregate is a linear map of one basis
``[psi, omega]`` (``omega_g = w_i 1{G_i = g} − P(G = g)``), so each result carries its
coefficient vectors: standard errors are quadratic forms of one Gram matrix and
bootstrap draws are taken once and reused, which keeps ratios of aggregates (the
persistence ratio) consistent with both.

Modules, in the order a fit runs through them:

* :mod:`~sahel_eval.did.cs.data` — the long frame as unit × period arrays (panels) or
  rows (repeated cross-sections);
* :mod:`~sahel_eval.did.cs.cells` — the ATT(g, t) cells, their 2×2 samples and
  estimates, by the estimators of :mod:`~sahel_eval.did.cs.drdid`;
* :mod:`~sahel_eval.did.cs.model` — :func:`~sahel_eval.did.cs.model.att_gt` and its
  result;
* :mod:`~sahel_eval.did.cs.table` — standard errors of linear maps of the
  influence-function basis and the tidy table;
* :mod:`~sahel_eval.did.cs.pretest` — the Wald pre-test;
* :mod:`~sahel_eval.did.cs.aggregate` — aggregations (simple, group, calendar,
  dynamic) and ratios of them;
* :mod:`~sahel_eval.did.cs.ri_pieces` — estimates and influence-function
  cross-products of the aggregations for many assignments (batched without
  covariates);
* :mod:`~sahel_eval.did.cs.randomization` — studentised randomisation inference over
  treated clusters.
"""
