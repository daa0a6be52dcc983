"""Output-safety corpus: `leadscore score` changes nothing but its intended output.

Every case runs the real CLI (Typer's CliRunner, or `python -m leadscore` in a subprocess where a
signal or a second process is part of the case) in a workspace holding an input in every format, a
previous output, a foreign directory and a SQLite database. A refused case must exit 2 with one
line naming the path and the problem, and leave every file and directory of the workspace
byte-identical with the same mode. A successful case may change the output and nothing else.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from leadscore.cli import app

runner = CliRunner()
N_LEADS = 300
TEMP_TAG = ".leadscore-"


def save_scorer(directory: Path, scorer) -> Path:
    """The one place this module writes a model: the file `leadscore score --model <dir>` loads today."""
    from leadscore.models import persistence
    from leadscore.scoring.batch import SCORER_FILE

    directory.mkdir(parents=True, exist_ok=True)
    persistence.save_scorer(scorer, directory / SCORER_FILE)
    return directory


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, trained_scorer) -> Path:
    return save_scorer(tmp_path_factory.mktemp("model"), trained_scorer[0])


@pytest.fixture(scope="module")
def leads(trained_scorer) -> pd.DataFrame:
    return trained_scorer[1].iloc[:N_LEADS].reset_index(drop=True)


@pytest.fixture
def ws(tmp_path, leads, score) -> Path:
    """A user's directory: inputs in every format, a previous output, a foreign directory, a database."""
    leads.to_parquet(tmp_path / "leads.parquet", index=False)
    leads.to_csv(tmp_path / "leads.csv", index=False)
    (tmp_path / "leads_dir").mkdir()
    leads.iloc[:150].to_parquet(tmp_path / "leads_dir" / "part-0.parquet", index=False)
    leads.iloc[150:].to_parquet(tmp_path / "leads_dir" / "part-1.parquet", index=False)
    (tmp_path / "link.parquet").symlink_to(tmp_path / "leads.parquet")
    (tmp_path / "exports").mkdir()
    leads.to_parquet(tmp_path / "exports" / "leads.parquet", index=False)
    (tmp_path / "exports" / "notes.txt").write_text("quarterly export, do not delete\n")
    (tmp_path / "archive.parquet").mkdir()  # a directory named like a file output
    (tmp_path / "archive.parquet" / "2025.parquet").write_bytes(b"someone else's data")
    (tmp_path / "report.csv").mkdir()
    (tmp_path / "notes.txt").write_text("notes\n")
    (tmp_path / "notes").write_text("a file without a suffix\n")
    (tmp_path / "mixed_dir").mkdir()
    leads.to_parquet(tmp_path / "mixed_dir" / "part-0.parquet", index=False)
    (tmp_path / "mixed_dir" / "README.txt").write_text("exported by the CRM\n")
    whole = (tmp_path / "leads.parquet").read_bytes()
    (tmp_path / "truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "garbage.csv").write_bytes(random.Random(0).randbytes(4096))
    (tmp_path / "empty.csv").write_bytes(b"")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    leads.to_sql("leads", engine, index=False)
    engine.dispose()
    scores = tmp_path / "scores.parquet"
    result = score("--input", tmp_path / "leads.parquet", "--output", scores)
    assert result.exit_code == 0, result.output
    os.chmod(scores, 0o604)
    return tmp_path


@pytest.fixture
def score(models_dir):
    """Run `leadscore score --no-progress --model <models_dir> ARGS...` in-process."""

    def run(*args):
        return runner.invoke(app, ["score", "--no-progress", "--model", str(models_dir), *map(str, args)])

    return run


def snapshot(root: Path) -> dict[str, tuple[str, int, bytes | str | None]]:
    """Every entry under ``root`` (hidden ones too): kind, mode and content."""
    state: dict[str, tuple[str, int, bytes | str | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                state[key] = ("link", 0, os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                state[key] = ("dir", stat.S_IMODE(info.st_mode), None)
            else:
                state[key] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return state


def temporaries(root: Path) -> list[str]:
    return sorted(name for name in snapshot(root) if TEMP_TAG in name and name.endswith((".tmp", ".old")))


def assert_refused(result, *patterns: str) -> str:
    """Exit 2, one line starting with ``error:``, no traceback, and every pattern in that line."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output and "Aborted" not in result.output
    for pattern in patterns:
        assert pattern in lines[0], f"{pattern!r} not in {lines[0]!r}"
    return lines[0]


# -- refused before anything is written: the workspace stays byte-identical -------------------------
REFUSED = {
    "output dir contains the input": (
        ["--input", "{ws}/exports/leads.parquet", "--output", "{ws}/exports"],
        ["exports: contains the --input", "would delete the input"],
    ),
    "output is a foreign directory": (
        ["--input", "{ws}/leads.parquet", "--output", "{ws}/exports"],
        ["exports: an existing directory not written by leadscore", "notes.txt"],
    ),
    "output is a foreign directory named .parquet": (
        ["--input", "{ws}/leads.parquet", "--output", "{ws}/archive.parquet"],
        ["archive.parquet: an existing directory not written by leadscore", "2025.parquet"],
    ),
    "output equals input (parquet)": (
        ["--input", "{ws}/leads.parquet", "--output", "{ws}/leads.parquet"],
        ["leads.parquet: is the --input itself"],
    ),
    "output equals input (csv)": (
        ["--input", "{ws}/leads.csv", "--output", "{ws}/leads.csv"],
        ["leads.csv: is the --input itself"],
    ),
    "output equals input through a symlink": (
        ["--input", "{ws}/link.parquet", "--output", "{ws}/leads.parquet"],
        ["leads.parquet: is the --input itself (", "link.parquet)"],
    ),
    "output equals input through a relative detour": (
        ["--input", "{ws}/leads.parquet", "--output", "{ws}/exports/../leads.parquet"],
        ["is the --input itself"],
    ),
    "output inside the input parquet directory": (
        ["--input", "{ws}/leads_dir", "--output", "{ws}/leads_dir/scores.parquet"],
        ["leads_dir/scores.parquet: is inside the --input directory"],
    ),
    "output under an existing file": (
        ["--input", "{ws}/leads.parquet", "--output", "{ws}/notes.txt/scores.parquet"],
        ["notes.txt/scores.parquet: cannot create it", "notes.txt is a file, not a directory"],
    ),
    "directory output over an existing file": (
        ["--input", "{ws}/leads.parquet", "--output", "{ws}/notes"],
        ["notes: exists and is not a directory"],
    ),
    "file output over an existing directory": (
        ["--input", "{ws}/leads.parquet", "--output", "{ws}/report.csv"],
        ["report.csv: is a directory"],
    ),
    "query that drops the table": (
        ["--input", "sqlite:///{ws}/crm.db", "--query", "DROP TABLE leads", "--output", "{ws}/out.parquet"],
        ["--query is read-only", "DROP"],
    ),
    "query that deletes after a select": (
        [
            "--input",
            "sqlite:///{ws}/crm.db",
            "--query",
            "SELECT * FROM leads; DELETE FROM leads",
            "--output",
            "{ws}/out.parquet",
        ],
        ["--query: expected exactly one SELECT statement, got 2"],
    ),
    "query that inserts": (
        [
            "--input",
            "sqlite:///{ws}/crm.db",
            "--query",
            "INSERT INTO leads (lead_id) VALUES ('x')",
            "--output",
            "{ws}/out.parquet",
        ],
        ["--query is read-only", "INSERT"],
    ),
    "output table is the input table": (
        [
            "--input",
            "sqlite:///{ws}/crm.db",
            "--table",
            "leads",
            "--output",
            "sqlite:///{ws}/./crm.db",
            "--output-table",
            "LEADS",
        ],
        ["(table LEADS): --output-table is the --table being read"],
    ),
    "missing sqlite database is not created": (
        ["--input", "sqlite:///{ws}/nowhere.db", "--table", "leads", "--output", "{ws}/out.parquet"],
        ["nowhere.db not found"],
    ),
    "parquet directory holding a non-parquet file": (
        ["--input", "{ws}/mixed_dir", "--output", "{ws}/out.parquet"],
        ["could not read as Parquet", "README.txt"],
    ),
    "truncated parquet file": (
        ["--input", "{ws}/truncated.parquet", "--output", "{ws}/out.parquet"],
        ["truncated.parquet: could not read as Parquet"],
    ),
    "binary garbage as csv": (
        ["--input", "{ws}/garbage.csv", "--output", "{ws}/out.parquet"],
        ["garbage.csv: could not read as CSV"],
    ),
    "zero-byte csv": (
        ["--input", "{ws}/empty.csv", "--output", "{ws}/out.parquet"],
        ["empty.csv: could not read as CSV"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_and_nothing_changed(ws, case, score):
    args, expected = REFUSED[case]
    before = snapshot(ws)
    result = score(*(a.replace("{ws}", str(ws)) for a in args))
    assert_refused(result, *expected)
    assert snapshot(ws) == before


def test_unwritable_output_directory_is_one_line(ws, score):
    before = snapshot(ws)
    if os.geteuid() == 0:  # root writes anywhere it has mode bits for; sysfs refuses even root
        target, where = Path("/sys/leadscore-test-scores.parquet"), "/sys"
    else:
        locked = ws / "locked"
        locked.mkdir(mode=0o555)
        before = snapshot(ws)
        target, where = locked / "scores.parquet", str(locked)
    result = score("--input", ws / "leads.parquet", "--output", target)
    line = assert_refused(result, str(target))
    assert "ermission denied" in line and where in line
    assert snapshot(ws) == before and not target.exists()


def test_a_failure_mid_run_keeps_the_previous_output(ws, leads, score):
    """The second file of a Parquet directory lacks a column: chunks of the first were already written."""
    broken = ws / "broken_dir"
    broken.mkdir()
    leads.iloc[:200].to_parquet(broken / "part-0.parquet", index=False)
    leads.iloc[200:].drop(columns="job_title").to_parquet(broken / "part-1.parquet", index=False)
    before = snapshot(ws)
    for output in (ws / "scores.parquet", ws / "new" / "scores.parquet", ws / "new_dir" / "scored"):
        result = score("--input", broken, "--output", output, "--chunk-size", 50)
        assert_refused(result, "broken_dir", "missing column(s)", "job_title")
        assert snapshot(ws) == before, "no temporary and no directory created for the output is left"


# -- written: the output changes, nothing else does ---------------------------------------------------
def without(state: dict, *names: str) -> dict:
    """``state`` without the outputs ``names`` and the drift report `leadscore score` writes beside each."""
    names = tuple(f"{n}{tail}" for n in names for tail in ("", ".drift.json", ".drift.png"))
    return {k: v for k, v in state.items() if not any(k == n or k.startswith(n + "/") for n in names)}


def test_replacing_an_output_keeps_its_mode_and_a_new_one_gets_the_umask(ws, score):
    before = snapshot(ws)
    previous = os.umask(0o027)
    try:
        assert score("--input", ws / "leads.csv", "--output", ws / "scores.parquet").exit_code == 0
        assert score("--input", ws / "leads.csv", "--output", ws / "new" / "scores.csv").exit_code == 0
    finally:
        os.umask(previous)
    after = snapshot(ws)
    assert after["scores.parquet"][1] == 0o604, "the replaced output keeps its mode"
    assert after["scores.parquet"][2] != before["scores.parquet"][2]
    assert after["new/scores.csv"][1] == 0o640 and after["new"][1] == 0o750
    assert without(after, "scores.parquet", "new") == without(before, "scores.parquet")
    assert len(pd.read_csv(ws / "new" / "scores.csv")) == N_LEADS


def test_directory_output_is_marked_and_only_it_is_replaced(ws, score):
    before = snapshot(ws)
    previous = os.umask(0o022)
    try:
        assert score("--input", ws / "leads.parquet", "--output", ws / "scored", "--chunk-size", 100).exit_code == 0
    finally:
        os.umask(previous)
    first = snapshot(ws)
    assert first["scored"][1] == 0o755
    assert sorted(k for k in first if k.startswith("scored/")) == [
        "scored/.leadscore-output",
        "scored/part-00000.parquet",
        "scored/part-00001.parquet",
        "scored/part-00002.parquet",
    ]
    os.chmod(ws / "scored", 0o750)
    result = score("--input", ws / "leads.parquet", "--output", ws / "scored", "--chunk-size", 200)
    assert result.exit_code == 0, result.output
    after = snapshot(ws)
    assert sorted(k for k in after if k.startswith("scored/")) == [
        "scored/.leadscore-output",
        "scored/part-00000.parquet",
        "scored/part-00001.parquet",
    ]
    assert after["scored"][1] == 0o750
    assert without(after, "scored") == before
    assert len(pd.read_parquet(ws / "scored")) == N_LEADS


def test_stale_temporaries_of_dead_writers_are_swept_and_nothing_else(ws, score):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = ws / f".scores.parquet.leadscore-{child.pid}-0123abcd.tmp"
    stale.write_bytes(b"x" * 4096)
    kept = [
        ws / f".scores.parquet.leadscore-{os.getpid()}-0123abcd.tmp",  # a live writer's
        ws / ".scores.parquet.tmp",  # not leadscore's name
        ws / f".other.parquet.leadscore-{child.pid}-0123abcd.tmp",  # another target's
    ]
    for path in kept:
        path.write_bytes(b"keep")
    before = snapshot(ws)
    assert score("--input", ws / "leads.parquet", "--output", ws / "scores.parquet").exit_code == 0
    after = snapshot(ws)
    assert not stale.exists()
    assert without(after, "scores.parquet") == without(before, "scores.parquet", stale.name)


# -- real processes: SIGTERM mid-run and two writers at once -----------------------------------------
@pytest.fixture(scope="module")
def big_input(tmp_path_factory, trained_scorer) -> Path:
    """60,000 leads (the training CRM three times, ids made unique): seconds of work at a small chunk size."""
    raw = trained_scorer[1]
    copies = [raw.assign(lead_id=raw["lead_id"] + f"-{i}") for i in range(3)]
    path = tmp_path_factory.mktemp("big") / "leads.parquet"
    pd.concat(copies, ignore_index=True).to_parquet(path, index=False, row_group_size=20_000)
    return path


def start_score(models_dir: Path, input_path: Path, output: Path, chunk_size: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "leadscore", "score", "--no-progress", "--model", str(models_dir)]
    cmd += ["--input", str(input_path), "--output", str(output), "--chunk-size", str(chunk_size)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_temporaries(directory: Path, *procs: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until every one of ``procs`` is writing its temporary output beside the target."""
    deadline = time.monotonic() + timeout
    while len(temporaries(directory)) < len(procs):
        for proc in procs:
            assert proc.poll() is None, f"finished before the others started writing: {proc.communicate()}"
        assert time.monotonic() < deadline, "no temporary output appeared"
        time.sleep(0.05)


@pytest.mark.slow  # real process, real SIGTERM mid-write
@pytest.mark.parametrize("output_name", ["scores.parquet", "scored"])
def test_sigterm_mid_run_keeps_the_previous_output_and_leaves_no_temporary(
    tmp_path, models_dir, big_input, score, ws, output_name
):
    output = tmp_path / output_name
    result = score("--input", ws / "leads.parquet", "--output", output)  # the previous output
    assert result.exit_code == 0, result.output
    (tmp_path / "sibling.txt").write_text("untouched\n")
    before = snapshot(tmp_path)
    proc = start_score(models_dir, big_input, output, chunk_size=500)
    wait_for_temporaries(tmp_path, proc)
    time.sleep(0.5)  # well inside the chunk loop
    assert proc.poll() is None, "the run finished before SIGTERM: make the input bigger"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert temporaries(tmp_path) == []
    assert snapshot(tmp_path) == before


@pytest.mark.slow  # two real scoring processes at once
@pytest.mark.parametrize("output_name", ["scores.parquet", "scored"])
def test_two_writers_give_one_complete_output(tmp_path, models_dir, big_input, output_name):
    output = tmp_path / output_name
    (tmp_path / "sibling.txt").write_text("untouched\n")
    before = snapshot(tmp_path)
    first = start_score(models_dir, big_input, output, chunk_size=3_000)
    second = start_score(models_dir, big_input, output, chunk_size=4_000)
    wait_for_temporaries(tmp_path, first, second)  # both writing at once
    results = [proc.communicate(timeout=300) for proc in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    scored = pd.read_parquet(output)
    total = len(pd.read_parquet(big_input, columns=["lead_id"]))
    assert len(scored) == total and scored["lead_id"].is_unique, "one whole output, not a mix"
    assert scored["scored_at"].nunique() == 1, "every row from the same run"
    assert temporaries(tmp_path) == []
    assert without(snapshot(tmp_path), output_name) == before


@pytest.mark.slow  # real process, real SIGKILL mid-write
def test_sigkill_leaves_a_temporary_that_the_next_run_sweeps(ws, models_dir, big_input, score):
    """SIGKILL cannot be handled: the dead writer's temporary stays until the next write to that output."""
    output = ws / "scores.parquet"
    before = snapshot(ws)
    proc = start_score(models_dir, big_input, output, chunk_size=500)
    wait_for_temporaries(ws, proc)
    proc.kill()
    proc.communicate(timeout=60)
    left = temporaries(ws)
    assert len(left) == 1 and left[0].startswith(f".scores.parquet.leadscore-{proc.pid}-")
    assert without(snapshot(ws), left[0]) == before, "the previous output is intact"
    assert score("--input", ws / "leads.parquet", "--output", output).exit_code == 0
    assert temporaries(ws) == []
    assert without(snapshot(ws), "scores.parquet") == without(before, "scores.parquet")
