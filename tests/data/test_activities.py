import numpy as np
import pandas as pd
import pytest

from leadscore.data.activities import ACTIVITY_TYPES, EVENT_COLUMNS, POST_OUTCOME_TYPES, generate_activities
from leadscore.data.synthetic import REFERENCE_DATE, _generate, generate_crm, generate_leads
from leadscore.errors import DataValidationError

N = 6_000


@pytest.fixture(scope="module")
def crm():
    return generate_crm(N, seed=11, activities=True)


@pytest.fixture(scope="module")
def joined(crm):
    """Events with their lead's created_at, closed_at and status."""
    leads = crm.leads[["lead_id", "created_at", "closed_at", "status"]]
    return crm.activities.merge(leads, on="lead_id", how="left", validate="many_to_one")


def test_deterministic_and_seeded():
    a = generate_crm(1_500, seed=3, activities=True).activities
    b = generate_crm(1_500, seed=3, activities=True).activities
    c = generate_crm(1_500, seed=4, activities=True).activities
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_lead_table_and_truth_unchanged_by_the_log(crm):
    leads, truth = generate_leads(N, seed=11)
    pd.testing.assert_frame_equal(crm.leads, leads)
    pd.testing.assert_frame_equal(crm.truth, truth)
    off = generate_crm(N, seed=11)
    assert off.activities is None
    pd.testing.assert_frame_equal(off.leads, leads)


def test_shape_types_and_order(crm):
    ev = crm.activities
    assert list(ev.columns) == list(EVENT_COLUMNS)
    assert set(ev["activity_type"].unique()) == set(ACTIVITY_TYPES)
    assert ev["lead_id"].isin(crm.leads["lead_id"]).all()
    assert pd.api.types.is_datetime64_any_dtype(ev["timestamp"])
    # Sorted by lead, then time.
    key = ev["lead_id"] + ev["timestamp"].astype("int64").astype("str").str.zfill(20)
    assert key.is_monotonic_increasing


def test_at_least_ten_events_per_lead_on_average(crm):
    per_lead = len(crm.activities) / len(crm.leads)
    assert per_lead >= 10, per_lead
    assert crm.activities["lead_id"].nunique() > 0.95 * len(crm.leads)


def test_events_within_the_leads_life_and_before_the_export(joined):
    assert (joined["timestamp"] >= joined["created_at"]).all()
    assert (joined["timestamp"] < pd.Timestamp(REFERENCE_DATE)).all()


def test_post_outcome_events_exist_and_follow_closed_at(joined):
    post = joined[joined["activity_type"].isin(POST_OUTCOME_TYPES)]
    assert len(post) > 0.1 * N
    assert (post["status"] != "open").all()
    assert (post["timestamp"] > post["closed_at"]).all()
    assert set(post.loc[post["activity_type"] == "onboarding_email", "status"]) == {"won"}
    assert set(post.loc[post["activity_type"].isin(["unsubscribe", "closed_lost_survey"]), "status"]) == {"lost"}
    # Won customers keep visiting after the deal: those visits leak into naive all-time counts.
    visits_after = joined[
        (joined["activity_type"] == "web_visit")
        & (joined["status"] == "won")
        & (joined["timestamp"] > joined["closed_at"])
    ]
    assert len(visits_after) > 0
    # Most won leads closed well before the export have onboarding emails.
    won = joined.drop_duplicates("lead_id")
    won = won[(won["status"] == "won") & (won["closed_at"] < pd.Timestamp(REFERENCE_DATE) - pd.Timedelta(days=60))]
    onboarded = post.loc[post["activity_type"] == "onboarding_email", "lead_id"].unique()
    assert won["lead_id"].isin(onboarded).mean() > 0.95


def test_intent_events_happen_while_the_lead_is_open(joined):
    pre_only = ~joined["activity_type"].isin([*POST_OUTCOME_TYPES, "web_visit", "email_open"])
    closed = joined["status"] != "open"
    rows = joined[pre_only & closed]
    assert (rows["timestamp"] < rows["closed_at"]).all()


def test_log_agrees_with_the_lead_table(crm):
    leads = crm.leads.set_index("lead_id")
    counts = crm.activities.groupby(["lead_id", "activity_type"]).size().unstack(fill_value=0)
    counts = counts.reindex(leads.index, fill_value=0)
    closed = (leads["status"] != "open").to_numpy()
    # Closed leads: every flag in the table is one event in the log (open leads may not have got there yet).
    for flag, kind in (
        ("demo_requested", "demo_request"),
        ("trial_started", "trial_start"),
        ("webinar_attended", "webinar"),
    ):
        np.testing.assert_array_equal(
            counts.loc[closed, kind].to_numpy(), leads.loc[closed, flag].astype(int).to_numpy()
        )
    assert (counts.loc[closed, "pricing_page_view"] == leads.loc[closed, "pricing_page_views"]).all()
    assert (counts.loc[closed, "email_click"] == leads.loc[closed, "emails_clicked"]).all()


def test_rates_follow_hidden_intent():
    leads, _, latents = _generate(N, seed=11)
    ev = generate_crm(N, seed=11, activities=True).activities
    info = leads[["lead_id", "created_at", "closed_at", "status"]].assign(intent=latents["intent_latent"])
    ev = ev.merge(info, on="lead_id")
    closed = ev[(ev["status"] != "open") & (ev["timestamp"] < ev["closed_at"])]
    per_lead = closed.groupby("lead_id").size()
    life = info.set_index("lead_id").query("status != 'open'")
    days = (life["closed_at"] - life["created_at"]).dt.total_seconds() / 86_400
    rate = per_lead.reindex(life.index, fill_value=0) / days
    corr = np.corrcoef(np.log1p(rate), life["intent"])[0, 1]
    assert corr > 0.4, corr
    # Rising vs falling: high-intent leads' web visits lean to the second half of their sales cycle
    # more than low-intent leads' do.
    visits = closed[closed["activity_type"] == "web_visit"]
    frac = (visits["timestamp"] - visits["created_at"]) / (visits["closed_at"] - visits["created_at"])
    late = (frac > 0.5).groupby(visits["lead_id"]).mean()
    intent = life["intent"].reindex(late.index)
    high, low = late[intent > intent.quantile(0.75)].mean(), late[intent < intent.quantile(0.25)].mean()
    assert high > low + 0.05, (high, low)


def test_missing_hidden_fact_is_named():
    with pytest.raises(DataValidationError, match="intent"):
        generate_activities(
            {"created": np.array([])}, pd.Series([], dtype="str"), seed=1, reference_date=REFERENCE_DATE
        )
