"""The synthetic CRM's activity log: one row per web visit, email, form fill, demo, trial, ... event.

Drawn from the same hidden facts as the lead table (leadscore.data.synthetic), so the log agrees with
the lead's intent columns and outcome:

- *Intent events before the outcome.* The human engagement counts behind the lead table (web visits,
  pricing-page views, email opens and clicks, downloads) and its flags (demo requested, trial started
  with its active days, webinar attended) become that many events, mostly in the lead's first weeks
  (a truncated exponential in age, a few days' scale, never after the end of the sales cycle). On top
  comes background activity (visits, opened newsletters) at a rate rising with the hidden intent,
  whose intensity *rises* over the lead's life for high-intent leads and *falls* for low-intent ones.
  Inbound leads start with a form fill (content syndication with a download) at creation.
- *Post-outcome events*, as real logs have them: onboarding emails (mostly opened) and product/site
  visits after a win; a closed-lost survey, unsubscribes and the odd nurture email after a loss.
  Counting them "all time" leaks the outcome; counting strictly before the as-of time cannot.

Open leads have no post-outcome events; nothing is logged at or after the reference date (the export
date). The log has its own random stream derived from the seed, so the lead table is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from leadscore.errors import DataValidationError

DAY_S = 86_400

# Event types, in a fixed order (their integer codes below).
ACTIVITY_TYPES = (
    "form_fill",
    "web_visit",
    "pricing_page_view",
    "email_open",
    "email_click",
    "content_download",
    "demo_request",
    "trial_start",
    "trial_activity",
    "webinar",
    # after the outcome
    "onboarding_email",
    "unsubscribe",
    "closed_lost_survey",
)
# Types that only ever follow an outcome in the synthetic log.
POST_OUTCOME_TYPES = ("onboarding_email", "unsubscribe", "closed_lost_survey")
_T = {name: code for code, name in enumerate(ACTIVITY_TYPES)}

CHANNELS = ("organic_search", "paid_search", "referral", "event", "outbound", "partner", "content_syndication")
_WEB_CHANNELS = ("organic", "paid", "email", "direct", "social")
_CHANNEL_LABELS = (*CHANNELS, *_WEB_CHANNELS, "product")
_C = {name: code for code, name in enumerate(_CHANNEL_LABELS)}
_OUTBOUND, _SYNDICATION = CHANNELS.index("outbound"), CHANNELS.index("content_syndication")

EVENT_COLUMNS = ("lead_id", "timestamp", "activity_type", "channel", "value")

_HIDDEN_KEYS = (
    "created",
    "cycle_end",
    "is_open",
    "won",
    "intent",
    "lead_source",
    "web_visits",
    "pages_per_visit",
    "pricing_page_views",
    "demo_requested",
    "trial_started",
    "trial_active_days",
    "emails_opened",
    "emails_clicked",
    "webinar_attended",
    "content_downloads",
)


class _Events:
    """Accumulates event blocks (lead index, time in seconds, type, channel, value) as arrays."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(
        self,
        lead: np.ndarray,
        t_s: np.ndarray,
        kind: int,
        channel: np.ndarray | int = -1,
        value: np.ndarray | float = np.nan,
    ) -> None:
        m = len(lead)
        self.blocks.append(
            (
                lead.astype(np.int64),
                t_s.astype(np.int64),
                np.full(m, kind, dtype=np.int8),
                np.broadcast_to(np.asarray(channel, dtype=np.int8), (m,)),
                np.broadcast_to(np.asarray(value, dtype=np.float64), (m,)),
            )
        )

    def concat(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate([b[i] for b in self.blocks]) for i in range(5))


def _truncated_exponential(rng: np.random.Generator, scale: np.ndarray, upper: np.ndarray) -> np.ndarray:
    # Inverse CDF of an exponential(scale) truncated to [0, upper): early-weighted times in a window.
    u = rng.random(len(upper))
    return -scale * np.log1p(-u * -np.expm1(-upper / scale))


def _trend_times(rng: np.random.Generator, trend: np.ndarray, upper: np.ndarray) -> np.ndarray:
    # Density proportional to exp(trend * t / upper) on [0, upper): trend > 0 rises towards the end
    # of the window, trend < 0 falls (the lead goes cold). Inverse CDF, with the trend ~ 0 limit.
    u = rng.random(len(upper))
    safe = np.where(np.abs(trend) < 1e-6, 1e-6, trend)
    return upper * np.log1p(u * np.expm1(safe)) / safe


def _repeat(counts: np.ndarray) -> np.ndarray:
    """Lead index repeated ``counts`` times (grouped, in lead order)."""
    return np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.int64))


def _rank_within(lead: np.ndarray, counts: np.ndarray) -> np.ndarray:
    # 0, 1, 2, ... within each lead's block of a grouped array made by _repeat.
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.arange(len(lead)) - starts[lead]


def _text(labels: Sequence[str], codes: np.ndarray) -> pd.Series:
    # A ``str`` column from integer codes (-1 missing) through an Arrow dictionary: fast for millions.
    dictionary = pa.array(list(labels), type=pa.large_string())
    indices = pa.array(np.asarray(codes, dtype=np.int64), mask=np.asarray(codes) < 0)
    return pd.Series(pd.array(pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()), dtype="str"))


def generate_activities(
    hidden: Mapping[str, np.ndarray], lead_ids: pd.Series, *, seed: int, reference_date: str
) -> pd.DataFrame:
    """Draw the activity log of the synthetic leads (vectorised; ~2M events for 100k leads in seconds).

    Parameters
    ----------
    hidden : mapping of arrays
        The generator's hidden facts, row-aligned with ``lead_ids`` (``_simulate``'s fourth value):
        created, cycle_end (end of the sales cycle, also for open leads), is_open, won, intent,
        lead_source (codes into :data:`CHANNELS`) and the human engagement counts and flags.
    lead_ids : Series
        The lead ids, one per row of ``hidden``.
    seed : int
        The CRM's seed; the log uses its own stream derived from it.
    reference_date : str
        The export date: no event is logged at or after it.

    Returns
    -------
    DataFrame
        Columns :data:`EVENT_COLUMNS`: lead_id (str), timestamp (datetime64[ns]), activity_type (str,
        one of :data:`ACTIVITY_TYPES`), channel (str or missing) and value (pages viewed for web
        visits, minutes for trial activity, NaN otherwise), sorted by lead and time.
    """
    missing = [k for k in _HIDDEN_KEYS if k not in hidden]
    if missing:
        raise DataValidationError(f"generate_activities: hidden facts lack {missing}")
    n = len(lead_ids)
    # Independent of the lead table's stream: the table stays byte-identical with the log on or off.
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xAC7]))
    ref_s = int(pd.Timestamp(reference_date).normalize().value // 1_000_000_000)
    created_s = np.asarray(hidden["created"], dtype="datetime64[s]").astype(np.int64)
    end_s = np.asarray(hidden["cycle_end"], dtype="datetime64[s]").astype(np.int64)
    life_d = (end_s - created_s) / DAY_S  # the whole sales cycle, in days (>= 10)
    z = np.asarray(hidden["intent"], dtype=np.float64)
    source = np.asarray(hidden["lead_source"])
    ev = _Events()

    def at(lead: np.ndarray, offset_d: np.ndarray) -> np.ndarray:
        # Absolute seconds for an age in days; strictly inside the cycle (cycles are >= 10 days).
        return created_s[lead] + np.minimum(offset_d * DAY_S, (end_s[lead] - created_s[lead]) - 1)

    def early(counts: np.ndarray, scale_d: float) -> tuple[np.ndarray, np.ndarray]:
        lead = _repeat(counts)
        return lead, at(lead, _truncated_exponential(rng, np.full(len(lead), scale_d), life_d[lead]))

    # --- the first touch ---------------------------------------------------------------------------
    inbound = np.flatnonzero(source != _OUTBOUND)
    ev.add(inbound, created_s[inbound], _T["form_fill"], source[inbound])
    synd = np.flatnonzero(source == _SYNDICATION)
    ev.add(synd, created_s[synd] + 60, _T["content_download"], source[synd])

    # --- intent events behind the lead table's columns ---------------------------------------------
    pages = np.nan_to_num(np.asarray(hidden["pages_per_visit"], dtype=np.float64), nan=2.0)
    visits = np.asarray(hidden["web_visits"], dtype=np.int64)
    lead, t = early(visits, 8.0)
    web_channel = _C["organic"] + rng.integers(0, len(_WEB_CHANNELS), len(lead))
    ev.add(lead, t, _T["web_visit"], web_channel, np.maximum(1.0, np.round(rng.exponential(pages[lead]))))
    lead, t = early(np.asarray(hidden["pricing_page_views"], dtype=np.int64), 10.0)
    ev.add(lead, t, _T["pricing_page_view"], _C["organic"] + rng.integers(0, 4, len(lead)))
    lead, t = early(np.asarray(hidden["content_downloads"], dtype=np.int64), 8.0)
    ev.add(lead, t, _T["content_download"], _C["email"])

    opens = np.asarray(hidden["emails_opened"], dtype=np.int64)
    clicks = np.minimum(np.asarray(hidden["emails_clicked"], dtype=np.int64), opens)
    lead, t = early(opens, 10.0)
    ev.add(lead, t, _T["email_open"], _C["email"])
    # A click follows one of the lead's opens by up to half an hour.
    clicked = _rank_within(lead, opens) < clicks[lead]
    ev.add(lead[clicked], t[clicked] + rng.integers(5, 1800, int(clicked.sum())), _T["email_click"], _C["email"])

    for flag, kind, scale in (("demo_requested", "demo_request", 8.0), ("webinar_attended", "webinar", 14.0)):
        lead, t = early(np.asarray(hidden[flag], dtype=np.int64), scale)
        ev.add(lead, t, _T[kind], _C["direct"] if kind == "demo_request" else _C["email"])
    trial = np.asarray(hidden["trial_started"], dtype=np.int64)
    lead, t = early(trial, 10.0)
    ev.add(lead, t, _T["trial_start"], _C["product"])
    # Active trial days: one session on each of the first k days after the start, up to the cycle end.
    days = np.zeros(n, dtype=np.int64)
    days[lead] = np.asarray(hidden["trial_active_days"], dtype=np.int64)[lead]
    start = np.zeros(n, dtype=np.int64)
    start[lead] = t
    lead = _repeat(days)
    k = _rank_within(lead, days)
    t = np.minimum(start[lead] + k * DAY_S + rng.integers(600, 12 * 3600, len(lead)), end_s[lead] - 1)
    ev.add(lead, t, _T["trial_activity"], _C["product"], np.round(rng.exponential(25.0, len(lead)) + 1))

    # --- background activity: rate follows intent, rising (high intent) or falling over the life --
    trend = 2.0 * np.tanh(z)
    for kind, rate, beta, channel in (("web_visit", 0.06, 0.5, None), ("email_open", 0.05, 0.3, _C["email"])):
        counts = rng.poisson(life_d * rate * np.exp(beta * z))
        lead = _repeat(counts)
        t = at(lead, _trend_times(rng, trend[lead], life_d[lead]))
        if channel is None:
            ch = _C["organic"] + rng.integers(0, len(_WEB_CHANNELS), len(lead))
            ev.add(lead, t, _T[kind], ch, np.maximum(1.0, np.round(rng.exponential(pages[lead]))))
        else:
            ev.add(lead, t, _T[kind], channel)

    # --- after the outcome (closed leads only; the close is known at the end of the cycle) ---------
    is_open = np.asarray(hidden["is_open"], dtype=bool)
    won = np.asarray(hidden["won"], dtype=bool) & ~is_open
    lost = ~np.asarray(hidden["won"], dtype=bool) & ~is_open

    def after(mask: np.ndarray, counts: np.ndarray, scale_d: float) -> tuple[np.ndarray, np.ndarray]:
        lead = _repeat(np.where(mask, counts, 0))
        return lead, end_s[lead] + 60 + (rng.exponential(scale_d, len(lead)) * DAY_S).astype(np.int64)

    lead, t = after(won, rng.poisson(6.0, n), 15.0)
    ev.add(lead, t, _T["onboarding_email"], _C["email"])
    read = rng.random(len(lead)) < 0.6  # most onboarding emails are opened
    ev.add(lead[read], t[read] + rng.integers(60, 4 * 3600, int(read.sum())), _T["email_open"], _C["email"])
    lead, t = after(won, rng.poisson(8.0, n), 20.0)
    ev.add(lead, t, _T["web_visit"], _C["direct"], np.maximum(1.0, np.round(rng.exponential(4.0, len(lead)))))
    lead, t = after(lost, (rng.random(n) < 0.7).astype(np.int64), 3.0)
    ev.add(lead, t, _T["closed_lost_survey"], _C["email"])
    lead, t = after(lost, (rng.random(n) < 0.4).astype(np.int64), 7.0)
    ev.add(lead, t, _T["unsubscribe"], _C["email"])
    lead, t = after(lost, rng.poisson(1.0, n), 30.0)
    ev.add(lead, t, _T["email_open"], _C["email"])

    cols = ev.concat()
    keep = cols[1] < ref_s  # the export is taken at the reference date
    e_lead, e_t, e_kind, e_channel, e_value = (c[keep] for c in cols)
    order = np.lexsort((e_kind, e_t, e_lead))
    return pd.DataFrame(
        {
            "lead_id": _text(tuple(pd.Series(lead_ids).astype("str")), e_lead[order]),
            "timestamp": pd.Series(e_t[order].astype("datetime64[s]"), dtype="datetime64[ns]"),
            "activity_type": _text(ACTIVITY_TYPES, e_kind[order]),
            "channel": _text(_CHANNEL_LABELS, e_channel[order]),
            "value": e_value[order],
        }
    )
