"""Everything optional is optional in dvc.yaml too: a real `dvc repro` of the smallest valid profile.

DVC refuses a stage whose params key is missing from params.yaml, whatever the loader's defaults.
Every stage lists only the keys it reads; profiles/base.yaml holds every one of them with its
default, and `leadscore profile` writes base + profile, so a profile states only what it needs.
"""

from __future__ import annotations

import shutil
import textwrap

import pytest
import yaml
from support import REPO_ROOT, pipeline_env, project_path, run_command

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


@pytest.mark.slow
def test_dvc_repro_runs_the_smallest_valid_profile(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO_ROOT / "dvc.yaml", root / "dvc.yaml")
    shutil.copytree(REPO_ROOT / "profiles", root / "profiles")
    shutil.copytree(REPO_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (root / "minimal.yaml").write_text(MINIMAL)
    overlay = yaml.safe_load(MINIMAL)
    assert "points" not in overlay["bant"] and "explain" not in overlay
    assert not {"ratios", "category_aliases", "job_title_columns"} & set(overlay["features"])
    write_params(prepare_profile("minimal.yaml", root=root))
    env = pipeline_env(root / "mlflow.db", src=root / "src")
    run_command(["git", "init", "-q"], root, env)
    run_command(["dvc", "init", "-q"], root, env)
    run_command(["dvc", "repro"], root, env)
    metrics = yaml.safe_load(project_path(root, "evaluate", "metrics_out").read_text())
    assert metrics["bant_rule"]["n_criteria"] == 2
    page = project_path(root, "evaluate", "report_md").read_text()
    assert "BANT criteria met (0-2)" in page
    assert project_path(root, "register", "run_out").is_file()
