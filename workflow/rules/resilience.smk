# Resilience (DESIGN §7): per facility × essential service × shock indicators, their
# summaries by district / area / programme status, the programme comparison (DiD
# engine, district-level inference) and the figures, per area. Figures name facilities
# and shocks as readers know them (master list, report/shocks.py), not by their ids.


rule resilience_indicators:
    input:
        panel="results/clean/panel_{area}.parquet",
        events="results/clean/events.parquet",
    output:
        indicators=report(
            "results/resilience/{area}_indicators.csv",
            caption="../report/resilience.rst",
            category="Resilience",
            labels={"area": "{area}", "table": "indicators"},
        ),
        shocks="results/resilience/{area}_shocks.csv",
        windows="results/resilience/{area}_windows.parquet",
    log:
        "logs/resilience/indicators_{area}.log",
    conda:
        ENV
    params:
        config=subset("resilience", "seeds.expected_volume", "shocks"),
        code=code("resilience.py"),
    script:
        "../scripts/resilience.py"


rule resilience_summary:
    input:
        indicators="results/resilience/{area}_indicators.csv",
    output:
        aggregates=report(
            "results/resilience/{area}_aggregates.csv",
            caption="../report/resilience.rst",
            category="Resilience",
            labels={"area": "{area}", "table": "aggregates"},
        ),
        comparison="results/resilience/{area}_comparison.json",
    log:
        "logs/resilience/summary_{area}.log",
    conda:
        ENV
    params:
        config=subset(
            "resilience.essential_services", "seeds.bootstrap", "reporting.test_level"
        ),
        code=code("resilience_summary.py"),
    script:
        "../scripts/resilience_summary.py"


rule resilience_figures:
    input:
        indicators="results/resilience/{area}_indicators.csv",
        windows="results/resilience/{area}_windows.parquet",
        panel="results/clean/panel_{area}.parquet",
        shocks="results/resilience/{area}_shocks.csv",
        facilities="results/clean/facilities.parquet",
    output:
        # One job draws every language; outputs named {lang}_{figure}.
        **resilience_figure_outputs(),
    log:
        "logs/resilience/figures_{area}.log",
    conda:
        ENV
    params:
        config=subset(
            "resilience.essential_services",
            "resilience.window_months",
            "shocks.national",
        ),
        languages=LANGS,
        code=code("resilience_figures.py"),
    script:
        "../scripts/resilience_figures.py"
