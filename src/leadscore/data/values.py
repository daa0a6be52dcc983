"""Reading raw cell values the same way everywhere: numbers, category text and lead ids.

The featurizer (training and scoring) and the input contract (scoring) both read values through
these functions, so what the contract calls "not a number" is exactly what the featurizer would
have had to turn into missing. Each works on the *distinct* values of a column
(``pandas.factorize``) and maps the answer back through the codes: exports repeat a few hundred
distinct values over millions of rows, so string work per distinct value instead of per row is what
keeps scoring fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from leadscore.config import CriterionConfig

# Cleaned text that means "no value" in any export.
MISSING_TEXT = ("", "nan", "none", "null")


def _gather(per_unique: np.ndarray, codes: np.ndarray, fill) -> np.ndarray:
    """``per_unique[codes]`` with code -1 (a missing value) giving ``fill``."""
    return np.append(per_unique, np.array([fill], dtype=per_unique.dtype))[codes]


def _missing_tokens(uniques: pd.Series, missing_values: Iterable[str]) -> np.ndarray:
    """Distinct values that mean missing: listed in params data.missing_values, or blank text."""
    listed = uniques.isin(list(missing_values)) if missing_values else np.zeros(len(uniques), dtype=bool)
    blank = uniques.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    return np.asarray(listed, dtype=bool) | blank


def parse_numbers(values: pd.Series, missing_values: Iterable[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Read a column as float64.

    Returns ``(numbers, bad)``: ``numbers`` has NaN for missing values and for values that are not
    finite numbers; ``bad`` marks the latter (text such as ``"n/a"``, ``inf``/``-inf``), which the
    caller must report rather than silently treat as missing. Booleans (``True``/``False``, also as
    Python objects) read as 1/0; blank strings and ``missing_values`` are missing, not bad.
    """
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isinf(numbers)
        if bad.any():
            numbers = numbers.copy()
            numbers[bad] = np.nan
        return numbers, bad
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    missing = _missing_tokens(distinct, missing_values)
    is_bool = distinct.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    parsed = pd.to_numeric(distinct.where(~is_bool & ~missing), errors="coerce").to_numpy(dtype="float64", copy=True)
    parsed[is_bool] = distinct[is_bool].astype(float).to_numpy()
    bad = (np.isnan(parsed) & ~missing) | np.isinf(parsed)
    parsed[bad] = np.nan
    return _gather(parsed, codes, np.nan), _gather(bad, codes, False)


# Cleaned text per (aliases, missing values) and raw value, remembered across calls: batch scoring
# cleans the same few hundred distinct values in every chunk. Bounded: cleared when it grows large.
_CLEANED: dict[tuple, dict[tuple[type, object], object]] = {}
_MAX_CLEANED = 200_000
_NOT_YET = object()


def clean_distinct(
    values: pd.Series, *, aliases: Mapping[str, str] | None = None, missing_values: Iterable[str] = ()
) -> tuple[np.ndarray, pd.Series]:
    """Category text, cleaned once per distinct value.

    Returns ``(codes, cleaned)``: ``cleaned`` (object dtype) holds one entry per distinct raw value
    (trimmed, case-folded, runs of spaces collapsed, ``aliases`` applied; missing as None) and
    ``codes`` points each row at its entry (-1 for a missing value). ``cleaned`` may repeat a value
    ("Software" and "software " clean alike).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    memo = _CLEANED.setdefault((tuple(sorted((aliases or {}).items())), tuple(missing_values)), {})
    # Keyed by type too: True == 1 as dict keys, but "true" and "1" clean differently.
    cleaned = [memo.get((type(v), v), _NOT_YET) for v in distinct]
    new = [i for i, c in enumerate(cleaned) if c is _NOT_YET]
    if new:
        raw = pd.Series(distinct[new], dtype=object)
        text = clean_text(raw.mask(_missing_tokens(raw, missing_values)), aliases=aliases)
        if len(memo) + len(new) > _MAX_CLEANED:
            memo.clear()
        # pandas-stubs reject na_value=None, which is valid at runtime.
        as_objects = text.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
        for i, value in zip(new, as_objects, strict=True):
            cleaned[i] = value
            memo[(type(distinct[i]), distinct[i])] = value
    return codes, pd.Series(cleaned, dtype=object)


def clean_text(values: pd.Series, *, aliases: Mapping[str, str] | None = None) -> pd.Series:
    """Trim, case-fold and collapse spaces; blank/"nan"/"none"/"null" become missing; apply ``aliases``."""
    text = values.astype("string").str.strip().str.casefold()
    text = text.str.replace(r"\s+", " ", regex=True)
    text = text.mask(text.isin(MISSING_TEXT))
    if aliases:
        folded = {k.strip().casefold(): v.strip().casefold() for k, v in aliases.items()}
        text = text.replace(folded)
    return text


def looks_numeric(text: pd.Series) -> np.ndarray:
    """Which (cleaned) text values read as finite numbers ("42", "3.5", "1e3")."""
    numbers = pd.to_numeric(text.astype(object).where(text.notna()), errors="coerce").to_numpy(dtype="float64")
    return np.isfinite(numbers)


def id_text(values: pd.Series) -> pd.Series:
    """Lead ids as text, whatever dtype they arrived in: ids are labels, never numbers.

    Integers become their digits (``42`` -> ``"42"``); floats that are whole numbers (an integer
    id column with a gap, read as float) lose the ``.0``; text is kept as is (``"0000042"`` stays).
    Missing ids stay missing (:class:`~leadscore.data.contract.ContractCheck` refuses them).
    """
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if len(finite) and np.all(np.mod(finite.to_numpy(), 1) == 0):
            values = values.astype("Int64")
    if pd.api.types.is_string_dtype(values) and values.dtype == "str":
        return values
    out = values.astype("str")
    return out.mask(values.isna())


def criterion_passes(values: pd.Series, rule: CriterionConfig) -> np.ndarray:
    """Which values pass one criterion (a boolean array; missing never passes, text never meets min/max).

    ``in``/``not_in`` compare text trimmed and case-folded, once per distinct value.
    """
    if rule.in_ is not None or rule.not_in is not None:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).map(lambda v: str(v).strip().casefold())
        members = rule.in_ if rule.in_ is not None else rule.not_in or ()  # one of them is set (checked above)
        listed = {str(v).strip().casefold() for v in members}
        hit = text.isin(listed).to_numpy(dtype=bool)
        # Missing never passes a criterion: a rep who recorded nothing has not qualified anything.
        return np.append(hit if rule.in_ is not None else ~hit, False)[codes]
    numbers = pd.to_numeric(values, errors="coerce")
    ok = numbers.notna()
    if rule.min is not None:
        ok &= numbers >= rule.min
    if rule.max is not None:
        ok &= numbers <= rule.max
    return ok.to_numpy(dtype=bool)
