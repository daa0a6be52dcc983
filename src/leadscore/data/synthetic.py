"""A synthetic B2B SaaS CRM export with a known ground truth.

Each lead has hidden facts (company size, industry, the contact's seniority and department, a
"buying intent" latent) that are rendered into the messy columns a CRM export really has. The true
conversion probability is a function of the observable fit and intent columns only:

    logit(true_p) = b0 + s_fit + s_intent + gamma * s_fit * s_intent + small non-linear terms

with ``gamma > 0``, so high intent from a poor-fit lead converts badly (the "danger zone") and
high fit with high intent converts best. Closed leads are won/lost by Bernoulli(true_p); leads
whose sales cycle has not ended by the reference date are open.

BANT fields are what a sales rep would write down: noisy readings of the same hidden facts, drawn
from the facts and independent noise, never from the outcome, so they are a fair baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from leadscore.config import SyntheticDriftConfig
from leadscore.errors import DataValidationError

REFERENCE_DATE = "2026-06-30"

LEAD_COLUMNS = (
    "lead_id",
    "created_at",
    "status",
    "closed_at",
    # fit
    "employees",
    "annual_revenue",
    "industry",
    "country",
    "job_title",
    "email_domain_type",
    "uses_crm",
    # intent
    "lead_source",
    "web_visits_30d",
    "pages_per_visit",
    "pricing_page_views",
    "demo_requested",
    "trial_started",
    "trial_active_days",
    "emails_opened",
    "emails_clicked",
    "webinar_attended",
    "content_downloads",
    "days_since_last_activity",
    # BANT, as recorded by reps
    "bant_budget",
    "bant_decision_maker",
    "bant_need",
    "bant_timeline",
)

# --- hidden facts and how they render -------------------------------------------------------------
# (canonical name, share of leads, fit effect on the logit, messy spellings seen in exports)
_INDUSTRIES = (
    ("Software", 0.17, 0.55, ("software", "Software ", "SOFTWARE", "Computer Software")),
    ("Financial Services", 0.10, 0.35, ("Fin. Services", "financial services", "Financial services ")),
    ("Healthcare", 0.09, 0.05, ("healthcare", "Health Care", "Healthcare ")),
    ("Manufacturing", 0.10, -0.05, ("manufacturing", "Manufacturing ")),
    ("Retail", 0.09, -0.15, ("retail", "Retail & E-commerce")),
    ("Education", 0.07, -0.45, ("education", "Edu", "Education ")),
    ("Government", 0.04, -0.60, ("government", "Public Sector", "Gov")),
    ("Media", 0.06, 0.10, ("media", "Media ")),
    ("Telecommunications", 0.05, 0.20, ("Telecom", "telecommunications", "Telco")),
    ("Professional Services", 0.10, 0.30, ("professional services", "Prof. Services", "Consulting")),
    ("Logistics", 0.07, -0.05, ("logistics", "Transportation & Logistics")),
    ("Non-profit", 0.06, -0.65, ("Nonprofit", "non-profit", "Non Profit", "NGO")),
)
_COUNTRIES = (
    ("United States", 0.32, 0.10, ("USA", "US", "United States of America", "U.S.", "united states")),
    ("United Kingdom", 0.10, 0.10, ("UK", "Great Britain", "England", "U.K.")),
    ("Germany", 0.08, 0.05, ("Deutschland", "DE", "germany")),
    ("France", 0.06, -0.05, ("france", "FR")),
    ("Canada", 0.06, 0.10, ("canada", "CA")),
    ("Australia", 0.05, 0.05, ("australia", "AU")),
    ("Netherlands", 0.04, 0.05, ("The Netherlands", "Holland", "NL")),
    ("India", 0.07, -0.25, ("india", "IN")),
    ("Brazil", 0.04, -0.20, ("brazil", "Brasil")),
    ("Spain", 0.04, -0.05, ("spain", "España")),
    ("Sweden", 0.03, 0.05, ("sweden", "SE")),
    ("Japan", 0.03, -0.15, ("japan", "JP")),
    ("Singapore", 0.03, 0.05, ("singapore", "SG")),
    ("Mexico", 0.03, -0.20, ("mexico", "México")),
    ("Italy", 0.02, -0.05, ("italy", "Italia")),
)
# (name, share, intent effect): where the lead came from says something about intent.
_LEAD_SOURCES = (
    ("organic_search", 0.22, 0.10),
    ("paid_search", 0.18, 0.00),
    ("referral", 0.08, 0.45),
    ("event", 0.10, 0.20),
    ("outbound", 0.20, -0.30),
    ("partner", 0.07, 0.25),
    ("content_syndication", 0.15, -0.40),
)

_SENIORITIES = ("c_level", "vp", "director", "manager", "individual_contributor", "student")
_SENIORITY_SHARE = np.array([0.06, 0.07, 0.13, 0.24, 0.44, 0.06])
# Decision power: VPs and C-level sign SaaS contracts; students never do.
_SENIORITY_FIT = np.array([0.70, 0.80, 0.55, 0.10, -0.50, -1.60])

_DEPARTMENTS = ("executive", "sales", "marketing", "engineering", "it", "finance", "operations", "hr", "other")
# A CRM-adjacent product: sales, marketing and the executive team are the buyers.
_DEPARTMENT_FIT = np.array([0.40, 0.55, 0.45, -0.25, 0.00, -0.20, 0.05, -0.30, -0.35])
# Department shares for C-level (mostly CEO/founder), for everyone else, and for students.
_DEPARTMENT_SHARE = {
    "c_level": np.array([0.60, 0.10, 0.08, 0.08, 0.03, 0.05, 0.04, 0.02, 0.00]),
    "staff": np.array([0.00, 0.25, 0.22, 0.15, 0.08, 0.07, 0.08, 0.05, 0.10]),
    "student": np.array([0.00, 0.10, 0.10, 0.10, 0.00, 0.00, 0.00, 0.00, 0.70]),
}

# How job titles are written, per department: display names and hand-typed variants.
_DEPT_WORDS = {
    "sales": ("Sales", "Sales", "Business Development", "Global Sales", "Inside Sales"),
    "marketing": ("Marketing", "Marketing", "Demand Generation", "Growth Marketing", "Digital Marketing"),
    "engineering": ("Engineering", "Engineering", "Software Engineering", "R&D", "Software Development"),
    "it": ("IT", "IT", "Information Technology", "IT Infrastructure", "Information Systems"),
    "finance": ("Finance", "Finance", "Accounting", "FP&A"),
    "operations": ("Operations", "Operations", "Supply Chain", "Logistics", "Procurement"),
    "hr": ("HR", "Human Resources", "People", "Talent Acquisition"),
    "other": ("Customer Success", "Product", "Legal", "Customer Support", "Strategy"),
}
_LEVEL_PATTERNS = {
    "vp": (
        "VP of {D}",
        "VP {D}",
        "vp, {d}",
        "Vice President, {D}",
        "Vice President of {D}",
        "SVP {D}",
        "SVP, {D}",
        "EVP {D}",
        "V.P. {D}",
        "Senior Vice President, {D}",
    ),
    "director": (
        "Director of {D}",
        "{D} Director",
        "Dir. {D}",
        "Head of {D}",
        "Sr. Director, {D}",
        "Senior Director of {D}",
        "Global Head of {D}",
        "Director, {D}",
        "head of {d}",
    ),
    "manager": (
        "{D} Manager",
        "{D} Mgr",
        "Sr. {D} Manager",
        "Manager, {D}",
        "{D} Team Lead",
        "Senior Manager, {D}",
        "{D} Supervisor",
        "{d} manager",
    ),
}
_C_LEVEL_TITLES = {
    "executive": (
        "CEO",
        "Chief Executive Officer",
        "Founder & CEO",
        "Co-Founder",
        "Founder",
        "Owner",
        "President",
        "Co-founder and CEO",
        "President & CEO",
        "Managing Director",
        "Owner/Operator",
        "Founder/CEO",
        "ceo",
    ),
    "sales": ("Chief Revenue Officer", "CRO", "Chief Sales Officer", "Chief Commercial Officer"),
    "marketing": ("CMO", "Chief Marketing Officer", "Chief Growth Officer"),
    "engineering": ("CTO", "Chief Technology Officer", "Co-Founder & CTO", "cto"),
    "it": ("CIO", "Chief Information Officer", "CISO"),
    "finance": ("CFO", "Chief Financial Officer"),
    "operations": ("COO", "Chief Operating Officer"),
    "hr": ("Chief People Officer", "CHRO"),
}
_IC_TITLES = {
    "sales": (
        "Account Executive",
        "SDR",
        "Sales Development Representative",
        "BDR",
        "Business Development Representative",
        "Sales Representative",
        "Inside Sales Rep",
        "Senior Account Executive",
        "Sales Associate",
    ),
    "marketing": (
        "Marketing Coordinator",
        "Marketing Specialist",
        "Content Marketer",
        "SEO Specialist",
        "Marketing Associate",
        "Growth Marketer",
        "Social Media Specialist",
        "Marketing Assistant",
    ),
    "engineering": (
        "Software Engineer",
        "Sr Software Engineer",
        "Senior Developer",
        "Developer",
        "Data Scientist",
        "DevOps Engineer",
        "Full Stack Developer",
        "Backend Engineer",
        "QA Engineer",
    ),
    "it": (
        "IT Specialist",
        "System Administrator",
        "Sysadmin",
        "IT Support Technician",
        "Network Engineer",
        "Help Desk Analyst",
        "IT Analyst",
        "Information Security Analyst",
    ),
    "finance": (
        "Accountant",
        "Financial Analyst",
        "Bookkeeper",
        "Senior Accountant",
        "Accounts Payable Specialist",
        "Finance Associate",
    ),
    "operations": (
        "Operations Analyst",
        "Operations Coordinator",
        "Logistics Coordinator",
        "Procurement Specialist",
        "Supply Chain Analyst",
    ),
    "hr": ("HR Generalist", "Recruiter", "Talent Acquisition Specialist", "HR Business Partner", "Technical Recruiter"),
    "other": (
        "Analyst",
        "Consultant",
        "Executive Assistant",
        "Administrative Assistant",
        "Assistant to the CEO",
        "Customer Support Agent",
        "Project Coordinator",
        "Paralegal",
        "Teacher",
        "Product Owner",
        "Research Scientist",
    ),
}
_STUDENT_TITLES = {
    "sales": ("Sales Intern",),
    "marketing": ("Marketing Intern",),
    "engineering": ("Software Engineering Intern",),
    "other": ("Student", "Intern", "PhD Student", "Graduate Student", "MBA Candidate", "Summer Intern", "student"),
}
_JUNK_TITLES = ("n/a", "-", "asdf", ".", "x", "N/A", "none", "test", "???", "--")
# How reps mistype titles: as is, lower case, upper case, padded, doubled spaces.
_TITLE_STYLES = (
    lambda t: t,
    str.lower,
    str.upper,
    lambda t: f"  {t} ",
    lambda t: t.replace(" ", "  "),
)
_YES_NO_UNKNOWN = ("yes", "no", "unknown")
_TIMELINES = ("<1 month", "1-3 months", "3-6 months", ">6 months", "unknown")


# Truth-function constants. The centres were measured once on a 1,000,000-lead sample so that
# s_fit and s_intent have mean ~0 (sd ~1.2 and ~1.0), which makes gamma * s_fit * s_intent a pure
# interaction; they are fixed so the truth function is the same for every n and seed. B0 puts
# the closed-lead base rate near 15%; GAMMA > 0 creates the danger zone (high intent, poor fit).
_FIT_CENTER, _FIT_SCALE = 0.28, 1.0
_INTENT_CENTER, _INTENT_SCALE = 0.11, 1.0
_B0 = -2.55
_GAMMA = 0.25

# --- the second world (issue 15): params data.synthetic.world "interactions" -----------------------
# A truth that is NOT a smooth additive logit, designed and fixed before any model was scored on it,
# so improvements to the models are measured on a world they were not designed on:
#   * fit x intent interaction by segment: engagement is worth a lot from a commercial buyer and
#     almost nothing from the public sector or a student (procurement decides there, not clicks);
#   * thresholds: pricing-page views count from 2 (and more from 5), a trial only from 7 active days,
#     a demo only when the contact can sign (C-level, VP, director), silence beyond 30 days is a cliff;
#   * saturation: fit and intent each saturate (tanh), so the best leads do not run off to p = 1;
#   * non-monotone effects: company size peaks at a few hundred employees and falls on both sides;
#     pages per visit peak near e ~ 2.7 (more reads as confusion or research, not buying);
#   * a CRM only matters when the contact is in sales or marketing.
# The constants are fixed: the centres were measured once on a 1,000,000-lead sample (mean ~0), B0 puts
# the closed-lead base rate near 15%, like the default world's.
WORLDS = ("additive", "interactions")
# Intent weight per industry (order of _INDUSTRIES) and per seniority (order of _SENIORITIES).
_W2_INDUSTRY = np.array([1.30, 1.10, 0.60, 0.90, 0.90, 0.25, 0.20, 1.00, 1.00, 1.10, 0.90, 0.25])
_W2_SENIORITY = np.array([1.30, 1.20, 1.00, 0.75, 0.45, 0.10])
_W2_FIT_CENTER, _W2_INTENT_CENTER = 0.14, 0.26
_W2_B0 = -2.31
_W2_FIT_CAP, _W2_INTENT_CAP = 1.8, 2.4
_W2_INTENT_SCALE = 1.6  # engagement matters more here than in the default world, where it counts


def _interactions_terms(
    *,
    log10_emp: np.ndarray,
    industry_term: np.ndarray,
    country_term: np.ndarray,
    seniority: np.ndarray,
    department: np.ndarray,
    email_term: np.ndarray,
    uses_crm: np.ndarray,
    industry: np.ndarray,
    source: np.ndarray,
    pricing_views: np.ndarray,
    demo: np.ndarray,
    trial_days: np.ndarray,
    emails_clicked: np.ndarray,
    webinar: np.ndarray,
    downloads: np.ndarray,
    web_visits: np.ndarray,
    pages_per_visit: np.ndarray,
    recency: np.ndarray,
    drift_intent: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The second world's truth in its three parts (see the comment above :data:`WORLDS`); no random draws.

    Returns ``(fit, intent, weight)``: the saturated fit and intent terms and the segment's intent weight;
    the true log-odds are ``_W2_B0 + fit + weight * intent`` (:func:`_interactions_logit`).
    """
    # Fit: a narrow size bump (peak ~400 employees), a CRM that matters for sales/marketing contacts only.
    size_term = np.maximum(0.9 - 0.9 * (log10_emp - 2.6) ** 2, -1.5)
    crm_term = 0.8 * uses_crm * np.isin(department, (1, 2))
    raw_fit = (
        size_term
        + industry_term
        + country_term
        + _SENIORITY_FIT[seniority]
        + _DEPARTMENT_FIT[department]
        + email_term
        + crm_term
    )
    # Intent: thresholds and steps rather than smooth log-counts.
    signer = seniority <= _SENIORITIES.index("director")
    log_ppv = np.log(np.where(web_visits > 0, np.maximum(pages_per_visit, 0.1), np.e))
    raw_intent = (
        np.array([row[2] for row in _LEAD_SOURCES])[source]
        + 0.70 * (pricing_views >= 2)
        + 0.40 * (pricing_views >= 5)
        + 1.10 * (demo & signer)
        + 0.90 * (trial_days >= 7)
        + 0.30 * np.log1p(emails_clicked)
        + 0.30 * webinar
        + 0.15 * np.log1p(downloads)
        + 0.15 * np.log1p(web_visits)
        - 0.60 * (log_ppv - 1.0) ** 2
        - 0.90 * (recency > 30)
        + drift_intent
    )
    weight = _W2_INDUSTRY[industry] * _W2_SENIORITY[seniority]
    # Each axis saturates; intent counts in proportion to the segment's weight.
    fit = _W2_FIT_CAP * np.tanh((raw_fit - _W2_FIT_CENTER) / _W2_FIT_CAP)
    intent = _W2_INTENT_CAP * np.tanh(_W2_INTENT_SCALE * (raw_intent - _W2_INTENT_CENTER) / _W2_INTENT_CAP)
    return fit, intent, weight


def _interactions_logit(**arrays: Any) -> np.ndarray:
    """True log-odds of the second world (the arguments of :func:`_interactions_terms`)."""
    fit, intent, weight = _interactions_terms(**arrays)
    return _W2_B0 + fit + weight * intent


def _title_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat template table: (titles, offset per (seniority, department) cell, count per cell)."""
    titles: list[str] = []
    offsets = np.zeros(len(_SENIORITIES) * len(_DEPARTMENTS), dtype=np.int64)
    counts = np.zeros_like(offsets)
    for s, seniority in enumerate(_SENIORITIES):
        for d, department in enumerate(_DEPARTMENTS):
            if seniority == "c_level":
                cell = _C_LEVEL_TITLES.get(department, ())
            elif seniority == "individual_contributor":
                cell = _IC_TITLES.get(department, ())
            elif seniority == "student":
                cell = _STUDENT_TITLES.get(department, ())
            elif department in _DEPT_WORDS:
                cell = tuple(
                    pattern.format(D=word, d=word.lower())
                    for pattern in _LEVEL_PATTERNS[seniority]
                    for word in _DEPT_WORDS[department]
                )
            else:
                cell = ()
            offsets[s * len(_DEPARTMENTS) + d] = len(titles)
            counts[s * len(_DEPARTMENTS) + d] = len(cell)
            titles.extend(cell)
    return np.array(titles, dtype=object), offsets, counts


def _pick(rng: np.random.Generator, shares: np.ndarray, size: int) -> np.ndarray:
    # Categorical draw as codes; searchsorted on the cumulative shares is the vectorised inverse CDF.
    cumulative = np.cumsum(shares / shares.sum())
    return np.minimum(np.searchsorted(cumulative, rng.random(size), side="right"), len(shares) - 1)


def _pick_rows(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    # One categorical draw per row from row-specific shares (n x k).
    cumulative = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(shares))[:, None]
    return np.minimum((u >= cumulative).sum(axis=1), shares.shape[1] - 1)


def _render_categories(
    rng: np.random.Generator, codes: np.ndarray, table: tuple, p_variant: float
) -> tuple[list[str], np.ndarray]:
    """Labels and codes: canonical for most rows, one of the messy spellings for a share p_variant."""
    labels = [row[0] for row in table] + [v for row in table for v in row[3]]
    counts = np.array([len(row[3]) for row in table])
    offsets = len(table) + np.concatenate([[0], np.cumsum(counts)[:-1]])
    variant = offsets[codes] + (rng.random(len(codes)) * counts[codes]).astype(np.int64)
    return labels, np.where(rng.random(len(codes)) < p_variant, variant, codes)


def _text(labels: Sequence[str], codes: np.ndarray) -> pd.Series:
    """A ``str`` column from integer codes into ``labels``; code -1 is missing.

    Built as an Arrow dictionary array: ten times faster than converting a million Python strings.
    """
    dictionary = pa.array(list(labels), type=pa.large_string())
    indices = pa.array(np.asarray(codes, dtype=np.int64), mask=np.asarray(codes) < 0)
    return pd.Series(pd.array(pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()), dtype="str"))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _validate(n: int, seed: int, reference_date: str, months: int) -> pd.Timestamp:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataValidationError(f"generate_leads: n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataValidationError(f"generate_leads: seed must be a non-negative integer, got {seed!r}")
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 3:
        raise DataValidationError(f"generate_leads: months must be an integer >= 3, got {months!r}")
    try:
        reference = pd.Timestamp(reference_date)
    except (ValueError, TypeError) as exc:
        raise DataValidationError(
            f"generate_leads: reference_date must be a date like '2026-06-30', got {reference_date!r}"
        ) from exc
    if pd.isna(reference):
        raise DataValidationError(f"generate_leads: reference_date must be a date, got {reference_date!r}")
    return reference.normalize()


def _generate(
    n: int = 100_000,
    *,
    seed: int = 42,
    reference_date: str = REFERENCE_DATE,
    months: int = 24,
    drift: SyntheticDriftConfig | None = None,
    world: str = "additive",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Like :func:`generate_leads` but also return the hidden facts (for tests and diagnostics).

    Returns
    -------
    (leads, truth, latents)
        ``latents`` has columns lead_id, seniority, department, industry, employees_true,
        intent_latent, s_fit and s_intent, row-aligned with ``leads``; in the second world also
        world2_fit, world2_intent and world2_weight (its true log-odds are
        ``_W2_B0 + world2_fit + world2_weight * world2_intent``, plus the drift term when drift is on).
    """
    leads, truth, latents, _ = _simulate(
        n, seed=seed, reference_date=reference_date, months=months, drift=drift, world=world
    )
    return leads, truth, latents


def _simulate(
    n: int,
    *,
    seed: int,
    reference_date: str,
    months: int,
    drift: SyntheticDriftConfig | None = None,
    world: str = "additive",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """The generator itself: :func:`_generate`'s frames plus the raw hidden arrays (row-aligned).

    The arrays are what the activity log is drawn from (leadscore.data.activities): the hidden
    intent, the hidden end of every sales cycle (also for leads still open), the outcome and the
    human engagement counts behind the lead table's intent columns. Drawing the log from them with
    its own random stream leaves this function's draws, and so the lead table, unchanged.
    """
    reference = _validate(n, seed, reference_date, months)
    if world not in WORLDS:
        raise DataValidationError(f"generate_leads: world must be one of {list(WORLDS)}, got {world!r}")
    rng = np.random.default_rng(seed)

    # --- timeline ------------------------------------------------------------------------------
    start = reference - pd.DateOffset(months=months)
    span_s = int((reference - start).total_seconds())
    # Volume grows ~60% over the window: inverse CDF of a density proportional to exp(g t).
    g = np.log(1.6)
    t = np.sort(np.log1p(rng.random(n) * np.expm1(g)) / g)  # sorted: lead ids follow creation order
    created = start.to_datetime64().astype("datetime64[s]") + (t * (span_s - 1)).astype("timedelta64[s]")
    # The sales cycle is drawn independently of the outcome, so "still open" carries no label signal.
    cycle_s = ((10.0 + rng.exponential(30.0, n)) * 86_400).astype("timedelta64[s]")
    closed = created + cycle_s
    is_open = closed > reference.to_datetime64().astype("datetime64[s]")

    # --- fit facts -----------------------------------------------------------------------------
    log_emp = rng.normal(np.log(80.0), 1.9, n)
    employees_true = np.clip(np.round(np.exp(log_emp)), 1, 100_000).astype(np.int64)
    log10_emp = np.log10(employees_true)
    revenue_true = employees_true * np.exp(rng.normal(np.log(160_000.0), 0.55, n))
    industry = _pick(rng, np.array([row[1] for row in _INDUSTRIES]), n)
    country = _pick(rng, np.array([row[1] for row in _COUNTRIES]), n)

    # Small companies are run by their owners: more C-level contacts there.
    small = (employees_true < 20)[:, None]
    seniority_shares = np.where(small, _SENIORITY_SHARE + np.array([0.22, 0, 0, 0, 0, 0]), _SENIORITY_SHARE)
    seniority = _pick_rows(rng, seniority_shares)
    is_student = seniority == _SENIORITIES.index("student")
    dept_shares = np.select(
        [(seniority == 0)[:, None], is_student[:, None]],
        [_DEPARTMENT_SHARE["c_level"][None, :], _DEPARTMENT_SHARE["student"][None, :]],
        _DEPARTMENT_SHARE["staff"][None, :],
    )
    department = _pick_rows(rng, dept_shares)
    # Students sign up with university or personal addresses; a few staff use webmail too.
    email_shares = np.where(is_student[:, None], [0.05, 0.30, 0.65], [0.80, 0.16, 0.04])
    email = _pick_rows(rng, email_shares)  # 0 corporate, 1 webmail, 2 edu
    uses_crm = rng.random(n) < _sigmoid(-0.6 + 0.35 * (log10_emp - 2.0) + 0.6 * (department == 1))

    # --- intent facts --------------------------------------------------------------------------
    # Better-fit leads engage somewhat more; the rest of intent is independent of fit.
    fit_hint = _SENIORITY_FIT[seniority] + _DEPARTMENT_FIT[department] - 0.8 * (email > 0)
    intent = 0.30 * (fit_hint - 0.1) / 0.7 + np.sqrt(1 - 0.30**2) * rng.normal(0.0, 1.0, n)
    source = _pick(rng, np.array([row[1] for row in _LEAD_SOURCES]), n)
    source_effect = np.array([row[2] for row in _LEAD_SOURCES])[source]
    z = intent + source_effect

    web_visits = rng.poisson(np.exp(0.9 + 0.6 * z))
    pages_per_visit = np.where(web_visits > 0, np.round(np.exp(rng.normal(0.8 + 0.15 * z, 0.4)), 2), 0.0)
    pricing_views = rng.poisson(np.exp(-1.3 + 0.9 * z))
    demo = rng.random(n) < _sigmoid(-2.6 + 1.1 * z)
    trial = rng.random(n) < _sigmoid(-2.2 + 0.9 * z)
    trial_days = np.where(trial, rng.binomial(14, _sigmoid(-0.3 + 0.8 * z + rng.normal(0, 0.8, n))), 0)
    emails_opened = rng.poisson(np.exp(1.0 + 0.35 * z))
    emails_clicked = rng.binomial(emails_opened, _sigmoid(-1.8 + 0.6 * z))
    webinar = rng.random(n) < _sigmoid(-2.0 + 0.7 * z)
    downloads = rng.poisson(np.exp(-0.6 + 0.6 * z))
    recency = np.minimum(np.floor(rng.exponential(np.exp(2.4 - 0.6 * z))), 365).astype(np.int64)

    # --- optional drift (params data.synthetic.drift, off by default; see _drift) ---------------
    drift_on = drift is not None and drift.enabled
    if drift is not None and drift.enabled:
        counts, drift_intent, drift_logit = _drift(
            drift,
            seed=seed,
            t=t,
            counts={"pricing_page_views": pricing_views, "content_downloads": downloads, "web_visits_30d": web_visits},
        )
        pricing_views, downloads, web_visits = (
            counts[c] for c in ("pricing_page_views", "content_downloads", "web_visits_30d")
        )

    # --- ground truth: observable fit and intent only ------------------------------------------
    # Size sweet spot 50-5,000 employees (log10 1.7-3.7), falling off linearly in log size outside it.
    size_term = 0.60 - 1.80 * np.maximum(0.0, 1.7 - log10_emp) - 0.80 * np.maximum(0.0, log10_emp - 3.7)
    industry_term = np.array([row[2] for row in _INDUSTRIES])[industry]
    country_term = np.array([row[2] for row in _COUNTRIES])[country]
    email_term = np.array([0.0, -0.6, -1.0])[email]
    raw_fit = (
        size_term
        + industry_term
        + country_term
        + _SENIORITY_FIT[seniority]
        + _DEPARTMENT_FIT[department]
        + email_term
        + 0.40 * uses_crm
    )
    raw_intent = (
        np.array([row[2] for row in _LEAD_SOURCES])[source]
        + 0.45 * np.log1p(pricing_views)
        + 0.85 * demo
        + 0.45 * trial
        + 0.35 * np.log1p(trial_days)
        + 0.35 * np.log1p(emails_clicked)
        + 0.30 * webinar
        + 0.20 * np.log1p(downloads)
        + 0.20 * np.log1p(web_visits)
        - 0.30 * np.log1p(recency)
    )
    if drift_on:
        raw_intent = raw_intent + drift_intent
    # Fixed centring/scaling constants (measured once on a large sample) keep the truth function
    # identical for every n rather than re-standardising each sample.
    s_fit = _FIT_SCALE * (raw_fit - _FIT_CENTER)
    s_intent = _INTENT_SCALE * (raw_intent - _INTENT_CENTER)
    # Small non-linear effects: a demo plus an active trial is more than the sum of its parts, and
    # a lead silent for over two months has gone cold whatever it did before.
    nonlinear = 0.30 * (demo & (trial_days >= 7)) - 0.25 * (recency > 60)
    logit = _B0 + s_fit + s_intent + _GAMMA * s_fit * s_intent + nonlinear
    world2_terms = None
    if world == "interactions":
        # The second world (params data.synthetic.world): same leads, another truth. Computed after
        # the default's, from the same arrays and without a random draw, so every column but the
        # outcome is identical to the default world's for the same seed.
        world2_terms = _interactions_terms(
            log10_emp=log10_emp,
            industry_term=industry_term,
            country_term=country_term,
            seniority=seniority,
            department=department,
            email_term=email_term,
            uses_crm=uses_crm,
            industry=industry,
            source=source,
            pricing_views=pricing_views,
            demo=demo,
            trial_days=trial_days,
            emails_clicked=emails_clicked,
            webinar=webinar,
            downloads=downloads,
            web_visits=web_visits,
            pages_per_visit=pages_per_visit,
            recency=recency,
            drift_intent=drift_intent if drift_on else 0.0,
        )
        logit = _W2_B0 + world2_terms[0] + world2_terms[2] * world2_terms[1]
    if drift_on:
        logit = logit + drift_logit
    true_p = _sigmoid(logit)

    won = rng.random(n) < true_p

    # --- BANT as reps record it: from the hidden facts plus noise, never from the outcome -------
    # Each reading uses latents (true revenue, seniority, industry/department fit, the intent latent)
    # and its own noise. The outcome is Bernoulli(true_p) with its own uniform draw, true_p being a
    # function of the observed columns, so BANT is independent of won/lost given the facts: it
    # carries no label leakage, only the (noisy) information a diligent rep really has.
    budget_yes = rng.random(n) < _sigmoid(
        3.5 * (np.log10(revenue_true) - 6.9) + 3.0 * industry_term + rng.normal(0.0, 0.6, n)
    )
    budget = np.where(budget_yes, 0, 1)  # codes into _YES_NO_UNKNOWN
    decision_maker = np.where(rng.random(n) < np.array([0.85, 0.80, 0.60, 0.20, 0.05, 0.01])[seniority], 0, 1)
    need_signal = industry_term + _DEPARTMENT_FIT[department] + 0.4 * uses_crm
    need = np.where(rng.random(n) < _sigmoid(-0.4 + 3.0 * need_signal + rng.normal(0.0, 0.4, n)), 0, 1)
    # Timeline: the rep hears about it on the demo/trial call, so it tracks the intent latent.
    timeline_signal = intent + 0.8 * demo + 0.5 * trial + rng.normal(0.0, 1.0, n)
    timeline = np.digitize(-timeline_signal, [-1.6, -0.6, 0.4])  # codes into _TIMELINES
    # Reps leave a criterion "unknown" when they did not ask, more often for low-engagement leads.
    for codes, unknown_code in ((budget, 2), (decision_maker, 2), (need, 2), (timeline, 4)):
        codes[rng.random(n) < 0.10 - 0.04 * np.tanh(intent)] = unknown_code
        codes[rng.random(n) < 0.03] = -1  # field never filled in

    # --- render the observed, messy columns ----------------------------------------------------
    template_titles, offsets, title_counts = _title_table()
    cell = seniority * len(_DEPARTMENTS) + department
    template = offsets[cell] + (rng.random(n) * title_counts[cell]).astype(np.int64)
    # Hand-typed casing and whitespace: each template has _TITLE_STYLES renderings, then junk,
    # empty and missing titles are appended at the end of the label table.
    style = _pick(rng, np.array([0.82, 0.09, 0.03, 0.03, 0.03]), n)
    title_labels = [render(t) for t in template_titles for render in _TITLE_STYLES] + [*_JUNK_TITLES, ""]
    title_codes = template * len(_TITLE_STYLES) + style
    junk = rng.random(n)
    junk_codes = len(template_titles) * len(_TITLE_STYLES) + rng.integers(0, len(_JUNK_TITLES), n)
    title_codes = np.select(
        [junk < 0.008, junk < 0.013, junk < 0.028],
        [junk_codes, len(title_labels) - 1, -1],
        title_codes,
    )

    employees = employees_true.copy()
    # Data-entry errors: a few absurd head counts (the truth uses the real size).
    absurd = rng.random(n) < 0.0008
    employees[absurd] = rng.choice(np.array([1_000_000, 5_000_000, 9_999_999]), n)[absurd]
    # Bot traffic: a few leads with absurd visit counts (the truth uses the human visits).
    web_visits_obs = np.where(rng.random(n) < 0.002, rng.integers(300, 5_000, n), web_visits)
    revenue = np.where(rng.random(n) < 0.12, np.nan, np.round(revenue_true, -3))
    pages_per_visit = np.where(rng.random(n) < 0.04, np.nan, pages_per_visit)
    uses_crm_obs = uses_crm.astype(object)
    uses_crm_obs[rng.random(n) < 0.05] = None

    industry_labels, industry_codes = _render_categories(rng, industry, _INDUSTRIES, p_variant=0.08)
    country_labels, country_codes = _render_categories(rng, country, _COUNTRIES, p_variant=0.12)
    source_codes = np.where(rng.random(n) < 0.03, -1, source)
    status = np.where(is_open, 2, np.where(won, 0, 1))

    leads = pd.DataFrame(
        {
            "lead_id": _lead_ids(n),
            "created_at": pd.Series(created, dtype="datetime64[ns]"),
            "status": _text(("won", "lost", "open"), status),
            "closed_at": pd.Series(np.where(is_open, np.datetime64("NaT", "s"), closed), dtype="datetime64[ns]"),
            "employees": employees,
            "annual_revenue": revenue,
            "industry": _text(industry_labels, np.where(rng.random(n) < 0.04, -1, industry_codes)),
            "country": _text(country_labels, np.where(rng.random(n) < 0.03, -1, country_codes)),
            "job_title": _text(title_labels, title_codes),
            "email_domain_type": _text(("corporate", "webmail", "edu"), email),
            "uses_crm": uses_crm_obs,
            "lead_source": _text([row[0] for row in _LEAD_SOURCES], source_codes),
            "web_visits_30d": web_visits_obs.astype(np.int64),
            "pages_per_visit": pages_per_visit,
            "pricing_page_views": pricing_views.astype(np.int64),
            "demo_requested": demo,
            "trial_started": trial,
            "trial_active_days": trial_days.astype(np.int64),
            "emails_opened": emails_opened.astype(np.int64),
            "emails_clicked": emails_clicked.astype(np.int64),
            "webinar_attended": webinar,
            "content_downloads": downloads.astype(np.int64),
            "days_since_last_activity": recency,
            "bant_budget": _text(_YES_NO_UNKNOWN, budget),
            "bant_decision_maker": _text(_YES_NO_UNKNOWN, decision_maker),
            "bant_need": _text(_YES_NO_UNKNOWN, need),
            "bant_timeline": _text(_TIMELINES, timeline),
        }
    )
    truth = pd.DataFrame({"lead_id": leads["lead_id"], "true_p": true_p})
    latents = pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "seniority": _text(_SENIORITIES, seniority),
            "department": _text(_DEPARTMENTS, department),
            "industry": _text([row[0] for row in _INDUSTRIES], industry),
            "employees_true": employees_true,
            "intent_latent": intent,
            "s_fit": s_fit,
            "s_intent": s_intent,
        }
    )
    if world2_terms is not None:
        # The second world's own parts (bench/world2_ceiling.py measures the models against them).
        latents = latents.assign(
            world2_fit=world2_terms[0], world2_intent=world2_terms[1], world2_weight=world2_terms[2]
        )
    hidden = {
        "created": created,
        "cycle_end": closed,
        "is_open": is_open,
        "won": won & ~is_open,
        "intent": z,
        "lead_source": source,
        "web_visits": web_visits,
        "pages_per_visit": pages_per_visit,
        "pricing_page_views": pricing_views,
        "demo_requested": demo,
        "trial_started": trial,
        "trial_active_days": trial_days,
        "emails_opened": emails_opened,
        "emails_clicked": emails_clicked,
        "webinar_attended": webinar,
        "content_downloads": downloads,
    }
    return leads, truth, latents, hidden


# --- drift (issue 11): a CRM that moves, for the backtest, the drift report and the monitor ---------
# Each column's coefficient on log1p(count) in raw_intent above (kept in step with it).
_DRIFT_EFFECTS = {"pricing_page_views": 0.45, "content_downloads": 0.20, "web_visits_30d": 0.20}


def _drift(
    drift: SyntheticDriftConfig, *, seed: int, t: np.ndarray, counts: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Shifted counts, the change to raw_intent and the change to the true log-odds.

    Story (the default column): halfway through, a redesigned pricing page with self-serve checkout
    makes a pricing-page view say more about buying (its effect on the true log-odds is multiplied by
    ``effect_multiplier``); from ``shift_from`` on, a campaign sends every lead to that page
    (Poisson(``shift_extra``) more views): the column's distribution moves. Meanwhile the market warms
    up: the log-odds rise linearly by ``base_rate_logit_rise`` over the window. The truth stays a
    function of the observed columns. Draws come from a generator of their own, so every other column
    is exactly what the same seed gives without drift.
    """
    rng = np.random.default_rng([seed, 0xD81F7])
    column = drift.shifted_column
    counts = dict(counts)
    late = t >= drift.shift_from
    extra = rng.poisson(drift.shift_extra, len(t))
    counts[column] = counts[column] + np.where(late, extra, 0)
    # also_shifted: the same campaign brings every lead back to the site (more visits, more downloads
    # of the gated content it promotes). Drawn after the first column's draws, so turning it on does
    # not move them; what these columns say about buying is unchanged.
    for other in drift.also_shifted:
        counts[other] = counts[other] + np.where(late, rng.poisson(drift.also_shifted_extra, len(t)), 0)
    # The truth stays a function of the observed column: after the change its effect is scaled.
    changed = t >= drift.effect_change_at
    intent_delta = np.where(changed, (drift.effect_multiplier - 1.0) * _DRIFT_EFFECTS[column], 0.0) * np.log1p(
        counts[column]
    )
    return counts, intent_delta, drift.base_rate_logit_rise * t


def _lead_ids(n: int) -> pd.Series:
    # "L0000001", ...; wider only if n needs more than seven digits.
    width = max(7, len(str(n)))
    return ("L" + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)).astype("str")


def generate_leads(
    n: int = 100_000,
    *,
    seed: int = 42,
    reference_date: str = REFERENCE_DATE,
    months: int = 24,
    drift: SyntheticDriftConfig | None = None,
    world: str = "additive",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a B2B SaaS CRM export with a known conversion probability per lead.

    Parameters
    ----------
    n : int
        Number of leads (rows).
    seed : int
        Seed of the random generator; the same arguments always give identical frames.
    reference_date : str
        Export date: leads are created in the ``months`` months before it, and a lead whose
        sales cycle would end after it is still open.
    months : int
        Length of the history window.
    drift : SyntheticDriftConfig, optional
        A moving CRM (rising base rate, one intent column whose effect changes halfway and whose
        distribution shifts late); None or ``enabled: false`` leaves the data exactly as without it.
    world : {"additive", "interactions"}
        The truth function (params data.synthetic.world). "additive" (default): the smooth logit above.
        "interactions": the second world (:func:`_interactions_logit`): intent counts only in some
        segments, thresholds, saturation and a non-monotone effect. Only the outcomes (status) and the
        truth differ between worlds; every other column is the same for the same seed.

    Returns
    -------
    (leads, truth)
        ``leads`` has one row per lead with the columns in :data:`LEAD_COLUMNS`; ``truth`` has
        columns ``lead_id`` and ``true_p`` (the true conversion probability).

    Raises
    ------
    DataValidationError
        If ``n``, ``seed``, ``months`` or ``reference_date`` is invalid.
    """
    leads, truth, _ = _generate(n, seed=seed, reference_date=reference_date, months=months, drift=drift, world=world)
    return leads, truth


class SyntheticCRM(NamedTuple):
    """The synthetic CRM: lead table, truth, and the activity log (None unless asked for)."""

    leads: pd.DataFrame
    truth: pd.DataFrame
    activities: pd.DataFrame | None


def generate_crm(
    n: int = 100_000,
    *,
    seed: int = 42,
    reference_date: str = REFERENCE_DATE,
    months: int = 24,
    activities: bool = False,
    drift: SyntheticDriftConfig | None = None,
    world: str = "additive",
) -> SyntheticCRM:
    """:func:`generate_leads`, optionally with the leads' activity log (params data.synthetic.activities).

    The lead table and truth are identical to :func:`generate_leads` with the same arguments,
    whether or not the log is drawn: the log has its own random stream derived from ``seed``.

    Returns
    -------
    SyntheticCRM
        ``activities`` is the event log of :func:`leadscore.data.activities.generate_activities`
        (one row per event, up to ``reference_date``), or None when ``activities`` is False.
    """
    leads, truth, _, hidden = _simulate(
        n, seed=seed, reference_date=reference_date, months=months, drift=drift, world=world
    )
    if not activities:
        return SyntheticCRM(leads, truth, None)
    from leadscore.data.activities import generate_activities  # the log's code loads only when asked for

    log = generate_activities(hidden, leads["lead_id"], seed=seed, reference_date=reference_date)
    return SyntheticCRM(leads, truth, log)


def bant_criteria_met(leads: pd.DataFrame) -> pd.Series:
    """Count the default BANT criteria (0-4) each lead meets.

    Budget, authority (decision maker) and need pass on ``"yes"``; timeline passes on
    ``"<1 month"`` or ``"1-3 months"``. Missing or ``"unknown"`` fails the criterion.

    Raises
    ------
    DataValidationError
        If a BANT column is missing.
    """
    columns = ("bant_budget", "bant_decision_maker", "bant_need", "bant_timeline")
    missing = [c for c in columns if c not in leads.columns]
    if missing:
        raise DataValidationError(f"bant_criteria_met: lead table lacks BANT columns {missing}")
    text = {c: leads[c].astype("string").str.strip().str.casefold() for c in columns}
    met = (
        text["bant_budget"].eq("yes").fillna(False).astype(np.int64)
        + text["bant_decision_maker"].eq("yes").fillna(False).astype(np.int64)
        + text["bant_need"].eq("yes").fillna(False).astype(np.int64)
        + text["bant_timeline"].isin(["<1 month", "1-3 months"]).fillna(False).astype(np.int64)
    )
    return met.rename("bant_criteria_met")
