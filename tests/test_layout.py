"""A meta-check on the suite's layout: every module of src/leadscore has a test module mirroring it.

``src/leadscore/data/loading.py`` is tested in ``tests/data/test_loading.py``, ``src/leadscore/io.py``
in ``tests/test_io.py``: a newcomer finds a module's tests without searching, and a module without
tests is visible here rather than in a coverage report nobody reads.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "src" / "leadscore"
NOT_MODULES = {"__init__.py", "__main__.py"}

# Modules whose tests live under other names, each for a stated reason. Keep this short: prefer a
# mirrored test module. Keys are paths under src/leadscore, values test files under tests/.
ELSEWHERE = {
    # The scorer's tests are split by theme, and other work is rewriting them (behaviour on a trained
    # scorer; the empty-input contract).
    "models/scorer.py": ("models/test_scorer_behaviour.py", "models/test_scorer_empty.py"),
}


def mirrored_test(module: Path) -> Path:
    """``src/leadscore/a/b.py`` -> ``tests/a/test_b.py``."""
    relative = module.relative_to(PACKAGE)
    return TESTS / relative.parent / f"test_{relative.name}"


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name not in NOT_MODULES and "__pycache__" not in p.parts)


def untested(found: list[Path]) -> list[str]:
    missing = []
    for module in found:
        key = module.relative_to(PACKAGE).as_posix()
        if not mirrored_test(module).is_file() and key not in ELSEWHERE:
            missing.append(f"src/leadscore/{key} -> tests/{mirrored_test(module).relative_to(TESTS).as_posix()}")
    return missing


def test_every_module_has_a_mirrored_test_module():
    found = modules()
    assert len(found) > 40  # the walk found the package
    missing = untested(found)
    assert not missing, "modules without a test module at the mirrored path:\n  " + "\n  ".join(missing)


def test_the_exceptions_name_existing_files():
    """An entry of ELSEWHERE must not outlive the module or the tests it names."""
    stale = [key for key in ELSEWHERE if not (PACKAGE / key).is_file()]
    stale += [test for tests in ELSEWHERE.values() for test in tests if not (TESTS / test).is_file()]
    assert not stale, f"ELSEWHERE names files that do not exist: {stale}"
    redundant = [key for key in ELSEWHERE if mirrored_test(PACKAGE / key).is_file()]
    assert not redundant, f"these have a mirrored test module now; drop them from ELSEWHERE: {redundant}"


def test_the_mirror_rule_and_its_report():
    assert mirrored_test(PACKAGE / "data" / "loading.py") == TESTS / "data" / "test_loading.py"
    assert mirrored_test(PACKAGE / "io.py") == TESTS / "test_io.py"
    # A module nobody tested is reported with the path its tests should have.
    report = untested([PACKAGE / "data" / "no_such_module.py"])
    assert report == ["src/leadscore/data/no_such_module.py -> tests/data/test_no_such_module.py"]
