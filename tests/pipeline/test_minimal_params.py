"""Everything optional is optional in dvc.yaml too: the smallest valid profile through DVC and the stages.

DVC refuses a stage whose params key is missing from params.yaml, whatever the loader's defaults.
Every stage lists only the keys it reads; profiles/base.yaml holds every one of them with its
default, and `leadscore profile` writes base + profile, so a profile states only what it needs.
The stages run in-process on that params.yaml, register included (a real MLflow sqlite store); then
a real `dvc repro --dry` checks every stage's params keys the way `dvc repro` does, and fails once a
key is removed. The full `dvc repro` in subprocesses
is exercised by tests/test_pipeline_e2e.py (default profile) and tests/test_profiles.py (X Education).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap

import pytest
import yaml
from support import REPO_ROOT, pipeline_env, run_command

from leadscore.config import load_params
from leadscore.pipeline.local import run_stages
from leadscore.profiles import prepare_profile, write_params

# No bant.points, no explain.labels, no category_aliases, no ratios, no job titles: only what the
# config requires (features, bant.criteria), plus small data and tiny trees for test speed.
MINIMAL = textwrap.dedent(
    """
    data:
      synthetic: {n_leads: 3000}
    features:
      fit: [employees, industry, country]
      intent: [web_visits_30d, pricing_page_views, demo_requested]
    bant:
      min_criteria: 1
      criteria:
        budget: {column: bant_budget, in: ["yes"]}
        need: {column: bant_need, present: true}
    train:
      early_stopping_rounds: 5
      fit: {n_estimators: 30, learning_rate: 0.2, num_leaves: 4, min_child_samples: 20}
      intent: {n_estimators: 30, learning_rate: 0.2, num_leaves: 4, min_child_samples: 20}
    evaluate:
      bootstrap: {n: 20}
    """
)


def _minimal_project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO_ROOT / "dvc.yaml", root / "dvc.yaml")
    shutil.copytree(REPO_ROOT / "profiles", root / "profiles")
    # The stages' code is their DVC dependency: a dry run hashes it.
    shutil.copytree(REPO_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (root / "minimal.yaml").write_text(MINIMAL)
    overlay = yaml.safe_load(MINIMAL)
    assert "points" not in overlay["bant"] and "explain" not in overlay
    assert not {"ratios", "category_aliases", "job_title_columns"} & set(overlay["features"])
    write_params(prepare_profile("minimal.yaml", root=root))
    env = pipeline_env(root / "mlflow.db")
    run_command(["git", "init", "-q"], root, env)
    run_command(["dvc", "init", "-q"], root, env)
    return root, env


@pytest.mark.slow
def test_the_smallest_valid_profile_runs_every_stage_and_passes_dvc(tmp_path, monkeypatch):
    root, env = _minimal_project(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", env["MLFLOW_TRACKING_URI"])
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    run = run_stages(
        load_params(root / "params.yaml"), workdir=root, dvc_yaml=root / "dvc.yaml", through="backtest", skip=()
    )
    metrics = yaml.safe_load(run.path("evaluate", "metrics_out").read_text())
    assert metrics["bant_rule"]["n_criteria"] == 2
    page = run.path("evaluate", "report_md").read_text()
    assert "BANT criteria met (0-2)" in page
    assert json.loads(run.path("register", "run_out").read_text())["version"] == "1"
    backtest = json.loads(run.path("backtest", "out").read_text())
    assert len(backtest["periods"]) + len(backtest["skipped"]) == 6  # 3,000 leads: months too small are skipped

    # DVC checks every stage's params keys as `dvc repro` does; the dry run needs the stages' inputs,
    # which the run above wrote.
    dry = run_command(["dvc", "repro", "--dry"], root, env)
    assert dry.stdout.count("Running stage") == len(run.commands)
    # What it guards against: the loader has a default for explain.top_k, DVC does not.
    params = yaml.safe_load((root / "params.yaml").read_text())
    del params["explain"]["top_k"]
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    refused = subprocess.run(["dvc", "repro", "--dry"], cwd=root, env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "'explain.top_k' are missing from 'params.yaml'" in refused.stderr
