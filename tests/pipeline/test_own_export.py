"""Issue 12 end to end (in-process stages, 4,000 leads): an export with no intent columns at all,
integer-coded categories, a column that means nothing, and a BANT criterion on "is filled in"."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from support import run_pipeline, small_params

from leadscore.config import CriterionConfig
from leadscore.models.persistence import load_scorer, scorer_json
from leadscore.models.scorer import display_from_params

N = 4000


@pytest.fixture(scope="module")
def opportunity_run(tmp_path_factory, params):
    """A pure opportunity table: fit columns only (features.intent: [])."""
    from leadscore.data.synthetic import generate_leads
    from leadscore.io import write_table

    root = tmp_path_factory.mktemp("own_export")
    leads, _ = generate_leads(N, seed=5)
    rng = np.random.default_rng(5)
    leads["region_code"] = rng.integers(1, 9, len(leads))  # integer-coded; the model must see categories
    leads["time_zone"] = rng.choice(["UTC+1", "UTC+2", "UTC-5"], len(leads))  # means nothing
    export = root / "export.parquet"
    write_table(leads, export)
    small = small_params(params, n_leads=N, n_estimators=80, learning_rate=0.1)
    f = small.features
    criteria = dict(small.bant.criteria)
    criteria["authority"] = CriterionConfig(column="bant_decision_maker", present=True)
    small = small.model_copy(
        update={
            "data": small.data.model_copy(update={"source": str(export)}),
            # No point-in-time rule here (the repo's params set closed_at): the same training rows as
            # before issue 11, so "time_zone means nothing" is judged on the same 4,000 leads.
            "columns": small.columns.model_copy(update={"closed_at": None}),
            "features": f.model_copy(
                update={
                    "fit": (*f.fit, "region_code", "time_zone"),
                    "intent": (),
                    "ratios": {"revenue_per_employee": ("annual_revenue", "employees")},
                    "categorical": ("region_code",),
                }
            ),
            "train": small.train.model_copy(
                update={"intent": small.train.intent.model_copy(update={"monotone_increasing": ()})}
            ),
            "bant": small.bant.model_copy(update={"criteria": criteria}),
            "evaluate": small.evaluate.model_copy(
                update={"bootstrap": small.evaluate.bootstrap.model_copy(update={"n": 20})}
            ),
        }
    )
    run = run_pipeline(small, root / "work", through="predict")
    return {
        "params": small,
        "run": run,
        "metrics": json.loads(run.path("evaluate", "metrics_out").read_text()),
        "scorer": load_scorer(run.path("calibrate", "scorer_out")).with_display(display_from_params(small)),
        "scored": pd.read_parquet(run.paths("predict", "out")[0]),
        "leads": pd.read_parquet(run.path("generate", "leads_out")),
    }


def test_an_export_without_intent_columns_runs_and_the_quadrants_say_the_axis_is_missing(opportunity_run):
    m = opportunity_run["metrics"]
    assert m["missing_axes"] == ["intent"]
    assert m["quadrants"]["high_fit_low_intent"]["n"] == 0 and m["quadrants"]["low_fit_low_intent"]["n"] == 0
    assert m["test"]["conversion"]["auc"] > 0.6  # fit alone still ranks
    page = opportunity_run["run"].path("evaluate", "report_md").read_text()
    assert "No intent axis: features.intent has no columns" in page
    scored = opportunity_run["scored"]
    assert len(scored) and scored["quadrant"].str.endswith("high_intent").all()
    assert scored["quadrant_summary"].str.contains("no intent data (no intent columns)", regex=False).all()
    assert (scored["intent_reasons_for"] == "").all() and (scored["fit_reasons_for"] != "").any()


def test_the_scorer_with_an_empty_group_round_trips_through_json(opportunity_run, tmp_path):
    from leadscore.models.persistence import save_scorer

    scorer, leads = opportunity_run["scorer"], opportunity_run["leads"].head(200)
    path = tmp_path / "scorer.json"
    save_scorer(scorer, path)
    again = load_scorer(path).with_display(scorer.display)
    assert scorer_json(again) == path.read_text()
    pd.testing.assert_frame_equal(scorer.predict(leads, explain=True), again.predict(leads, explain=True))


def test_integer_codes_listed_as_categorical_are_categories(opportunity_run):
    featurizer = opportunity_run["scorer"].featurizer
    assert featurizer.kinds_["region_code"] == "categorical"
    assert set(featurizer.categories_["region_code"]) >= {str(i) for i in range(1, 9)}


def test_bant_present_criterion_reaches_the_scores(opportunity_run):
    scored, leads = opportunity_run["scored"], opportunity_run["leads"].set_index("lead_id")
    filled = leads.loc[scored["lead_id"], "bant_decision_maker"].notna().to_numpy()
    assert ((scored["bant_criteria_met"] >= 1) | ~filled).all()


def test_reasons_are_material_and_never_name_an_uninformative_column(opportunity_run):
    scorer, scored = opportunity_run["scorer"], opportunity_run["scored"]
    settings = scorer.extras["explain"]
    assert settings["min_effect"] == opportunity_run["params"].explain.min_effect == 0.05
    assert "time_zone" in settings["uninformative"]  # AUC alone ~0.5 on train, tiny mean |effect|
    reasons = "; ".join(scored["fit_reasons_for"]) + "; " + "; ".join(scored["fit_reasons_against"])
    assert "Time zone" not in reasons
    effects = [abs(float(x)) for x in re.findall(r"\(([+-]\d+\.\d+)\)", reasons)]
    assert effects and min(effects) >= 0.05
