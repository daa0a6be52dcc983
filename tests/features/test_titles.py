import numpy as np
import pandas as pd
import pytest

from leadscore.data.synthetic import _generate
from leadscore.features.titles import DEPARTMENTS, SENIORITY_LEVELS, normalise_titles

CASES = [
    # (title, seniority, department)
    ("Assistant to the CEO", "individual_contributor", "other"),
    ("Executive Assistant", "individual_contributor", "other"),
    ("Executive Assistant to the VP Sales", "individual_contributor", "other"),
    ("Marketing Assistant", "individual_contributor", "marketing"),
    ("Assistant Manager", "manager", "other"),
    ("VP Sales", "vp", "sales"),
    ("vp, sales", "vp", "sales"),
    ("Vice President, Marketing", "vp", "marketing"),
    ("  SENIOR  vice president of   ENGINEERING ", "vp", "engineering"),
    ("SVP Human Resources", "vp", "hr"),
    ("Head of Growth Marketing", "director", "marketing"),
    ("Dir. IT", "director", "it"),
    ("Director of Finance", "director", "finance"),
    ("Sr. Sales Manager", "manager", "sales"),
    ("Marketing Mgr", "manager", "marketing"),
    ("Operations Supervisor", "manager", "operations"),
    ("Sr Software Engineer", "individual_contributor", "engineering"),
    ("Network Engineer", "individual_contributor", "it"),
    ("Technical Recruiter", "individual_contributor", "hr"),
    ("Account Executive", "individual_contributor", "sales"),
    ("SDR", "individual_contributor", "sales"),
    ("Analyst", "individual_contributor", "other"),
    ("Founder & CEO", "c_level", "executive"),
    ("Co-Founder & CTO", "c_level", "engineering"),
    ("Owner", "c_level", "executive"),
    ("President", "c_level", "executive"),
    ("Chief Revenue Officer", "c_level", "sales"),
    ("CMO", "c_level", "marketing"),
    ("cio", "c_level", "it"),
    ("Chief Financial Officer", "c_level", "finance"),
    ("COO", "c_level", "operations"),
    ("Chief of Staff", "director", "other"),
    ("Product Owner", "individual_contributor", "other"),
    ("Student", "student", "other"),
    ("Intern", "student", "other"),
    ("Marketing Intern", "student", "marketing"),
    ("Internal Auditor", "individual_contributor", "finance"),
    (None, "unknown", "unknown"),
    (np.nan, "unknown", "unknown"),
    ("", "unknown", "unknown"),
    ("   ", "unknown", "unknown"),
    ("n/a", "unknown", "unknown"),
    ("-", "unknown", "unknown"),
    ("asdf", "unknown", "unknown"),
]


@pytest.mark.parametrize(("title", "seniority", "department"), CASES)
def test_hand_written_titles(title, seniority, department):
    result = normalise_titles(pd.Series([title], dtype=object))
    assert (result.loc[0, "seniority"], result.loc[0, "department"]) == (seniority, department)


def test_whole_table_at_once_and_values_in_vocabulary():
    titles = pd.Series([c[0] for c in CASES], dtype=object)
    result = normalise_titles(titles)
    assert list(result.columns) == ["seniority", "department"]
    assert result["seniority"].tolist() == [c[1] for c in CASES]
    assert result["department"].tolist() == [c[2] for c in CASES]
    assert set(result["seniority"]) <= set(SENIORITY_LEVELS)
    assert set(result["department"]) <= set(DEPARTMENTS)


def test_index_alignment_is_preserved():
    titles = pd.Series(["CEO", None, "Software Engineer", "CEO"], index=[40, 7, "x", 3], dtype=object)
    result = normalise_titles(titles)
    assert result.index.equals(titles.index)
    assert result.loc[40, "seniority"] == "c_level"
    assert result.loc[7, "seniority"] == "unknown"
    assert result.loc["x", "department"] == "engineering"
    assert result.loc[3, "seniority"] == "c_level"


def test_string_dtype_and_empty_input():
    result = normalise_titles(pd.Series(["VP of Sales", pd.NA], dtype="string"))
    assert result["seniority"].tolist() == ["vp", "unknown"]
    empty = normalise_titles(pd.Series([], dtype=object))
    assert empty.empty and list(empty.columns) == ["seniority", "department"]


def test_recovers_generator_latent_seniority():
    leads, _, latents = _generate(30_000, seed=7)
    result = normalise_titles(leads["job_title"])
    accuracy = (result["seniority"].to_numpy() == latents["seniority"].to_numpy()).mean()
    assert accuracy >= 0.95
    # Every title that is not missing/junk maps back to the exact latent pair.
    known = (result["seniority"] != "unknown").to_numpy()
    assert (result["department"].to_numpy()[known] == latents["department"].to_numpy()[known]).mean() >= 0.99
