# DiD: one rule per configured analysis (config["analyses"]). Canonical tables of
# results/clean/ → tidy estimates, event-time table and a JSON document under
# results/estimates/ (schema: src/sahel_eval/did/estimates_schema.json).


rule estimate:
    input:
        unpack(estimate_inputs),
    output:
        csv=report(
            "results/estimates/{analysis}.csv",
            caption="../report/estimates.rst",
            category="Estimates",
            labels={"analysis": "{analysis}", "table": "estimates"},
        ),
        json="results/estimates/{analysis}.json",
        event_time="results/estimates/{analysis}_event_time.csv",
    log:
        "logs/did/estimate_{analysis}.log",
    wildcard_constraints:
        analysis=analysis_pattern(),
    priority: 5
    conda:
        ENV
    params:
        spec=analysis_spec,
        config=subset(
            "seeds.bootstrap",
            "seeds.randomisation",
            "did",
            "reporting.test_level",
            "reporting.primary_outcomes",
            "reporting.small_cell_k",
            "sustainability.persistence_months",
            "survey.person_weighted",
            "quality_of_care.ratios",
        ),
        code=code("estimate.py"),
    script:
        "../scripts/estimate.py"
