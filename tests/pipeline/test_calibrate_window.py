"""build_scorer (the calibrate stage's core): calibrate.window uses the most recent calibration leads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import run_pipeline, small_params

from leadscore.config import CalibrateWindowConfig
from leadscore.data.outcomes import CALIBRATION, lead_order
from leadscore.errors import DataValidationError
from leadscore.models.persistence import load_booster, load_featurizer
from leadscore.pipeline.calibrate import build_scorer


@pytest.fixture(scope="module")
def trained(params, tmp_path_factory):
    small = small_params(params, n_leads=3_000, n_estimators=60, learning_rate=0.15)
    run = run_pipeline(small, tmp_path_factory.mktemp("calibrate"), through="train_intent")
    leads = pd.read_parquet(run.path("generate", "leads_out"))
    kwargs = {
        "fit_table": pd.read_parquet(run.path("featurize", "fit_out")),
        "intent_table": pd.read_parquet(run.path("featurize", "intent_out")),
        "fit_model": load_booster(run.path("train_fit", "model_out")),
        "intent_model": load_booster(run.path("train_intent", "model_out")),
        "featurizer": load_featurizer(run.path("featurize", "featurizer_out")),
        "order": lead_order(leads, split=small.split, columns=small.columns),
    }
    return small, kwargs


def _with_window(params, window):
    return params.model_copy(update={"calibrate": params.calibrate.model_copy(update={"window": window})})


def test_a_window_calibrates_on_the_recent_calibration_leads_only(trained):
    params, kwargs = trained
    whole = build_scorer(params, **kwargs)
    recent = build_scorer(_with_window(params, CalibrateWindowConfig(method="share", value=0.5)), **kwargs)
    assert not np.allclose(whole.conversion_model.coef_, recent.conversion_model.coef_)
    # Relabel the older half of the calibration split: the window must not notice.
    table = kwargs["fit_table"]
    cal = np.flatnonzero((table["split"] == CALIBRATION).to_numpy())
    older = cal[np.argsort(kwargs["order"].to_numpy()[cal], kind="stable")][: len(cal) - int(np.ceil(0.5 * len(cal)))]
    flipped = table.copy()
    flipped.loc[older, "label"] = 1.0 - flipped.loc[older, "label"]
    again = build_scorer(
        _with_window(params, CalibrateWindowConfig(method="share", value=0.5)), **{**kwargs, "fit_table": flipped}
    )
    assert np.allclose(again.conversion_model.coef_, recent.conversion_model.coef_)


def test_a_window_too_small_to_calibrate_is_named(trained):
    params, kwargs = trained
    with pytest.raises(DataValidationError, match=r"params calibrate\.window"):
        build_scorer(_with_window(params, CalibrateWindowConfig(method="share", value=0.001)), **kwargs)
