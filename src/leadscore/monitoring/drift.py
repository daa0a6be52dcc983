"""Drift at scoring time: reference distributions learned with the model, PSI per column and per score.

The reference (a plain JSON-able dict, stored as ``LeadScorer.extras["drift_reference"]``) bins every
input column and the three probabilities on the rows it was learned from (the calibration split):

- numeric columns (numbers and booleans): interior edges at the ``bins`` quantiles, so each bin holds
  about the same share of reference rows (fewer when values repeat), plus one bin for missing values;
- text columns: the ``max_categories`` most frequent values (trimmed, case-folded), one ``other`` bin
  for the rest and for values never seen, one bin for missing; plus up to ``max_known`` distinct
  values, to measure the share of values the model never saw.

A batch is scored chunk by chunk into :class:`DriftAccumulator`, which keeps only integer counts per
bin: memory is bounded by the reference's size and the report is identical at any chunk size.

PSI (population stability index) = sum over bins of ``(a - e) * ln(a / e)``, ``e`` the reference share
and ``a`` the batch share, both floored at :data:`PSI_FLOOR` so an empty bin does not make it infinite.
Status: ``alert`` at PSI >= ``alert``, ``warn`` at >= ``warn``, else ``ok`` (params ``drift``; 0.1 and
0.25 are the usual levels). The missing bin and the ``other`` bin are part of the PSI, so a jump in
missing values or unseen categories moves it; both are also reported on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadscore.config import DriftConfig
from leadscore.errors import DataValidationError

REFERENCE_VERSION = 1
SCORE_NAMES = ("fit_probability", "intent_probability", "conversion_probability")
PSI_FLOOR = 1e-4
STATUSES = ("ok", "warn", "alert")
PNG_DESCRIPTION = "leadscore drift report"
_TEXT_MISSING = ("", "nan", "none", "null")


# -- typing and normalising values ------------------------------------------------------------------
def _is_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return True
    present = values.dropna()
    # Booleans stored as objects (True/False/None) are common in exports; they are numbers here.
    return len(present) > 0 and bool(present.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def _as_float(values: pd.Series) -> np.ndarray:
    """Numbers as float64, NaN for missing; text that is not a number counts as missing."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    mapped = values.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v)
    return pd.to_numeric(mapped, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _as_text(values: pd.Series) -> pd.Series:
    """Trimmed, case-folded text with ``<NA>`` for missing (as the featurizer reads categories)."""
    text = values.astype("string").str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)
    return text.mask(text.isin(_TEXT_MISSING))


def _text_codes(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, texts)``: each row's code into ``texts``, the normalised distinct values (-1: missing).

    Text is normalised once per distinct value rather than once per row: a column has a few thousand
    distinct values at most, a chunk a hundred thousand rows.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, _as_text(pd.Series(np.asarray(uniques, dtype=object), dtype=object))


# -- the reference ----------------------------------------------------------------------------------
def _numeric_spec(values: np.ndarray, *, bins: int) -> dict[str, Any]:
    # Edges from finite values (an infinite one would make the interpolated quantiles NaN); infinite
    # values still fall in the outermost bins.
    present = values[np.isfinite(values)]
    if len(present):
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))
    else:
        edges = np.array([], dtype=float)
    spec: dict[str, Any] = {"kind": "numeric", "edges": [float(e) for e in edges]}
    spec["shares"] = _shares(np.bincount(_numeric_bins(spec, values), minlength=_n_bins(spec)), len(values))
    spec["missing_share"] = spec["shares"][-1]
    return spec


def _categorical_spec(values: pd.Series, *, max_categories: int, max_known: int) -> dict[str, Any]:
    codes, texts = _text_codes(values)
    present = codes[codes >= 0]
    per_unique = pd.Series(np.bincount(present, minlength=len(texts)), index=texts.to_numpy(dtype=object))
    # Raw spellings that normalise to the same text count together; missing-like texts drop out.
    counts = per_unique[texts.notna().to_numpy()].groupby(level=0).sum()
    counts = counts[counts > 0]
    # Most frequent first, ties by value, so the reference is deterministic.
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    spec: dict[str, Any] = {
        "kind": "categorical",
        "categories": [str(v) for v, _ in order[:max_categories]],
        "known": [str(v) for v, _ in order[:max_known]],
        "known_complete": len(order) <= max_known,
    }
    spec["shares"] = _shares(np.bincount(_categorical_bins(spec, values)[0], minlength=_n_bins(spec)), len(values))
    spec["other_share"] = spec["shares"][-2]
    spec["missing_share"] = spec["shares"][-1]
    return spec


def _shares(counts: np.ndarray, total: int) -> list[float]:
    return [float(c / total) if total else 0.0 for c in counts]


def reference_distributions(
    raw: pd.DataFrame,
    scores: pd.DataFrame | Mapping[str, Sequence[float] | np.ndarray],
    columns: Iterable[str],
    *,
    bins: int = 10,
    max_categories: int = 20,
    max_known: int = 1000,
    source: str = "reference rows",
) -> dict[str, Any]:
    """Learn the drift reference from rows the model was built on and their probabilities.

    Parameters
    ----------
    raw : DataFrame
        Reference rows (e.g. the calibration split) with every column in ``columns``.
    scores : DataFrame or mapping
        The rows' probabilities, one column per name in :data:`SCORE_NAMES` (row-aligned with ``raw``).
    columns : iterable of str
        Input columns to watch (the scorer's input columns without the id).
    bins, max_categories, max_known : int
        Quantile bins per numeric column; categories kept per text column; distinct values remembered
        per text column to measure unseen values.

    Returns
    -------
    dict
        JSON-able: ``{"version", "rows", "columns": {name: spec}, "scores": {name: spec}}``.

    Raises
    ------
    DataValidationError
        If a column or score is missing, or the frames have different lengths.
    """
    columns = list(dict.fromkeys(columns))
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise DataValidationError(f"{source}: missing column(s) {', '.join(missing)} needed for the drift reference")
    score_frame = _score_frame(scores, rows=len(raw), source=source)
    out: dict[str, Any] = {"version": REFERENCE_VERSION, "rows": len(raw), "columns": {}, "scores": {}}
    for column in columns:
        values = raw[column]
        if _is_numeric(values):
            out["columns"][column] = _numeric_spec(_as_float(values), bins=bins)
        else:
            out["columns"][column] = _categorical_spec(values, max_categories=max_categories, max_known=max_known)
    for name in SCORE_NAMES:
        out["scores"][name] = _numeric_spec(score_frame[name].to_numpy(dtype="float64"), bins=bins)
    return out


def reference_for_scorer(
    scorer, raw: pd.DataFrame, *, config: DriftConfig | None = None, source: str = "reference rows"
) -> dict[str, Any]:
    """The drift reference of a fitted ``LeadScorer`` on ``raw`` (e.g. its calibration rows).

    Watches every input column but the id; the calibrate stage stores the result as
    ``scorer.extras["drift_reference"]``.
    """
    config = config or DriftConfig()
    p_fit, p_intent, p_conv = scorer.component_probabilities(raw, source=source)
    scores = dict(zip(SCORE_NAMES, (p_fit, p_intent, p_conv), strict=True))
    columns = [c for c in scorer.input_columns if c != scorer.id_column]
    return reference_distributions(
        raw,
        scores,
        columns,
        bins=config.bins,
        max_categories=config.max_categories,
        max_known=config.max_known,
        source=source,
    )


def _score_frame(scores, *, rows: int, source: str) -> pd.DataFrame:
    frame = scores if isinstance(scores, pd.DataFrame) else pd.DataFrame({k: np.asarray(v) for k, v in scores.items()})
    missing = [n for n in SCORE_NAMES if n not in frame.columns]
    if missing:
        raise DataValidationError(f"{source}: scores lack {', '.join(missing)} (expected {', '.join(SCORE_NAMES)})")
    if len(frame) != rows:
        raise DataValidationError(f"{source}: {len(frame)} score rows for {rows} lead rows")
    return frame


# -- binning ----------------------------------------------------------------------------------------
def _n_bins(spec: Mapping[str, Any]) -> int:
    if spec["kind"] == "numeric":
        return len(spec["edges"]) + 2  # len(edges) + 1 value bins, then missing
    return len(spec["categories"]) + 2  # categories, other, missing


def _numeric_bins(spec: Mapping[str, Any], values: np.ndarray) -> np.ndarray:
    edges = np.asarray(spec["edges"], dtype=float)
    # Right-closed bins: (-inf, e0], (e0, e1], ..., (e_last, inf); missing last.
    index = np.searchsorted(edges, values, side="left")
    return np.where(np.isnan(values), len(edges) + 1, index)


def _categorical_bins(spec: Mapping[str, Any], values: pd.Series) -> tuple[np.ndarray, int]:
    """Bin index per value, and how many present values are not among the reference's known values."""
    categories = spec["categories"]
    codes, texts = _text_codes(values)
    missing = texts.isna().to_numpy()
    category = pd.Index(categories, dtype="string").get_indexer(texts)
    bins = np.where(missing, len(categories) + 1, np.where(category < 0, len(categories), category))
    # Code -1 (missing before normalising) goes to the missing bin: the appended last entry.
    index = np.append(bins, len(categories) + 1)[codes]
    unseen_unique = ~texts.isin(spec["known"]).to_numpy() & ~missing
    unseen = int(np.append(unseen_unique, False)[codes].sum())
    return index, unseen


# -- accumulating a batch ---------------------------------------------------------------------------
def psi(expected: Sequence[float], actual: Sequence[float], *, floor: float = PSI_FLOOR) -> float:
    """Population stability index of ``actual`` shares against ``expected`` shares (same bins)."""
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def status_of(value: float | None, *, warn: float, alert: float) -> str:
    """``ok`` / ``warn`` / ``alert`` for a PSI (``ok`` when there is nothing to compare)."""
    if value is None:
        return "ok"
    return "alert" if value >= alert else "warn" if value >= warn else "ok"


class DriftAccumulator:
    """Counts per reference bin over a batch scored chunk by chunk; :meth:`report` gives the PSIs.

    Parameters
    ----------
    reference : dict
        A reference from :func:`reference_distributions` (e.g. ``scorer.extras["drift_reference"]``).
    """

    def __init__(self, reference: Mapping[str, Any]):
        if not isinstance(reference, Mapping) or reference.get("version") != REFERENCE_VERSION:
            raise DataValidationError(
                f"drift reference: expected a version {REFERENCE_VERSION} reference with columns and scores"
            )
        self.reference = reference
        self.rows = 0
        self.counts = {
            group: {name: np.zeros(_n_bins(spec), dtype=np.int64) for name, spec in reference[group].items()}
            for group in ("columns", "scores")
        }
        self.unseen = {name: 0 for name, spec in reference["columns"].items() if spec["kind"] == "categorical"}

    @property
    def columns(self) -> list[str]:
        """The input columns the reference watches."""
        return list(self.reference["columns"])

    def update(
        self,
        raw: pd.DataFrame,
        scores: pd.DataFrame | Mapping[str, Sequence[float] | np.ndarray],
        *,
        source: str = "batch",
    ) -> DriftAccumulator:
        """Add one chunk: its raw input rows and their three probabilities (row-aligned)."""
        missing = [c for c in self.reference["columns"] if c not in raw.columns]
        if missing:
            raise DataValidationError(f"{source}: missing column(s) {', '.join(missing)} watched for drift")
        score_frame = _score_frame(scores, rows=len(raw), source=source)
        for name, spec in self.reference["columns"].items():
            if spec["kind"] == "numeric":
                index = _numeric_bins(spec, _as_float(raw[name]))
            else:
                index, unseen = _categorical_bins(spec, raw[name])
                self.unseen[name] += unseen
            self.counts["columns"][name] += np.bincount(index, minlength=_n_bins(spec))
        for name, spec in self.reference["scores"].items():
            index = _numeric_bins(spec, score_frame[name].to_numpy(dtype="float64"))
            self.counts["scores"][name] += np.bincount(index, minlength=_n_bins(spec))
        self.rows += len(raw)
        return self

    def merge(self, other: DriftAccumulator) -> DriftAccumulator:
        """Add another accumulator's counts (same reference), e.g. one per Dask partition."""
        if other.reference is not self.reference and other.reference != self.reference:
            raise DataValidationError("drift: cannot merge counts taken against different references")
        for group, counts in other.counts.items():
            for name, values in counts.items():
                self.counts[group][name] += values
        for name, unseen in other.unseen.items():
            self.unseen[name] += unseen
        self.rows += other.rows
        return self

    def report(self, thresholds: DriftConfig | None = None) -> dict[str, Any]:
        """The drift report: PSI and status per column and per score, and a one-line summary.

        Returns
        -------
        dict
            ``{"rows", "reference_rows", "thresholds", "columns": {name: {...}}, "scores": {name: {...}},
            "summary"}``. Each column has ``psi``, ``status``, ``kind``, ``missing_rate``,
            ``reference_missing_rate``, ``missing_rate_change``, ``unseen_share`` (text columns; None for
            numbers), ``shares`` and ``reference_shares`` (per bin, missing last).
        """
        t = thresholds or DriftConfig()
        out: dict[str, Any] = {
            "rows": self.rows,
            "reference_rows": self.reference["rows"],
            "thresholds": {"warn": t.warn, "alert": t.alert},
            "columns": {},
            "scores": {},
        }
        for group in ("columns", "scores"):
            for name, spec in self.reference[group].items():
                counts = self.counts[group][name]
                shares = _shares(counts, self.rows)
                value = psi(spec["shares"], shares) if self.rows else None
                entry: dict[str, Any] = {"psi": value, "status": status_of(value, warn=t.warn, alert=t.alert)}
                if group == "columns":
                    missing_rate = shares[-1] if self.rows else None
                    entry.update(
                        {
                            "kind": spec["kind"],
                            "missing_rate": missing_rate,
                            "reference_missing_rate": spec["missing_share"],
                            "missing_rate_change": None
                            if missing_rate is None
                            else missing_rate - spec["missing_share"],
                            "unseen_share": (self.unseen[name] / self.rows if self.rows else None)
                            if spec["kind"] == "categorical"
                            else None,
                        }
                    )
                    if spec["kind"] == "categorical":
                        entry["other_share"] = shares[-2] if self.rows else None
                        entry["reference_other_share"] = spec["other_share"]
                entry["shares"] = shares
                entry["reference_shares"] = spec["shares"]
                out[group][name] = entry
        out["summary"] = summary_line(out)
        return out


def summary_line(report: Mapping[str, Any]) -> str:
    """One line naming the worst columns and scores, e.g. ``drift alert: pricing_page_views (PSI 1.23) ...``."""
    rows = report["rows"]
    if not rows:
        return "drift: no rows scored, nothing to compare"
    items = [(name, e) for name, e in report["columns"].items()] + [
        (f"{name} (score)", e) for name, e in report["scores"].items()
    ]
    items.sort(key=lambda kv: -(kv[1]["psi"] or 0.0))

    def listed(status: str) -> str:
        named = [f"{name} {e['psi']:.3f}" for name, e in items if e["status"] == status]
        shown = named[:5] + ([f"{len(named) - 5} more"] if len(named) > 5 else [])
        return ", ".join(shown)

    alerts, warns = listed("alert"), listed("warn")
    ok = sum(e["status"] == "ok" for _, e in items)
    if not alerts and not warns:
        worst, entry = items[0]
        return (
            f"no drift: all {len(items)} columns and scores below PSI {report['thresholds']['warn']:g} "
            f"(largest: {worst} {entry['psi']:.3f}) on {rows:,} rows"
        )
    parts = []
    if alerts:
        parts.append(f"drift alert (PSI): {alerts}")
    if warns:
        parts.append(f"warn: {warns}")
    return "; ".join(parts) + f"; {ok} of {len(items)} ok on {rows:,} rows"


# -- a whole source, chunk by chunk -----------------------------------------------------------------
def drift_accumulator(scorer, *, model_description: str = "this model") -> DriftAccumulator:
    """An empty :class:`DriftAccumulator` on ``scorer``'s stored reference, for a scoring loop.

    Per chunk, call ``accumulator.update(chunk, scorer.predict(chunk))`` (the scores frame carries
    the three probabilities, row-aligned with the chunk); at the end ``accumulator.report(params.drift)``.

    Raises
    ------
    DataValidationError
        If the scorer carries no drift reference (``extras["drift_reference"]``).
    """
    reference = (getattr(scorer, "extras", None) or {}).get("drift_reference")
    if reference is None:
        raise DataValidationError(
            f"{model_description}: the model has no drift reference (scorer.extras['drift_reference']); "
            "retrain it with a leadscore version that stores one (`dvc repro`)"
        )
    return DriftAccumulator(reference)


def drift_report_for_source(
    scorer,
    source,
    *,
    chunk_size: int = 100_000,
    thresholds: DriftConfig | None = None,
    model_description: str = "this model",
) -> dict[str, Any]:
    """Stream ``source`` (see :mod:`leadscore.scoring.sources`) through ``scorer`` and report drift.

    Raises
    ------
    DataValidationError
        If the scorer carries no drift reference (``extras["drift_reference"]``).
    """
    if chunk_size < 1:
        raise DataValidationError(f"--chunk-size: expected a positive number of rows, got {chunk_size}")
    accumulator = drift_accumulator(scorer, model_description=model_description)
    columns = list(dict.fromkeys([*scorer.input_columns, *accumulator.columns]))
    for chunk in source.iter_chunks(columns, chunk_size):
        p_fit, p_intent, p_conv = scorer.component_probabilities(chunk, source=source.description)
        scores = dict(zip(SCORE_NAMES, (p_fit, p_intent, p_conv), strict=True))
        accumulator.update(chunk, scores, source=source.description)
    return accumulator.report(thresholds)


# -- chart ------------------------------------------------------------------------------------------
_STATUS_COLORS = {"ok": "#7f8c8d", "warn": "#f39c12", "alert": "#c0392b"}


def drift_figure(report: Mapping[str, Any]):
    """A horizontal bar chart of PSI per column and per score, coloured by status, thresholds drawn."""
    from matplotlib.figure import Figure  # matplotlib only when a chart is asked for

    items = [(f"{n} (score)", e) for n, e in report["scores"].items()] + sorted(
        report["columns"].items(), key=lambda kv: kv[1]["psi"] or 0.0
    )
    names = [n for n, _ in items]
    values = [e["psi"] or 0.0 for _, e in items]
    colors = [_STATUS_COLORS[e["status"]] for _, e in items]
    fig = Figure(figsize=(8, 0.32 * len(items) + 1.6))
    ax = fig.add_subplot()
    positions = np.arange(len(items))
    ax.barh(positions, values, color=colors, hatch=None)
    n_scores = len(report["scores"])
    if n_scores and len(items) > n_scores:
        ax.axhline(n_scores - 0.5, color="black", lw=0.8)
    t = report["thresholds"]
    # Warn's label left of its line, alert's right of its own: close levels do not overprint.
    for level, style, side, text in (
        (t["warn"], ":", "right", f"{t['warn']:g} "),
        (t["alert"], "--", "left", f" {t['alert']:g}"),
    ):
        ax.axvline(level, color="black", ls=style, lw=1)
        ax.text(level, len(items) - 0.4, text, va="bottom", ha=side, fontsize=8)
    ax.set_yticks(positions, names, fontsize=8)
    ax.set_xlabel("PSI against the model's reference (dotted: warn, dashed: alert)")
    ax.set_title(f"Drift on {report['rows']:,} rows", loc="left")
    ax.set_xlim(0, max([*values, t["alert"]]) * 1.15)
    return fig


def drift_png(report: Mapping[str, Any]) -> bytes:
    """:func:`drift_figure` as PNG bytes (tagged, so :func:`is_drift_output` recognises the file)."""
    import io

    buffer = io.BytesIO()
    drift_figure(report).savefig(
        buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Description": PNG_DESCRIPTION}
    )
    return buffer.getvalue()


def is_drift_output(path: str | Path) -> bool:
    """True if ``path`` is a drift report JSON or chart PNG that leadscore wrote (safe to replace).

    A JSON report is recognised by its keys, a chart by the description :func:`drift_png` embeds.
    Anything else (or unreadable) is not, so a default output path never replaces a stranger's file.
    """
    import json

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if data.startswith(b"\x89PNG"):
        return PNG_DESCRIPTION.encode() in data[:4096]
    try:
        report = json.loads(data)
    except ValueError:
        return False
    return isinstance(report, dict) and {"columns", "scores", "summary", "thresholds"} <= report.keys()
