"""Shared fixtures: tiny hand-made lead tables and the project's own params."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadscore.config import load_params

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"


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
