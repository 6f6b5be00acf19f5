# Sustainability (DESIGN §8): mutual-insurance KPIs with good / watch / alarm status,
# persistence of programme effects after the funding ends, KPI trend figures.


# The KPI table and its trend figure (every language) in one job: they read the same
# thresholds, and the figure is cheaper than a second job's imports.
rule mutual_kpis:
    input:
        mutuals="results/clean/mutuals.parquet",
        # Affordability: contribution ÷ consumption per person (DESIGN §4, §8).
        households="results/clean/survey_households.parquet",
    output:
        **{
            lang: report(
                f"results/figures/{lang}/mutual_kpis.svg",
                caption="../report/sustainability.rst",
                category="Sustainability",
                labels={"language": lang, "figure": "mutual KPIs"},
            )
            for lang in LANGS
        },
        kpis=report(
            "results/sustainability/mutual_kpis.csv",
            caption="../report/sustainability.rst",
            category="Sustainability",
            labels={"table": "mutual KPIs"},
        ),
    log:
        "logs/sustainability/mutual_kpis.log",
    conda:
        ENV
    params:
        config=subset(
            "sustainability.kpi_thresholds",
            "sustainability.kpi_not_applicable",
            "mutuals.areas",
        ),
        languages=LANGS,
        code=code("mutual_kpis.py"),
    script:
        "../scripts/mutual_kpis.py"


rule persistence:
    input:
        # The ratios are computed once, by the DiD analyses (survey ones add no rows).
        documents=expand(
            "results/estimates/{analysis}.json", analysis=facility_analysis_names()
        ),
    output:
        report(
            "results/sustainability/persistence.csv",
            caption="../report/sustainability.rst",
            category="Sustainability",
            labels={"table": "persistence"},
        ),
    log:
        "logs/sustainability/persistence.log",
    conda:
        ENV
    params:
        code=code("persistence.py"),
    script:
        "../scripts/persistence.py"
