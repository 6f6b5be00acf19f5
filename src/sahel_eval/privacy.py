"""Pseudonymisation: salted hashes of ids, masking in messages, dropping identifiers.

Direct identifiers never leave ingest (DESIGN §10). Ids that later stages need to link
records (household, woman) are replaced by a salted SHA-256 hash: the same value and
salt always give the same pseudonym, and without the salt the pseudonym cannot be
reversed by hashing a list of plausible ids.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where used: error messages need only mask()
    import pandas as pd

SALT_ENV_DEFAULT = "SAHEL_EVAL_SALT"
# Public on purpose: it protects nothing and may only be used on synthetic data.
DEMO_SALT = "sahel-eval-demo-salt-not-secret"
HASH_LENGTH = 16


class SaltError(RuntimeError):
    """No usable salt: the environment variable is unset on real data."""


def resolve_salt(privacy: Mapping[str, Any], *, synthetic: bool) -> str:
    """Return the salt for hashing ids.

    Parameters
    ----------
    privacy
        The ``privacy`` section of the config (``salt_env``, ``demo_salt``).
    synthetic
        Whether the inputs are the synthetic demo data.

    Returns
    -------
    str
        The salt from the environment variable, else the demo salt when ``synthetic``.

    Raises
    ------
    SaltError
        If the variable is unset and the data are not synthetic.
    """
    env = privacy.get("salt_env", SALT_ENV_DEFAULT)
    salt = os.environ.get(env, "")
    if salt:
        return salt
    if synthetic:
        return str(privacy.get("demo_salt", DEMO_SALT))
    raise SaltError(
        f"environment variable {env} is not set: real data need a secret salt to "
        f"pseudonymise ids. Set it (e.g. `export {env}=$(openssl rand -hex 32)`), keep "
        "it out of the repository, and use the same value for every run you compare."
    )


def hash_id(value: object, salt: str, *, length: int = HASH_LENGTH) -> str | None:
    """Salted SHA-256 of one id, as truncated lowercase hex.

    Parameters
    ----------
    value
        The id; surrounding whitespace is ignored so that ``"  12"`` and ``"12"`` (as
        fixed-width Stata strings pad them) give one pseudonym. Integral floats are
        written without ``.0`` so an id read as 12.0 hashes like ``"12"``.
    salt
        The secret salt.
    length
        Number of hex characters kept.

    Returns
    -------
    str or None
        The pseudonym, or ``None`` for a missing value.
    """
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return hashlib.sha256((salt + text).encode("utf-8")).hexdigest()[:length]


def _missing(value: object) -> bool:
    if value is None or isinstance(value, str):
        return value is None
    import pandas as pd

    return bool(pd.isna(value))


def hash_series(values: pd.Series, salt: str, *, length: int = HASH_LENGTH) -> pd.Series:
    """Apply :func:`hash_id` to a Series, keeping its index and name.

    Returns
    -------
    pandas.Series
        String dtype; missing ids stay missing.
    """
    import pandas as pd

    hashed = [hash_id(v, salt, length=length) for v in values.tolist()]
    return pd.Series(hashed, index=values.index, name=values.name, dtype="str")


def mask(value: object) -> str:
    """Mask a value for display in an error message or a log.

    Parameters
    ----------
    value
        Any value from an identifier column.

    Returns
    -------
    str
        ``"A***"`` (first character kept) for a string of three characters or more,
        ``"<masked>"`` otherwise, ``"<missing>"`` for a missing value.
    """
    if _missing(value):
        return "<missing>"
    if isinstance(value, str) and len(value.strip()) >= 3:
        return value.strip()[0] + "***"
    return "<masked>"


def drop_identifiers(frame: pd.DataFrame, identifiers: Iterable[str]) -> pd.DataFrame:
    """Drop the listed direct-identifier columns that are present.

    Parameters
    ----------
    frame
        Input data.
    identifiers
        Column names to drop; names absent from ``frame`` are ignored (a round may lack
        a phone column), matching is case-insensitive because Stata and SPSS exports
        differ in case.

    Returns
    -------
    pandas.DataFrame
        A copy without those columns.
    """
    wanted = {name.lower() for name in identifiers}
    return frame.drop(columns=[c for c in frame.columns if str(c).lower() in wanted])
