# Reports: jinja2 templates → self-contained HTML per audience × area × language.


rule data_inventory:
    input:
        unpack(inventory_inputs),
    output:
        report(
            "reports/data_inventory_{lang}.html",
            caption="../report/data_inventory.rst",
            category="Reports",
            labels={"report": "data inventory", "language": "{lang}"},
        ),
    log:
        "logs/report/data_inventory_{lang}.log",
    benchmark:
        "logs/benchmarks/report/data_inventory_{lang}.tsv"
    conda:
        ENV
    script:
        "../scripts/data_inventory.py"
