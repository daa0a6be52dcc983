"""Why this lead? Per-lead reasons for fit and intent, from LightGBM's own TreeSHAP.

Each lead's fit and intent scores are split into one contribution per feature with LightGBM's
``pred_contrib=True`` (TreeSHAP). Contributions are in the **raw log-odds margin of the uncalibrated
booster**: for every lead, the contributions plus the expected value equal that margin exactly.
Calibration (Platt or isotonic) is monotone, so the sign and relative size of each contribution
carry over to the calibrated probability, but the numbers are log-odds, not probability points.

Engineered features are mapped back to what the user knows: ``job_title_seniority`` and
``job_title_department`` become one "Job title" reason, every other feature is its source column,
and a ratio (``features.ratios``) is a reason of its own, named by its params key.

Speed. TreeSHAP costs about 35 times a plain prediction (O(leaves x depth^2) per tree and row), far
over the budget of explaining 1M leads at most 3x the cost of scoring them. But within one tree, a
lead's contributions depend only on which way it goes at each split of that tree, and a tree with
15 leaves cuts the data into a few hundred such cells. :func:`shap_contributions` therefore asks
LightGBM for the TreeSHAP values of one representative lead per (tree, cell) and copies them to all
leads of that cell: the same numbers as ``pred_contrib`` on every lead (tested), at a fraction of the
cost. Formatting is vectorised too: values and effects are formatted once per distinct value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.features.build import PLACEHOLDERS

EXPECTED_VALUE = "expected_value"
REASON_COLUMNS = (
    "fit_reasons_for",
    "fit_reasons_against",
    "intent_reasons_for",
    "intent_reasons_against",
    "quadrant_summary",
)
REASON_SEPARATOR = "; "
# Effects that round to +0.00 / -0.00 are never reasons; params explain.min_effect (stored in the
# scorer's extras["explain"] at calibrate) raises the bar to what is material.
MIN_EFFECT = 0.005
# LightGBM treats |x| <= 1e-35 as zero (kZeroThreshold) for missing_type "Zero" splits.
_ZERO = 1e-35
# Cells per tree above which a hash (np.unique) replaces the dense lookup table.
_DENSE_CELLS = 1 << 21

_SENIORITY_NAMES = {
    "c_level": "C-level",
    "vp": "VP",
    "director": "Director",
    "manager": "Manager",
    "individual_contributor": "Individual contributor",
    "student": "Student",
}
_DEPARTMENT_NAMES = {"it": "IT", "hr": "HR"}


# -- the model behind a calibrated classifier ----------------------------------------------------
def lightgbm_model(calibrated):
    """The object holding the trained booster: a :class:`~leadscore.models.calibration.CalibratedBooster`
    or a plain ``LGBMClassifier`` (``booster_``, ``best_iteration_``) as is, or the ``LGBMClassifier``
    inside ``CalibratedClassifierCV(FrozenEstimator(model))``.
    """
    model = calibrated
    if hasattr(model, "calibrated_classifiers_"):
        model = model.calibrated_classifiers_[0].estimator
    while not hasattr(model, "booster_") and hasattr(model, "estimator"):  # FrozenEstimator
        model = model.estimator
    if not hasattr(model, "booster_"):
        raise TypeError(f"no fitted LightGBM model inside {type(calibrated).__name__}")
    return model


def _n_trees(model) -> int:
    # LightGBM's sklearn predict uses the early-stopping best iteration; so do we.
    return int(model.best_iteration_ or model.booster_.current_iteration())


def _as_matrix(model, X: pd.DataFrame) -> np.ndarray:
    """The float matrix LightGBM predicts on: categoricals as their training category codes."""
    booster = model.booster_
    # LightGBM stores feature names sanitised (spaces -> "_"), so match by position: the featurizer
    # always emits the training columns in training order.
    if X.shape[1] != booster.num_feature():
        raise ValueError(f"expected {booster.num_feature()} features, got {X.shape[1]}")
    names = list(X.columns)
    categories = iter(booster.pandas_categorical or [])
    columns = []
    for name in names:
        values = X[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.set_categories(next(categories)).cat.codes.to_numpy()
            columns.append(np.where(codes < 0, np.nan, codes).astype(np.float64))
        else:
            columns.append(values.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(X), 0))


def _splits_per_tree(booster, n_trees: int) -> list[dict[int, list]]:
    """For each tree: feature index -> its splits (float thresholds, or frozensets of categories)."""
    trees = []
    for info in booster.dump_model(num_iteration=n_trees)["tree_info"][:n_trees]:
        splits: dict[int, list] = {}
        stack = [info["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" not in node:
                continue
            split: frozenset[int] | float
            if node["decision_type"] == "==":
                split = frozenset(int(v) for v in str(node["threshold"]).split("||"))
            else:
                split = float(node["threshold"])
            splits.setdefault(node["split_feature"], []).append(split)
            stack += [node["left_child"], node["right_child"]]
        trees.append(splits)
    return trees


class _FeatureCodes:
    """Per feature, a global code per row; per tree, a lookup from global code to that tree's cell.

    Two rows in the same cell of a tree take the same direction at every split of that tree (cells
    may be finer than needed: missing and zero always get cells of their own).
    """

    def __init__(self, column: np.ndarray, splits: list, categorical: bool):
        self.categorical = categorical
        if categorical:
            self.n_levels = int(np.nanmax(column)) + 1 if np.isfinite(column).any() else 0
            for split in splits:
                self.n_levels = max(self.n_levels, max(split) + 1)
            codes = np.where(np.isnan(column) | (column < 0), self.n_levels, column)
            self.codes = np.nan_to_num(codes, nan=self.n_levels).astype(np.int64)
        else:
            self.thresholds = np.unique(np.array(list(splits), dtype=np.float64))
            m = len(self.thresholds)
            codes = np.searchsorted(self.thresholds, column, side="left")
            codes[np.isnan(column)] = m + 1
            codes[np.abs(column) <= _ZERO] = m + 2
            self.codes = codes.astype(np.int64)

    def tree_lookup(self, splits: list) -> tuple[np.ndarray, int]:
        """(global code -> cell of this tree, number of cells)."""
        if self.categorical:
            levels = np.arange(self.n_levels)
            signature = np.column_stack([np.isin(levels, list(split)) for split in splits])
            _, cell = np.unique(signature, axis=0, return_inverse=True)
            n_cells = int(cell.max()) + 1 if len(cell) else 0
            return np.append(cell.ravel(), n_cells), n_cells + 1
        tree_thresholds = np.sort(np.array(splits, dtype=np.float64))
        k = len(tree_thresholds)
        # Global bin g holds values in (T[g-1], T[g]]; its cell is the count of tree thresholds < them.
        regular = np.concatenate([[0], np.searchsorted(tree_thresholds, self.thresholds, side="right")])
        return np.concatenate([regular, [k + 1, k + 2]]), k + 3


def shap_contributions(model, X: pd.DataFrame) -> pd.DataFrame:
    """TreeSHAP contributions of each feature to each row's raw log-odds margin.

    Parameters
    ----------
    model : CalibratedBooster, LGBMClassifier or a calibrated classifier around one
    X : pd.DataFrame
        The model's feature frame (as the featurizer returns it).

    Returns
    -------
    pd.DataFrame
        One column per feature plus :data:`EXPECTED_VALUE`, index of ``X``. Row sums equal the
        uncalibrated booster's raw margin (``predict(raw_score=True)``); the values are exactly those
        of LightGBM's ``pred_contrib=True``, computed once per (tree, cell) instead of once per row.
    """
    model = lightgbm_model(model)
    booster = model.booster_
    names = list(X.columns)
    matrix = _as_matrix(model, X)
    n, n_features = matrix.shape
    n_trees = _n_trees(model)
    trees = _splits_per_tree(booster, n_trees)
    features = {}
    for f in sorted({f for splits in trees for f in splits}):
        all_splits = [s for splits in trees for s in splits.get(f, [])]
        # LightGBM splits a categorical feature only by category sets ("=="), never by threshold.
        features[f] = _FeatureCodes(matrix[:, f], all_splits, categorical=isinstance(all_splits[0], frozenset))
    # Feature-major layout: adding one feature's contributions touches contiguous memory.
    contributions = np.zeros((n_features, n), dtype=np.float64)
    expected = 0.0
    for t, splits in enumerate(trees):
        if not splits:  # a single-leaf tree: its value is all expected value
            expected += float(booster.predict(matrix[:1], start_iteration=t, num_iteration=1, raw_score=True)[0])
            continue
        lookups = {f: features[f].tree_lookup(feature_splits) for f, feature_splits in splits.items()}
        n_cells = int(np.prod([size for _, size in lookups.values()], dtype=object))
        # Narrow keys halve the memory traffic on 1M rows; fall back to int64 for big trees.
        key_type = np.int32 if n_cells < 2**31 else np.int64
        key = np.zeros(n, dtype=key_type)
        stride = 1
        for f, (lookup, size) in lookups.items():
            key += (lookup.astype(key_type) * key_type(stride))[features[f].codes]  # type: ignore[misc,operator]
            stride *= size
        if n_cells <= _DENSE_CELLS:
            first = np.full(n_cells, -1, dtype=np.int64)
            first[key[::-1]] = np.arange(n - 1, -1, -1)
            present = np.flatnonzero(first >= 0)
            slot = np.empty(n_cells, dtype=np.int64)
            slot[present] = np.arange(len(present))
            representatives, inverse = first[present], slot[key]
        else:
            _, representatives, inverse = np.unique(key, return_index=True, return_inverse=True)
        shap = booster.predict(matrix[representatives], start_iteration=t, num_iteration=1, pred_contrib=True)
        shap_by_feature = np.ascontiguousarray(shap.T)
        for f in splits:
            contributions[f] += shap_by_feature[f].take(inverse)
        expected += float(shap[0, -1])
    out = pd.DataFrame(contributions.T, columns=names, index=X.index)
    out[EXPECTED_VALUE] = expected
    return out


# -- engineered features -> the user's columns ------------------------------------------------------
def humanise(name: str) -> str:
    """A readable label from a column name: ``pricing_page_views`` -> ``Pricing page views``."""
    text = re.sub(r"[_\s]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:]


def feature_sources(featurizer) -> dict[str, str]:
    """Engineered feature -> the column a user knows it by.

    Job-title features map to their title column; every other feature (including a ratio, which the
    user named in ``features.ratios``) is its own source.
    """
    sources = {}
    for name in [*featurizer.fit_features_, *featurizer.intent_features_]:
        sources[name] = name
        for title in featurizer.features.job_title_columns:
            if name in (f"{title}_seniority", f"{title}_department"):
                sources[name] = title
    return sources


def source_contributions(contributions: pd.DataFrame, sources: Mapping[str, str]) -> pd.DataFrame:
    """Sum engineered-feature contributions per source column (the expected value column is dropped)."""
    features = [c for c in contributions.columns if c != EXPECTED_VALUE]
    names = list(dict.fromkeys(sources.get(f, f) for f in features))
    indicator = np.zeros((len(features), len(names)))
    for i, f in enumerate(features):
        indicator[i, names.index(sources.get(f, f))] = 1.0
    return pd.DataFrame(contributions[features].to_numpy() @ indicator, columns=names, index=contributions.index)


# -- plain-word values -----------------------------------------------------------------------------
def format_value(value) -> str:
    """One lead value in plain words: ints with thousands separators, booleans as yes/no, missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "missing"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and abs(float(value)) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    text = re.sub(r"\s+", " ", str(value)).strip()
    # The separator between reasons never appears inside one.
    return text.replace(REASON_SEPARATOR, ", ") if text else "missing"


def _format_distinct(values: np.ndarray, formatter=format_value, *, missing_values: tuple = ()) -> np.ndarray:
    """Format each distinct value once (1M leads share few distinct values)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    missing = {str(m) for m in missing_values}
    texts = ["missing" if isinstance(v, str) and v in missing else formatter(v) for v in distinct]
    return np.asarray([*texts, "missing"], dtype=object)[codes]  # sentinel -1 -> the last entry


def format_effects(effects: np.ndarray) -> np.ndarray:
    """Signed log-odds effects with two decimals, ``+0.61`` / ``-0.40``."""
    hundredths = np.rint(np.asarray(effects, dtype=float) * 100).astype(np.int64)
    distinct, inverse = np.unique(hundredths, return_inverse=True)
    return np.asarray([f"{h / 100:+.2f}" for h in distinct], dtype=object)[inverse.ravel()]


def _title_text(seniority, department) -> str:
    if seniority == "unknown" and department == "unknown":
        return "unreadable"
    level = _SENIORITY_NAMES.get(str(seniority), humanise(seniority))
    area = _DEPARTMENT_NAMES.get(str(department), str(department))
    return level if area in ("unknown", "other") else f"{level}, {area}"


@dataclass(frozen=True)
class GroupReasons:
    """Reasons of one group (fit or intent) for a batch of leads."""

    reasons_for: np.ndarray  # strings, up to top_k reasons joined by REASON_SEPARATOR
    reasons_against: np.ndarray
    top_for: np.ndarray  # (n, 2) source indices of the two strongest reasons for, -1 when none
    top_against: np.ndarray
    labels: list[str]  # label per source index
    missing: bool = False  # the group has no columns (that quadrant axis is missing)


class _ValueTexts:
    """Formats the lead's own value of a source column, for selected rows only."""

    def __init__(self, featurizer, raw: pd.DataFrame, X: pd.DataFrame):
        self.featurizer, self.raw, self.X = featurizer, raw, X
        self.missing_values = tuple(featurizer.missing_values)

    def __call__(self, source: str, rows: np.ndarray) -> np.ndarray:
        f = self.featurizer
        if source in f.features.job_title_columns:
            titles = self.raw[source].to_numpy()[rows]
            codes, distinct = pd.factorize(titles, use_na_sentinel=True)
            _, first = np.unique(codes, return_index=True)
            seniority = self.X[f"{source}_seniority"].to_numpy()[rows]
            department = self.X[f"{source}_department"].to_numpy()[rows]
            reading = {c: _title_text(seniority[i], department[i]) for c, i in zip(codes[first], first, strict=False)}
            texts = [
                "missing" if c < 0 else f"{format_value(distinct[c])} [{reading[c]}]" for c in range(-1, len(distinct))
            ]
            return np.asarray(texts[1:] + texts[:1], dtype=object)[codes]
        if source in f.features.ratios:
            return _format_distinct(np.round(self.X[source].to_numpy(dtype=float, na_value=np.nan)[rows], 2))
        return _format_distinct(self.raw[source].to_numpy()[rows], missing_values=self.missing_values)


def _join(parts: list[np.ndarray], present: np.ndarray) -> np.ndarray:
    """Join slot texts row-wise with the separator, skipping empty slots (slots fill left to right)."""
    out = np.where(present[:, 0], parts[0], "").astype(object)
    for j in range(1, len(parts)):
        rows = present[:, j]
        out[rows] = out[rows] + REASON_SEPARATOR + parts[j][rows]
    return out


def _reason_texts(label: str, values: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """``Label: value (+0.61)`` per row, formatted once per distinct (value, effect) pair."""
    value_codes, distinct_values = pd.factorize(values)
    hundredths = np.rint(effects * 100).astype(np.int64)
    low = int(hundredths.min())
    span = int(hundredths.max()) - low + 1
    pairs, inverse = np.unique(value_codes.astype(np.int64) * span + (hundredths - low), return_inverse=True)
    texts = [f"{label}: {distinct_values[p // span]} ({(p % span + low) / 100:+.2f})" for p in pairs.tolist()]
    return np.asarray(texts, dtype=object)[inverse.ravel()]


def group_reasons(
    source_effects: pd.DataFrame,
    value_texts,
    *,
    labels: Mapping[str, str] | None = None,
    top_k: int = 3,
    min_effect: float = MIN_EFFECT,
) -> GroupReasons:
    """Top ``top_k`` reasons for and against per lead, as ``Label: value (+0.61)`` strings.

    Parameters
    ----------
    source_effects : pd.DataFrame
        Contribution per source column (:func:`source_contributions`), one row per lead.
    value_texts : callable
        ``(source, row_mask) -> array of str``: the leads' own values for that source, as words.
    labels : mapping, optional
        Source column -> plain-word label; missing ones are :func:`humanise`-d.
    min_effect : float
        Smallest |effect| (log-odds) shown as a reason; never below :data:`MIN_EFFECT`.
    """
    min_effect = max(float(min_effect), MIN_EFFECT)
    labels = dict(labels or {})
    sources = list(source_effects.columns)
    names = [labels.get(s) or humanise(s) for s in sources]
    effects = source_effects.to_numpy(dtype=float)
    n, k = len(effects), min(top_k, len(sources))
    if k == 0:  # nothing to explain with (no columns, or all hidden)
        blank, none = np.full(n, "", dtype=object), np.full((n, 2), -1)
        return GroupReasons(blank, blank.copy(), none, none.copy(), names)
    results = {}
    for direction, sign in (("for", 1.0), ("against", -1.0)):
        # Per-row top-k by signed effect; only those k per row are ever formatted.
        order = np.argsort(-sign * effects, axis=1, kind="stable")[:, :k]
        chosen = np.take_along_axis(effects, order, axis=1)
        present = sign * chosen >= min_effect - 1e-12
        parts = []
        for j in range(k):
            text = np.full(n, "", dtype=object)
            for s_idx, source in enumerate(sources):
                rows = present[:, j] & (order[:, j] == s_idx)
                if rows.any():
                    text[rows] = _reason_texts(names[s_idx], value_texts(source, rows), chosen[rows, j])
            parts.append(text)
        top = (
            np.where(present[:, :2], order[:, :2], -1)
            if k >= 2
            else np.column_stack([np.where(present[:, 0], order[:, 0], -1), np.full(n, -1)])
        )
        results[direction] = (_join(parts, present) if k else np.full(n, "", dtype=object), top)
    return GroupReasons(results["for"][0], results["against"][0], results["for"][1], results["against"][1], names)


def quadrant_summaries(
    high_fit: np.ndarray, high_intent: np.ndarray, fit: GroupReasons, intent: GroupReasons
) -> np.ndarray:
    """One line per lead: ``High fit thanks to A and B; low intent held back by C.``

    A high score is explained by its strongest reasons for, a low one by its strongest reasons against.
    """

    def clause(high: np.ndarray, reasons: GroupReasons, noun: str, first: bool) -> np.ndarray:
        if reasons.missing:  # an axis without columns (see LeadFeaturizer.empty_groups)
            return np.full(len(high), f"{'N' if first else 'n'}o {noun} data (no {noun} columns)", dtype=object)
        top = np.where(high[:, None], reasons.top_for, reasons.top_against)
        # Few distinct (level, reason, reason) triples: format each once. Mixed-radix keys with base
        # (number of reasons + 1, for "none") stay exact for any number of source columns.
        base = np.int64(len(reasons.labels) + 1)
        key = high.astype(np.int64) * base * base + (top[:, 0] + 1) * base + (top[:, 1] + 1)
        distinct, inverse = np.unique(key, return_inverse=True)
        texts = []
        for kv in distinct:
            is_high, a, b = kv // (base * base), (kv // base) % base - 1, kv % base - 1
            level = "high" if is_high else "low"
            level = level.capitalize() if first else level
            named = [reasons.labels[i] for i in (a, b) if i >= 0]
            because = ("thanks to " if is_high else "held back by ") + " and ".join(named) if named else ""
            texts.append(f"{level} {noun} {because}".strip())
        return np.asarray(texts, dtype=object)[inverse.ravel()]

    return clause(high_fit, fit, "fit", True) + "; " + clause(high_intent, intent, "intent", False) + "."


def conversion_adjustments(
    terms: pd.DataFrame, levels: pd.DataFrame, labels: Mapping[str, str], *, min_effect: float
) -> np.ndarray:
    """`` Conversion adjusted for Label: level (+1.79).`` per lead, strongest first; "" when none is material.

    ``terms``: per lead and segment, the log-odds a segment_spline conversion model adds for the lead's
    level (:meth:`~leadscore.models.calibration.SegmentSplineConversion.segment_terms`), beyond what the
    fit and intent scores say; ``levels``: the leads' levels of those columns.
    """
    if terms.empty or not len(terms.columns):
        return np.full(len(terms), "", dtype=object)
    effects = terms.to_numpy(dtype=float)
    texts = np.column_stack(
        [
            _reason_texts(labels.get(c, humanise(c)), levels[c].astype(str).to_numpy(), effects[:, j])
            for j, c in enumerate(terms.columns)
        ]
    )
    material = np.abs(effects) >= min_effect
    order = np.argsort(-np.where(material, np.abs(effects), -1.0), axis=1, kind="stable")
    texts, material = np.take_along_axis(texts, order, axis=1), np.take_along_axis(material, order, axis=1)
    joined = _join([texts[:, j] for j in range(texts.shape[1])], material)
    return np.where(material[:, 0], " Conversion adjusted for " + joined.astype(str) + ".", "").astype(object)


def explain_leads(
    scorer, raw: pd.DataFrame, X_fit: pd.DataFrame, X_intent: pd.DataFrame, p_fit: np.ndarray, p_intent: np.ndarray
) -> pd.DataFrame:
    """The :data:`REASON_COLUMNS` for each lead (positional, same order as ``raw``)."""
    featurizer = scorer.featurizer
    sources = feature_sources(featurizer)
    labels = scorer.display.labels
    top_k = scorer.explain_top_k
    settings = scorer.extras.get("explain", {})
    min_effect = float(settings.get("min_effect", MIN_EFFECT))
    # Columns the leak audit found uninformative, and an empty group's placeholder, are never reasons.
    hidden = {*settings.get("uninformative", []), *(PLACEHOLDERS[g] for g in featurizer.empty_groups)}
    raw = raw.reset_index(drop=True)
    out, grouped = {}, {}
    for group, model, X in (("fit", scorer.fit_model, X_fit), ("intent", scorer.intent_model, X_intent)):
        X = X.reset_index(drop=True)
        effects = source_contributions(shap_contributions(model, X), sources)
        effects = effects[[c for c in effects.columns if c not in hidden]]
        reasons = group_reasons(
            effects, _ValueTexts(featurizer, raw, X), labels=labels, top_k=top_k, min_effect=min_effect
        )
        if group in featurizer.empty_groups:
            reasons = dataclasses.replace(reasons, missing=True)
        out[f"{group}_reasons_for"], out[f"{group}_reasons_against"] = reasons.reasons_for, reasons.reasons_against
        grouped[group] = reasons
    out["quadrant_summary"] = quadrant_summaries(
        np.asarray(p_fit) > scorer.fit_threshold,
        np.asarray(p_intent) > scorer.intent_threshold,
        grouped["fit"],
        grouped["intent"],
    )
    segments = list(getattr(scorer.conversion_model, "segments_", ()))
    if segments:
        # A segment_spline conversion model also moves the probability by who the lead is (its levels):
        # say so, or the summary would explain a probability the fit and intent reasons do not add up to.
        from leadscore.models.calibration import conversion_inputs

        X_fit = X_fit.reset_index(drop=True)
        terms = scorer.conversion_model.segment_terms(conversion_inputs(p_fit, p_intent, X_fit, segments=segments))
        out["quadrant_summary"] = out["quadrant_summary"] + conversion_adjustments(
            terms, X_fit[segments], labels, min_effect=min_effect
        )
    return pd.DataFrame(out)


def mean_abs_effects(model, X: pd.DataFrame, sources: Mapping[str, str]) -> pd.Series:
    """Mean |SHAP| (log-odds) per source column of one model on ``X``: its global importance."""
    return source_contributions(shap_contributions(model, X), sources).abs().mean()


def global_importance(scorer, raw: pd.DataFrame, *, source: str = "lead table") -> pd.DataFrame:
    """Mean |SHAP| per source column and model: the global importance charts' data.

    Returns columns ``model`` ("fit"/"intent"), ``column``, ``label``, ``mean_abs_shap`` (log-odds),
    sorted by model then importance.
    """
    X_fit, X_intent = scorer.featurizer.transform(raw, source=source)
    sources = feature_sources(scorer.featurizer)
    labels = scorer.display.labels
    frames = []
    for group, model, X in (("fit", scorer.fit_model, X_fit), ("intent", scorer.intent_model, X_intent)):
        if group in scorer.featurizer.empty_groups:
            continue
        mean_abs = mean_abs_effects(model, X, sources)
        frames.append(
            pd.DataFrame(
                {
                    "model": group,
                    "column": mean_abs.index,
                    "label": [labels.get(c) or humanise(c) for c in mean_abs.index],
                    "mean_abs_shap": mean_abs.to_numpy(),
                }
            ).sort_values("mean_abs_shap", ascending=False)
        )
    return pd.concat(frames, ignore_index=True)
