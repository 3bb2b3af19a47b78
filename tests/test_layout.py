"""The layout promised by the README's Development section: every module of ``src/zdlogs`` outside the
simulator has its tests at the mirrored place, and ``make test`` type-checks the package."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "zdlogs"


def _only_hands_names_on(path: Path) -> bool:
    """A package face or ``__main__``: imports, ``__all__`` and a docstring, no logic of its own."""
    tree = ast.parse(path.read_text())
    kinds = (ast.Import, ast.ImportFrom, ast.Expr, ast.Assign, ast.AnnAssign)
    return all(isinstance(node, kinds) for node in tree.body) and not any(
        isinstance(node, ast.FunctionDef | ast.ClassDef) for node in ast.walk(tree)
    )


def mirror_of(path: Path) -> Path:
    """``src/zdlogs/a/_b.py`` -> ``tests/a/test_b.py``; a package's own code -> ``tests/a/test_<a>.py``."""
    relative = path.relative_to(PACKAGE)
    stem = relative.parent.name if relative.name == "__init__.py" else relative.stem.lstrip("_")
    return ROOT / "tests" / relative.parent / f"test_{stem}.py"


def test_every_module_has_its_mirrored_test_module() -> None:
    modules = [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "simulator" not in path.relative_to(PACKAGE).parts and not _only_hands_names_on(path)
    ]
    missing = [f"{path.relative_to(ROOT)} -> {mirror_of(path).relative_to(ROOT)}" for path in modules]
    missing = [line for line, path in zip(missing, modules, strict=True) if not mirror_of(path).exists()]
    assert len(modules) > 30
    assert missing == []


def test_mirror_rule() -> None:
    assert mirror_of(PACKAGE / "sinks" / "_objects.py") == ROOT / "tests" / "sinks" / "test_objects.py"
    assert mirror_of(PACKAGE / "state.py") == ROOT / "tests" / "test_state.py"
