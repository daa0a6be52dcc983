import numpy as np
import pandas as pd
import pytest

from leadscore.config import SyntheticDriftConfig
from leadscore.data.synthetic import (
    LEAD_COLUMNS,
    REFERENCE_DATE,
    _generate,
    bant_criteria_met,
    generate_leads,
)
from leadscore.errors import DataValidationError

N = 60_000


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    # Mann-Whitney AUC with average ranks for ties (binary scores are all ties).
    ranks = pd.Series(score).rank(method="average").to_numpy()
    pos = y.sum()
    neg = len(y) - pos
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


@pytest.fixture(scope="module")
def generated():
    return _generate(N, seed=42)


@pytest.fixture(scope="module")
def closed(generated):
    leads, truth, latents = generated
    mask = (leads["status"] != "open").to_numpy()
    return (
        leads[mask].reset_index(drop=True),
        truth[mask].reset_index(drop=True),
        latents[mask].reset_index(drop=True),
        (leads.loc[mask, "status"] == "won").to_numpy(),
    )


def test_deterministic_for_same_arguments():
    a_leads, a_truth = generate_leads(5_000, seed=3)
    b_leads, b_truth = generate_leads(5_000, seed=3)
    pd.testing.assert_frame_equal(a_leads, b_leads)
    pd.testing.assert_frame_equal(a_truth, b_truth)


def test_different_seeds_differ():
    a_leads, a_truth = generate_leads(5_000, seed=1)
    b_leads, b_truth = generate_leads(5_000, seed=2)
    assert not a_leads.equals(b_leads)
    assert not np.allclose(a_truth["true_p"], b_truth["true_p"])


def test_public_api_matches_private_generator(generated):
    leads, truth = generate_leads(N, seed=42)
    pd.testing.assert_frame_equal(leads, generated[0])
    pd.testing.assert_frame_equal(truth, generated[1])


def test_schema(generated):
    leads, _, _ = generated
    assert list(leads.columns) == list(LEAD_COLUMNS)
    assert len(LEAD_COLUMNS) == 27
    assert leads["lead_id"].is_unique
    assert leads["lead_id"].str.fullmatch(r"L\d{7}").all()
    assert pd.api.types.is_datetime64_any_dtype(leads["created_at"])
    assert pd.api.types.is_datetime64_any_dtype(leads["closed_at"])
    for column in (
        "employees",
        "web_visits_30d",
        "pricing_page_views",
        "trial_active_days",
        "emails_opened",
        "emails_clicked",
        "content_downloads",
        "days_since_last_activity",
    ):
        assert pd.api.types.is_integer_dtype(leads[column]), column
    for column in ("annual_revenue", "pages_per_visit"):
        assert pd.api.types.is_float_dtype(leads[column]), column
    for column in ("demo_requested", "trial_started", "webinar_attended"):
        assert pd.api.types.is_bool_dtype(leads[column]), column
    for column in (
        "status",
        "industry",
        "country",
        "job_title",
        "email_domain_type",
        "lead_source",
        "bant_budget",
        "bant_decision_maker",
        "bant_need",
        "bant_timeline",
    ):
        assert pd.api.types.is_string_dtype(leads[column]), column
    assert set(leads["uses_crm"].dropna().unique()) == {True, False}
    assert set(leads["status"]) == {"won", "lost", "open"}
    assert set(leads["email_domain_type"]) == {"corporate", "webmail", "edu"}
    assert set(leads["lead_source"].dropna()) == {
        "organic_search",
        "paid_search",
        "referral",
        "event",
        "outbound",
        "partner",
        "content_syndication",
    }
    assert set(leads["bant_budget"].dropna()) == {"yes", "no", "unknown"}
    assert set(leads["bant_timeline"].dropna()) == {"<1 month", "1-3 months", "3-6 months", ">6 months", "unknown"}
    # None of the key columns is ever missing; the mess is in the fit/intent/BANT fields.
    assert leads[["lead_id", "created_at", "status"]].notna().all().all()
    for column in (
        "annual_revenue",
        "industry",
        "country",
        "job_title",
        "uses_crm",
        "lead_source",
        "pages_per_visit",
        "bant_need",
    ):
        assert 0.005 < leads[column].isna().mean() < 0.15, column


def test_values_are_plausible_and_messy(generated):
    leads, _, _ = generated
    assert leads["employees"].min() >= 1
    assert (leads["employees"] >= 1_000_000).any()  # a few absurd outliers
    assert leads["employees"].median() < 500
    assert (leads["emails_clicked"] <= leads["emails_opened"]).all()
    assert (leads.loc[~leads["trial_started"], "trial_active_days"] == 0).all()
    assert leads["web_visits_30d"].max() > 300  # bot outliers
    assert leads["industry"].str.strip().str.casefold().nunique() >= 10 and leads["industry"].nunique() > 12
    assert {"USA", "US", "United States"} <= set(leads["country"].dropna())
    assert {"n/a", "-", "asdf", ""} & set(leads["job_title"].dropna())


def test_timeline_and_open_leads(generated):
    leads, _, _ = generated
    reference = pd.Timestamp(REFERENCE_DATE)
    assert leads["created_at"].max() < reference
    assert leads["created_at"].min() >= reference - pd.DateOffset(months=24)
    is_open = leads["status"] == "open"
    assert (leads["closed_at"].isna() == is_open).all()
    closed = leads[~is_open]
    assert (closed["closed_at"] >= closed["created_at"] + pd.Timedelta(days=10)).all()
    assert (closed["closed_at"] <= reference).all()
    age = reference - leads["created_at"]
    assert is_open[age <= pd.Timedelta(days=61)].mean() > 0.5
    assert is_open[age > pd.Timedelta(days=183)].mean() < 0.005
    # Volume grows over time: fewer leads in the first of the two years.
    first_year = (leads["created_at"] < reference - pd.DateOffset(months=12)).sum()
    assert first_year < len(leads) - first_year


def test_truth(generated, closed):
    leads, truth, _ = generated
    assert list(truth.columns) == ["lead_id", "true_p"]
    assert len(truth) == len(leads) and truth["lead_id"].equals(leads["lead_id"])
    assert ((truth["true_p"] > 0) & (truth["true_p"] < 1)).all()
    assert not {"true_p", "s_fit", "s_intent"} & set(leads.columns)
    _, closed_truth, latents, won = closed
    base_rate = won.mean()
    assert 0.10 <= base_rate <= 0.20
    assert 0.80 <= _auc(won, closed_truth["true_p"].to_numpy()) <= 0.90
    assert _auc(won, latents["s_fit"].to_numpy()) > 0.68
    assert _auc(won, latents["s_intent"].to_numpy()) > 0.68


def test_danger_zone(closed):
    _, _, latents, won = closed
    fit, intent = latents["s_fit"].to_numpy(), latents["s_intent"].to_numpy()
    high_intent = intent >= np.quantile(intent, 0.75)
    low_fit, high_fit = fit <= np.quantile(fit, 0.25), fit >= np.quantile(fit, 0.75)
    assert won[high_intent & low_fit].mean() < 0.5 * won[high_intent & high_fit].mean()


def test_bant_criteria_each_weakly_predictive(closed):
    leads, _, _, won = closed
    criteria = {
        "budget": leads["bant_budget"] == "yes",
        "decision_maker": leads["bant_decision_maker"] == "yes",
        "need": leads["bant_need"] == "yes",
        "timeline": leads["bant_timeline"].isin(["<1 month", "1-3 months"]),
    }
    for name, passed in criteria.items():
        auc = _auc(won, passed.fillna(False).to_numpy(dtype=float))
        assert 0.55 <= auc <= 0.70, (name, auc)


def test_bant_qualified_convert_two_to_four_times_better(closed):
    leads, _, _, won = closed
    qualified = (bant_criteria_met(leads) >= 3).to_numpy()
    ratio = won[qualified].mean() / won[~qualified].mean()
    assert 2.0 <= ratio <= 4.0


def test_bant_is_beatable_at_its_own_volume(closed):
    leads, truth, _, won = closed
    qualified = (bant_criteria_met(leads) >= 3).to_numpy()
    k = int(qualified.sum())
    top_k = np.argsort(-truth["true_p"].to_numpy(), kind="stable")[:k]
    assert won[top_k].sum() >= 1.45 * won[qualified].sum()


def test_bant_criteria_met_rules():
    leads = pd.DataFrame(
        {
            "bant_budget": ["yes", " YES ", None, "unknown", "no"],
            "bant_decision_maker": ["yes", "yes", "yes", "no", np.nan],
            "bant_need": ["yes", "yes", "unknown", "no", "yes"],
            "bant_timeline": ["<1 month", "1-3 months", "3-6 months", ">6 months", "unknown"],
        },
        index=[5, 6, 7, 8, 9],
    )
    met = bant_criteria_met(leads)
    assert met.tolist() == [4, 4, 1, 0, 1]
    assert met.index.equals(leads.index)
    with pytest.raises(DataValidationError, match="bant_need"):
        bant_criteria_met(leads.drop(columns="bant_need"))


@pytest.mark.parametrize(
    "kwargs",
    [{"n": 0}, {"n": 2.5}, {"seed": -1}, {"months": 0}, {"reference_date": "not a date"}],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(DataValidationError):
        generate_leads(**{"n": 100, **kwargs})


# --- drift (params data.synthetic.drift; issue 11) ---------------------------------------------------
DRIFT = SyntheticDriftConfig(enabled=True)


@pytest.fixture(scope="module")
def drifted():
    return _generate(N, seed=42, drift=DRIFT)


def _window_share(leads: pd.DataFrame) -> np.ndarray:
    """Each lead's creation time as a share of the 24-month window (the generator's t)."""
    end = pd.Timestamp(REFERENCE_DATE)
    start = end - pd.DateOffset(months=24)
    return ((leads["created_at"] - start) / (end - start)).to_numpy(dtype=float)


def test_drift_off_leaves_the_default_data_unchanged(generated):
    leads, truth = generate_leads(N, seed=42, drift=SyntheticDriftConfig())  # enabled: false
    pd.testing.assert_frame_equal(leads, generated[0])
    pd.testing.assert_frame_equal(truth, generated[1])


def test_drift_touches_only_its_column_and_the_outcomes(generated, drifted):
    base, shifted = generated[0], drifted[0]
    changed = [c for c in LEAD_COLUMNS if not base[c].equals(shifted[c])]
    assert changed == ["status", "pricing_page_views"]
    # Which leads are still open (and when they closed) depends only on the sales cycle, not on the outcome.
    pd.testing.assert_series_equal(base["status"] == "open", shifted["status"] == "open")


def test_drift_shifts_the_column_late(generated, drifted):
    t = _window_share(drifted[0])
    late = t >= DRIFT.shift_from
    before, after = generated[0]["pricing_page_views"], drifted[0]["pricing_page_views"]
    assert (before[~late] == after[~late]).all()
    assert after[late].mean() - before[late].mean() == pytest.approx(DRIFT.shift_extra, abs=0.1)
    assert (after[late] >= before[late]).all()


def test_drift_raises_the_base_rate_over_time(generated, drifted):
    t = _window_share(drifted[0])
    for (_, truth, _), rise in ((generated, False), (drifted, True)):
        p = truth["true_p"].to_numpy()
        early, mid = p[t < 0.25].mean(), p[(t >= 0.6) & (t < DRIFT.shift_from)].mean()
        if rise:
            assert mid - early > 0.04, (early, mid)
        else:
            assert abs(mid - early) < 0.01, (early, mid)
    closed = drifted[0]["status"] != "open"
    won = (drifted[0]["status"] == "won").to_numpy()
    first, last = closed.to_numpy() & (t < 0.25), closed.to_numpy() & (t >= 0.75)
    assert won[last].mean() > won[first].mean() + 0.05


def test_drift_changes_the_columns_effect_halfway(generated, drifted):
    t = _window_share(drifted[0])
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    extra = logit(drifted[1]["true_p"].to_numpy()) - logit(generated[1]["true_p"].to_numpy())
    # Before the change only the base-rate rise moves the truth ...
    before = t < DRIFT.effect_change_at - 0.01
    assert np.allclose(extra[before], DRIFT.base_rate_logit_rise * t[before], atol=1e-4)
    # ... after it, leads who viewed pricing (counts not yet shifted) gain on top of the rise.
    views = drifted[0]["pricing_page_views"].to_numpy()
    after = (t > DRIFT.effect_change_at + 0.01) & (t < DRIFT.shift_from)
    gain = extra - DRIFT.base_rate_logit_rise * t
    assert np.allclose(gain[after & (views == 0)], 0, atol=1e-4)
    assert gain[after & (views >= 2)].mean() > 0.3


# -- the second world (issue 15: params data.synthetic.world) ----------------------------------------
@pytest.fixture(scope="module")
def world2():
    return _generate(N, seed=42, world="interactions")


def test_world_additive_is_the_default_data_bit_for_bit(generated):
    leads, truth, latents = _generate(N, seed=42, world="additive")
    pd.testing.assert_frame_equal(leads, generated[0])
    pd.testing.assert_frame_equal(truth, generated[1])
    pd.testing.assert_frame_equal(latents, generated[2])


def test_world2_changes_only_the_outcomes_and_the_truth(generated, world2):
    leads, truth, _ = world2
    differ = [c for c in leads.columns if not leads[c].equals(generated[0][c])]
    assert differ == ["status"]
    assert (leads["status"].eq("open") == generated[0]["status"].eq("open")).all()  # same open leads
    assert not np.allclose(truth["true_p"], generated[1]["true_p"])
    assert ((truth["true_p"] > 0) & (truth["true_p"] < 1)).all()


def test_world2_latents_hold_the_truths_parts(generated, world2):
    from leadscore.data.synthetic import _W2_B0

    _, truth, latents = world2
    logit = _W2_B0 + latents["world2_fit"] + latents["world2_weight"] * latents["world2_intent"]
    np.testing.assert_allclose(1 / (1 + np.exp(-logit.to_numpy())), truth["true_p"].to_numpy(), rtol=1e-12)
    assert (latents["world2_weight"] > 0).all() and latents["world2_weight"].nunique() > 20
    assert not any(c.startswith("world2_") for c in generated[2].columns)  # the default world has no such parts


def test_world2_base_rate_and_signal(world2):
    leads, truth, _ = world2
    closed = (leads["status"] != "open").to_numpy()
    won = (leads.loc[closed, "status"] == "won").to_numpy()
    assert 0.12 <= won.mean() <= 0.18
    assert 0.75 <= _auc(won, truth.loc[closed, "true_p"].to_numpy()) <= 0.86


def _segment_logit(**overrides):
    from leadscore.data.synthetic import _INDUSTRIES, _SENIORITIES, _interactions_logit

    n = 1
    arrays = {
        "log10_emp": np.full(n, 2.6),
        "industry_term": np.zeros(n),
        "country_term": np.zeros(n),
        "seniority": np.full(n, _SENIORITIES.index("vp")),
        "department": np.full(n, 1),
        "email_term": np.zeros(n),
        "uses_crm": np.zeros(n, dtype=bool),
        "industry": np.full(n, [row[0] for row in _INDUSTRIES].index("Software")),
        "source": np.zeros(n, dtype=np.int64),
        "pricing_views": np.zeros(n, dtype=np.int64),
        "demo": np.zeros(n, dtype=bool),
        "trial_days": np.zeros(n, dtype=np.int64),
        "emails_clicked": np.zeros(n, dtype=np.int64),
        "webinar": np.zeros(n, dtype=bool),
        "downloads": np.zeros(n, dtype=np.int64),
        "web_visits": np.full(n, 5),
        "pages_per_visit": np.full(n, np.e),
        "recency": np.full(n, 3),
    }
    arrays.update({k: np.full(n, v) for k, v in overrides.items()})
    return float(_interactions_logit(**arrays)[0])


def test_world2_intent_counts_by_segment_thresholds_and_non_monotone_effects():
    from leadscore.data.synthetic import _INDUSTRIES, _SENIORITIES

    government = [row[0] for row in _INDUSTRIES].index("Government")
    student = _SENIORITIES.index("student")
    # A demo from a VP in software is worth far more than the same demo from the public sector ...
    vp_gain = _segment_logit(demo=True) - _segment_logit()
    gov_gain = _segment_logit(demo=True, industry=government) - _segment_logit(industry=government)
    assert vp_gain > 0.8 and 0 <= gov_gain < 0.3 * vp_gain
    # ... and a student's demo counts for nothing (only people who can sign).
    assert _segment_logit(demo=True, seniority=student) == _segment_logit(seniority=student)
    # Thresholds: one pricing view is no signal, two are; a 6-day trial is nothing, 7 days are.
    assert _segment_logit(pricing_views=1) == _segment_logit()
    assert _segment_logit(pricing_views=2) > _segment_logit() + 0.5
    assert _segment_logit(trial_days=6) == _segment_logit() < _segment_logit(trial_days=7)
    # Non-monotone: size and pages per visit both peak inside their range.
    sizes = [_segment_logit(log10_emp=x) for x in (1.0, 2.6, 4.5)]
    assert sizes[1] > sizes[0] and sizes[1] > sizes[2]
    pages = [_segment_logit(pages_per_visit=x) for x in (1.0, np.e, 12.0)]
    assert pages[1] > pages[0] and pages[1] > pages[2]
    # Saturation: the same intent step is worth less on an already very engaged lead.
    busy = {"pricing_views": 6, "trial_days": 10, "emails_clicked": 6, "webinar": True}
    assert _segment_logit(demo=True, **busy) - _segment_logit(**busy) < vp_gain


def test_unknown_world_is_refused():
    with pytest.raises(DataValidationError, match="world must be one of"):
        generate_leads(100, world="quadratic")


def test_also_shifted_columns_move_late_and_leave_the_first_columns_draws(drifted):
    both = SyntheticDriftConfig(enabled=True, also_shifted=("web_visits_30d",), also_shifted_extra=3.0)
    leads = _generate(N, seed=42, drift=both)[0]
    changed = [c for c in LEAD_COLUMNS if not leads[c].equals(drifted[0][c])]
    assert changed == ["status", "web_visits_30d"]  # pricing_page_views: the very same draws
    late = _window_share(leads) >= both.shift_from
    gain = leads["web_visits_30d"] - drifted[0]["web_visits_30d"]
    assert (gain[~late] == 0).all()
    assert gain[late].mean() == pytest.approx(3.0, abs=0.1)
    with pytest.raises(ValueError, match="also_shifted"):
        SyntheticDriftConfig(enabled=True, also_shifted=("pricing_page_views",))
