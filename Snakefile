# sahel-eval: evaluation of health-financing programmes in Mali.
# A table of contents: config, validation, one include per stage, the default target.
import re
import sys
from pathlib import Path

from snakemake.utils import min_version

from sahel_eval.config import read_yaml, validate_config
from sahel_eval.errors import InputError

min_version("9.0")

# A YAML syntax error gets our message (line, column, what to do), not the parser's.
if Path("config/config.yaml").is_file():
    try:
        read_yaml("config/config.yaml")
    except InputError as err:
        sys.exit(err.message)


configfile: "config/config.yaml"


# One validation path for the Snakefile, the CLI and the tests (defaults filled in). The
# schema sits beside this file, whichever Snakefile includes it (the Slurm test's does).
SCHEMA = Path(workflow.current_basedir) / "workflow" / "schemas" / "config.schema.yaml"
try:
    validate_config(
        config,
        schema_path=SCHEMA,
        source="config/config.yaml",
    )
except InputError as err:
    sys.exit(err.message)


report: "workflow/report/workflow.rst"


# Areas come from the config, so a third area is a config edit; the regular expression
# escapes names, and languages are pinned so report names cannot be ambiguous.
wildcard_constraints:
    area="|".join(re.escape(a) for a in config["areas"]),
    lang="|".join(re.escape(lang) for lang in config["reporting"]["languages"]),


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/did.smk"
include: "workflow/rules/resilience.smk"
include: "workflow/rules/sustainability.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
