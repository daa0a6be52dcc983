"""BANT: the rule-based qualification that leadscore is benchmarked against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import BantConfig, CriterionConfig
from leadscore.data.validation import require_columns
from leadscore.data.values import criterion_passes  # in the data layer: the input contract counts passes too
from leadscore.errors import DataValidationError


def is_blank(values: pd.Series, missing_values: tuple[str, ...] = ()) -> pd.Series:
    """Missing, empty or whitespace-only text, or one of ``data.missing_values`` (e.g. "Select")."""
    text = values.map(lambda v: None if pd.isna(v) else str(v).strip())
    return text.isna() | (text == "") | text.isin([str(m).strip() for m in missing_values])


def _passes(
    values: pd.Series, rule: CriterionConfig, name: str, source: str, missing_values: tuple[str, ...] = ()
) -> pd.Series:
    if rule.present is not None:
        # "Is it filled in?": the one condition that looks at blanks instead of failing on them.
        blank = is_blank(values, missing_values)
        return ~blank if rule.present else blank
    if rule.in_ is not None or rule.not_in is not None:
        return pd.Series(criterion_passes(values, rule), index=values.index)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().all() and values.notna().any():
        raise DataValidationError(
            f"{source}: BANT criterion {name!r} compares column {rule.column!r} with a number, "
            f"but it holds text such as {values.dropna().iloc[0]!r}"
        )
    ok = numbers.notna()
    if rule.min is not None:
        ok &= numbers >= rule.min
    if rule.max is not None:
        ok &= numbers <= rule.max
    return ok


def bant_criteria(
    raw: pd.DataFrame, bant: BantConfig, *, source: str = "lead table", missing_values: tuple[str, ...] = ()
) -> pd.DataFrame:
    """One boolean column per BANT criterion: does the lead pass it?

    ``missing_values`` (params ``data.missing_values``) count as blank for ``present`` conditions.
    """
    require_columns(raw, [c.column for c in bant.criteria.values()], what="params bant.criteria", source=source)
    return pd.DataFrame(
        {name: _passes(raw[rule.column], rule, name, source, missing_values) for name, rule in bant.criteria.items()},
        index=raw.index,
    )


def bant_score(
    raw: pd.DataFrame, bant: BantConfig, *, source: str = "lead table", missing_values: tuple[str, ...] = ()
) -> tuple[pd.Series, pd.Series]:
    """Return ``(criteria_met, qualified)``: the count of criteria passed and whether it reaches min_criteria."""
    met = bant_criteria(raw, bant, source=source, missing_values=missing_values).sum(axis=1).astype(np.int64)
    return met.rename("bant_criteria_met"), (met >= bant.min_criteria).rename("bant_qualified")
