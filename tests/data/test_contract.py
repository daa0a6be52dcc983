"""The input contract on tiny hand-made frames: learning, JSON, every violation, chunk-size independence."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from leadscore.config import BantConfig, ConfigError, ContractConfig, FeaturesConfig, load_params
from leadscore.data.contract import (
    BOOLEAN,
    CATEGORY,
    ID,
    NUMERIC,
    ColumnContract,
    ContractCheck,
    InputContract,
    learn_contract,
)
from leadscore.data.validation import check_split_dates, parse_timestamps
from leadscore.errors import DataValidationError
from leadscore.features.build import LeadFeaturizer

N = 200
FEATURES = FeaturesConfig(
    fit=("employees", "industry", "job_title"),
    intent=("demo_requested", "emails_opened"),
    job_title_columns=("job_title",),
    ratios={"email_click_rate": ("emails_clicked", "emails_opened")},
    category_aliases={"industry": {"Fin. Services": "Financial Services"}},
    min_category_count=1,
)
BANT = BantConfig.model_validate(
    {
        "min_criteria": 1,
        "criteria": {
            "budget": {"column": "bant_budget", "in": ["yes"]},
            "timeline": {"column": "bant_timeline", "in": ["<1 month"]},
        },
    }
)


def training_leads(n: int = N) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame(
        {
            "lead_id": [f"L{k:05d}" for k in i],
            "employees": 1 + (i * 37) % 500,
            "industry": np.array(["Software", "Retail", "Fin. Services", "Media"])[i % 4],
            "job_title": np.array(["VP Sales", "CTO", "Marketing Manager", "Intern", None])[i % 5],
            "demo_requested": i % 3 == 0,
            "emails_opened": i % 11,
            "emails_clicked": i % 4,
            "bant_budget": np.array(["yes", "no"])[i % 2],
            "bant_timeline": np.array(["<1 month", "3-6 months", "unknown"])[i % 3],
        }
    )


@pytest.fixture(scope="module")
def contract() -> InputContract:
    raw = training_leads()
    featurizer = LeadFeaturizer(features=FEATURES).fit(raw)
    return learn_contract(raw, id_column="lead_id", featurizer=featurizer, bant=BANT)


def verdict(contract, frame: pd.DataFrame, chunk_size: int, policy: ContractConfig | None = None):
    """("refused", message) or ("ok", warnings) after checking ``frame`` in chunks of ``chunk_size``."""
    check = ContractCheck(contract, policy=policy, source="leads.csv")
    for start in range(0, len(frame), chunk_size):
        check.update(frame.iloc[start : start + chunk_size])
    try:
        return "ok", check.finish()
    except DataValidationError as err:
        return "refused", str(err)


def scoring_leads(n: int = 60) -> pd.DataFrame:
    frame = training_leads(n)
    frame["lead_id"] = [f"S{k:05d}" for k in range(n)]
    return frame.astype({"employees": object, "industry": object})


# -- learning and JSON ------------------------------------------------------------------------------
def test_learns_kind_vocabulary_range_and_bant_share(contract):
    c = contract.columns
    assert c["lead_id"].kind == ID
    assert c["employees"] == ColumnContract(kind=NUMERIC, min=1.0, max=500.0, non_negative=True)
    assert c["demo_requested"].kind == BOOLEAN
    assert c["industry"].kind == CATEGORY
    assert c["industry"].categories == ("financial services", "media", "retail", "software")
    assert c["job_title"].kind == CATEGORY and c["job_title"].categories is None  # free text
    assert c["emails_clicked"].kind == NUMERIC  # a ratio input, not a feature itself
    assert c["bant_budget"].categories == ("no", "yes")
    assert contract.bant["budget"].pass_share == pytest.approx(0.5)
    assert contract.bant["timeline"].pass_share == pytest.approx(67 / 200)
    assert contract.training_rows == N


def test_round_trips_through_json(contract):
    data = json.loads(json.dumps(contract.with_policy(ContractConfig(out_of_range="refuse")).to_dict()))
    again = InputContract.from_dict(data)
    assert again == contract.with_policy(ContractConfig(out_of_range="refuse"))
    assert again.to_dict() == data


def test_unknown_version_is_refused(contract):
    data = {**contract.to_dict(), "version": 99}
    with pytest.raises(DataValidationError, match="unsupported version 99"):
        InputContract.from_dict(data)


# -- each violation ---------------------------------------------------------------------------------
def test_clean_input_passes_without_warnings(contract):
    assert verdict(contract, scoring_leads(), 1000) == ("ok", [])


def test_text_in_a_numeric_column_is_refused_with_count_and_example(contract):
    frame = scoring_leads()
    frame.loc[[4, 30], "employees"] = "about 50"
    state, message = verdict(contract, frame, 1000)
    assert state == "refused"
    assert "column 'employees' held numbers in training, but 2 values here are not finite numbers" in message
    assert "'about 50' at row 5" in message


@pytest.mark.parametrize("value", [np.inf, -np.inf, "inf"])
def test_infinite_numbers_are_refused(contract, value):
    frame = scoring_leads()
    frame.loc[7, "employees"] = value
    state, message = verdict(contract, frame, 1000)
    assert state == "refused" and "'employees'" in message and "1 value here is not a finite number" in message


def test_numbers_in_a_text_column_are_refused(contract):
    frame = scoring_leads()
    frame["industry"] = np.arange(len(frame))
    state, message = verdict(contract, frame, 1000)
    assert state == "refused"
    assert "column 'industry' held text in training, but 60 values here are numbers (e.g. 0 at row 1)" in message


def test_text_in_a_boolean_column_is_refused(contract):
    frame = scoring_leads().astype({"demo_requested": object})
    frame.loc[3, "demo_requested"] = "Y"
    state, message = verdict(contract, frame, 1000)
    assert state == "refused" and "'demo_requested' held true/false" in message and "'Y'" in message


def test_out_of_range_values_are_warned_with_counts(contract):
    frame = scoring_leads()
    frame.loc[2, "employees"] = -5
    frame.loc[9, "employees"] = 1e308
    state, warnings = verdict(contract, frame, 1000)
    assert state == "ok"
    assert len(warnings) == 1
    assert "column 'employees': 2 values far outside the training range [1, 500, never negative" in warnings[0]
    assert "-5 at row 3" in warnings[0]


def test_unseen_categories_are_counted_over_the_whole_input(contract):
    frame = scoring_leads()
    frame.loc[[1, 2, 40], "industry"] = ["Space Mining", "space mining ", "Bakery"]
    state, warnings = verdict(contract, frame, 7)
    assert state == "ok"
    assert any("column 'industry': 3 values in 2 categories never seen in training" in w for w in warnings)
    # Aliases and spelling variants are not "unseen".
    frame = scoring_leads()
    frame["industry"] = "  fin. SERVICES "
    assert verdict(contract, frame, 1000) == ("ok", [])


def test_bant_recorded_as_y_n_is_warned_by_name(contract):
    frame = scoring_leads()
    frame["bant_budget"] = np.where(np.arange(len(frame)) % 2, "Y", "N")
    state, warnings = verdict(contract, frame, 1000)
    assert state == "ok"
    bant = [w for w in warnings if "BANT" in w]
    assert len(bant) == 1
    assert "BANT criterion 'budget' (column 'bant_budget'" in bant[0]
    assert "passed for 50% of training leads but for none of these 60" in bant[0]


def test_bant_silence_on_a_handful_of_leads(contract):
    """Three leads that all fail budget are not surprising (0.5^3 = 12%): no warning."""
    frame = scoring_leads(3)
    frame["bant_budget"] = "no"
    assert verdict(contract, frame, 1000) == ("ok", [])


def test_bant_passing_for_everyone_is_warned(contract):
    frame = scoring_leads()
    frame["bant_budget"] = "yes"
    _, warnings = verdict(contract, frame, 1000)
    assert any("'budget'" in w and "for all of these 60" in w for w in warnings)


def test_missing_ids_are_refused(contract):
    frame = scoring_leads()
    frame.loc[[3, 8], "lead_id"] = [None, "  "]
    state, message = verdict(contract, frame, 1000)
    assert state == "refused" and "column 'lead_id' (the lead id): 2 missing ids (first at row 4)" in message


def test_duplicate_ids_in_different_chunks_are_refused(contract):
    frame = scoring_leads()
    frame.loc[55, "lead_id"] = frame.loc[2, "lead_id"]
    state, message = verdict(contract, frame, 10)
    assert state == "refused"
    assert "must be unique across the whole input: 1 repeated id (e.g. 'S00002')" in message


def test_numeric_and_text_ids_of_the_same_value_are_the_same_id(contract):
    frame = scoring_leads(4)
    frame["lead_id"] = pd.Series([42, 7, 8, 9])
    frame2 = frame.copy()
    frame2["lead_id"] = ["43", "44", "42", "45"]
    check = ContractCheck(contract)
    check.update(frame)
    check.update(frame2)
    with pytest.raises(DataValidationError, match=r"e\.g\. '42'"):
        check.finish()


def test_empty_column_is_warned(contract):
    frame = scoring_leads()
    frame["industry"] = None
    _, warnings = verdict(contract, frame, 1000)
    assert "column 'industry' is empty in the whole input; scored as missing" in warnings


def test_missing_column_is_refused(contract):
    with pytest.raises(DataValidationError, match=r"missing column.*'bant_timeline'"):
        ContractCheck(contract).update(scoring_leads().drop(columns="bant_timeline"))


# -- policies ---------------------------------------------------------------------------------------
def test_policies_refuse_warn_ignore(contract):
    frame = scoring_leads()
    frame.loc[4, "employees"] = "lots"
    frame.loc[5, "industry"] = "Bakery"
    state, warnings = verdict(contract, frame, 1000, ContractConfig(type_error="warn"))
    assert state == "ok" and any("'employees'" in w and "(params contract.type_error: warn)" in w for w in warnings)
    state, warnings = verdict(contract, frame, 1000, ContractConfig(type_error="ignore", unseen_category="ignore"))
    assert (state, warnings) == ("ok", [])
    state, message = verdict(contract, frame, 1000, ContractConfig(type_error="ignore", unseen_category="refuse"))
    assert state == "refused" and "'industry'" in message and "(params contract.unseen_category: refuse)" in message


def test_refused_is_known_as_soon_as_seen_so_scoring_can_stop(contract):
    frame = scoring_leads()
    frame.loc[12, "employees"] = "lots"
    check = ContractCheck(contract)
    check.update(frame.iloc[:10])
    assert not check.refused
    check.update(frame.iloc[10:20])
    assert check.refused


# -- the same verdict at any chunk size --------------------------------------------------------------
def messy_input() -> pd.DataFrame:
    frame = scoring_leads(120)
    frame.loc[[3, 77], "employees"] = ["n/a-ish", "lots"]
    frame.loc[50, "employees"] = -3
    frame.loc[[10, 90, 91], "industry"] = ["Bakery", "Space", "bakery"]
    frame.loc[100, "lead_id"] = frame.loc[5, "lead_id"]
    frame["bant_budget"] = "Y"
    return frame


@pytest.mark.parametrize("policy", [None, ContractConfig(type_error="warn")])
def test_same_verdict_at_chunk_sizes_1_7_1000_100000(contract, policy):
    frame = messy_input()
    if policy is not None:
        frame.loc[100, "lead_id"] = "unique"
    verdicts = [verdict(contract, frame, size, policy) for size in (1, 7, 1000, 100_000)]
    assert all(v == verdicts[0] for v in verdicts)
    state, detail = verdicts[0]
    if policy is None:
        assert state == "refused"
        assert "2 values here are not finite numbers (e.g. 'n/a-ish' at row 4)" in detail
        assert "'S00005'" in detail
    else:
        assert state == "ok" and len(detail) == 5  # type error, range, unseen, BANT


def test_merging_partition_checks_equals_one_pass(contract):
    """The Dask engine checks partitions separately and merges them in order."""
    frame = messy_input()
    whole = verdict(contract, frame, 1000)
    merged = ContractCheck(contract, source="leads.csv")
    for start in range(0, len(frame), 40):
        part = ContractCheck(contract, source="leads.csv")
        part.update(frame.iloc[start : start + 40])
        merged.merge(part)
    # The duplicate spans partitions: only its hash is known until the caller looks it up.
    assert merged.unresolved_duplicate_hash is not None
    merged.resolve_duplicate("S00005")
    with pytest.raises(DataValidationError) as err:
        merged.finish()
    assert ("refused", str(err.value)) == whole


def test_warnings_are_logged_once_each(contract, caplog):
    frame = scoring_leads()
    frame.loc[2, "employees"] = -5
    with caplog.at_level(logging.WARNING):
        verdict(contract, frame, 5)
    assert sum("'employees'" in r.getMessage() for r in caplog.records) == 1


def test_without_a_contract_only_ids_are_checked():
    frame = scoring_leads()
    frame.loc[3, "employees"] = "lots"
    check = ContractCheck(None, id_column="lead_id")
    check.update(frame)
    assert check.finish() == []  # text in a numeric column: the featurizer's own rules apply
    check = ContractCheck(None, id_column="lead_id")
    check.update(frame.iloc[:30])
    check.update(frame.iloc[:5])
    with pytest.raises(DataValidationError, match="5 repeated ids"):
        check.finish()


# -- training-side checks -------------------------------------------------------------------------
def test_ambiguous_day_month_dates_are_refused_without_date_format():
    frame = pd.DataFrame({"created_at": ["03/04/2026", "05/06/2026", "01/01/2026", "11/02/2026"]})
    with pytest.raises(DataValidationError, match=r"'created_at'.*both day-first and month-first.*date_format"):
        parse_timestamps(frame, "created_at")
    parsed = parse_timestamps(frame, "created_at", date_format="%d/%m/%Y")
    assert parsed[0] == pd.Timestamp("2026-04-03")


def test_day_first_dates_are_read_day_first_throughout():
    frame = pd.DataFrame({"created_at": ["25/03/2026", "03/04/2026"]})
    assert parse_timestamps(frame, "created_at")[1] == pd.Timestamp("2026-04-03")
    mixed = pd.DataFrame({"created_at": ["25/03/2026", "03/25/2026"]})
    with pytest.raises(DataValidationError, match="mixes day-first and month-first"):
        parse_timestamps(mixed, "created_at")


def test_date_format_mismatch_names_the_format():
    frame = pd.DataFrame({"created_at": ["2026-04-03", "03/04/2026"]})
    with pytest.raises(
        DataValidationError, match=r"'created_at' should hold dates in params columns.date_format '%d/%m/%Y'"
    ):
        parse_timestamps(frame, "created_at", date_format="%d/%m/%Y")


def test_future_and_identical_split_dates_are_warned():
    created = pd.Series(pd.to_datetime(["2026-01-01", "2031-05-01"]))
    warnings = check_split_dates(created, "created_at", now="2026-11-23T00:00:00Z")
    assert len(warnings) == 1 and "1 dates later than now (2026-11-23)" in warnings[0]
    same = pd.Series(pd.to_datetime(["2026-01-01"] * 3))
    assert "same value" in check_split_dates(same, "created_at", now="2026-11-23T00:00:00Z")[0]


def test_duplicated_yaml_key_is_refused_with_the_key(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("features:\n  fit: [a]\n  intent: [b]\n  fit: [c]\nbant:\n  criteria: {}\n")
    with pytest.raises(ConfigError, match=r"duplicated key 'fit' \(first on line 2, again on line 4\)"):
        load_params(path)
