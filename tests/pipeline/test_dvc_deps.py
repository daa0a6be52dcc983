"""Honest DVC dependencies: every leadscore module a stage runs is a dependency of that stage.

The closure is computed from the source (every ``import`` statement, at module level or inside a
function, plus the packages' ``__init__`` files Python executes on the way), so a new import that
dvc.yaml does not list fails here before it can hide a result-changing edit from `dvc status`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from leadscore.pipeline.paths import stage_commands

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC = REPO_ROOT / "src"


def module_file(module: str) -> Path | None:
    """The file of a ``leadscore`` module, or None for anything else."""
    if module != "leadscore" and not module.startswith("leadscore."):
        return None
    base = SRC / Path(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from leadscore.evaluation import figures` imports the module leadscore.evaluation.figures.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


# Code a module hands to another program to run later rather than importing it: the tracking package
# logs tracking/pyfunc_model.py as the MLflow model's code ("models from code"), so it shapes what
# `register` produces.
HANDED_ON = {"leadscore.tracking": ["leadscore.tracking.pyfunc_model"]}


def import_closure(module: str) -> set[Path]:
    """Every leadscore source file that running ``python -m <module>`` can execute (or hand on to run)."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        for name in _with_parents(todo.pop()):
            path = module_file(name)
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(_imports(path))
            todo.extend(HANDED_ON.get(name, []))
    return seen


def _declared_deps() -> dict[str, list[str]]:
    """Each stage's deps, with ``${data.source}`` templated from params.yaml as DVC does."""
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    source = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["data"]["source"]
    return {
        name: [str(d).replace("${data.source}", source) for d in stage.get("deps", [])]
        for name, stage in stages.items()
    }


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(REPO_ROOT).as_posix()
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)


STAGES = stage_commands(REPO_ROOT / "dvc.yaml")


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_module_a_stage_runs_is_a_dependency(stage):
    deps = _declared_deps()[stage]
    closure = import_closure(STAGES[stage].module)
    missing = sorted(p.relative_to(REPO_ROOT).as_posix() for p in closure if not _covered(p, deps))
    assert not missing, f"dvc.yaml stage {stage!r} runs these modules but does not depend on them: {missing}"


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_stage_depends_on_no_code_it_does_not_run(stage):
    """Code deps beyond the closure would rerun the stage for edits that cannot change its result."""
    closure = {p.relative_to(REPO_ROOT).as_posix() for p in import_closure(STAGES[stage].module)}
    code_deps = [d for d in _declared_deps()[stage] if d.startswith("src/") and d.endswith(".py")]
    extra = sorted(set(code_deps) - closure)
    assert not extra, f"dvc.yaml stage {stage!r} depends on code it never imports: {extra}"


def test_the_closure_follows_imports_inside_functions(tmp_path):
    """Stage modules import heavy libraries inside ``run``: those imports must count too."""
    closure = {p.name for p in import_closure("leadscore.pipeline.featurize")}
    assert {"build.py", "leakage.py", "guards.py", "outcomes.py", "io.py", "config.py"} <= closure
    assert "tracking.py" not in closure
