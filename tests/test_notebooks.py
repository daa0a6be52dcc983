"""The notebooks run top to bottom on a small generated dataset (so they cannot rot).

Notebook 02 runs on the repro'd project: its test lives with the other tests of that project in
test_pipeline_e2e.py.
"""

from __future__ import annotations

import nbformat
import pytest
from support import NOTEBOOKS, REPO_ROOT, execute_notebook


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{name}: strip outputs before committing"


# Starts a Jupyter kernel and runs the notebook on 5,000 leads (~25 s on a loaded machine).
@pytest.mark.slow
def test_explore_notebook_runs_on_small_data():
    nb = execute_notebook("01-explore-leads.ipynb", f'PARAMS_PATH = "{REPO_ROOT / "params.yaml"}"\nN_LEADS = 5000')
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "5,000 leads" in text
    assert "suspected leaks: none" in text  # the synthetic CRM has no post-outcome columns
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 3
