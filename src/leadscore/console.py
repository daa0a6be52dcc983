"""Rendering results for people in a terminal (Rich): the run summary and one lead's explanation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from leadscore.evaluation.report import missing_axes_note
from leadscore.features.leakage import leak_banner


def fmt(value: float | None) -> str:
    """Three decimals, or "-" for a metric that does not exist (e.g. no oracle on real data)."""
    return "-" if value is None else f"{value:.3f}"


def print_summary(metrics: dict[str, Any], *, out: Console | None = None) -> None:
    """The model vs BANT (vs oracle) table, capacity, quadrants and the benchmark page's address."""
    out = out or Console()
    banner = leak_banner(metrics.get("leakage"))
    if banner:  # first, before any number it casts doubt on
        out.print(Panel(banner, title="SUSPECTED LEAK", title_align="left", style="bold white on red"), highlight=False)
    title = "Test split: model vs BANT" + (" vs the true-probability ceiling" if "oracle" in metrics["test"] else "")
    table = Table(title=title)
    table.add_column("scorer")
    for col in ("AUC", "PR-AUC", "log loss", "Brier", "ECE"):
        table.add_column(col, justify="right")
    for name, m in metrics["test"].items():
        table.add_row(name, *(fmt(m[k]) for k in ("auc", "pr_auc", "log_loss", "brier", "ece")))
    out.print(table)
    cap = metrics["capacity"]
    out.print(
        f"At BANT's volume ({cap['bant_volume']:,} leads): BANT converts {cap['bant_conversions']:,}, "
        f"the model's top {cap['bant_volume']:,} convert {cap['model_conversions_at_bant_volume']:,} "
        f"(ratio {fmt(cap['ratio'])})."
    )
    conversion = metrics.get("at_bant_volume", {}).get("scorers", {}).get("conversion", {})
    if conversion.get("leads_to_match") is not None:
        out.print(
            f"Same wins with fewer calls: the model reaches BANT's {cap['bant_conversions']:,} conversions after "
            f"{conversion['leads_to_match']:,} leads ({conversion['fewer_calls']:.0%} fewer calls)."
        )
    quads = Table(title="Quadrants (test split)")
    for col in ("quadrant", "leads", "observed rate", "mean predicted"):
        quads.add_column(col, justify="right" if col != "quadrant" else "left")
    for name, q in metrics["quadrants"].items():
        quads.add_row(name, f"{q['n']:,}", fmt(q["observed_rate"]), fmt(q["mean_predicted"]))
    out.print(quads)
    missing = missing_axes_note(metrics)
    if missing:
        out.print(missing, highlight=False)
    page = metrics.get("report", {}).get("html")
    if page:
        out.print(
            f"Benchmark report: [bold]{Path(page).resolve().as_uri()}[/] "
            f"(tables as markdown: {metrics['report']['markdown']})",
            highlight=False,
        )


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def explanation_panel(
    lead_id: str,
    scored: pd.Series,
    criteria_passed: pd.Series,
    values: dict[str, object],
    *,
    fit_threshold: float,
    intent_threshold: float,
    min_criteria: int,
    separator: str,
) -> Panel:
    """One lead's scores, quadrant, action, reasons for/against in fit and intent, and BANT criteria.

    ``criteria_passed`` maps criterion name -> bool; ``values`` criterion name -> the lead's value.
    """
    scores = Table.grid(padding=(0, 2))
    scores.add_row("fit", f"{scored['fit_probability']:.1%}", f"(high above {fit_threshold:.1%})")
    scores.add_row("intent", f"{scored['intent_probability']:.1%}", f"(high above {intent_threshold:.1%})")
    scores.add_row("[bold]conversion[/]", f"[bold]{scored['conversion_probability']:.1%}[/]", "")
    reasons = Table(title="Reasons (effects in log-odds)", title_justify="left", expand=True)
    reasons.add_column("")
    reasons.add_column("for", style="green")
    reasons.add_column("against", style="red")
    for group in ("fit", "intent"):
        lines = [str(scored[f"{group}_reasons_{d}"]).replace(separator, "\n") or "-" for d in ("for", "against")]
        reasons.add_row(group, *lines)
    n = len(criteria_passed)
    qualified = "qualified" if scored["bant_qualified"] else "not qualified"
    bant = Table(
        title=f"BANT ({scored['bant_criteria_met']} of {n} met, {qualified} at {min_criteria})",
        title_justify="left",
        expand=True,
    )
    for col in ("criterion", "value", ""):
        bant.add_column(col)
    for name, passed in criteria_passed.items():
        value = values[str(name)]
        shown = "missing" if _is_missing(value) else str(value)
        bant.add_row(str(name), shown, "[green]pass[/]" if passed else "[red]fail[/]")
    quadrant = str(scored["quadrant"]).replace("_fit_", " fit, ").replace("_", " ").capitalize()
    body = Group(
        scores,
        f"\n[bold]{quadrant}[/]: {scored['recommended_action']}",
        f"[italic]{scored['quadrant_summary']}[/]\n",
        reasons,
        bant,
    )
    return Panel(body, title=f"Lead {lead_id}", title_align="left")


# --- issue 14, score history: `leadscore changes` ---------------------------------------------------
_TREND_STYLE = {"rising": "green", "falling": "red", "steady": "dim"}


def _quadrant_words(name: str) -> str:
    return str(name).replace("_fit_", " fit, ").replace("_", " ")


def print_changes(report, *, out: Console | None = None) -> None:
    """The leads that moved most since a date (a :class:`~leadscore.monitoring.changes.ChangesReport`)."""
    from leadscore.monitoring.changes import reasons_text

    out = out or Console()
    w = report.window

    def day(stamp: pd.Timestamp) -> str:
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M:%S")

    out.print(
        f"Changes from {day(w.baseline)} to {day(w.latest)} ({len(w.snapshots)} snapshots): "
        f"{report.compared:,} leads in both, {report.moved_quadrant:,} changed quadrant; "
        f"{report.new_leads:,} new, {report.gone_leads:,} no longer scored.",
        highlight=False,
    )
    for note in report.notes:
        out.print(f"[bold yellow]note:[/] {note}", highlight=False)
    if report.leads.empty:
        out.print("No lead moved.", highlight=False)
        return
    table = Table(title="Leads that moved most (reasons: contribution in log-odds, before -> after)")
    table.add_column("lead")
    table.add_column("quadrant")
    table.add_column("p(conversion)", justify="right")
    table.add_column("trend")
    table.add_column("reasons that changed")
    for row in report.leads.itertuples(index=False):
        quadrant = (
            f"{_quadrant_words(row.quadrant_before)}\n-> [bold]{_quadrant_words(row.quadrant_after)}[/]"
            if row.quadrant_changed
            else _quadrant_words(row.quadrant_after)
        )
        style = _TREND_STYLE.get(row.trend, "")
        table.add_row(
            str(row.lead_id),
            quadrant,
            f"{row.p_before:.1%} -> {row.p_after:.1%}\n({row.p_change * 100:+.1f} pts)",
            f"[{style}]{row.trend}[/] ({row.fitted_change * 100:+.1f} pts)",
            reasons_text(row.reasons).replace("; ", "\n") or "-",
        )
    out.print(table)
