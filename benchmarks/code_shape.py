"""The figures of the code's shape (issue 12), measured on ``src/zdlogs`` without the simulator.

    python -m benchmarks.code_shape            # the table
    python -m benchmarks.code_shape --details  # and what each figure counts

* README configuration env names written as a string in more than one place: the names in the first
  column of the README's configuration table, searched in every string literal of the code (docstrings
  left out) as whole words; a name counts when more than one literal holds it.
* function length: lines from ``def`` to the end of its body, every function and method.
* groups of modules importing each other: strongly connected components of more than one module over
  every ``import``, module-level or inside a function, leaving out imports under ``if TYPE_CHECKING:``.
* mypy errors: ``mypy --ignore-missing-imports src/zdlogs`` (what the issue measured; the project's own
  mypy configuration is stricter per module, see pyproject.toml).
* pairs ``duplicates`` lists where neither side is in the simulator.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import statistics
import subprocess
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "zdlogs"


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "simulator" not in path.relative_to(PACKAGE).parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def readme_env_names() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.M)


def string_literals(path: Path) -> list[str]:
    """Every string token but docstrings (a string statement standing alone)."""
    source = path.read_text()
    docstrings = {
        (node.body[0].value.lineno, node.body[0].value.col_offset)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    }
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        literal = token.type == tokenize.STRING and token.start not in docstrings
        if literal or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            found.append(token.string)
    return found


def env_name_repeats() -> dict[str, list[str]]:
    literals = [(path, text) for path in modules() for text in string_literals(path)]
    repeated = {}
    for name in readme_env_names():
        pattern = re.compile(rf"(?<![A-Z0-9_]){name}(?![A-Z0-9_])")
        places = [f"{path.relative_to(ROOT)}" for path, text in literals if pattern.search(text)]
        if len(places) > 1:
            repeated[name] = places
    return repeated


def function_lengths() -> list[tuple[int, str]]:
    lengths = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lengths.append((node.end_lineno - node.lineno + 1, f"{path.relative_to(ROOT)}:{node.name}"))
    return sorted(lengths, reverse=True)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    known = {module_name(path): path for path in modules()}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        tree = ast.parse(path.read_text())
        skipped = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", 0) in skipped:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""  # the project uses absolute imports only
                submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
                names = len(submodules) < len(node.names)  # `from pkg import module` imports the module
                targets = [base, *submodules] if names else submodules
            for target in targets:
                if target in known and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def mypy_errors() -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-error-summary", "src/zdlogs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    return len(errors), "\n".join(errors)


def duplicate_pairs() -> tuple[int, str]:
    result = subprocess.run(
        ["duplicates", "--repo", "src/zdlogs", "--most", "200", "--seconds", "120"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    rows = [line for line in result.stdout.splitlines() if re.match(r"\s*D\d+ ", line)]
    kept = [row for row in rows if "simulator/" not in row]
    return len(kept), "\n".join(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="print what each figure counts")
    args = parser.parse_args()
    repeats = env_name_repeats()
    lengths = function_lengths()
    groups = cycles(import_graph())
    mypy_count, mypy_text = mypy_errors()
    dup_count, dup_text = duplicate_pairs()
    print("| figure | value |\n|---|---|")
    print(f"| README configuration env names written as a string in more than one place | {len(repeats)} |")
    print(f"| longest function (lines) | {lengths[0][0]} ({lengths[0][1]}) |")
    print(f"| median function (lines) | {statistics.median(n for n, _ in lengths):g} |")
    print(f"| groups of modules importing each other | {len(groups)} |")
    print(f"| mypy errors, --ignore-missing-imports | {mypy_count} |")
    print(f"| pairs duplicates lists outside the simulator | {dup_count} |")
    if args.details:
        print("\nrepeated env names:")
        for name, places in repeats.items():
            print(f"  {name}: {', '.join(places)}")
        print("\nlongest functions:")
        for length, where in lengths[:10]:
            print(f"  {length:4d} {where}")
        print("\nimport cycles:", groups)
        print("\nmypy:\n" + mypy_text)
        print("\nduplicates:\n" + dup_text)


if __name__ == "__main__":
    main()
