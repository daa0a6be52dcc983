"""Params profiles: overlays on ``profiles/base.yaml``, one per data source, kept under ``profiles/``.

A profile states only what differs from the defaults in ``profiles/base.yaml`` (``data``,
``columns``, ``features``, ``bant``, ...): mappings merge key by key, lists and values replace. A
profile may start from another one with ``extends: <name>`` (``synthetic_drift`` extends
``synthetic``). Running a profile writes the merged parameters to ``params.yaml`` (DVC reads
``data.source`` and every key a stage lists from that file), with a header naming the profile, then
``dvc exp run``. The merge keeps the comments of ``base.yaml`` and of the profile.

Rewriting ``params.yaml`` never loses work and never asks git: a file this module wrote carries the
checksum of its body in its header, so it can be replaced freely (rerun, or switch to another
profile); a file edited since (or written by hand) is refused with one line saying how to keep the
edits. ``--dry-run`` changes nothing and is never refused: it says what a run would do.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from leadscore.config import Params, params_from_dict
from leadscore.errors import ConfigError, DataValidationError

PROFILES_DIR = "profiles"
BASE = "base"  # profiles/base.yaml: the defaults every profile overlays (not a profile itself)
PARAMS_FILE = "params.yaml"
EXTENDS = "extends"
_HEADER = "# leadscore profile: "
_CHECKSUM = re.compile(r"^# sha256 of the lines below: ([0-9a-f]{64})$", re.MULTILINE)


def available_profiles(root: Path) -> list[str]:
    """Names of the profiles under ``root/profiles`` (``base`` is the defaults, not a profile)."""
    return sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yaml") if p.stem != BASE)


def profile_path(name: str, *, root: Path) -> Path:
    """``profiles/<name>.yaml`` under ``root``, or ``name`` itself if it is a path to a file."""
    direct = Path(name)
    if direct.suffix in (".yaml", ".yml"):
        path = direct if direct.is_absolute() else root / direct
    else:
        path = root / PROFILES_DIR / f"{name}.yaml"
    if path.resolve() == (root / PROFILES_DIR / f"{BASE}.yaml").resolve():
        raise ConfigError(f"{path}: holds the defaults every profile overlays; it is not a profile itself")
    if not path.is_file():
        raise ConfigError(f"profile {name!r} not found ({path}); available profiles: {available_profiles(root)}")
    return path


# -- merging ----------------------------------------------------------------------------------------
def overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: mappings merge key by key (recursively); lists and values replace."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = overlay(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _overlay_in_place(base: CommentedMap, top: dict[str, Any]) -> None:
    # Same rule as overlay(), on ruamel's round-trip objects so both files' comments survive.
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _overlay_in_place(base[key], value)
        else:
            base[key] = value
            comments = getattr(top, "ca", None)
            if comments is not None and key in comments.items:
                base.ca.items[key] = comments.items[key]  # the profile's end-of-line comment


def _yaml() -> YAML:
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096  # never wrap: ruamel would fold long flow lists and quoted strings mid-value
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _read(path: Path, rt: YAML) -> CommentedMap:
    try:
        data = rt.load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror})") from None
    except Exception as err:  # ruamel's parser errors have no common public base class
        raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    return data


def profile_chain(path: Path, *, root: Path) -> list[Path]:
    """The files merged for a profile, base first: base.yaml, then any ``extends`` ancestors, then it."""
    chain = [path]
    while True:
        parent = yaml.safe_load(chain[0].read_text(encoding="utf-8")) or {}
        name = parent.get(EXTENDS) if isinstance(parent, dict) else None
        if name is None:
            break
        ancestor = profile_path(str(name), root=root)
        if ancestor in chain:
            raise ConfigError(f"{chain[0]}: `extends: {name}` makes a loop ({' -> '.join(p.stem for p in chain)})")
        chain.insert(0, ancestor)
    base = root / PROFILES_DIR / f"{BASE}.yaml"
    if not base.is_file():
        raise ConfigError(f"{base}: the defaults every profile overlays are missing")
    return [base, *chain]


def _body_checksum(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def merged_text(path: Path, *, root: Path, name: str) -> str:
    """The params.yaml a profile makes: a header naming it, then base.yaml overlaid with the chain."""
    rt = _yaml()
    chain = profile_chain(path, root=root)
    merged = _read(chain[0], rt)
    for layer in chain[1:]:
        top = _read(layer, rt)
        top.pop(EXTENDS, None)
        _overlay_in_place(merged, top)
    out = io.StringIO()
    rt.dump(merged, out)
    # ruamel leaves a space at the end of wrapped flow-sequence lines; nothing here needs one.
    body = "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"
    files = " + ".join(p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p) for p in chain)
    header = (
        f"{_HEADER}{name}\n"
        f"# Written by `leadscore profile {name}` from {files}.\n"
        "# Edit the profile, not this file: the next `leadscore profile` rewrites it (and refuses to while\n"
        "# it holds edits of its own).\n"
        f"# sha256 of the lines below: {_body_checksum(body)}\n"
    )
    return header + body


def written_by_profile(text: str) -> str | None:
    """The profile that wrote ``text`` (params.yaml) if it is unedited since, else None."""
    if not text.startswith(_HEADER):
        return None
    found = _CHECKSUM.search(text)
    if found is None:
        return None
    body = text[found.end() + 1 :]
    if _body_checksum(body) != found.group(1):
        return None
    return text[len(_HEADER) : text.index("\n")].strip()


def load_profile(name: str, *, root: Path) -> Params:
    """A profile's parameters (base.yaml overlaid with it), validated; its data is not checked."""
    source = profile_path(name, root=root)
    text = merged_text(source, root=root, name=source.stem)
    return params_from_dict(yaml.safe_load(text) or {}, source=f"{source} (over {PROFILES_DIR}/{BASE}.yaml)")


# -- what DVC needs ---------------------------------------------------------------------------------
def dvc_param_keys(dvc_yaml: Path) -> set[str]:
    """Every params key a stage of ``dvc_yaml`` lists (DVC refuses to run when one is missing)."""
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    return {
        key
        for stage in stages.values()
        for entry in stage.get("params", [])
        for key in ([entry] if isinstance(entry, str) else entry)
    }


def missing_dvc_params(raw: dict[str, Any], dvc_yaml: Path) -> list[str]:
    """The keys ``dvc_yaml`` lists that ``raw`` (parsed params) lacks, sorted."""
    missing = []
    for key in dvc_param_keys(dvc_yaml):
        node: Any = raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(key)
                break
            node = node[part]
    return sorted(missing)


# -- running a profile --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProfilePlan:
    """A validated profile: where it is, the params.yaml it makes, and whether that may be written.

    ``blocked`` is None when params.yaml may be (re)written, else the one line saying why not.
    """

    name: str
    source: Path
    text: str
    params: Params
    target: Path
    blocked: str | None


def prepare_profile(name: str, *, root: Path) -> ProfilePlan:
    """Merge and validate a profile, check its data exists and whether params.yaml may be replaced.

    Raises
    ------
    ConfigError
        Unknown profile, invalid parameters, or a key dvc.yaml needs is missing.
    DataValidationError
        The export named in ``data.source`` does not exist.
    """
    source = profile_path(name, root=root)
    label = source.stem if source.parent == root / PROFILES_DIR else source.as_posix()
    text = merged_text(source, root=root, name=label)
    raw = yaml.safe_load(text) or {}
    params = params_from_dict(raw, source=f"{source} (over {PROFILES_DIR}/{BASE}.yaml)")
    if not params.data.is_synthetic and not (root / params.data.source).is_file():
        raise DataValidationError(f"{source}: data.source {params.data.source!r} not found (relative to {root})")
    dvc_yaml = root / "dvc.yaml"
    if dvc_yaml.is_file():
        missing = missing_dvc_params(raw, dvc_yaml)
        if missing:
            raise ConfigError(
                f"{source}: dvc.yaml reads {missing}, missing from {PROFILES_DIR}/{BASE}.yaml and the profile; "
                "add them (with their defaults) to the base"
            )
    target = root / PARAMS_FILE
    blocked = None
    if target.is_file():
        current = target.read_text(encoding="utf-8")
        if current != text and written_by_profile(current) is None:
            blocked = (
                f"{target} holds edits that no profile wrote; running a profile would overwrite them: "
                f"move them into a profile under {PROFILES_DIR}/ (it states only what differs from "
                f"{PROFILES_DIR}/{BASE}.yaml) and run that, or delete {PARAMS_FILE} to discard them"
            )
    return ProfilePlan(name=label, source=source, text=text, params=params, target=target, blocked=blocked)


def write_params(plan: ProfilePlan) -> Path:
    """Write the profile's params.yaml (atomically); refuse when it would overwrite hand edits."""
    from leadscore.io import atomic_path

    if plan.blocked:
        raise ConfigError(plan.blocked)
    with atomic_path(plan.target) as tmp:
        tmp.write_text(plan.text, encoding="utf-8")
    return plan.target
