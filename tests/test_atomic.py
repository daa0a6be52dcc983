"""leadscore.atomic: outputs appear whole, keep their mode, and temporaries never outlive their writer."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from leadscore.atomic import (
    MARKER,
    atomic_directory,
    atomic_file,
    current_umask,
    pid_alive,
    sweep_stale,
)
from leadscore.errors import OutputError
from leadscore.io import write_text


class Boom(RuntimeError):
    pass


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)
    return child.pid


def test_umask_is_read_without_changing_it(umask_027):
    assert current_umask() == 0o027
    assert current_umask() == 0o027


def test_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_mode(tmp_path, umask_027):
    new = tmp_path / "new.txt"
    write_text("a", new)
    assert mode(new) == 0o640
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    os.chmod(kept, 0o604)
    write_text("new", kept)
    assert kept.read_text() == "new" and mode(kept) == 0o604


def test_new_directory_gets_the_umask_mode_and_the_marker(tmp_path, umask_027):
    out = tmp_path / "scores"
    with atomic_directory(out) as tmp:
        (tmp / "part-0.parquet").write_bytes(b"x")
    assert mode(out) == 0o750
    assert json.loads((out / MARKER).read_text())["written_by"] == "leadscore"
    os.chmod(out, 0o711)
    with atomic_directory(out) as tmp:
        (tmp / "part-0.parquet").write_bytes(b"y")
    assert mode(out) == 0o711 and (out / "part-0.parquet").read_bytes() == b"y"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores"], "no temporary or old directory left"


def test_an_exception_removes_the_temporary_and_keeps_the_target(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous")
    with pytest.raises(Boom), atomic_file(target) as tmp:
        tmp.write_bytes(b"half")
        assert tmp.name.startswith(f".out.bin.leadscore-{os.getpid()}-") and tmp.name.endswith(".tmp")
        raise Boom
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_only_leadscore_or_empty_directories_are_replaced(tmp_path):
    foreign = tmp_path / "exports"
    foreign.mkdir()
    (foreign / "leads.parquet").write_bytes(b"precious")
    with (
        pytest.raises(OutputError, match=r"exports: an existing directory not written by leadscore.*leads.parquet"),
        atomic_directory(foreign),
    ):
        pass
    assert (foreign / "leads.parquet").read_bytes() == b"precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    with atomic_directory(empty) as tmp:
        (tmp / "a").write_text("a")
    assert (empty / "a").read_text() == "a"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="file: exists and is not a directory"), atomic_directory(a_file):
        pass
    with pytest.raises(OutputError, match="is a directory"), atomic_file(foreign):
        pass


def test_a_directory_that_appears_while_writing_is_not_replaced(tmp_path):
    out = tmp_path / "scores"
    with pytest.raises(OutputError, match="not written by leadscore"), atomic_directory(out) as tmp:
        (tmp / "part").write_text("new")
        out.mkdir()
        (out / "theirs.txt").write_text("someone else's")
    assert (out / "theirs.txt").read_text() == "someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores"]


def test_output_under_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with (
        pytest.raises(OutputError, match=r"notes.txt is a file, not a directory"),
        atomic_file(tmp_path / "notes.txt" / "sub" / "out.csv"),
    ):
        pass


def test_sweep_removes_only_dead_writers_temporaries_of_this_target(tmp_path):
    target = tmp_path / "scores.parquet"
    dead, alive = dead_pid(), os.getppid()
    stale_file = tmp_path / f".scores.parquet.leadscore-{dead}-0123abcd.tmp"
    stale_file.write_bytes(b"x" * 100)
    stale_dir = tmp_path / f".scores.parquet.leadscore-{dead}-89abcdef.tmp"
    stale_dir.mkdir()
    (stale_dir / "part").write_text("x")
    keep = {
        f".scores.parquet.leadscore-{alive}-0123abcd.tmp": "a live writer's",
        f".other.parquet.leadscore-{dead}-0123abcd.tmp": "another target's",
        ".scores.parquet.tmp": "not leadscore's name",
        f".scores.parquet.leadscore-{dead}-nothex00.tmp": "not leadscore's name",
        "scores.parquet": "the target",
    }
    for name, text in keep.items():
        (tmp_path / name).write_text(text)
    assert sorted(sweep_stale(target)) == sorted([stale_file, stale_dir])
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == keep


def test_sweep_puts_back_a_directory_whose_swap_was_cut_short(tmp_path):
    target = tmp_path / "scores"
    old = tmp_path / f".scores.leadscore-{dead_pid()}-0123abcd.old"
    old.mkdir()
    (old / "part").write_text("previous")
    sweep_stale(target)
    assert (target / "part").read_text() == "previous" and not old.exists()


def test_writing_sweeps_stale_temporaries(tmp_path):
    target = tmp_path / "report.json"
    stale = tmp_path / f".report.json.leadscore-{dead_pid()}-0123abcd.tmp"
    stale.write_text("{")
    write_text("{}", target)
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_failed_write_removes_the_directories_it_created(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(Boom), atomic_file(tmp_path / "kept" / "new" / "deeper" / "out.txt") as tmp:
        tmp.write_text("half")
        raise Boom
    with pytest.raises(Boom), atomic_directory(tmp_path / "also" / "scores"):
        raise Boom
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept"]
