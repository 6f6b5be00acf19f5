"""Load and validate ``config/config.yaml`` against ``workflow/schemas/config.schema.yaml``.

The Snakefile, the CLI and the tests share :func:`validate_config`. It fills defaults
with the same algorithm as ``snakemake.utils.validate`` (a Draft 2020-12 validator
whose ``properties`` keyword also sets each missing property's ``default``), so a config
validated by either has the same keys; ours adds errors that name the key path and the
rule, and a few cross-key checks a JSON schema cannot express.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource

from sahel_eval.config_subgroups import subgroup_problems
from sahel_eval.errors import InputError, Problem
from sahel_eval.io.yaml_text import safe_load

#: The schema, relative to the project root (Snakemake's convention: workflow/schemas/).
SCHEMA_PATH = Path("workflow") / "schemas" / "config.schema.yaml"
MAX_CONFIG_ERRORS = 5
#: The config layout this code reads; CHANGELOG.md says what changed at each version.
CONFIG_VERSION = 3


def _extend_with_default(validator_class: type) -> type:
    # As in the jsonschema FAQ and snakemake.utils.validate; the deep copy keeps a
    # mutable default (a dict filled further down) from being shared with the schema.
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(
        validator: Any, properties: Mapping[str, Any], instance: Any, schema: Any
    ) -> Iterator[jsonschema.ValidationError]:
        if isinstance(instance, dict):
            for prop, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(prop, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


DefaultValidator = _extend_with_default(Draft202012Validator)


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Read the config schema (YAML).

    Parameters
    ----------
    path
        Schema file.

    Returns
    -------
    dict
        The schema.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            return safe_load(fh)
    except FileNotFoundError:
        raise InputError(
            str(path),
            [Problem(None, "file_exists", "the config schema does not exist")],
            hint="run from the project root (where workflow/schemas/ is), or pass the "
            "schema's path",
        ) from None


def validate_config(
    config: dict[str, Any],
    *,
    schema_path: str | Path = SCHEMA_PATH,
    source: str = "config",
) -> dict[str, Any]:
    """Validate a config dict in place, filling defaults, and return it.

    Parameters
    ----------
    config
        The parsed config (Snakemake's ``config`` object works).
    schema_path
        The JSON schema (YAML).
    source
        Name of the config file, for messages.

    Returns
    -------
    dict
        ``config`` itself, with defaults filled.

    Raises
    ------
    InputError
        A ``config_version`` this code does not read (with what to do), or naming each
        failing key path (``dq.outliers.sides``) and the schema rule (``enum``,
        ``type``, ``additionalProperties`` …), up to five of them.
    """
    check_version(config, source)
    schema = load_schema(schema_path)
    registry: Registry = Registry().with_resource(
        Path(schema_path).resolve().as_uri(), Resource.from_contents(schema)
    )
    validator = DefaultValidator(schema, registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path)))
    if errors:
        raise InputError(
            source,
            [_schema_problem(e) for e in errors[:MAX_CONFIG_ERRORS]]
            + [Problem(None, "...", f"{len(errors) - MAX_CONFIG_ERRORS} more errors")]
            * (len(errors) > MAX_CONFIG_ERRORS),
            hint="fix the key(s) above; every key is described in config/README.md "
            "(quote dates such as '2020-03-01' so YAML keeps them as text).",
            column_label="key",
        )
    problems = _cross_checks(config)
    if problems:
        raise InputError(
            source,
            problems,
            hint="make the names agree across sections (see config/README.md).",
            column_label="key",
        )
    return config


def check_version(config: Mapping[str, Any], source: str = "config") -> None:
    """Refuse a config written for another layout, saying how to upgrade it.

    Raises
    ------
    InputError
        ``config_version`` missing, not an integer, or not :data:`CONFIG_VERSION`.
    """
    found = config.get("config_version") if isinstance(config, Mapping) else None
    if found == CONFIG_VERSION and isinstance(found, int):
        return
    if found is None:
        detail = "the config has no config_version (it predates version 2)"
        hint = (
            f"add `config_version: {CONFIG_VERSION}` at the top of the file; CHANGELOG.md "
            "lists what changed since the version the config was written for"
        )
    elif isinstance(found, int) and found < CONFIG_VERSION:
        detail = f"config_version {found} is older than this code's {CONFIG_VERSION}"
        hint = (
            f"upgrade it as CHANGELOG.md says for each version after {found}, then set "
            f"`config_version: {CONFIG_VERSION}`"
        )
    elif isinstance(found, int):
        detail = f"config_version {found} is newer than this code's {CONFIG_VERSION}"
        hint = "update sahel-eval (git pull), or use the config of this version"
    else:
        detail = f"config_version must be an integer, got {found!r}"
        hint = f"write `config_version: {CONFIG_VERSION}`"
    raise InputError(
        source,
        [Problem("config_version", "config_version", detail)],
        hint=hint,
        column_label="key",
    )


def load_config(
    path: str | Path = "config/config.yaml", *, schema_path: str | Path = SCHEMA_PATH
) -> dict[str, Any]:
    """Read a YAML config file and validate it (defaults filled).

    Parameters
    ----------
    path
        The config file.
    schema_path
        The JSON schema.

    Returns
    -------
    dict
        The validated config.

    Raises
    ------
    InputError
        If the file is missing, is not YAML, or breaks the schema.
    """
    shown = str(path)
    config = read_yaml(path)
    if not isinstance(config, dict):
        raise InputError(
            shown,
            [Problem(None, "type", "the config must be a mapping of keys")],
            hint="start from the shipped config/config.yaml",
        )
    return validate_config(config, schema_path=schema_path, source=shown)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML config file; a syntax error names its line and column.

    The Snakefile calls this before its ``configfile:`` so that a syntax error gets
    this message rather than the YAML parser's traceback.

    Raises
    ------
    InputError
        The file is missing or not valid YAML.
    """
    shown = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return safe_load(fh)
    except FileNotFoundError:
        raise InputError(
            shown,
            [Problem(None, "file_exists", "the config file does not exist")],
            hint="pass --config with the path of your config.yaml",
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise yaml_error(shown, exc) from None


def yaml_error(shown: str, exc: BaseException) -> InputError:
    """A YAML syntax error as an :class:`InputError` with its line and column."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    # The parser notices late; where the unfinished construct began is often the typo.
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None and start is not mark:
        what += f" ({context} started at line {start.line + 1}, column {start.column + 1})"
    return InputError(
        shown,
        [Problem(None, "yaml_syntax", f"{where}{what}")],
        hint="fix the YAML syntax there (indentation, a missing colon or space after "
        "it, unbalanced quotes or brackets)",
    )


def _key_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _schema_problem(error: jsonschema.ValidationError) -> Problem:
    key = _key_path(error.absolute_path)
    rule = str(error.validator)
    detail = error.message
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        hints = []
        for name in extra:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        detail = "unknown key " + ", ".join(hints)
        if extra:
            key = _key_path([*error.absolute_path, extra[0]])
    elif rule == "required":
        detail = error.message
    # The value is config text, never data; still cut it short.
    if len(detail) > 160:
        detail = detail[:157] + "..."
    return Problem(key, rule, detail)


def _primary_outcome_checks(config: Mapping[str, Any]) -> list[Problem]:
    """Every analysis pre-specifies its primary outcomes (``[]``: all exploratory),
    chosen among its own outcomes (DESIGN §6.1, multiple testing)."""
    given = config["reporting"]["primary_outcomes"]
    analyses = {a["name"]: a["outcomes"] for a in config["analyses"]}
    problems = []
    for name in sorted(set(analyses) - set(given)):
        problems.append(
            Problem(
                f"reporting.primary_outcomes.{name}",
                "required",
                f"analysis '{name}' has no primary outcomes: list them before the analysis "
                "([] makes all its outcomes exploratory)",
            )
        )
    for name in sorted(set(given) - set(analyses)):
        problems.append(
            Problem(
                f"reporting.primary_outcomes.{name}",
                "known_analysis",
                f"'{name}' is not under analyses",
            )
        )
    for name in sorted(set(given) & set(analyses)):
        bad = [o for o in given[name] if o not in analyses[name]]
        if bad:
            problems.append(
                Problem(
                    f"reporting.primary_outcomes.{name}",
                    "known_outcome",
                    f"{bad} are not among the outcomes of analysis '{name}'",
                )
            )
    return problems


def _cross_checks(config: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    areas = config.get("areas", {})
    geography = config.get("geography", {})
    indicators = set(config["dhis2"]["indicators"])
    languages = config["reporting"]["languages"]

    for name, area in areas.items():
        if geography and area["region"] not in geography:
            problems.append(
                Problem(
                    f"areas.{name}.region",
                    "known_region",
                    f"region '{area['region']}' is not in geography",
                )
            )
        if not area.get("districts"):
            problems.append(
                Problem(
                    f"areas.{name}.districts",
                    "area_has_districts",
                    "an area needs its districts (its panel is their facilities)",
                )
            )
        elif area["region"] in geography:
            unknown = [d for d in area["districts"] if d not in geography[area["region"]]]
            if unknown:
                problems.append(
                    Problem(
                        f"areas.{name}.districts",
                        "known_district",
                        f"not under geography.{area['region']}: " + ", ".join(unknown),
                    )
                )
        for key in ("label", "district_unit"):
            missing = [lang for lang in languages if lang not in area.get(key, {})]
            if missing:
                problems.append(
                    Problem(
                        f"areas.{name}.{key}",
                        "every_language",
                        f"no text for report language(s) {missing}",
                    )
                )
    years = [r["year"] for r in config["inputs"]["surveys"]]
    rounds = [r["round"] for r in config["inputs"]["surveys"]]
    if len(set(years)) != len(years) or len(set(rounds)) != len(rounds):
        problems.append(
            Problem("inputs.surveys", "unique_round", "two survey rounds share a round or year")
        )
    for i, rnd in enumerate(config["inputs"]["surveys"]):
        units = [f["unit"] for f in rnd["files"]]
        if len(set(units)) != len(units):
            problems.append(
                Problem(
                    f"inputs.surveys[{i}].files", "unique_unit", "a unit appears twice in one round"
                )
            )
    programme_names = set()
    for i, prog in enumerate(config["programmes"]):
        programme_names.add(prog["name"])
        if areas and prog["area"] not in areas:
            problems.append(
                Problem(
                    f"programmes[{i}].area",
                    "known_area",
                    f"area '{prog['area']}' is not defined under areas",
                )
            )
        if prog["end_date_source"] == "config" and not prog.get("end_date"):
            problems.append(
                Problem(
                    f"programmes[{i}].end_date",
                    "required",
                    "end_date_source is 'config' but end_date is empty",
                )
            )
    for i, analysis in enumerate(config["analyses"]):
        if areas and analysis["area"] not in areas:
            problems.append(
                Problem(
                    f"analyses[{i}].area",
                    "known_area",
                    f"area '{analysis['area']}' is not defined under areas",
                )
            )
        if "programme" in analysis and analysis["programme"] not in programme_names:
            problems.append(
                Problem(
                    f"analyses[{i}].programme",
                    "known_programme",
                    f"programme '{analysis['programme']}' is not under programmes",
                )
            )
        if analysis["data"] != "facility":
            # Survey outcomes are derived in the cleaning stage (e.g. facility delivery
            # from m15), so their names are checked there, not here.
            continue
        known = (
            indicators
            | {f"{name}_rate" for name in indicators}
            | set(config["quality_of_care"]["ratios"])
        )
        for outcome in analysis["outcomes"]:
            if outcome not in known:
                close = difflib.get_close_matches(outcome, sorted(known), n=1)
                problems.append(
                    Problem(
                        f"analyses[{i}].outcomes",
                        "known_outcome",
                        f"'{outcome}' is not in dhis2.indicators (nor its _rate) nor in "
                        "quality_of_care.ratios"
                        + (f" (did you mean '{close[0]}'?)" if close else ""),
                    )
                )
    problems += _primary_outcome_checks(config)
    named = {
        "dq.outliers.seasonal_indicators": config["dq"]["outliers"]["seasonal_indicators"],
        "resilience.essential_services": config["resilience"]["essential_services"],
        "denominators.dq_indicator": [config["denominators"]["dq_indicator"]],
    }
    for key, names in named.items():
        problems += [
            Problem(key, "known_indicator", f"'{name}' is not in dhis2.indicators")
            for name in names
            if name not in indicators
        ]
    problems += _quality_ratio_checks(config["quality_of_care"]["ratios"], indicators)
    problems += _spillover_checks(config)
    problems += subgroup_problems(config)
    return problems


def _quality_ratio_checks(ratios: Mapping[str, Any], indicators: set[str]) -> list[Problem]:
    """Each ratio divides two indicators (or by ``expected_births``) and is named
    apart from them (the panel holds both as columns)."""
    problems = []
    for name, spec in ratios.items():
        key = f"quality_of_care.ratios.{name}"
        if name in indicators or name == "expected_births":
            problems.append(Problem(key, "unique_name", f"'{name}' is already a panel column"))
        for part, allowed in (
            ("numerator", indicators),
            ("denominator", indicators | {"expected_births"}),
        ):
            if spec[part] not in allowed:
                problems.append(
                    Problem(
                        f"{key}.{part}",
                        "known_indicator",
                        f"'{spec[part]}' is not in dhis2.indicators"
                        + (" (nor expected_births)" if part == "denominator" else ""),
                    )
                )
    return problems


#: Org-unit UIDs as DHIS2 makes them: a letter, then 10 letters or digits.
ORGUNIT_UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")


def _spillover_checks(config: Mapping[str, Any]) -> list[Problem]:
    """``did.spillover_exclude``: district names of ``geography``, or org-unit UIDs.

    A UID is checked against the facility list by ``make check`` and ingest
    (:func:`sahel_eval.ingest.crosscheck.check_spillover_units`); a name that is
    neither is a typo that would silently exclude nothing.
    """
    districts = {d for ds in config.get("geography", {}).values() for d in ds}
    unknown = [
        item
        for item in config["did"]["spillover_exclude"]
        if item not in districts and not ORGUNIT_UID.match(item)
    ]
    if not unknown:
        return []
    shown = []
    for item in unknown:
        close = difflib.get_close_matches(item, sorted(districts), n=1)
        shown.append(f"'{item}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return [
        Problem(
            "did.spillover_exclude",
            "known_district_or_facility",
            "neither a district under geography nor an org-unit UID: " + ", ".join(shown),
        )
    ]
