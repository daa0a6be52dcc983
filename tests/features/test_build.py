"""LeadFeaturizer on tiny hand-made frames: kinds, categories, titles, ratios and error paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import FeaturesConfig
from leadscore.errors import DataValidationError
from leadscore.features.build import OTHER, PLACEHOLDERS, LeadFeaturizer, check_monotone


@pytest.fixture
def features() -> FeaturesConfig:
    return FeaturesConfig(
        fit=("employees", "industry", "job_title"),
        intent=("demo_requested", "emails_opened"),
        job_title_columns=("job_title",),
        ratios={"email_click_rate": ("emails_clicked", "emails_opened")},
        category_aliases={"industry": {"Fin. Services": "Financial Services"}},
        min_category_count=1,
    )


def test_groups_get_only_their_own_engineered_features(tiny_leads, features):
    X_fit, X_intent = LeadFeaturizer(features=features).fit_transform(tiny_leads)
    assert list(X_fit.columns) == ["employees", "industry", "job_title_seniority", "job_title_department"]
    assert list(X_intent.columns) == ["demo_requested", "emails_opened", "email_click_rate"]
    assert X_fit.index.equals(tiny_leads.index)


def test_text_is_cleaned_and_aliased(tiny_leads, features):
    X_fit, _ = LeadFeaturizer(features=features).fit_transform(tiny_leads)
    industry = X_fit["industry"].astype(object)
    assert industry[0] == industry[1] == "software"  # "Software" and "software "
    assert industry[2] == "financial services"
    assert pd.isna(industry[5])


def test_titles_become_seniority_and_department(tiny_leads, features):
    X_fit, _ = LeadFeaturizer(features=features).fit_transform(tiny_leads)
    assert X_fit.loc[0, "job_title_seniority"] == "vp"
    assert X_fit.loc[0, "job_title_department"] == "sales"
    assert X_fit.loc[2, "job_title_seniority"] == "c_level"
    assert X_fit.loc[4, "job_title_seniority"] == "unknown"


def test_booleans_become_numbers_and_ratios_guard_zero(tiny_leads, features):
    _, X_intent = LeadFeaturizer(features=features).fit_transform(tiny_leads)
    assert X_intent["demo_requested"].tolist()[:3] == [1.0, 0.0, 0.0]
    assert np.isnan(X_intent["demo_requested"].iloc[7])
    assert X_intent["email_click_rate"].iloc[0] == pytest.approx(0.4)
    assert np.isnan(X_intent["email_click_rate"].iloc[1])  # 0 / 0 -> missing, not inf


def test_unseen_and_rare_categories_pool_into_other(tiny_leads, features):
    featurizer = LeadFeaturizer(features=features.model_copy(update={"min_category_count": 2})).fit(tiny_leads.iloc[:6])
    X_fit, _ = featurizer.transform(tiny_leads)
    assert "retail" not in featurizer.categories_["industry"]  # seen once in training
    assert X_fit.loc[3, "industry"] == OTHER
    assert X_fit.loc[6, "industry"] == OTHER  # "Space Mining" never seen
    assert list(X_fit["industry"].cat.categories) == featurizer.categories_["industry"]


def test_all_missing_training_column_is_dropped(tiny_leads, features):
    tiny_leads["employees"] = np.nan
    featurizer = LeadFeaturizer(features=features).fit(tiny_leads)
    assert featurizer.dropped_columns_ == ["employees"]
    assert "employees" not in featurizer.transform(tiny_leads)[0].columns


def test_missing_column_is_named(tiny_leads, features):
    with pytest.raises(DataValidationError, match=r"missing column\(s\) 'industry' required by params features"):
        LeadFeaturizer(features=features).fit(tiny_leads.drop(columns="industry"))


def test_column_that_changed_type_is_named(tiny_leads, features):
    featurizer = LeadFeaturizer(features=features).fit(tiny_leads)
    changed = tiny_leads.assign(employees=["fifty", "many", "few", "lots", "some", "x", "y", "z"])
    with pytest.raises(DataValidationError, match="'employees' was numeric in the training data but now holds text"):
        featurizer.transform(changed)


def test_unchecked_transform_reads_a_few_stray_non_numbers_as_missing_with_a_warning(features, caplog):
    """Without an input contract's verdict (the featurize stage, older scorers): up to 5% become missing,
    each column warned once with the count and an example."""
    leads = pd.DataFrame(
        {
            "employees": np.arange(1, 41),
            "industry": ["software"] * 40,
            "job_title": ["cto"] * 40,
            "demo_requested": [True, False] * 20,
            "emails_opened": np.arange(40),
            "emails_clicked": np.arange(40) % 3,
        }
    )
    featurizer = LeadFeaturizer(features=features).fit(leads)
    stray = leads.astype({"employees": object})
    stray.loc[39, "employees"] = "n/a-ish"
    with caplog.at_level("WARNING"):
        X_fit, _ = featurizer.transform(stray)
    assert np.isnan(X_fit["employees"].iloc[-1]) and X_fit["employees"].iloc[0] == 1.0
    warned = [r.getMessage() for r in caplog.records if "'employees'" in r.getMessage()]
    assert warned == [
        "lead table: column 'employees': 1 of 40 values are not numbers (e.g. 'n/a-ish'); read as missing"
    ]


def test_checked_transform_reads_non_numbers_as_missing_silently(tiny_leads, features, caplog):
    """After the input contract has judged the whole input (checked=True), no per-chunk verdicts."""
    featurizer = LeadFeaturizer(features=features).fit(tiny_leads)
    changed = tiny_leads.assign(employees=["fifty", "many", "few", "lots", "some", "x", "y", np.inf])
    with caplog.at_level("WARNING"):
        X_fit, _ = featurizer.transform(changed, checked=True)
    assert X_fit["employees"].isna().all()
    assert not [r for r in caplog.records if "employees" in r.getMessage()]


def test_extra_missing_markers(tiny_leads, features):
    tiny_leads.loc[0, "industry"] = "Select"
    X_fit, _ = LeadFeaturizer(features=features, missing_values=("Select",)).fit_transform(tiny_leads)
    assert pd.isna(X_fit.loc[0, "industry"])


def test_transform_before_fit_fails(tiny_leads, features):
    with pytest.raises(RuntimeError, match="not fitted"):
        LeadFeaturizer(features=features).transform(tiny_leads)


def test_a_column_entirely_missing_at_scoring_time_is_scored_as_missing_with_a_warning(tiny_leads, features, caplog):
    featurizer = LeadFeaturizer(features=features).fit(tiny_leads)
    batch = tiny_leads.assign(industry=None, employees=np.nan)
    with caplog.at_level("WARNING"):
        X_fit, _ = featurizer.transform(batch, source="today.csv")
    assert X_fit["industry"].isna().all() and X_fit["employees"].isna().all()
    assert "today.csv: column 'industry' is entirely missing in this batch; scored as missing" in caplog.text
    assert "column 'employees' is entirely missing" in caplog.text


def test_a_text_column_that_now_holds_numbers_is_named(tiny_leads, features):
    featurizer = LeadFeaturizer(features=features).fit(tiny_leads)
    with pytest.raises(
        DataValidationError, match=r"today.csv: column 'industry' held text .* now holds numbers \(such as 3\)"
    ):
        featurizer.transform(tiny_leads.assign(industry=[3, 1, 4, 1, 5, 9, 2, 6]), source="today.csv")


# -- issue 12: integer-coded categories, a group with no columns -------------------------------------------
def test_integer_codes_declared_categorical_become_categories_whatever_their_dtype():
    train = pd.DataFrame({"os": [1, 2, 3, 1, 2, 8], "region": [10, 20, 10, 20, 10, 20], "visits": [1, 2, 3, 4, 5, 6]})
    f = FeaturesConfig(fit=("os", "region"), intent=("visits",), categorical=("os", "region"), min_category_count=1)
    featurizer = LeadFeaturizer(features=f).fit(train)
    assert featurizer.kinds_ == {"os": "categorical", "region": "categorical", "visits": "numeric"}
    assert featurizer.categories_["os"] == ["1", "2", "3", "8", OTHER]
    # Scoring data where a blank turned the codes into floats (2.0), and an unseen code (5).
    batch = pd.DataFrame({"os": [2.0, np.nan, 5.0], "region": [20, 10, 10], "visits": [1, 2, 3]})
    X_fit, _ = featurizer.transform(batch)
    assert X_fit["os"].astype(object).tolist()[0] == "2" and pd.isna(X_fit["os"].iloc[1])
    assert X_fit["os"].iloc[2] == OTHER and isinstance(X_fit["os"].dtype, pd.CategoricalDtype)


def test_a_group_without_columns_gets_one_constant_placeholder():
    train = pd.DataFrame({"employees": [1, 5, 9], "industry": ["a", "b", "a"]})
    f = FeaturesConfig(fit=("employees", "industry"), intent=(), min_category_count=1)
    featurizer = LeadFeaturizer(features=f).fit(train)
    X_fit, X_intent = featurizer.transform(train)
    assert featurizer.empty_groups == ["intent"] and list(X_intent.columns) == [PLACEHOLDERS["intent"]]
    assert (X_intent[PLACEHOLDERS["intent"]] == 0.0).all() and list(X_fit.columns) == ["employees", "industry"]


def test_monotone_on_a_text_column_is_named(tiny_leads, features):
    featurizer = LeadFeaturizer(features=features).fit(tiny_leads)
    with pytest.raises(DataValidationError, match=r"train\.fit\.monotone_increasing lists 'industry'.*holds text"):
        check_monotone(featurizer, group="fit", increasing=("employees", "industry"), source="export.csv")
    check_monotone(featurizer, group="intent", increasing=("emails_opened", "email_click_rate"), source="x")
