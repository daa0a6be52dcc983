"""The notebooks run top to bottom on a small generated dataset (so they cannot rot)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from support import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"


def _execute(name: str, parameters: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{name} needs exactly one cell tagged 'parameters'"
    tagged[0].source = parameters
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{name}: strip outputs before committing"


# Starts a Jupyter kernel and runs the notebook on 5,000 leads (~25 s on a loaded machine).
@pytest.mark.slow
def test_explore_notebook_runs_on_small_data():
    nb = _execute("01-explore-leads.ipynb", f'PARAMS_PATH = "{REPO_ROOT / "params.yaml"}"\nN_LEADS = 5000')
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "5,000 leads" in text
    assert "suspected leaks: none" in text  # the synthetic CRM has no post-outcome columns
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 3


@pytest.mark.slow
def test_model_vs_bant_notebook_runs_on_the_pipeline_project(pipeline, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{pipeline['store']}")
    nb = _execute(
        "02-model-vs-bant.ipynb",
        f'PROJECT_DIR = "{pipeline["root"]}"\nMODEL_URI = "models:/leadscore@champion"\nN_EXAMPLES = 2',
    )
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "model says fast-track, BANT says no" in text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 2
