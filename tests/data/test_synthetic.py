import numpy as np
import pandas as pd
import pytest

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
