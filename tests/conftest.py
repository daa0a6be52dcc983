"""Shared fixtures: tiny hand-made lead tables and the project's own params."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from leadscore.config import load_params

REPO_ROOT = Path(__file__).resolve().parents[1]
# Real public datasets live beside the repo (../shared/datasets), never inside it; an env var lets a
# checkout elsewhere (e.g. a git worktree) point at them.
SHARED_DATASETS = Path(os.environ.get("LEADSCORE_SHARED_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def params():
    """The repository's params.yaml, validated."""
    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture
def tiny_leads() -> pd.DataFrame:
    """Eight hand-made leads covering won, lost and open, messy text and missing values."""
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(8)],
            "created_at": pd.to_datetime(
                ["2026-01-01", "2026-01-05", "2026-02-01", "2026-02-10", "2026-03-01", "2026-03-15", "2026-04-01", "2026-05-01"]
            ),
            "status": ["won", "lost", "lost", "won", "lost", "won", "open", "open"],
            "employees": [50, 5000, 12, None, 200, 80, 30, 10],
            "industry": ["Software", "software ", "Fin. Services", "Retail", "Software", None, "Space Mining", "Retail"],
            "job_title": ["VP of Sales", "Intern", "Founder & CEO", "Marketing Mgr", None, "Head of Marketing", "Student", "CTO"],
            "demo_requested": [True, False, False, True, False, True, True, None],
            "emails_opened": [10, 0, 2, 5, 0, 8, 3, 0],
            "emails_clicked": [4, 0, 0, 2, 0, 3, 3, 0],
            "bant_budget": ["yes", "no", "unknown", "yes", None, "yes", "no", "yes"],
            "bant_timeline": ["<1 month", ">6 months", "1-3 months", "3-6 months", "unknown", "1-3 months", None, "<1 month"],
        }
    )


@pytest.fixture(scope="session")
def trained_scorer(tmp_path_factory, params):
    """A LeadScorer trained by the real stage functions on 20,000 synthetic leads (no DVC).

    Returns ``(scorer, raw_leads)``. Session-scoped: ~10 s once, shared by behaviour tests.
    """
    from leadscore import stages
    from leadscore.io import load_object

    small = params.model_copy(update={"data": params.data.model_copy(update={"synthetic": params.data.synthetic.model_copy(update={"n_leads": 20_000})})})
    d = tmp_path_factory.mktemp("trained")
    p = {name: str(d / name) for name in ("leads.parquet", "truth.parquet", "fit.parquet", "intent.parquet", "featurizer.joblib", "fit.joblib", "intent.joblib", "scorer.joblib")}
    stages.generate(small, leads_out=p["leads.parquet"], truth_out=p["truth.parquet"])
    stages.featurize(small, raw_path=p["leads.parquet"], fit_out=p["fit.parquet"], intent_out=p["intent.parquet"], featurizer_out=p["featurizer.joblib"])
    stages.train(small, group="fit", features_path=p["fit.parquet"], model_out=p["fit.joblib"])
    stages.train(small, group="intent", features_path=p["intent.parquet"], model_out=p["intent.joblib"])
    stages.calibrate(
        small,
        fit_features=p["fit.parquet"],
        intent_features=p["intent.parquet"],
        fit_model=p["fit.joblib"],
        intent_model=p["intent.joblib"],
        featurizer_path=p["featurizer.joblib"],
        scorer_out=p["scorer.joblib"],
    )
    return load_object(p["scorer.joblib"]), pd.read_parquet(p["leads.parquet"])


@pytest.fixture(scope="session")
def small_pipeline(tmp_path_factory, params):
    """generate -> featurize -> train -> calibrate -> evaluate on 4,000 synthetic leads.

    Returns ``{"params", "paths", "metrics"}``; bootstrap kept small so the session stays quick.
    """
    from leadscore import stages

    small = params.model_copy(
        update={
            "data": params.data.model_copy(update={"synthetic": params.data.synthetic.model_copy(update={"n_leads": 4_000})}),
            "evaluate": params.evaluate.model_copy(update={"bootstrap": params.evaluate.bootstrap.model_copy(update={"n": 40})}),
        }
    )
    d = tmp_path_factory.mktemp("benchmark")
    p = {
        "leads": d / "data/leads.parquet", "truth": d / "data/truth.parquet", "fit": d / "data/fit.parquet",
        "intent": d / "data/intent.parquet", "featurizer": d / "models/featurizer.joblib", "fit_model": d / "models/fit.joblib",
        "intent_model": d / "models/intent.joblib", "scorer": d / "models/scorer.joblib", "metrics": d / "reports/metrics.json",
        "plots": d / "reports/plots", "html": d / "reports/benchmark.html", "md": d / "reports/benchmark.md", "figures": d / "reports/figures",
    }
    p = {k: str(v) for k, v in p.items()}
    stages.generate(small, leads_out=p["leads"], truth_out=p["truth"])
    stages.featurize(small, raw_path=p["leads"], fit_out=p["fit"], intent_out=p["intent"], featurizer_out=p["featurizer"])
    stages.train(small, group="fit", features_path=p["fit"], model_out=p["fit_model"])
    stages.train(small, group="intent", features_path=p["intent"], model_out=p["intent_model"])
    stages.calibrate(
        small, fit_features=p["fit"], intent_features=p["intent"], fit_model=p["fit_model"], intent_model=p["intent_model"],
        featurizer_path=p["featurizer"], scorer_out=p["scorer"],
    )
    metrics = stages.evaluate(
        small, raw_path=p["leads"], truth_path=p["truth"], features_path=p["fit"], intent_features_path=p["intent"],
        scorer_path=p["scorer"], metrics_out=p["metrics"], plots_dir=p["plots"], report_html=p["html"], report_md=p["md"],
        figures_dir=p["figures"],
    )
    return {"params": small, "paths": p, "metrics": metrics}
