"""Shared fixtures: tiny hand-made lead tables, the project's own params, small trained pipelines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support import (
    N_LEADS,
    REPO_ROOT,
    built_once,
    local_run,
    pipeline_env,
    run_command,
    run_pipeline,
    run_pipeline_once,
    small_params,
)

from leadscore.config import Params, load_params

# The repro'd project (fixture ``pipeline``) is built and edited by the tests of one module, so that
# under pytest-xdist (`make test` runs `--dist loadfile`: a module's tests run on one worker) it is built
# once and its tests that edit it (src edits, registry changes) never race each other.
PIPELINE_PROJECT_TESTS = "test_pipeline_e2e.py"
# A scheduling hint only: the modules that take longest on one worker (a `dvc repro` of 100,000 leads,
# a real `dvc exp run` on X Education, the smallest profile through DVC, registries, the activity log).
LONGEST_FIRST = (
    PIPELINE_PROJECT_TESTS,
    "test_profiles.py",
    "test_minimal_params.py",
    "test_register.py",
    "test_activity.py",
    "test_output_safety.py",
)


def pytest_collection_modifyitems(config, items):
    """Mark server tests slow, keep the project's tests in one module, and start the longest module first."""
    for item in items:
        # The fast tier is unit tests only: a test that starts a PostgreSQL server is in the full run.
        callspec = getattr(item, "callspec", None)
        if "postgres_url" in item.fixturenames or (callspec and callspec.params.get("db_url") == "postgresql"):
            item.add_marker(pytest.mark.slow)
        if "pipeline" in item.fixturenames and item.path.name != PIPELINE_PROJECT_TESTS:
            raise pytest.UsageError(f"{item.nodeid}: tests of the repro'd project belong in {PIPELINE_PROJECT_TESTS}")
    # Longest modules first (measured with --durations): each worker starts on a long one and the many
    # short modules fill in at the end, so neither worker idles while the other finishes a long tail.
    # Stable: the order within each module is kept; every worker computes the same order (xdist requires it).
    items.sort(key=lambda item: LONGEST_FIRST.index(item.path.name) if item.path.name in LONGEST_FIRST else 99)


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

    Returns ``(scorer, raw_leads)``. Session-scoped, small training budget; shared by behaviour tests.
    The baselines stage is skipped: nothing here reads its scores.
    """
    from leadscore.models.persistence import load_scorer
    from leadscore.models.scorer import display_from_params

    small = small_params(params, n_leads=20_000)
    run = run_pipeline_once(small, tmp_path_factory, "trained", through="calibrate", skip=("baselines", "register"))
    scorer = load_scorer(run.path("calibrate", "scorer_out")).with_display(display_from_params(small))
    return scorer, pd.read_parquet(run.path("generate", "leads_out"))


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    """A copy of the project (default params) after one real `dvc repro`, with its own MLflow store.

    Returns a dict: root (the copy), env (PATH, PYTHONPATH of the copy's src, MLFLOW_TRACKING_URI ...),
    store (mlflow.db), first (the completed `dvc repro`). Session-scoped: the ~1 minute run is shared.
    """
    root = tmp_path_factory.mktemp("project")
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["data"]["synthetic"]["n_leads"] = N_LEADS
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    store = root / "mlflow.db"
    # The stages run the copy's code, so an edit to the copy is both what DVC sees and what runs.
    env = pipeline_env(store, src=root / "src")
    run_command(["git", "init", "-q"], root, env)
    run_command(["dvc", "init", "-q"], root, env)
    run_command(["dvc", "config", "core.analytics", "false"], root, env)
    first = run_command(["dvc", "repro"], root, env)
    return {"root": root, "env": env, "store": store, "first": first}


@pytest.fixture(scope="session")
def small_pipeline(tmp_path_factory, params):
    """generate -> ... -> evaluate -> predict on 4,000 synthetic leads, small training budget and bootstrap.

    Returns ``{"params", "run", "metrics"}`` (``run.path(stage, option)`` locates any file).
    """
    small = small_params(params, n_leads=4_000)
    small = small.model_copy(
        update={
            "evaluate": small.evaluate.model_copy(
                update={"bootstrap": small.evaluate.bootstrap.model_copy(update={"n": 40})}
            )
        }
    )
    run = run_pipeline_once(small, tmp_path_factory, "benchmark", through="predict")
    metrics = json.loads(run.path("evaluate", "metrics_out").read_text())
    return {"params": small, "run": run, "metrics": metrics}


@pytest.fixture(scope="session")
def leaky_run(tmp_path_factory, params):
    """Issue 12's leak run: an export with a rep's note written after the outcome (AUC 1.000 alone),
    let through by features.allow_strong; category aliases and labels MLflow cannot use as param names.

    generate -> ... -> evaluate on 3,000 leads. Returns ``{"params", "run", "metrics"}``.
    """
    from leadscore.data.synthetic import generate_leads
    from leadscore.io import write_table

    def leak_params(export: Path) -> Params:
        small = small_params(params, n_leads=3000, n_estimators=60, learning_rate=0.2)
        f = small.features
        return small.model_copy(
            update={
                "data": small.data.model_copy(update={"source": str(export)}),
                "features": f.model_copy(
                    update={
                        "intent": (*f.intent, "rep_note"),
                        "allow_strong": ("rep_note",),
                        "category_aliases": {**f.category_aliases, "industry": {"retail & e-commerce": "retail"}},
                    }
                ),
                "explain": small.explain.model_copy(
                    update={"labels": {**small.explain.labels, "web_visits_30d": "Sessions (90d)"}}
                ),
                "evaluate": small.evaluate.model_copy(
                    update={"bootstrap": small.evaluate.bootstrap.model_copy(update={"n": 20})}
                ),
            }
        )

    def build(root: Path) -> None:
        leads, _ = generate_leads(3000, seed=11)
        leads["rep_note"] = leads["status"].map({"won": "signed", "lost": "went dark", "open": None})
        write_table(leads, root / "export.parquet")
        run_pipeline(leak_params(root / "export.parquet"), root / "work", through="evaluate")

    root = built_once(tmp_path_factory, "leaky_run", build)
    small = leak_params(root / "export.parquet")
    run = local_run(root / "work", through="evaluate")
    metrics = json.loads(run.path("evaluate", "metrics_out").read_text())
    return {"params": small, "run": run, "metrics": metrics}
