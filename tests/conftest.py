"""Shared fixtures: tiny hand-made lead tables and the project's own params."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

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
                [
                    "2026-01-01",
                    "2026-01-05",
                    "2026-02-01",
                    "2026-02-10",
                    "2026-03-01",
                    "2026-03-15",
                    "2026-04-01",
                    "2026-05-01",
                ]
            ),
            "status": ["won", "lost", "lost", "won", "lost", "won", "open", "open"],
            "employees": [50, 5000, 12, None, 200, 80, 30, 10],
            "industry": [
                "Software",
                "software ",
                "Fin. Services",
                "Retail",
                "Software",
                None,
                "Space Mining",
                "Retail",
            ],
            "job_title": [
                "VP of Sales",
                "Intern",
                "Founder & CEO",
                "Marketing Mgr",
                None,
                "Head of Marketing",
                "Student",
                "CTO",
            ],
            "demo_requested": [True, False, False, True, False, True, True, None],
            "emails_opened": [10, 0, 2, 5, 0, 8, 3, 0],
            "emails_clicked": [4, 0, 0, 2, 0, 3, 3, 0],
            "bant_budget": ["yes", "no", "unknown", "yes", None, "yes", "no", "yes"],
            "bant_timeline": [
                "<1 month",
                ">6 months",
                "1-3 months",
                "3-6 months",
                "unknown",
                "1-3 months",
                None,
                "<1 month",
            ],
        }
    )


@pytest.fixture(scope="session")
def trained_scorer(tmp_path_factory, params):
    """A LeadScorer trained by the real stage functions on 20,000 synthetic leads (no DVC).

    Returns ``(scorer, raw_leads)``; the scorer is read back from its JSON file, with the labels and
    actions of params.yaml. Session-scoped and small (60 trees per model), shared by behaviour tests.
    """
    from leadscore import stages
    from leadscore.models.persistence import load_scorer
    from leadscore.models.scorer import display_from_params

    small = tiny_training_params(params, n_leads=20_000)
    paths = stages.run_all(small, workdir=tmp_path_factory.mktemp("trained"), through="calibrate")
    return load_scorer(paths["scorer"]).with_display(display_from_params(small)), pd.read_parquet(paths["leads"])


def tiny_training_params(params, *, n_leads: int, n_estimators: int = 60):
    """``params`` with ``n_leads`` synthetic leads and small, fast fit and intent models."""
    train = params.train.model_copy(
        update={
            group: getattr(params.train, group).model_copy(update={"n_estimators": n_estimators, "learning_rate": 0.1})
            for group in ("fit", "intent")
        }
    )
    return params.model_copy(
        update={
            "data": params.data.model_copy(
                update={"synthetic": params.data.synthetic.model_copy(update={"n_leads": n_leads})}
            ),
            "train": train,
        }
    )


# The default size: the e2e quality floors are the ones promised for the default data.
N_LEADS = 100_000


def _pipeline_env(store: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{store}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def run_command(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    """A copy of the project (default params) after one real `dvc repro`, with its own MLflow store.

    Returns a dict: root (the copy), env (PATH, MLFLOW_TRACKING_URI ...), store (mlflow.db), first
    (the completed `dvc repro`). Session-scoped: the ~1 minute run is shared by every test using it.
    """
    root = tmp_path_factory.mktemp("project")
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["data"]["synthetic"]["n_leads"] = N_LEADS
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    store = root / "mlflow.db"
    env = _pipeline_env(store)
    run_command(["git", "init", "-q"], root, env)
    run_command(["dvc", "init", "-q"], root, env)
    run_command(["dvc", "config", "core.analytics", "false"], root, env)
    first = run_command(["dvc", "repro"], root, env)
    return {"root": root, "env": env, "store": store, "first": first}


@pytest.fixture(scope="session")
def small_pipeline(tmp_path_factory, params):
    """generate -> featurize -> train -> calibrate -> evaluate on 4,000 synthetic leads.

    Returns ``{"params", "paths", "metrics"}``; bootstrap kept small so the session stays quick.
    """
    from leadscore import stages

    small = params.model_copy(
        update={
            "data": params.data.model_copy(
                update={"synthetic": params.data.synthetic.model_copy(update={"n_leads": 4_000})}
            ),
            "evaluate": params.evaluate.model_copy(
                update={"bootstrap": params.evaluate.bootstrap.model_copy(update={"n": 40})}
            ),
        }
    )
    paths = stages.run_all(small, workdir=tmp_path_factory.mktemp("benchmark"), through="evaluate")
    metrics = json.loads(paths["metrics"].read_text())
    p = {
        **{k: str(v) for k, v in paths.items()},
        "fit": str(paths["fit_features"]),
        "intent": str(paths["intent_features"]),
    }
    return {"params": small, "paths": p, "metrics": metrics}
