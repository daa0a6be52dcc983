"""The benchmark page: tables rendered from the metrics dict, as markdown and as one self-contained HTML.

Both renderings read every number from the same dict that is written to reports/metrics.json (never
recomputing anything), so the page and metrics.json cannot disagree. Charts are embedded in the HTML
as base64 PNGs, so the page opens offline.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass

from leadscore.evaluation.benchmark import scorer_label as _scorer_label
from leadscore.features.leakage import leak_banner
from leadscore.models.calibration import QUADRANTS

QUALITY_COLUMNS = (("auc", "AUC"), ("pr_auc", "PR-AUC"), ("log_loss", "log loss"), ("brier", "Brier"), ("ece", "ECE"))
QUADRANT_LABELS = {
    "high_fit_high_intent": "high fit, high intent (fast-track)",
    "high_fit_low_intent": "high fit, low intent (nurture)",
    "low_fit_high_intent": "low fit, high intent (danger zone)",
    "low_fit_low_intent": "low fit, low intent (exclude)",
}
FIGURES = (
    ("gains", "Cumulative gains: every scorer, with BANT's operating point"),
    ("capacity", "Capacity curve: conversions captured for the leads a team can work"),
    ("reliability", "Reliability: do predicted probabilities come true?"),
    ("quadrant_map", "Quadrant map: fit probability × intent probability"),
    ("importance_fit", "What drives fit: mean |SHAP| per column of the fit model"),
    ("importance_intent", "What drives intent: mean |SHAP| per column of the intent model"),
    ("activity_ages", "Intent from the activity log: AUC and capacity vs BANT by lead age"),
)


# -- number formats (one place, so tests can parse them back) ------------------------------------------
def num(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def count(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def pct(value, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def times(value) -> str:
    return "–" if value is None else f"{value:.2f}×"


def signed(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    bold_rows: tuple[int, ...] = ()


# -- words that follow the data ------------------------------------------------------------------------
def scorer_label(name: str, metrics: dict | None = None) -> str:
    """The scorer's name, BANT's range from the real number of criteria (metrics ``bant_rule``)."""
    n = (metrics or {}).get("bant_rule", {}).get("n_criteria")
    return _scorer_label(name, n_criteria=n)


def title(metrics: dict) -> str:
    """The page title: "vs the ceiling" only when there is an oracle (synthetic data)."""
    return "Lead scoring benchmark: model vs BANT" + (" vs the ceiling" if "oracle" in metrics["test"] else "")


def test_leads_phrase(metrics: dict) -> str:
    """What the test split is, in words: most recent / last in row order / drawn at random ..."""
    return metrics.get("split", {}).get("test_leads") or "most recent closed leads"


def missing_axes_note(metrics: dict) -> str | None:
    """Which quadrant axis is missing (a group with no columns), or None."""
    missing = metrics.get("missing_axes") or []
    if not missing:
        return None
    axis = missing[0]
    other = "intent" if axis == "fit" else "fit"
    return (
        f"No {axis} axis: features.{axis} has no columns, so the {axis} model predicts the base rate for every "
        f"lead and every lead counts as high {axis}; the quadrants split leads by {other} alone "
        f"(the low-{axis} quadrants are empty)."
    )


def leakage_table(metrics: dict) -> Table | None:
    """The leak audit: every audited column's AUC alone on the train split, and what was done."""
    leakage = metrics.get("leakage")
    if not leakage:
        return None
    kept = {k["column"] for k in leakage["kept"]}
    dropped = {k["column"] for k in leakage["dropped"]}
    naive = set(metrics.get("activity", {}).get("naive_columns", []))
    rows = []
    for c in leakage["columns"]:
        if c["column"] in kept:
            verdict = "suspected leak, used"
        elif c["column"] in dropped:
            verdict = "suspected leak, dropped"
        elif c["column"] in naive and c["suspected_leak"]:
            verdict = "suspected leak: naive all-time count of the activity log (demo only, not used)"
        elif c["column"] in naive:
            verdict = "naive all-time count of the activity log (demo only, not used)"
        elif c["status"] == "excluded":
            verdict = "excluded (features.exclude)"
        else:
            verdict = "ok"
        rows.append([c["column"], c["group"], c["kind"], num(c["auc"]), verdict])
    return Table(
        "Table 6. Leak audit: each column's AUC alone on the train split "
        f"(suspected leak above {num(leakage['threshold'], 2)}; the run stops at "
        f"{num(leakage['strong_leak_auc'], 2)} unless features.allow_strong lists it)",
        ["column", "group", "kind", "AUC alone", "verdict"],
        rows,
        "A column that alone separates won from lost is usually written after the outcome (a status note, a call's "
        "duration). AUC is max(AUC, 1 - AUC), so direction does not matter.",
    )


# -- the tables -----------------------------------------------------------------------------------
def quality_table(metrics: dict) -> Table:
    intervals = metrics.get("bootstrap", {}).get("intervals", {})
    level = metrics.get("bootstrap", {}).get("level")
    rows, bold = [], []
    for i, (name, m) in enumerate(metrics["test"].items()):
        cells = [scorer_label(name, metrics)]
        for key, _ in QUALITY_COLUMNS:
            ci = intervals.get(name, {}).get(key)
            cells.append(num(m[key]) + (f" [{num(ci['low'])}, {num(ci['high'])}]" if ci else ""))
        rows.append(cells)
        if name == "conversion":
            bold.append(i)
    note = "Lower is better for log loss, Brier and ECE (10 equal-width bins)."
    if level:
        b = metrics["bootstrap"]
        note += (
            f" Brackets: {level:.0%} percentile bootstrap intervals "
            f"({b['n']} resamples of the test leads, seed {b['seed']})."
        )
    return Table(
        "Table 1. Quality on the test split",
        ["scorer", *(label for _, label in QUALITY_COLUMNS)],
        rows,
        note,
        tuple(bold),
    )


def volume_table(metrics: dict) -> Table:
    av = metrics["at_bant_volume"]
    rows, bold = [], []
    for i, (name, r) in enumerate(av["scorers"].items()):
        rows.append(
            [
                scorer_label(name, metrics),
                count(r["conversions"]),
                pct(r["precision"]),
                pct(r["recall"]),
                count(r["leads_to_match"]),
                pct(r["fewer_calls"]),
            ]
        )
        if name == "conversion":
            bold.append(i)
    return Table(
        f"Table 2. At BANT's volume: the {count(av['volume'])} test leads BANT qualifies "
        f"({count(av['bant_conversions'])} of them convert)",
        [
            "scorer",
            "conversions in its top leads",
            "precision",
            "recall",
            "leads needed for BANT's conversions",
            "fewer calls than BANT",
        ],
        rows,
        "Each scorer works its best-scored leads, as many as BANT qualifies. Tied scores (rules) are worked in random "
        'order: their conversions are expected values. "Fewer calls" is negative when a scorer needs more leads than '
        "BANT.",
        tuple(bold),
    )


def rule_table(metrics: dict) -> Table:
    rows = []
    for name, r in metrics["rule_operating_points"].items():
        rows.append(
            [
                scorer_label(name, metrics),
                count(r["volume"]),
                count(r["conversions"]),
                pct(r["precision"]),
                count(r["model_conversions"]),
                count(r["model_leads_to_match"]),
                pct(r["fewer_calls"]),
            ]
        )
    return Table(
        "Table 2b. Each qualification rule at its own volume, against the conversion model",
        [
            "rule",
            "leads qualified",
            "conversions",
            "precision",
            "model's conversions, same leads",
            "model's leads for same conversions",
            "fewer calls",
        ],
        rows,
    )


def lift_table(metrics: dict) -> Table:
    rows = []
    for decile, r in metrics["lift_deciles"].items():
        rows.append(
            [
                decile,
                count(r["leads"]),
                count(r["conversions"]),
                pct(r["rate"]),
                pct(r["mean_predicted"]),
                times(r["lift"]),
                pct(r["cumulative_share"]),
            ]
        )
    return Table(
        "Table 3. Lift by decile of conversion probability (decile 1 = the best-scored 10%)",
        [
            "decile",
            "leads",
            "conversions",
            "observed rate",
            "mean predicted",
            "lift",
            "cumulative share of conversions",
        ],
        rows,
        f"Lift = the decile's observed rate ÷ the test base rate ({pct(metrics['data']['test_base_rate'])}).",
    )


def who_is_right(quadrant: str, qualified: bool, observed_rate: float | None, base_rate: float) -> str:
    """The model calls "work it now" only for high fit + high intent; BANT for qualified leads. When
    they disagree, whoever said "work it" is right if the cell converts above the base rate."""
    if observed_rate is None:
        return "–"
    model_work = quadrant == "high_fit_high_intent"
    good = observed_rate > base_rate
    if model_work == qualified:
        return "agree" + (" (right)" if model_work == good else " (both wrong)")
    return "model" if model_work == good else "BANT"


def crosstab_table(metrics: dict) -> Table:
    base = metrics["data"]["test_base_rate"]
    rows = []
    for quadrant in QUADRANTS:
        for key, qualified in (("bant_qualified", True), ("bant_not_qualified", False)):
            c = metrics["quadrant_bant"][quadrant][key]
            lift = c["observed_rate"] / base if c["observed_rate"] is not None and base else None
            rows.append(
                [
                    QUADRANT_LABELS[quadrant],
                    "qualified" if qualified else "not qualified",
                    count(c["n"]),
                    count(c["conversions"]),
                    pct(c["observed_rate"]),
                    pct(c["mean_predicted"]),
                    times(lift),
                    who_is_right(quadrant, qualified, c["observed_rate"], base),
                ]
            )
    return Table(
        "Table 4. Quadrant × BANT: where the model and BANT disagree, and who is right",
        [
            "quadrant (model)",
            "BANT",
            "leads",
            "conversions",
            "observed rate",
            "model predicted",
            "vs base rate",
            "who is right",
        ],
        rows,
        'The model says "work it now" only for high fit + high intent; BANT says so for qualified leads. Where they '
        'disagree, whoever said "work it" is right when the cell converts above the base rate, and wrong otherwise.',
    )


def capacity_table(metrics: dict) -> Table:
    plan = metrics["capacity_plan"]
    rows = [[scorer_label(name, metrics), count(v)] for name, v in plan["conversions"].items()]
    return Table(
        f"Table 5. At the team's capacity: {plan['reps']} reps × {count(plan['leads_per_rep'])} leads = "
        f"{count(plan['leads'])} leads worked",
        ["scorer", "expected conversions"],
        rows,
        ""
        if plan["leads_worked"] == plan["leads"]
        else f"The test split has only {count(plan['leads_worked'])} leads: all of them are worked.",
    )


def activity_age_table(metrics: dict) -> Table | None:
    """Issue 14: AUC and capacity vs BANT by lead age, the oracle for reference, and the leak demo."""
    activity = metrics.get("activity")
    if not activity:
        return None
    backtest = activity["naive"]["backtest_auc"]
    rows = []
    for r in activity["ages"]:
        rows.append(
            [
                f"{r['age_days']:g} days",
                count(r["snapshots"]),
                count(r["wins"]),
                num(r["auc_model"]),
                num(r["auc_bant"]),
                num(r["auc_oracle"]),
                signed(None if r["auc_oracle"] is None or r["auc_model"] is None else r["auc_model"] - r["auc_oracle"]),
                times(r["capacity_ratio"]),
                num(r["auc_naive_at_age"]),
            ]
        )
    windows = "/".join(f"{w:g}" for w in activity.get("windows_days") or [])
    half_lives = "/".join(f"{h:g}" for h in activity.get("half_lives_days") or [])
    return Table(
        "Table 7. Intent from the activity log, by lead age (test leads seen as they were at each age, "
        "while still open)",
        [
            "lead age",
            "test snapshots",
            "wins",
            "model AUC",
            "BANT AUC",
            "oracle AUC",
            "model − oracle",
            "model conversions / BANT's at BANT's volume",
            "naive all-time counts, scored at this age: AUC",
        ],
        rows,
        f"Intent features use only events before each snapshot (counts over {windows} days, decayed counts with "
        f"half-lives {half_lives} days: chosen on the calibration split). The oracle is the lead's true conversion "
        "probability (the same at every age): a reference, not a target. Leak demo: a model on naive all-time "
        f"counts of the same log (what an export taken today holds) scores AUC {num(backtest)} in the backtest "
        "(test leads' all-time counts, which include onboarding emails after a win and surveys after a loss), "
        "and the last column is what it delivers when the same leads are scored at a real age.",
    )


CONVERSION_FORMS = {
    "logistic": "logistic regression on logit p_fit, logit p_intent and their product",
    "spline": "logistic regression on monotone splines of both logits",
    "monotone_gbm": "small LightGBM on both logits, monotone in each, then calibrated",
    "segment_spline": "the spline form plus, per level of the chosen fit columns (segments), an offset and an extra "
    "intent slope",
}
# An offset this large (odds x2.7) on a segment level is worth a second look (see segment_table's note).
LARGE_OFFSET = 1.0


def conversion_table(metrics: dict) -> Table | None:
    """How fit and intent are combined: the conversion-model candidates and the one chosen (issue 15)."""
    selection = metrics.get("conversion_selection")
    if not selection:
        return None
    chosen = selection["chosen"]
    header = ["conversion model", "segments", "out-of-fold log loss", "out-of-fold AUC", "chosen"]
    if not selection["candidates"]:
        return Table(
            "Table 8. How fit and intent are combined: the conversion model",
            header,
            [[chosen, "–", "–", "–", "yes"]],
            f"{chosen}: {CONVERSION_FORMS.get(chosen, '')}. The only candidate (params "
            "calibrate.conversion_candidates), fitted on the calibration split without cross-validation; offer "
            "more (spline, segment_spline, monotone_gbm) to let the calibration split choose.",
            (0,),
        )
    rows, bold = [], []
    for i, (kind, entry) in enumerate(selection["candidates"].items()):
        segments = (", ".join(entry["segments"]) or "none") if "segments" in entry else "–"
        rows.append(
            [kind, segments, num(entry["cv_log_loss"], 5), num(entry["cv_auc"]), "yes" if kind == chosen else ""]
        )
        if kind == chosen:
            bold.append(i)
    forms = " ".join(f"{kind}: {CONVERSION_FORMS.get(kind, '')}." for kind in selection["candidates"])
    return Table(
        "Table 8. How fit and intent are combined: the conversion model, chosen on the calibration split",
        header,
        rows,
        f"{forms} The calibration split (in time order) is cut into {selection['folds']} contiguous blocks; each "
        "candidate is fitted on the others and scored on each block in turn; the lowest log loss wins and is "
        "refitted on the whole split. Every form keeps the conversion probability monotone in p_fit and in p_intent.",
        tuple(bold),
    )


def segment_table(metrics: dict) -> Table | None:
    """What each segment level of a chosen segment_spline adds beyond the fit and intent scores."""
    effects = (metrics.get("conversion_selection") or {}).get("segment_effects")
    if not effects:
        return None
    rows: list[list[str]] = []
    bold: list[int] = []
    for column, levels in effects.items():
        for level, e in sorted(levels.items(), key=lambda item: -item[1]["offset"]):
            if abs(e["offset"]) >= LARGE_OFFSET:
                bold.append(len(rows))
            rows.append(
                [
                    column,
                    level,
                    count(e.get("leads")),
                    signed(e["offset"], 2),
                    times(math.exp(e["offset"])),
                    num(e["intent_slope"], 2),
                ]
            )
    return Table(
        "Table 9. Segment adjustments in the conversion model: beyond what the fit and intent scores say",
        ["fit column", "level", "calibration leads", "offset (log-odds)", "odds ×", "extra intent slope"],
        rows,
        "Offsets are at typical intent, relative to levels too rare for a term of their own; the extra slope (≥ 0) "
        "says how much more each unit of intent log-odds is worth for that level. The fit score already counts the "
        f"column's own fit effect, so these are what it misses. Bold: offsets of {LARGE_OFFSET:g} log-odds or more "
        "(odds ×2.7). A field filled in after first contact, by sales or by the lead, can carry the outcome: check "
        "how and when it is filled before trusting such an offset (and exclude it if it is written late).",
        tuple(bold),
    )


def tables(metrics: dict) -> list[Table]:
    found = [
        quality_table(metrics),
        volume_table(metrics),
        rule_table(metrics),
        lift_table(metrics),
        crosstab_table(metrics),
        capacity_table(metrics),
        leakage_table(metrics),
        activity_age_table(metrics),
        conversion_table(metrics),
        segment_table(metrics),
    ]
    return [t for t in found if t is not None]


def headline(metrics: dict) -> list[str]:
    """The few sentences a sales leader reads first."""
    t, cap, data = metrics["test"], metrics["capacity"], metrics["data"]
    conv = metrics["at_bant_volume"]["scorers"]["conversion"]
    diffs = metrics.get("bootstrap", {}).get("differences", {})
    level = metrics.get("bootstrap", {}).get("level", 0.95)

    def ci(key: str, metric: str) -> str:
        d = diffs.get(key, {}).get(metric)
        return f", {level:.0%} interval {signed(d['low'])} to {signed(d['high'])}" if d else ""

    lines = [
        f"Test split: {count(data['test_leads'])} {test_leads_phrase(metrics)}, {count(data['test_conversions'])} "
        f"conversions (base rate {pct(data['test_base_rate'])}).",
        f"Ranking: the conversion model's AUC is {num(t['conversion']['auc'])} against BANT's {num(t['bant']['auc'])}: "
        f"{signed(t['conversion']['auc'] - t['bant']['auc'])}{ci('conversion_minus_bant', 'auc')}.",
        f"Same volume: BANT qualifies {count(cap['bant_volume'])} leads, of which {count(cap['bant_conversions'])} "
        f"convert; the model's top {count(cap['bant_volume'])} convert "
        f"{count(cap['model_conversions_at_bant_volume'])} ({times(cap['ratio'])} BANT's wins).",
        f"Same wins, fewer calls: the model reaches BANT's {count(cap['bant_conversions'])} conversions after "
        f"{count(conv['leads_to_match'])} leads: the same wins with {pct(conv['fewer_calls'], 0)} fewer calls.",
    ]
    if "lightgbm_all" in t:
        lines.append(
            f"Splitting into fit and intent models: AUC {num(t['conversion']['auc'])} vs "
            f"{num(t['lightgbm_all']['auc'])} for one LightGBM on all features "
            f"({signed(t['conversion']['auc'] - t['lightgbm_all']['auc'])}"
            f"{ci('conversion_minus_lightgbm_all', 'auc')}); "
            f"log loss {num(t['conversion']['log_loss'])} vs {num(t['lightgbm_all']['log_loss'])}."
        )
    selection = metrics.get("conversion_selection") or {}
    if selection.get("candidates"):
        segments = list(selection.get("segment_effects") or {})
        lines.append(
            f"Fit and intent are combined by the {selection['chosen']} form, chosen among "
            f"{len(selection['candidates'])} on the calibration split (Table 8)"
            + (f"; it adjusts for {', '.join(segments)} beyond the two scores (Table 9)." if segments else ".")
        )
    missing = missing_axes_note(metrics)
    if missing:
        lines.append(missing)
    if "oracle" in t:
        lines.append(
            f"Ceiling: the true probability (synthetic data only) has AUC {num(t['oracle']['auc'])}; the model is "
            f"{num(t['oracle']['auc'] - t['conversion']['auc'])} below it."
        )
    return lines


NOTES = [
    "Every number is measured on the test split ({test_leads}), never used to train, stop, calibrate or choose "
    "anything.",
    "The all-features LightGBM and the logistic regression are trained on the train split only (early stopping on the "
    "early-stopping split), and calibrated on the calibration split, exactly like the fit and intent models.",
    "Rules (BANT and its variants, the points score) are read as probabilities through their levels' conversion rates "
    "on the calibration split, so log loss, Brier and ECE judge them on the same footing; their AUC and PR-AUC come "
    "from the raw score.",
    "Random ranks by a seeded uniform draw; as a probability it predicts the calibration split's base rate.",
    "The oracle is the synthetic data's true conversion probability: the best any model could do.",
]


def notes(metrics: dict) -> list[str]:
    """How to read the page; the oracle's note only when there is one; then how the leads were split
    (and the point-in-time rule, when one was used)."""
    out = [n.replace("{test_leads}", test_leads_phrase(metrics)) for n in NOTES]
    out = out if "oracle" in metrics["test"] else [n for n in out if not n.startswith("The oracle")]
    method = (metrics.get("split") or {}).get("method")
    return [*out, f"Split: {method}."] if method else out


# -- rendering ------------------------------------------------------------------------------------
def _md_table(table: Table) -> str:
    lines = [
        f"### {table.title}",
        "",
        "| " + " | ".join(table.header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(table.header) - 1)) + "|",
    ]
    for i, row in enumerate(table.rows):
        cells = [f"**{c}**" if i in table.bold_rows else c for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines)


def render_markdown(metrics: dict, *, figures: dict[str, str]) -> str:
    """The benchmark as markdown; ``figures`` maps chart name -> image path relative to the file."""
    parts = [f"# {title(metrics)}", ""]
    banner = leak_banner(metrics.get("leakage"))
    if banner:
        parts += [f"> **WARNING: {banner}**", ""]
    parts += [f"- {line}" for line in headline(metrics)]
    for table in tables(metrics):
        parts += ["", _md_table(table)]
    parts += ["", "## Charts"]
    for name, caption in FIGURES:
        if name in figures:
            parts += ["", f"### {caption}", "", f"![{caption}]({figures[name]})"]
    parts += ["", "## How to read this", ""] + [f"- {n}" for n in notes(metrics)]
    return "\n".join(parts) + "\n"


_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       margin: 24px auto; max-width: 1280px; color: #222; padding: 0 24px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 34px; border-bottom: 2px solid #1f4e9c; }
h3 { font-size: 16px; margin: 26px 0 8px; }
.headline { background: #eef3fb; border-left: 5px solid #1f4e9c; padding: 10px 18px; font-size: 15.5px; }
.headline li { margin: 4px 0; }
table { border-collapse: collapse; font-size: 13.5px; margin: 6px 0; }
th, td { border: 1px solid #d0d7e2; padding: 4px 9px; text-align: right; white-space: nowrap; }
th { background: #f3f5f9; text-align: center; white-space: normal; max-width: 180px; }
td:first-child, td.text { text-align: left; }
tr.bold td { font-weight: 700; background: #f6f9ff; }
td.agree { color: #555; } td.model { color: #1f4e9c; font-weight: 700; } td.bant { color: #c0392b; font-weight: 700; }
p.note { color: #555; font-size: 12.5px; margin: 4px 0 0; max-width: 1100px; }
figure { margin: 18px 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e1e4ea; }
figcaption { font-weight: 600; margin-bottom: 6px; }
.notes li { color: #444; font-size: 13.5px; }
.leak-banner { background: #c0392b; color: #fff; font-weight: 700; font-size: 17px; padding: 14px 20px;
               margin: 0 0 16px; border-radius: 4px; }
"""


def _html_table(table: Table) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in table.header)
    body = []
    for i, row in enumerate(table.rows):
        cells = []
        for j, c in enumerate(row):
            classes = []
            if j > 0 and not any(ch.isdigit() for ch in c):
                classes.append("text")
            if table.header[j] == "who is right":
                classes.append("agree" if c.startswith("agree") else c.lower())
            cls = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{cls}>{e(c)}</td>")
        row_class = ' class="bold"' if i in table.bold_rows else ""
        body.append(f"<tr{row_class}>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{e(table.note)}</p>' if table.note else ""
    return (
        f"<h3>{e(table.title)}</h3>\n<table><thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(body)
        + f"\n</tbody></table>{note}"
    )


def render_html(metrics: dict, *, figures: dict[str, bytes]) -> str:
    """One self-contained page: headline, tables and the charts embedded as base64 PNGs."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        'initial-scale=1">',
        "<title>leadscore benchmark: model vs BANT</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    banner = leak_banner(metrics.get("leakage"))
    if banner:  # first thing on the page: every number below may be too good
        parts.append(f'<div class="leak-banner" role="alert">{e(banner)}</div>')
    parts += [
        f"<h1>{e(title(metrics))}</h1>",
        '<ul class="headline">' + "".join(f"<li>{e(line)}</li>" for line in headline(metrics)) + "</ul>",
        "<h2>Tables</h2>",
    ]
    parts += [_html_table(t) for t in tables(metrics)]
    parts.append("<h2>Charts</h2>")
    for name, caption in FIGURES:
        if name in figures:
            data = base64.b64encode(figures[name]).decode("ascii")
            parts.append(
                f'<figure><figcaption>{e(caption)}</figcaption><img alt="{e(caption)}" '
                f'src="data:image/png;base64,{data}"></figure>'
            )
    parts.append(
        '<h2>How to read this</h2><ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in notes(metrics)) + "</ul>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
