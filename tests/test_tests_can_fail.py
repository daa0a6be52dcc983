"""A meta-check on the suite itself: every test function asserts something or expects an exception.

A test that asserts nothing passes whatever the code does. Counted from the source: an ``assert``
statement, ``pytest.raises`` / ``pytest.warns``, a ``numpy.testing`` / ``pandas.testing`` assertion,
or a call to a helper of the same module whose name starts with ``assert_`` / ``check_``.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ASSERTING_CALLS = ("raises", "warns", "fail", "skip")


def _asserts(node: ast.AST, helpers: set[str]) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Assert):
            return True
        if isinstance(child, ast.Call):
            func = child.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name.startswith("assert_") or name in ASSERTING_CALLS or name in helpers:
                return True
    return False


def _test_functions() -> list[tuple[str, ast.FunctionDef, set[str]]]:
    found = []
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        # Test functions are module-level or methods of a test class; helpers nested inside a test are not.
        top = [*tree.body, *(n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body)]
        functions = {n.name: n for n in top if isinstance(n, ast.FunctionDef)}
        # Module helpers that assert count as assertions where they are called (e.g. _run_and_check).
        helpers = {name for name, fn in functions.items() if not name.startswith("test_") and _asserts(fn, set())}
        for name, fn in functions.items():
            if name.startswith("test_"):
                found.append((f"{path.relative_to(TESTS)}::{name}", fn, helpers))
    return found


def test_every_test_asserts_or_expects_an_exception():
    functions = _test_functions()
    assert len(functions) > 100  # the walk found the suite
    silent = [where for where, fn, helpers in functions if not _asserts(fn, helpers)]
    assert not silent, f"these tests assert nothing (they would pass whatever the code does): {silent}"


def test_the_meta_check_catches_a_silent_test():
    silent = ast.parse("def test_x():\n    compute()\n").body[0]
    loud = ast.parse("def test_y():\n    with pytest.raises(ValueError):\n        compute()\n").body[0]
    assert not _asserts(silent, set()) and _asserts(loud, set())
