"""Params profiles: one complete params.yaml per data source, kept under ``profiles/``.

Running a profile means making it *the* params.yaml (DVC templating reads ``data.source`` from
params.yaml to make the export a dependency of the generate stage), then ``dvc exp run``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from leadscore.config import load_params
from leadscore.errors import ConfigError, DataValidationError

PROFILES_DIR = "profiles"


def profile_path(name: str, *, root: Path) -> Path:
    """``profiles/<name>.yaml`` under ``root``, or ``name`` itself if it is a path to a file."""
    direct = Path(name)
    if direct.suffix in (".yaml", ".yml"):
        path = direct if direct.is_absolute() else root / direct
    else:
        path = root / PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yaml"))
        raise ConfigError(f"profile {name!r} not found ({path}); available profiles: {known}")
    return path


def prepare_profile(name: str, *, root: Path) -> Path:
    """Validate a profile and check that its data exists and params.yaml can safely be replaced.

    Raises
    ------
    ConfigError
        Unknown profile, invalid parameters, or params.yaml has uncommitted edits that the copy
        would destroy.
    DataValidationError
        The export named in ``data.source`` does not exist.
    """
    path = profile_path(name, root=root)
    params = load_params(path)
    if not params.data.is_synthetic and not (root / params.data.source).is_file():
        raise DataValidationError(f"{path}: data.source {params.data.source!r} not found (relative to {root})")
    current = root / "params.yaml"
    if current.is_file() and current.read_bytes() != path.read_bytes():
        edited = subprocess.run(["git", "diff", "--quiet", "--", "params.yaml"], cwd=root, check=False).returncode != 0
        if edited:
            raise ConfigError(
                "params.yaml has uncommitted changes that running a profile would overwrite; commit or stash them first"
            )
    return path
