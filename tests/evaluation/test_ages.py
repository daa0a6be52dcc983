import numpy as np
import pandas as pd
import pytest

from leadscore.evaluation.ages import age_figure, age_table, naive_leak_demo


@pytest.fixture
def scored():
    # Two ages, 4 snapshots each; at age 1 the model ranks perfectly, at age 7 backwards.
    return pd.DataFrame(
        {
            "age_days": [1.0] * 4 + [7.0] * 4,
            "label": [1, 0, 1, 0, 1, 0, 1, 0],
            "conversion_probability": [0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.2, 0.8],
            "bant_criteria_met": [4, 1, 1, 4, 4, 1, 1, 4],
            "bant_qualified": [True, False, False, True, True, False, False, True],
            "true_p": [0.7, 0.2, 0.6, 0.3, 0.7, 0.2, 0.6, 0.3],
        }
    )


def test_age_table_has_known_answers(scored):
    rows = age_table(scored, ages=[1, 7, 30], naive_at_age=np.linspace(0, 1, 8))
    one, seven, thirty = rows
    assert (one["auc_model"], seven["auc_model"]) == (1.0, 0.0)
    assert one["auc_oracle"] == 1.0 and one["auc_bant"] == 0.5
    assert one["snapshots"] == 4 and one["wins"] == 2
    # BANT qualifies 2 leads (1 win); the model's top 2 at age 1 are both wins.
    assert one["bant_volume"] == 2 and one["bant_conversions"] == 1
    assert one["capacity_ratio"] == 2.0
    assert thirty["snapshots"] == 0 and thirty["auc_model"] is None


def test_the_leak_demo_shines_in_the_backtest_and_not_at_a_real_age():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    # All-time counts: onboarding emails exist only after a win (the leak); visits carry some signal.
    all_time = pd.DataFrame(
        {"n_onboarding_email_all": y * rng.integers(1, 6, n), "n_web_visit_all": rng.poisson(2 + y)}
    )
    at_age = all_time.assign(n_onboarding_email_all=0)  # while still open, no onboarding yet
    backtest, scores = naive_leak_demo(all_time[:200], y[:200], all_time[200:], y[200:], at_age[200:], n_estimators=30)
    assert backtest >= 0.95
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y[200:], scores) < 0.9
    assert len(scores) == 200


def test_age_figure_draws_auc_and_capacity(scored):
    fig = age_figure(age_table(scored, ages=[1, 7]), naive_backtest_auc=0.99)
    left, right = fig.axes
    assert len(left.get_lines()) >= 4  # model, BANT, oracle, backtest line
    assert len(right.patches) == 2
