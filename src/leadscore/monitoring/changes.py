"""What changed since a date: leads whose quadrant or conversion probability moved most, and why.

Works on score-history rows (:mod:`leadscore.scoring.history`): the *baseline* is the latest snapshot
at or before the date asked for, compared with the *latest* snapshot. Leads are ranked by whether
their quadrant changed, then by how far their conversion probability moved. For each, the reasons
that changed are the stored TreeSHAP contributions (log-odds of the uncalibrated fit / intent model)
before and after, biggest change first. A history stores only each lead's strongest contributions
per group, so a column outside them at one snapshot (shown as "-") was weaker there than every
stored one: its change is reported as a lower bound ("at least"), never overstated.

The trend of a lead uses every snapshot from the baseline to the latest: the least-squares slope of
its conversion probability over time, times the span of the window (the fitted change over it).
Rising / falling when that exceeds the tolerance (params ``history.trend_tolerance``), else steady.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadscore.errors import LeadscoreError
from leadscore.models.explain import humanise

GROUPS = ("fit", "intent")
TRENDS = ("rising", "steady", "falling")


@dataclass(frozen=True)
class Window:
    """The snapshots compared: baseline (latest at/before the date asked for), latest, and all in between."""

    since: pd.Timestamp
    baseline: pd.Timestamp
    latest: pd.Timestamp
    snapshots: tuple[pd.Timestamp, ...]  # baseline .. latest, inclusive


def _day(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M:%S")


def pick_window(available: Sequence[pd.Timestamp], since: pd.Timestamp, *, source: str = "history") -> Window:
    """The baseline, the latest snapshot and every snapshot between, or one clear error.

    Errors: no snapshot at all, ``since`` before the first snapshot (nothing to compare from), or
    ``since`` at/after the latest snapshot (the baseline would be the latest itself).
    """
    available = sorted(available)
    if not available:
        raise LeadscoreError(f"{source}: the history holds no snapshot yet (score with --as-of DATE --history ...)")
    first, latest = available[0], available[-1]
    if since < first:
        raise LeadscoreError(
            f"--since {_day(since)}: before the first snapshot in {source} ({_day(first)}); "
            f"give a date from {_day(first)} on"
        )
    baseline = max(a for a in available if a <= since)
    if baseline == latest:
        raise LeadscoreError(
            f"--since {_day(since)}: the latest snapshot in {source} is {_day(latest)}, nothing newer to compare with"
            + (f"; give a date before {_day(latest)}, e.g. {_day(available[-2])}" if len(available) > 1 else "")
        )
    return Window(since, baseline, latest, tuple(a for a in available if baseline <= a <= latest))


def lead_trends(points: pd.DataFrame, *, tolerance: float) -> pd.DataFrame:
    """Per lead: the fitted change of conversion probability over the window and its trend word.

    Parameters
    ----------
    points : pd.DataFrame
        ``lead_id``, ``as_of``, ``conversion_probability``: the leads' rows in the window's snapshots.
    tolerance : float
        A fitted change within +/- this (probability) is "steady".

    Returns
    -------
    pd.DataFrame
        Index ``lead_id``; columns ``snapshots`` (points used), ``fitted_change`` and ``trend``.
        A lead seen once has a fitted change of 0 (steady).
    """
    if points.empty:
        return pd.DataFrame(
            {"snapshots": pd.Series([], dtype=np.int64), "fitted_change": [], "trend": pd.Series([], dtype=object)},
            index=pd.Index([], name="lead_id"),
        )
    t_all = (points["as_of"] - points["as_of"].min()) / pd.Timedelta(days=1)
    frame = pd.DataFrame(
        {"lead_id": _ids(points), "t": t_all.to_numpy(float), "p": points["conversion_probability"].to_numpy(float)}
    )
    grouped = frame.groupby("lead_id", sort=True)
    centred_t = frame["t"] - grouped["t"].transform("mean")
    centred_p = frame["p"] - grouped["p"].transform("mean")
    sums = pd.DataFrame({"tp": centred_t * centred_p, "tt": centred_t**2, "lead_id": frame["lead_id"]}).groupby(
        "lead_id", sort=True
    )
    tp, tt = sums["tp"].sum(), sums["tt"].sum()
    slope = (tp / tt.where(tt > 0)).fillna(0.0)
    span = float(frame["t"].max() - frame["t"].min())
    change = slope * span
    trend = np.where(change > tolerance, "rising", np.where(change < -tolerance, "falling", "steady"))
    return pd.DataFrame(
        {"snapshots": grouped.size().astype(np.int64), "fitted_change": change, "trend": trend},
        index=change.index.rename("lead_id"),
    )


def _ids(frame: pd.DataFrame) -> np.ndarray:
    return frame["lead_id"].astype(str).to_numpy(dtype=object)


def _contributions(text) -> dict[str, float]:
    if text is None or (isinstance(text, float) and np.isnan(text)) or text == "":
        return {}
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise LeadscoreError(f"history: contributions are not JSON text ({str(text)[:60]!r})") from None
    return {str(k): float(v) for k, v in value.items()}


def reason_changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    labels: Mapping[str, str] | None = None,
    min_delta: float = 0.0,
    limit: int | None = None,
) -> list[dict]:
    """The reasons of one lead that changed, biggest change first.

    ``before`` / ``after``: group -> the stored JSON contributions (``fit_contributions`` text ...).
    Each result: group, column, label, ``before``, ``after`` (None when not stored), ``delta`` (after -
    before; None when one side is not stored) and ``change``: the change to rank by. When both sides
    are stored it is ``delta``; when one is not, that side was weaker than every contribution stored
    for the lead then, so the change is at least ``|known| - weakest stored`` (signed like the known
    side's move): a lower bound, never an overstatement.
    """
    labels = dict(labels or {})
    out: list[dict[str, Any]] = []
    for group in GROUPS:
        old, new = _contributions(before.get(group)), _contributions(after.get(group))
        # Every column not stored at a snapshot is at most this strong there.
        weakest = {
            "old": min((abs(v) for v in old.values()), default=0.0),
            "new": min((abs(v) for v in new.values()), default=0.0),
        }
        for column in dict.fromkeys([*old, *new]):
            b, a = old.get(column), new.get(column)
            if b is not None and a is not None:
                delta: float | None = a - b
                change = a - b
            elif a is not None:  # appeared among the strongest
                delta, change = None, float(np.sign(a)) * max(0.0, abs(a) - weakest["old"])
            else:  # dropped out of the strongest
                assert b is not None
                delta, change = None, -float(np.sign(b)) * max(0.0, abs(b) - weakest["new"])
            if abs(change) < max(min_delta, 1e-12):
                continue
            out.append(
                {
                    "group": group,
                    "column": column,
                    "label": labels.get(column) or humanise(column),
                    "before": b,
                    "after": a,
                    "delta": None if delta is None else round(delta, 4),
                    "change": round(change, 4),
                }
            )
    out.sort(key=lambda r: (-abs(r["change"]), r["group"], r["column"]))
    return out[:limit] if limit is not None else out


@dataclass(frozen=True)
class ChangesReport:
    """The result of :func:`compare_snapshots`."""

    window: Window
    leads: pd.DataFrame  # one row per lead shown, most moved first (see compare_snapshots)
    compared: int  # leads in both the baseline and the latest snapshot
    moved_quadrant: int  # of those, how many changed quadrant
    new_leads: int  # in the latest snapshot only
    gone_leads: int  # in the baseline only (closed, or no longer scored)
    models: dict[str, list[str]] = field(default_factory=dict)  # "baseline"/"latest" -> model versions
    notes: tuple[str, ...] = ()


def compare_snapshots(
    before: pd.DataFrame,
    after: pd.DataFrame,
    trends: pd.DataFrame,
    *,
    window: Window,
    top: int = 20,
    leads: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    min_reason_delta: float = 0.05,
    max_reasons: int = 3,
    source: str = "history",
) -> ChangesReport:
    """Leads whose quadrant or conversion probability moved most between two snapshots.

    Parameters
    ----------
    before, after : pd.DataFrame
        History rows of the baseline and the latest snapshot.
    trends : pd.DataFrame
        :func:`lead_trends` of the window.
    top : int
        Leads to keep (after ranking); ``leads`` restricts to those ids (all of them are kept, ranked).
    labels : mapping
        Column -> plain-word label (display.json's labels); others are humanised.
    min_reason_delta, max_reasons
        Reasons whose contribution changed by less (log-odds) are left out; at most this many per lead.

    Returns
    -------
    ChangesReport
        ``leads`` columns: lead_id, quadrant_before, quadrant_after, quadrant_changed, p_before, p_after,
        p_change, trend, fitted_change, snapshots, reasons (list of :func:`reason_changes` dicts).
    """
    if top < 1:
        raise LeadscoreError(f"--top: expected a positive number of leads, got {top}")
    # Ids as plain Python strings: pandas' Arrow-backed "str" makes isin/loc on many ids far slower.
    old = before.set_axis(pd.Index(_ids(before), dtype=object, name="lead_id"))
    new = after.set_axis(pd.Index(_ids(after), dtype=object, name="lead_id"))
    old, new = old[~old.index.duplicated(keep="last")], new[~new.index.duplicated(keep="last")]
    both = old.index.intersection(new.index, sort=False)
    frame = pd.DataFrame(
        {
            "lead_id": pd.Series(both, dtype=object),
            "quadrant_before": old.loc[both, "quadrant"].to_numpy(),
            "quadrant_after": new.loc[both, "quadrant"].to_numpy(),
            "p_before": old.loc[both, "conversion_probability"].to_numpy(float),
            "p_after": new.loc[both, "conversion_probability"].to_numpy(float),
        }
    )
    frame["quadrant_changed"] = frame["quadrant_before"] != frame["quadrant_after"]
    frame["p_change"] = frame["p_after"] - frame["p_before"]
    compared, moved_quadrant = len(frame), int(frame["quadrant_changed"].sum())
    if leads is not None:
        wanted = list(dict.fromkeys(str(x) for x in leads))
        unknown = [x for x in wanted if x not in both]
        if unknown:
            shown = ", ".join(repr(x) for x in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            example = str(both[0]) if len(both) else "42"
            raise LeadscoreError(
                f"--lead: {len(unknown)} id(s) not in both the {_day(window.baseline)} and {_day(window.latest)} "
                f"snapshots of {source}: {shown} (ids are matched as text, e.g. {example!r})"
            )
        frame = frame[pd.Index(frame["lead_id"], dtype=object).isin(pd.Index(wanted, dtype=object))]
    else:  # only leads that moved at all
        frame = frame[frame["quadrant_changed"] | (frame["p_change"] != 0)]
    frame = frame.assign(_size=frame["p_change"].abs()).sort_values(
        ["quadrant_changed", "_size", "lead_id"], ascending=[False, False, True], kind="stable"
    )
    frame = frame.drop(columns="_size").head(top if leads is None else len(frame)).reset_index(drop=True)
    trend = trends.reindex(frame["lead_id"])
    frame["trend"] = trend["trend"].fillna("steady").to_numpy()
    frame["fitted_change"] = trend["fitted_change"].fillna(0.0).to_numpy(float)
    frame["snapshots"] = trend["snapshots"].fillna(1).astype(np.int64).to_numpy()
    frame["reasons"] = pd.Series(
        [
            reason_changes(
                {g: old.at[lead, f"{g}_contributions"] for g in GROUPS},
                {g: new.at[lead, f"{g}_contributions"] for g in GROUPS},
                labels=labels,
                min_delta=min_reason_delta,
                limit=max_reasons,
            )
            for lead in frame["lead_id"]
        ],
        index=frame.index,
        dtype=object,
    )
    models = {
        "baseline": sorted(before["model_version"].dropna().astype(str).unique().tolist()),
        "latest": sorted(after["model_version"].dropna().astype(str).unique().tolist()),
    }
    notes = []
    if models["baseline"] != models["latest"]:
        notes.append(
            f"different models: {_day(window.baseline)} was scored by {', '.join(models['baseline']) or '?'}, "
            f"{_day(window.latest)} by {', '.join(models['latest']) or '?'}; part of each change is the model's, "
            "not the lead's"
        )
    columns = [
        "lead_id",
        "quadrant_before",
        "quadrant_after",
        "quadrant_changed",
        "p_before",
        "p_after",
        "p_change",
        "trend",
        "fitted_change",
        "snapshots",
        "reasons",
    ]
    return ChangesReport(
        window=window,
        leads=frame[columns],
        compared=compared,
        moved_quadrant=moved_quadrant,
        new_leads=int((~new.index.isin(old.index)).sum()),
        gone_leads=int((~old.index.isin(new.index)).sum()),
        models=models,
        notes=tuple(notes),
    )


def changes_since(
    history,
    *,
    since: pd.Timestamp,
    top: int = 20,
    leads: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
    trend_tolerance: float = 0.02,
    min_reason_delta: float = 0.05,
    max_reasons: int = 3,
) -> ChangesReport:
    """:func:`compare_snapshots` on a stored history.

    ``history``: a reader with ``description``, ``snapshots()`` and ``read(as_ofs, columns=None)``
    (:func:`leadscore.scoring.history.open_history`). Reads the baseline and latest snapshots whole,
    and only ids, times and conversion probabilities of the snapshots between them (for the trends).
    """
    window = pick_window(history.snapshots(), since, source=history.description)
    before, after = history.read([window.baseline]), history.read([window.latest])
    middle = [s for s in window.snapshots if s not in (window.baseline, window.latest)]
    wanted = ["lead_id", "as_of", "conversion_probability", "model_version"]
    points = pd.concat(
        [before[wanted], history.read(middle, columns=wanted) if middle else None, after[wanted]], ignore_index=True
    )
    # Trends only for leads present at both ends: the ones the report can show.
    both = pd.Index(_ids(before), dtype=object).intersection(pd.Index(_ids(after), dtype=object))
    points = points[pd.Index(_ids(points), dtype=object).isin(both)]
    report = compare_snapshots(
        before,
        after,
        lead_trends(points, tolerance=trend_tolerance),
        window=window,
        top=top,
        leads=leads,
        labels=labels,
        min_reason_delta=min_reason_delta,
        max_reasons=max_reasons,
        source=history.description,
    )
    versions = sorted(points["model_version"].dropna().astype(str).unique().tolist())
    if not report.notes and len(versions) > 1:
        note = f"the trends span {len(versions)} models ({', '.join(versions)}): part of them is the model's"
        report = dataclasses.replace(report, notes=(*report.notes, note))
    return report


def reasons_text(reasons: list[dict]) -> str:
    """``Label (intent): +0.12 -> +0.85 (+0.73)`` per reason, joined by ``"; "``.

    ``-`` = not among the lead's strongest contributions then; the change is then a lower bound
    (``at least +0.38``).
    """

    def num(value) -> str:
        return "-" if value is None else f"{value:+.2f}"

    def moved(r: dict) -> str:
        return f"{r['delta']:+.2f}" if r["delta"] is not None else f"at least {r['change']:+.2f}"

    return "; ".join(
        f"{r['label']} ({r['group']}): {num(r['before'])} -> {num(r['after'])} ({moved(r)})" for r in reasons
    )


def changes_table(report: ChangesReport) -> pd.DataFrame:
    """The report as a flat table (CSV): reasons as one text column."""
    out = report.leads.copy()
    out["reasons"] = [reasons_text(r) for r in out["reasons"]]
    out.insert(1, "baseline", report.window.baseline)
    out.insert(2, "latest", report.window.latest)
    return out


def changes_json(report: ChangesReport) -> dict:
    """The report as JSON-able data: the window, counts, models, notes and one record per lead."""
    w = report.window
    leads = []
    for row in report.leads.to_dict(orient="records"):
        row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        leads.append(row)
    return {
        "since": w.since.isoformat(),
        "baseline": w.baseline.isoformat(),
        "latest": w.latest.isoformat(),
        "snapshots": [s.isoformat() for s in w.snapshots],
        "compared": report.compared,
        "moved_quadrant": report.moved_quadrant,
        "new_leads": report.new_leads,
        "gone_leads": report.gone_leads,
        "models": report.models,
        "notes": list(report.notes),
        "leads": leads,
    }
