"""The data layer's one rule: each ``store/sql/<group>/<name>.sql`` is run by
exactly one function ``<name>`` of ``store/<group>.py``, through that
module's ``_sql("<name>")``, and by nothing else."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "store"


def statement_calls(module: Path) -> dict[str, list[str]]:
    """Function name -> the statement names its body loads with ``_sql(...)``."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = defaultdict(list)
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_sql"
            ):
                arg = node.args[0] if node.args else None
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                    f"{module.name}:{node.lineno}: _sql takes the statement's name as a literal"
                )
                found[fn.name].append(arg.value)
    return found


def groups() -> list[str]:
    return sorted(p.name for p in (STORE / "sql").iterdir() if p.is_dir())


def test_every_statement_file_has_its_function() -> None:
    missing = []
    for group in groups():
        module = STORE / f"{group}.py"
        assert module.exists(), f"store/sql/{group}/ has no module store/{group}.py"
        calls = statement_calls(module)
        for path in sorted((STORE / "sql" / group).glob("*.sql")):
            if calls.get(path.stem) != [path.stem]:
                missing.append(f"store/sql/{group}/{path.name}")
    assert not missing, f"statement files without a function of their name: {missing}"


def test_every_statement_function_has_its_file() -> None:
    wrong = []
    for module in sorted(STORE.glob("*.py")):
        for function, names in statement_calls(module).items():
            for name in names:
                if name != function:
                    wrong.append(f"{module.name}:{function} runs {name!r}")
                elif not (STORE / "sql" / module.stem / f"{name}.sql").exists():
                    wrong.append(
                        f"{module.name}:{function} has no store/sql/{module.stem}/{name}.sql"
                    )
    assert not wrong, wrong


def test_only_sql_files_in_the_statement_folders() -> None:
    strays = [
        str(p.relative_to(STORE))
        for p in (STORE / "sql").rglob("*")
        if p.is_file() and p.suffix != ".sql"
    ]
    assert not strays, strays
