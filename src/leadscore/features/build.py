"""Raw lead table -> fit and intent feature frames.

:class:`LeadFeaturizer` follows the scikit-learn contract: ``fit`` learns, from training leads only,
what kind each column is and which categories exist; ``transform`` applies exactly that to any lead
table (history, open leads, tomorrow's export). Documented rules for messy input:

- numbers and booleans become floats; a column is numeric only if all its training values are
  numbers or booleans. In the featurize stage (ratio inputs, rows outside the training splits) and
  for a scorer without an input contract, a few stray non-numbers (text, ``inf``) become missing
  with a warning naming the column, the count and an example, and more than 5% raise an error (a
  changed type). When scoring with an input
  contract (``transform(..., checked=True)``), :class:`~leadscore.data.contract.ContractCheck` has
  already counted them over the whole input and refused them (or, with ``contract.type_error:
  warn``, reported them): the featurizer then reads them as missing without a word of its own, so
  the verdict never depends on the chunk size;
- text is trimmed, case-folded and passed through ``category_aliases``; categories seen fewer than
  ``min_category_count`` times in training, and categories never seen in training, are pooled into
  ``"other"`` (new campaigns and countries appear daily: they are scored, never an error);
- job titles become ``<col>_seniority`` and ``<col>_department``;
- a column entirely missing in training carries no information: it is dropped (``dropped_columns_``)
  with a warning rather than failing the run;
- a column entirely missing in a batch being *scored* is scored as missing (each tree sends missing
  values down the branch it learned for them), with a warning naming the column;
- a column that was text in training but arrives as numbers none of which is a known category
  raises an error naming the column (a changed type: silently pooling every value into "other"
  would score every lead alike);
- ratios are numerator / denominator, missing when the denominator is 0 or missing;
- columns in ``features.categorical`` are categories whatever their dtype: integer codes become
  the text of the integer (``3`` and ``3.0`` are both ``"3"``);
- a group left without features (no columns in params, or all dropped) gets one constant column
  (:data:`PLACEHOLDERS`): its model then predicts the base rate and that quadrant axis is missing.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from leadscore.config import FeaturesConfig
from leadscore.data.validation import require_columns
from leadscore.data.values import clean_distinct, clean_text, parse_numbers
from leadscore.errors import DataValidationError
from leadscore.features.titles import normalise_titles

log = logging.getLogger(__name__)

OTHER = "other"
# The one constant feature of a group that has no columns (LightGBM cannot train on zero columns; on a
# constant one it learns the base rate in one leaf, and TreeSHAP gives it no effect, so no reasons).
PLACEHOLDERS = {"fit": "_no_fit_columns", "intent": "_no_intent_columns"}
# Share of non-missing values that may fail numeric parsing before we call it a type change.
_MAX_NON_NUMERIC_SHARE = 0.05


def _clean_text(values: pd.Series) -> pd.Series:
    return clean_text(values)


def _as_number(values: pd.Series, column: str, source: str, *, checked: bool = False) -> pd.Series:
    numbers, bad = parse_numbers(values)
    n_bad = int(bad.sum())
    if n_bad and not checked:
        example = values[bad].iloc[0]
        present = int(values.notna().sum())
        if n_bad > _MAX_NON_NUMERIC_SHARE * max(present, 1):
            raise DataValidationError(
                f"{source}: column {column!r} was numeric in the training data but now holds text "
                f"({n_bad} values such as {example!r}); fix the export or retrain"
            )
        log.warning(
            "%s: column %r: %d of %d values are not numbers (e.g. %r); read as missing",
            source,
            column,
            n_bad,
            present,
            example,
        )
    return pd.Series(numbers, index=values.index, dtype="float64")


def _category_text(values: pd.Series) -> pd.Series:
    """Numbers as category text: integral values without a decimal part (1, 1.0 -> "1")."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return values
    numbers = values.astype("float64")
    integral = numbers.notna() & (numbers == np.round(numbers)) & (numbers.abs() < 1e15)
    text = numbers.astype(object).where(numbers.notna(), None)
    text[integral] = numbers[integral].astype(np.int64).astype(str)
    text[~integral & numbers.notna()] = numbers[~integral & numbers.notna()].astype(str)
    return text


def check_monotone(featurizer: LeadFeaturizer, *, group: str, increasing: tuple[str, ...], source: str) -> None:
    """Refuse monotone constraints on a categorical feature before LightGBM aborts the process on them.

    Raises
    ------
    DataValidationError
        Naming the column, the text it holds and the params key.
    """
    for name in increasing:
        if name in featurizer.categories_:
            example = next((c for c in featurizer.categories_[name] if c != OTHER), OTHER)
            raise DataValidationError(
                f"{source}: params train.{group}.monotone_increasing lists {name!r}, which holds text (such as "
                f"{example!r}): monotone constraints need a numeric column; map it to numbers or drop it from the list"
            )


def _is_numeric_column(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return True
    present = values.dropna()
    return len(present) > 0 and bool(present.isin([True, False]).all())


class LeadFeaturizer:
    """Derive fit and intent features from a raw lead table.

    Parameters
    ----------
    features : FeaturesConfig
        Which columns are fit, intent, job titles, excluded, ratios and category aliases.
    missing_values : tuple of str
        Extra strings that mean "missing" (e.g. ``"Select"`` in web-form exports).

    Attributes
    ----------
    kinds_ : dict
        Source column -> ``"numeric"``, ``"categorical"`` or ``"title"``.
    categories_ : dict
        Categorical feature -> the categories learned in training (including ``"other"``).
    fit_features_, intent_features_ : list of str
        Engineered feature names per group, in model column order.
    dropped_columns_ : list of str
        Columns dropped because they were entirely missing in training.
    contract_ : dict
        The input contract learned from the same training rows (``InputContract.to_dict()``); set by
        the featurize stage, absent on a featurizer fitted without one.
    activity_ : dict
        With an activity log (params ``activities.source``): the point-in-time features' spec
        (:func:`leadscore.features.intent_log.spec_to_dict`) its intent columns come from.
    """

    contract_: dict[str, Any]  # declared only: getattr(featurizer, "contract_", None) stays None until set
    # Issue 14: set by featurize when intent comes from an activity log (the features' spec, JSON-able).
    activity_: dict[str, Any]

    def __init__(self, *, features: FeaturesConfig, missing_values: tuple[str, ...] = ()):
        self.features = features
        self.missing_values = missing_values

    # -- helpers -------------------------------------------------------------------------------
    def _source_columns(self) -> list[str]:
        return [*self.features.fit_columns, *self.features.intent_columns]

    def _ratio_columns(self) -> list[str]:
        return [c for pair in self.features.ratios.values() for c in pair]

    def _prepare(self, raw: pd.DataFrame, source: str) -> pd.DataFrame:
        require_columns(raw, self._source_columns(), what="params features.fit/intent", source=source)
        require_columns(raw, self._ratio_columns(), what="params features.ratios", source=source)
        frame = raw[list(dict.fromkeys(self._source_columns() + self._ratio_columns()))]
        if self.missing_values:
            frame = frame.replace(list(self.missing_values), np.nan)
        return frame

    def _aliases(self, column: str) -> dict[str, str]:
        return dict(self.features.category_aliases.get(column, {}))

    def _categorical(self, values: pd.Series, column: str) -> pd.Series:
        codes, cleaned = clean_distinct(_category_text(values), aliases=self._aliases(column))
        # pandas-stubs reject na_value=None and numpy's stubs a None scalar; both are valid at runtime.
        as_objects = cleaned.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
        with_missing = np.append(as_objects, None)  # type: ignore[call-overload]
        return pd.Series(with_missing[codes], index=values.index, dtype="string")

    def _encoded(self, values: pd.Series, column: str) -> pd.Categorical[str]:
        """Category text -> the training categories, cleaned once per distinct value; unknown -> "other"."""
        codes, cleaned = clean_distinct(_category_text(values), aliases=self._aliases(column))
        return self._encode_codes(codes, cleaned, column)

    def _encode_codes(self, codes: np.ndarray, distinct: pd.Series, name: str) -> pd.Categorical[str]:
        categories = self.categories_[name]
        index = pd.Index(categories)
        # pandas-stubs want an Index target; any array-like works at runtime.
        at = index.get_indexer(distinct.astype(object).where(distinct.notna(), None))  # type: ignore[arg-type]
        # Rare-in-training and never-seen categories share the pooled "other" level; missing stays missing.
        at = np.where((at < 0) & distinct.notna().to_numpy(), categories.index(OTHER), at)
        return pd.Categorical.from_codes(np.append(at, -1)[codes], categories=index)

    def _engineer(self, frame: pd.DataFrame, source: str, *, encode: bool = False, checked: bool = False) -> dict:
        """Engineered features, keyed by feature name: text before category encoding, or (``encode``)
        already encoded as the training categories."""
        out: dict = {}
        for column in self._source_columns():
            kind = self.kinds_.get(column)
            if kind is None:  # dropped in fit
                continue
            if kind == "title":
                titles = normalise_titles(frame[column])
                for part in ("seniority", "department"):
                    name = f"{column}_{part}"
                    if encode:
                        codes, distinct = pd.factorize(titles[part], use_na_sentinel=True)
                        out[name] = self._encode_codes(codes, pd.Series(distinct, dtype="string"), name)
                    else:
                        out[name] = titles[part].astype("string")
            elif kind == "numeric":
                out[column] = _as_number(frame[column], column, source, checked=checked)
            elif encode:
                out[column] = self._encoded(frame[column], column)
            else:
                out[column] = self._categorical(frame[column], column)
        for name, (num, den) in self.features.ratios.items():
            numerator = _as_number(frame[num], num, source, checked=checked)
            denominator = _as_number(frame[den], den, source, checked=checked)
            out[name] = numerator / denominator.where(denominator != 0)
        return out

    def _group_of(self, name: str) -> str:
        fit_cols = set(self.features.fit_columns)
        if name in self.features.ratios:
            name = self.features.ratios[name][0]
        for title in self.features.job_title_columns:
            if name in (f"{title}_seniority", f"{title}_department"):
                name = title
        return "fit" if name in fit_cols else "intent"

    # -- estimator API ---------------------------------------------------------------------------
    def fit(self, raw: pd.DataFrame, *, source: str = "lead table") -> LeadFeaturizer:
        """Learn column kinds and categories from training leads."""
        frame = self._prepare(raw, source)
        self.kinds_: dict[str, str] = {}
        self.dropped_columns_: list[str] = []
        for column in self._source_columns():
            values = frame[column]
            if values.isna().all():
                log.warning("%s: column %r is entirely missing in training; dropped", source, column)
                self.dropped_columns_.append(column)
            elif column in self.features.job_title_columns:
                self.kinds_[column] = "title"
            elif column in self.features.categorical:
                self.kinds_[column] = "categorical"
            elif _is_numeric_column(values):
                self.kinds_[column] = "numeric"
            else:
                self.kinds_[column] = "categorical"
        # Quiet: fit only learns names and categories; transform reports stray non-numbers once.
        engineered = self._engineer(frame, source, checked=True)
        self.categories_: dict[str, list[str]] = {}
        for name, values in engineered.items():
            if pd.api.types.is_string_dtype(values) or values.dtype == object:
                counts = values.value_counts()
                keep = sorted(counts[counts >= self.features.min_category_count].index)
                self.categories_[name] = keep + ([OTHER] if OTHER not in keep else [])
        names = list(engineered)
        self.fit_features_ = [n for n in names if self._group_of(n) == "fit"] or [PLACEHOLDERS["fit"]]
        self.intent_features_ = [n for n in names if self._group_of(n) == "intent"] or [PLACEHOLDERS["intent"]]
        return self

    @property
    def empty_groups(self) -> list[str]:
        """Groups ("fit", "intent") without features: their model predicts the base rate for everyone."""
        return [g for g in ("fit", "intent") if getattr(self, f"{g}_features_") == [PLACEHOLDERS[g]]]

    def transform(
        self, raw: pd.DataFrame, *, source: str = "lead table", checked: bool = False
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return ``(fit_features, intent_features)``, index-aligned with ``raw``.

        ``checked=True``: ``raw`` has passed the scorer's input contract (over the whole input, not
        this chunk), so values that are not numbers are read as missing without checks of its own.
        """
        if not hasattr(self, "kinds_"):
            raise RuntimeError("LeadFeaturizer is not fitted; call fit() first")
        frame = self._prepare(raw, source)
        if not checked:
            self._check_scoring_columns(frame, source)
        engineered = self._engineer(frame, source, encode=True, checked=checked)
        for group in self.empty_groups:
            engineered[PLACEHOLDERS[group]] = pd.Series(0.0, index=raw.index)
        frame = pd.DataFrame(engineered, index=raw.index)
        return frame[self.fit_features_], frame[self.intent_features_]

    def _check_scoring_columns(self, frame: pd.DataFrame, source: str) -> None:
        """Warn about columns entirely missing in this batch; refuse text columns turned numeric."""
        for column, kind in self.kinds_.items():
            values = frame[column]
            present = values.dropna()
            if len(frame) > 1 and present.empty:
                log.warning("%s: column %r is entirely missing in this batch; scored as missing", source, column)
                continue
            is_number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            if kind == "categorical" and is_number and len(present):
                known = set(self.categories_.get(column, ()))
                if not self._categorical(present, column).isin(known).any():
                    raise DataValidationError(
                        f"{source}: column {column!r} held text in the training data but now holds numbers "
                        f"(such as {present.iloc[0]}) that match none of its {len(known)} known categories; "
                        "fix the export or retrain"
                    )

    def fit_transform(self, raw: pd.DataFrame, *, source: str = "lead table") -> tuple[pd.DataFrame, pd.DataFrame]:
        return self.fit(raw, source=source).transform(raw, source=source)
