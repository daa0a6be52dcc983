"""params.yaml loading: typed, frozen, and one clear error per mistake."""

from __future__ import annotations

import copy
import re

import pydantic
import pytest
import yaml
from support import REPO_ROOT

from leadscore.config import load_params, params_from_dict
from leadscore.errors import ConfigError


@pytest.fixture
def raw_params() -> dict:
    return yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


def test_repository_params_load_into_typed_frozen_objects(params):
    assert params.split.train == pytest.approx(0.6)
    assert isinstance(params.features.fit, tuple)
    assert params.bant.criteria["budget"].in_ == ("yes",)
    with pytest.raises(pydantic.ValidationError):
        params.split.train = 0.9  # frozen


def test_unknown_key_is_named(raw_params):
    raw_params["split"]["trian"] = 0.5
    with pytest.raises(ConfigError, match=r"split\.trian: unknown key"):
        params_from_dict(raw_params)


def test_wrong_type_is_named_with_the_value(raw_params):
    raw_params["train"]["fit"]["num_leaves"] = "many"
    with pytest.raises(ConfigError, match=r"train\.fit\.num_leaves: .*'many'"):
        params_from_dict(raw_params)


def test_split_shares_must_sum_to_one(raw_params):
    raw_params["split"]["test"] = 0.3
    with pytest.raises(ConfigError, match=re.escape("must be 1.0")):
        params_from_dict(raw_params)


def test_column_in_both_groups_is_rejected(raw_params):
    raw_params["features"]["intent"].append("employees")
    with pytest.raises(ConfigError, match=r"both fit and intent.*employees"):
        params_from_dict(raw_params)


def test_bant_criterion_needs_a_condition(raw_params):
    raw_params["bant"]["criteria"]["budget"] = {"column": "bant_budget"}
    with pytest.raises(ConfigError, match=r"bant\.criteria\.budget.*needs a condition"):
        params_from_dict(raw_params)


def test_min_criteria_above_count_is_rejected(raw_params):
    raw_params["bant"]["min_criteria"] = 5
    with pytest.raises(ConfigError, match="min_criteria=5"):
        params_from_dict(raw_params)


def test_threshold_rule_needs_value(raw_params):
    raw_params["quadrants"]["fit"] = {"method": "top_share"}
    with pytest.raises(ConfigError, match="needs a `value`"):
        params_from_dict(raw_params)


def test_excluded_columns_leave_the_groups(raw_params):
    raw = copy.deepcopy(raw_params)
    raw["features"]["exclude"] = ["employees"]
    assert "employees" not in params_from_dict(raw).features.fit_columns


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("split: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


def test_bant_points_must_weigh_every_criterion(raw_params):
    raw_params["bant"]["points"] = {"budget": 30, "authority": 25}
    with pytest.raises(ConfigError, match=r"bant: .*one weight per criterion"):
        params_from_dict(raw_params)


def test_bant_points_default_to_one_per_criterion(raw_params):
    raw_params["bant"].pop("points", None)
    assert set(params_from_dict(raw_params).bant.point_weights.values()) == {1.0}


def test_evaluate_settings_are_validated(raw_params):
    bad = copy.deepcopy(raw_params)
    bad["evaluate"]["bant_variants"] = [2, 5]
    with pytest.raises(ConfigError, match=r"bant_variants \[5\]"):
        params_from_dict(bad)
    bad = copy.deepcopy(raw_params)
    bad["evaluate"]["bootstrap"]["n"] = 0
    with pytest.raises(ConfigError, match=r"evaluate\.bootstrap\.n"):
        params_from_dict(bad)
    bad = copy.deepcopy(raw_params)
    bad["evaluate"]["capacity"]["rep"] = 3
    with pytest.raises(ConfigError, match=r"evaluate\.capacity\.rep: unknown key"):
        params_from_dict(bad)
    assert params_from_dict(raw_params).evaluate.capacity.leads == 2500


# --- monitoring sections (issue 11): optional, with defaults, validated --------------------------------
def test_monitoring_sections_are_optional_and_validated(raw_params):
    for section in ("drift", "monitor", "promotion"):
        raw_params.pop(section, None)
    params = params_from_dict(copy.deepcopy(raw_params))
    assert (params.drift.warn, params.drift.alert) == (0.1, 0.25)
    assert params.promotion.max_log_loss_increase == 0.002 and params.promotion.require_beats_bant
    assert not params.data.synthetic.drift.enabled
    raw_params["drift"] = {"warn": 0.3, "alert": 0.2}
    with pytest.raises(ConfigError, match="drift: Value error, alert must be at least warn"):
        params_from_dict(copy.deepcopy(raw_params))
    raw_params["drift"] = {}
    raw_params["data"]["synthetic"]["drift"] = {"enabled": True, "shifted_column": "employees"}
    with pytest.raises(ConfigError, match=r"data\.synthetic\.drift\.shifted_column"):
        params_from_dict(raw_params)


def test_contract_policies_are_validated(raw_params):
    assert params_from_dict(raw_params).contract.type_error == "refuse"
    raw_params["contract"]["out_of_range"] = "shout"
    with pytest.raises(ConfigError, match=r"contract\.out_of_range: Input should be 'refuse', 'warn' or 'ignore'"):
        params_from_dict(raw_params)


def test_duplicated_nested_key_is_named_with_both_lines(tmp_path):
    text = (
        (REPO_ROOT / "params.yaml").read_text().replace("  min_criteria: 3\n", "  min_criteria: 3\n  min_criteria: 2\n")
    )
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_params(path)
    message = str(err.value)
    assert "duplicated key 'min_criteria'" in message and "\n" not in message


# -- issue 12: what the configuration can now say, and what it refuses at load time ---------------------
def test_new_options_load(raw_params):
    raw_params["features"]["categorical"] = ["employees"]
    raw_params["features"]["allow_strong"] = ["lead_source"]
    raw_params["split"]["group"] = "account_id"
    raw_params["bant"]["criteria"]["budget"] = {"column": "bant_budget", "present": True}
    raw_params["explain"]["min_effect"] = 0.1
    p = params_from_dict(raw_params)
    assert p.features.categorical == ("employees",) and p.features.allow_strong == ("lead_source",)
    assert p.split.group == "account_id" and p.bant.criteria["budget"].present is True
    assert p.explain.min_effect == 0.1 and p.features.strong_leak_auc == 0.98


def test_categorical_and_allow_strong_must_name_used_columns(raw_params):
    raw_params["features"]["categorical"] = ["region_code"]
    with pytest.raises(ConfigError, match=r"categorical lists \['region_code'\], which are in neither fit nor intent"):
        params_from_dict(raw_params)


def test_present_is_one_condition(raw_params):
    raw_params["bant"]["criteria"]["budget"] = {"column": "bant_budget", "present": True, "in": ["yes"]}
    with pytest.raises(ConfigError, match=r"bant\.criteria\.budget.*give one condition"):
        params_from_dict(raw_params)


def test_one_empty_group_is_allowed_both_are_not(raw_params):
    raw_params["features"]["intent"] = []
    raw_params["train"]["intent"]["monotone_increasing"] = []
    assert params_from_dict(raw_params).features.empty_groups == ("intent",)
    raw_params["features"]["fit"] = []
    raw_params["features"]["job_title_columns"] = []
    raw_params["features"]["ratios"] = {}
    with pytest.raises(ConfigError, match="fit and intent are both empty"):
        params_from_dict(raw_params)


def test_monotone_constraint_on_a_declared_categorical_column_is_refused_at_load(raw_params):
    """LightGBM aborts the process ("cannot be monotone with respect to categorical features")."""
    raw_params["features"]["categorical"] = ["demo_requested"]
    with pytest.raises(ConfigError, match=r"train\.intent\.monotone_increasing lists \['demo_requested'\]"):
        params_from_dict(raw_params)


# --- tuning (issue 15): off by default, each setting validated ------------------------------------------
def test_tuning_is_off_by_default_and_validated(raw_params):
    tune = params_from_dict(copy.deepcopy(raw_params)).train.tune
    assert not tune.enabled and tune.timeout_seconds is None
    raw_params["train"].pop("tune")
    assert not params_from_dict(copy.deepcopy(raw_params)).train.tune.enabled  # optional section
    for key, value, message in (
        ("n_trials", 0, r"train\.tune\.n_trials: Input should be greater than or equal to 1 \(got 0\)"),
        ("n_folds", 0, r"train\.tune\.n_folds: Input should be greater than or equal to 1"),
        ("n_folds", 11, r"train\.tune\.n_folds: Input should be less than or equal to 10"),
        ("timeout_seconds", -5, r"train\.tune\.timeout_seconds: Input should be greater than 0"),
        ("enabled", "maybe", r"train\.tune\.enabled: .*'maybe'"),
        ("n_trails", 3, r"train\.tune\.n_trails: unknown key"),
    ):
        bad = copy.deepcopy(raw_params)
        bad["train"]["tune"] = {"enabled": True, key: value}
        with pytest.raises(ConfigError, match=message):
            params_from_dict(bad)


@pytest.mark.parametrize(
    ("candidates", "message"),
    [([], "name at least one"), (["logistic", "logistic"], "repeats a name"), (["forest"], "forest")],
)
def test_conversion_candidates_are_checked(raw_params, candidates, message):
    raw_params["calibrate"]["conversion_candidates"] = candidates
    with pytest.raises(ConfigError, match=message):
        params_from_dict(raw_params)


def test_synthetic_world_is_additive_by_default_and_checked(params, raw_params):
    assert params.data.synthetic.world == "additive" and params.calibrate.conversion_candidates == ("logistic",)
    raw_params["data"]["synthetic"]["world"] = "quadratic"
    with pytest.raises(ConfigError, match=r"data\.synthetic\.world"):
        params_from_dict(raw_params)


def test_code_defaults_match_profiles_base():
    """A key missing from a params file gets the code's default: it must be profiles/base.yaml's value.

    (They disagreed once: calibrate.method defaulted to isotonic in code, sigmoid in base.yaml, so a
    benchmark reading a bare overlay calibrated differently from the pipeline.) Data-specific keys
    whose code default is deliberately a fallback rather than base.yaml's empty value are listed.
    """
    from leadscore.config import Params

    fallbacks = {"quadrants.actions", "evaluate.bant_variants"}
    base = yaml.safe_load((REPO_ROOT / "profiles" / "base.yaml").read_text())
    differences = []

    def compare(code, written, path):
        if isinstance(code, dict) and isinstance(written, dict):
            for key in set(code) | set(written):
                compare(code.get(key), written.get(key), f"{path}.{key}")
        elif code != written and not any(path.startswith(f) for f in fallbacks):
            differences.append((path, code, written))

    for name, field in Params.model_fields.items():
        section = field.annotation
        if name in ("features", "bant"):  # required, data-specific: no code default to compare
            continue
        compare(
            section().model_dump(mode="json"), section.model_validate(base[name] or {}).model_dump(mode="json"), name
        )
    assert differences == []
