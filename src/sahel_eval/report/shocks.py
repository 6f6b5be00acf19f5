"""Human names of shocks, for figures and reports (DESIGN §7, §9).

A shock is known to the pipeline by an id (``covid19``, ``local-Douentza-201909``); a
reader knows it by what happened, where and when: "COVID-19 (mars 2020)",
"Violences, Douentza (septembre 2019)". :func:`shock_label` is the one place that
turns a row of ``results/resilience/{area}_shocks.csv`` into that name, so a figure
title, a brief and a technical report name the same shock the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import load_catalogue, translate

__all__ = ["national_kinds", "shock_label"]

#: Catalogue prefix of shock names; ``shock.name.<id>`` beats ``shock.kind.<kind>``.
PREFIX = "shock."


def national_kinds(config: Mapping[str, Any]) -> dict[str, str]:
    """Shock id → kind (``pandemic``, ``strike``) of the config's national shocks.

    The shocks table only says ``national`` for these; the config says what they were.
    """
    return {s["name"]: s["kind"] for s in config["shocks"]["national"]}


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _onset_month(value: Any) -> str | None:
    """``202003``, ``"202003"``, ``"2020-03"`` or ``"2020-03-01"`` → ``"2020-03"``."""
    text = _text(value)
    if text is None:
        return None
    # The shocks CSV is sometimes read without a dtype, which turns 202003 into 202003.0.
    digits = text.split(".")[0].replace("-", "")
    return f"{digits[:4]}-{digits[4:6]}" if len(digits) >= 6 else None


def shock_label(
    shock: Mapping[str, Any],
    lang: str,
    *,
    kinds: Mapping[str, str] | None = None,
    dated: bool = True,
) -> str:
    """The name a reader knows a shock by, with its month of onset.

    Parameters
    ----------
    shock
        One shock: ``shock_id``, ``kind`` (``national``, ``local``, ...), ``district``
        (local shocks) and ``onset`` (``YYYYMM`` or ``YYYY-MM``), as in
        ``results/resilience/{area}_shocks.csv``. A missing kind or district is allowed.
    lang
        ``fr`` or ``en``.
    kinds
        Shock id → kind for national shocks (:func:`national_kinds`); overrides
        ``shock["kind"]``, which the shocks table sets to ``national``.
    dated
        ``False`` leaves the onset month out (where the month stands beside it).

    Returns
    -------
    str
        ``shock.name.<shock_id>`` when the catalogue names that shock (COVID-19),
        otherwise ``shock.kind.<kind>``, otherwise ``shock.kind.other``, filled with
        the district and the onset month.
    """
    shock_id = str(shock["shock_id"])
    kind = (kinds or {}).get(shock_id) or _text(shock.get("kind")) or "other"
    catalogue = load_catalogue()
    key = next(
        k
        for k in (f"{PREFIX}name.{shock_id}", f"{PREFIX}kind.{kind}", f"{PREFIX}kind.other")
        if k in catalogue
    )
    params = {
        "district": _text(shock.get("district")) or "",
        "onset": _onset_month(shock.get("onset")),
    }
    text = translate(key, lang, params)
    if not dated and params["onset"]:
        # Beside its own date (a timeline): the name without "(mars 2020)".
        text = text.replace(f" ({fmt.fmt_month(params['onset'], lang)})", "")
    return text
