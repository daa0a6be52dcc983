import numpy as np
import pandas as pd
import pytest
from support import REPO_ROOT

from leadscore.config import load_params
from leadscore.errors import DataValidationError
from leadscore.features.activity import ActivityFeatureSpec
from leadscore.features.intent_log import (
    activity_features_config,
    activity_rows,
    candidate_spec,
    lead_weights,
    log_types,
    naive_at_age,
    naive_columns,
    naive_rows,
    reference_date,
    row_columns,
    spec_from_dict,
    spec_to_dict,
)

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2026-03-01")
SPEC = ActivityFeatureSpec(types=("web_visit", "email_open"), windows_days=(7,), half_lives_days=(7,))


@pytest.fixture
def params():
    base = load_params(REPO_ROOT / "params.yaml")
    return base.model_copy(update={"activities": base.activities.model_copy(update={"source": "log.parquet"})})


@pytest.fixture
def leads():
    return pd.DataFrame(
        {
            "lead_id": ["A", "B"],
            "created_at": [T0, T0 + 2 * DAY],
            "employees": [10, 200],
            "status": ["won", "open"],
        }
    )


@pytest.fixture
def events():
    return pd.DataFrame(
        {
            "lead_id": ["A", "A", "A", "B", "A"],
            "timestamp": [T0 + DAY, T0 + 3 * DAY, T0 + 20 * DAY, T0 + 3 * DAY, T0 + 40 * DAY],
            "activity_type": ["web_visit", "email_open", "web_visit", "web_visit", "onboarding_email"],
        }
    )


def test_rows_carry_the_lead_columns_and_count_only_earlier_events(params, leads, events):
    snaps = pd.DataFrame({"lead_id": ["A", "A", "B"], "as_of": [T0 + 2 * DAY, T0 + 30 * DAY, T0 + 10 * DAY]})
    rows = activity_rows(leads, events, snaps, params=params, spec=SPEC)
    assert list(rows["lead_id"]) == ["A", "A", "B"]  # row-aligned with the snapshots
    assert list(rows["employees"]) == [10, 10, 200]
    assert list(rows["n_any_7d"]) == [1, 0, 1]  # B: 7 days exactly, inside the window
    assert list(rows["n_web_visit_7d"]) == [1, 0, 1]
    assert rows["lead_age_days"].tolist() == [2.0, 30.0, 8.0]
    assert rows["days_since_web_visit"].iloc[1] == pytest.approx(10.0)


def test_rows_can_carry_only_the_columns_a_scorer_reads(params, leads, events):
    snaps = pd.DataFrame({"lead_id": ["B"], "as_of": [T0 + 10 * DAY]})
    rows = activity_rows(leads, events, snaps, params=params, spec=SPEC, lead_columns=["created_at", "nope"])
    assert set(list(rows.columns)[:3]) == {"lead_id", "created_at", "as_of"} and "employees" not in rows
    needed = row_columns(params)
    assert {"lead_id", "created_at", "closed_at", "status", "employees", "annual_revenue", "bant_budget"} <= set(needed)
    assert "web_visits_30d" not in needed  # a pre-aggregated intent column of the lead table


def test_a_snapshot_of_an_unknown_lead_is_refused(params, leads, events):
    snaps = pd.DataFrame({"lead_id": ["Z"], "as_of": [T0]})
    with pytest.raises(DataValidationError, match="'Z'"):
        activity_rows(leads, events, snaps, params=params, spec=SPEC)


def test_naive_counts_see_the_future_and_at_age_counts_do_not(params, events):
    snaps = pd.DataFrame({"lead_id": ["A"], "as_of": [T0 + 2 * DAY]})
    types = ["web_visit", "onboarding_email"]
    assert naive_columns(types) == ["n_web_visit_all", "n_onboarding_email_all", "n_any_all"]
    all_time = naive_rows(events, snaps, params=params, types=types)
    at_age = naive_at_age(events, snaps, params=params, types=types)
    assert all_time.iloc[0].tolist() == [2, 1, 3]
    assert at_age.iloc[0].tolist() == [1, 0, 1]
    assert list(at_age.columns) == list(all_time.columns)


def test_features_config_takes_intent_from_the_log(params):
    features = activity_features_config(
        params.features, intent=["n_any_7d", "lead_age_days"], static_intent=["lead_source"], exclude=["n_any_all"]
    )
    assert features.intent == ("lead_source", "n_any_7d", "lead_age_days")
    assert "email_click_rate" not in features.ratios  # built on the lead table's intent columns
    assert "revenue_per_employee" in features.ratios  # a fit ratio stays
    assert features.fit == params.features.fit
    assert "n_any_all" in features.exclude
    with pytest.raises(DataValidationError, match="fit column"):
        activity_features_config(params.features, intent=["n_any_7d"], static_intent=["employees"])


def test_spec_round_trips_and_candidates_are_the_union(params):
    assert spec_from_dict(spec_to_dict(SPEC)) == SPEC
    union = candidate_spec(params.activities, ["web_visit"])
    assert union.windows_days == (7.0, 14.0, 30.0, 60.0, 90.0)
    assert 180.0 in union.half_lives_days and 1.0 in union.half_lives_days


def test_reference_date_and_types(params, events):
    assert reference_date(params, events) == pd.Timestamp("2026-06-30")  # the synthetic CRM's
    real = params.model_copy(update={"data": params.data.model_copy(update={"source": "export.csv"})})
    assert reference_date(real, events) == pd.Timestamp("2026-04-11")  # the day after the last event
    assert log_types(params.activities, events) == ("email_open", "onboarding_email", "web_visit")
    with pytest.raises(DataValidationError, match="no events"):
        log_types(params.activities, events.iloc[:0])


def test_each_leads_weights_sum_to_one():
    snaps = pd.DataFrame({"lead_id": ["A", "A", "B", "A"]})
    w = lead_weights(snaps, id_column="lead_id")
    assert np.allclose(pd.Series(w).groupby(snaps["lead_id"]).sum(), 1.0)
