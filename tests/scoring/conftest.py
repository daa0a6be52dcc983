"""Fixtures for batch scoring: a loaded model, lead samples, and real SQLite / PostgreSQL databases.

PostgreSQL: a throwaway server is started from Debian's binaries (/usr/lib/postgresql/*/bin) on
127.0.0.1 and a free port, with a temp data dir, as an unprivileged user when running as root
(postgres refuses to run as root). Without binaries the PostgreSQL tests skip with the reason; under
CI (env CI set) they fail instead, because CI installs the server and must run them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from leadscore.scoring.batch import LoadedModel


@pytest.fixture(scope="session")
def loaded_model(trained_scorer) -> LoadedModel:
    scorer, _ = trained_scorer
    return LoadedModel(scorer, "test_scorer", "sha256:test")


@pytest.fixture(scope="session")
def sample_leads(trained_scorer) -> pd.DataFrame:
    """3,000 raw leads (all raw columns), a slice of the scorer's own synthetic CRM."""
    _, raw = trained_scorer
    return raw.iloc[:3000].reset_index(drop=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests must run in CI: {reason}")
    pytest.skip(f"no local PostgreSQL server could be started: {reason}")


@pytest.fixture(scope="session")
def postgres_url():
    """``postgresql+psycopg://postgres@127.0.0.1:<port>/postgres`` of a throwaway server."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install 'leadscore[postgres]')")
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    pg_ctl = binaries[-1] if binaries else shutil.which("pg_ctl")
    if not pg_ctl:
        _unavailable("pg_ctl not found (apt-get install postgresql)")
    initdb = str(Path(pg_ctl).with_name("initdb"))
    run_as = {}
    data_root = Path(tempfile.mkdtemp(prefix="leadscore-pg-"))
    if os.geteuid() == 0:
        run_as = {"user": "nobody", "group": "nogroup" if _has_group("nogroup") else "nobody"}
        shutil.chown(data_root, user="nobody", group=run_as["group"])
    data_dir = data_root / "data"
    port = free_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def run(args):
        return subprocess.run(args, cwd=data_root, capture_output=True, text=True, timeout=120, **run_as)

    try:
        init = run([initdb, "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        if init.returncode:
            _unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
        start = run(
            [
                pg_ctl,
                "-D",
                str(data_dir),
                "-l",
                str(data_root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
                "-o",
                f"-h 127.0.0.1 -p {port} -k {data_root} -F",
            ]
        )
        if start.returncode:
            log = (data_root / "server.log").read_text()[-300:] if (data_root / "server.log").exists() else ""
            _unavailable(f"pg_ctl start failed: {start.stderr.strip()[-300:]} {log}")
        _wait_for(url)
        yield url
    finally:
        if (data_dir / "postmaster.pid").exists():
            run([pg_ctl, "-D", str(data_dir), "-m", "fast", "-w", "stop"])
        shutil.rmtree(data_root, ignore_errors=True)


def _has_group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _wait_for(url: str, timeout: float = 30) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("select 1"))
                return
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a new schema-free PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'leads.db'}"
        return
    import sqlalchemy as sa

    server = request.getfixturevalue("postgres_url")
    name = f"t_{os.getpid()}_{time.monotonic_ns()}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def models_dir(tmp_path, loaded_model):
    """A model directory as `leadscore score --model` reads it: lead_scorer.json and display.json."""
    from leadscore.models.persistence import save_display, save_scorer

    d = tmp_path / "models"
    d.mkdir()
    save_scorer(loaded_model.scorer, d / "lead_scorer.json")
    save_display(loaded_model.scorer.display, d / "display.json")
    return d
