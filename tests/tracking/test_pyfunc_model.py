"""The registered model's code (MLflow loads tracking/pyfunc_model.py by path): JSON in, one-line errors."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from leadscore.models.persistence import save_display, save_scorer


@pytest.fixture(scope="module")
def served(trained_scorer, tmp_path_factory):
    from leadscore.tracking.pyfunc_model import LeadScorerModel

    scorer, raw = trained_scorer
    d = tmp_path_factory.mktemp("pyfunc")
    save_scorer(scorer, d / "lead_scorer.json")
    save_display(scorer.display, d / "display.json")
    model = LeadScorerModel()
    # The context MLflow passes: artifact name -> local path of the logged file.
    model.load_context(
        SimpleNamespace(artifacts={"scorer": str(d / "lead_scorer.json"), "display": str(d / "display.json")})
    )
    return model, scorer, raw[raw["status"] == "open"].head(10).reset_index(drop=True)


def test_served_scores_equal_the_scorer_s(served):
    model, scorer, leads = served
    pd.testing.assert_frame_equal(model.predict(None, leads), scorer.predict(leads, explain=True))
    plain = model.predict(None, leads, params={"explain": False})
    assert "fit_reasons_for" not in plain.columns


def test_a_bad_request_is_one_json_line_naming_the_column(served):
    from leadscore.tracking.pyfunc_model import ScoringRequestError

    model, _, leads = served
    with pytest.raises(ScoringRequestError) as err:
        model.predict(None, leads.assign(lead_id=None))
    body = json.loads(err.value.serialize_as_json())
    assert set(body) == {"error_code", "message"}
    assert "lead_id" in body["message"] and "\n" not in body["message"]


@pytest.mark.parametrize("kind", ["spline", "monotone_gbm"])
def test_served_scores_equal_the_scorer_s_with_every_conversion_model(served, trained_scorer, tmp_path, kind):
    """Issue 15: whichever conversion model calibrate chose, the registered model scores as the scorer does."""
    import dataclasses

    import numpy as np

    from leadscore.models.calibration import new_conversion_model
    from leadscore.tracking.pyfunc_model import LeadScorerModel

    _, scorer, leads = served
    raw = trained_scorer[1]
    closed = raw[raw["status"] != "open"].head(3000)
    p_fit, p_intent, _ = scorer.component_probabilities(closed)
    y = (closed["status"] == "won").to_numpy().astype(int)
    conversion = new_conversion_model(kind).fit(np.column_stack([p_fit, p_intent]), y)
    other = dataclasses.replace(scorer, conversion_model=conversion)
    save_scorer(other, tmp_path / "lead_scorer.json")
    save_display(other.display, tmp_path / "display.json")
    model = LeadScorerModel()
    model.load_context(
        SimpleNamespace(
            artifacts={"scorer": str(tmp_path / "lead_scorer.json"), "display": str(tmp_path / "display.json")}
        )
    )
    served_scores = model.predict(None, leads)
    pd.testing.assert_frame_equal(served_scores, other.predict(leads, explain=True))
    assert not np.allclose(served_scores["conversion_probability"], scorer.predict(leads)["conversion_probability"])
