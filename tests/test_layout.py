"""The floor plan holds: one import name, layers that only import downwards, no cycles.

Read from the source with `ast` (nothing is imported), so a violation names the file and
line. docs/architecture.md describes the same rules in words.
"""
from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Repository folder -> the import name it installs as (setup.cfg's package_dir).
INSTALLED = {"engine": "arrears.engine", "api": "arrears.api", "console": "arrears.console",
             "plugins": "arrears.plugins", "policies": "arrears.policies"}
CORE = ("engine.domain", "engine.facts", "engine.guardrails", "engine.policy", "engine.decisions")
# Each part of the tree and the parts it may import (besides itself). Parts not listed
# here (the CLI) may import anything.
MAY_IMPORT = {
    "engine.domain": set(),
    "engine.facts": {"engine.domain"},
    "engine.guardrails": {"engine.domain", "engine.facts"},
    "engine.policy": {"engine.domain", "engine.facts", "engine.guardrails", "policies"},
    "engine.decisions": {"engine.domain", "engine.facts", "engine.guardrails", "engine.policy"},
    "engine.store": {"engine.domain"},
    "engine.demo": {"engine.domain"},
    "engine": {"engine.domain", "engine.policy", "engine.decisions"},
    "engine.kpis": {*CORE, "engine.store", "policies"},
    "engine.goals": {*CORE, "engine.kpis", "policies"},
    "engine.report": {*CORE, "engine.kpis", "engine.goals"},
    "engine.experiments": {*CORE, "engine.store", "engine.kpis"},
    "engine.tick": {*CORE, "engine.store", "engine.experiments", "plugins", "policies"},
    "engine.simulate": {*CORE, "engine.store", "engine.tick"},
    "engine.replay": {*CORE, "engine.store", "engine.kpis", "engine.tick"},
    # engine.store: the built-in call and task channels keep their queue file through
    # engine/store/workqueue.py (only the store speaks SQL).
    "plugins": {"engine.domain", "engine.facts", "engine.guardrails", "engine.store"},
    "api": {*CORE, "engine.store", "engine.kpis", "engine.goals", "engine.simulate", "engine.tick", "engine.experiments",
            "plugins", "policies", "console"},
    # The console calls the engine and the store, never the HTTP API (it finds the app's state
    # in `current_app.extensions`).
    "console": {*CORE, "engine.store", "engine.kpis", "engine.goals", "engine.report", "engine.simulate",
                "engine.tick", "engine.experiments", "plugins", "policies"},
    "policies": set(),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts[0] = INSTALLED[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    """`arrears.engine.decisions.core` -> `engine.decide`; `arrears.api.x` -> `api`."""
    bits = module.split(".")[1:]
    if bits[0] == "engine" and len(bits) > 1:
        return ".".join(bits[:2])
    return bits[0]


def _sources():
    for folder in INSTALLED:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path):
    """(line, imported module, names) of every import in a file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, tuple(a.name for a in node.names)


def _graph() -> dict[str, set[str]]:
    """Module -> the arrears modules it imports (a `from pkg import mod` counts as pkg.mod)."""
    known = {_module_name(p) for p in _sources()}
    graph = defaultdict(set)
    for path in _sources():
        me = _module_name(path)
        for _line, module, names in _imports(path):
            if not module.startswith("arrears."):
                continue
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in known] or [module]
            graph[me].update(t for t in targets if t != me)
    return graph


def test_every_file_imports_the_installed_names_only():
    """No `import engine` / `from api import …`: they work only inside the checkout."""
    bare = set(INSTALLED)
    offenders = []
    for folder in (*INSTALLED, "tests", "bench", "examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, module, _names in _imports(path):
                if module.split(".")[0] in bare:
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: import {module}")
    assert offenders == []


def test_each_part_imports_only_the_parts_below_it():
    offenders = []
    for path in _sources():
        mine = _part(_module_name(path))
        allowed = MAY_IMPORT.get(mine)
        if allowed is None:
            continue
        for line, module, _names in _imports(path):
            if module.startswith("arrears.") and (theirs := _part(module)) != mine and theirs not in allowed:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {mine} imports {theirs} ({module})")
    assert offenders == []


SQL_MODULES = {"sqlalchemy", "sqlite3", "psycopg", "psycopg2"}


def test_only_the_store_speaks_sql():
    """SQLAlchemy, the database drivers and the store's table metadata are imported inside
    engine/store/ only: everything else reaches a database through the store's functions
    (docs/store.md)."""
    store = ROOT / "engine" / "store"
    offenders = []
    for path in _sources():
        if path.is_relative_to(store):
            continue
        for line, module, _names in _imports(path):
            if module.split(".")[0] in SQL_MODULES or module == "arrears.engine.store.schema" \
                    or (module == "arrears.engine.store" and "schema" in _names):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: import {module}")
    assert offenders == []


def test_there_are_no_import_cycles():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):                    # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_every_engine_subpackage_says_what_it_owns_and_may_import():
    missing = []
    for init in sorted((ROOT / "engine").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if len(doc.split()) < 15:
            missing.append(f"{init.relative_to(ROOT)}: no docstring saying what it owns")
        elif "May import" not in doc:
            missing.append(f"{init.relative_to(ROOT)}: the docstring does not say what it may import")
    assert missing == []


def test_setup_cfg_lists_every_package():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    on_disk = {_module_name(init) for folder in INSTALLED for init in (ROOT / folder).rglob("__init__.py")}
    assert listed == on_disk


@pytest.mark.parametrize("name", ["engine", "api", "console", "plugins", "policies"])
def test_the_generic_names_do_not_import_outside_the_checkout(tmp_path, name):
    """Installed, only `arrears.*` is importable; `engine` and the like are not ours."""
    run = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=tmp_path, capture_output=True,
                         text=True, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 1 and f"No module named '{name}'" in run.stderr
    ours = subprocess.run([sys.executable, "-c", f"import arrears.{name} as m; print(m.__file__)"],
                          cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert ours.returncode == 0, ours.stderr
    assert Path(ours.stdout.strip()).is_relative_to(ROOT / name) or "site-packages" in ours.stdout


def test_package_data_ships_every_data_file():
    """Every non-Python file in the installed folders matches a `package_data` pattern of its
    package, so a wheel carries it (templates, schemas, shipped policies and profiles)."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    patterns = {pkg: [p.strip() for p in globs.split(",")]
                for pkg, globs in cfg["options.package_data"].items()}
    missing = []
    for folder in INSTALLED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            if "node_modules" in path.parts:        # npm's install of console/frontend (git-ignored)
                continue
            owners = [d for d in path.relative_to(ROOT).parents if (ROOT / d / "__init__.py").exists()]
            package = _module_name(ROOT / owners[0] / "__init__.py")
            relative = path.relative_to(ROOT / owners[0]).as_posix()
            if not any(Path(relative).match(p) for p in patterns.get(package, [])):
                missing.append(f"{path.relative_to(ROOT)} (package {package})")
    assert missing == []


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md"])
def test_the_layout_tables_name_every_part(doc):
    """README's layout table and docs/architecture.md name each engine subpackage and folder."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    inits = sorted((ROOT / "engine").glob("*/__init__.py"))
    parts = [f"`{p.parent.relative_to(ROOT).as_posix()}/`" for p in inits]
    parts += [f"`{folder}/`" for folder in ("api", "console", "plugins", "policies")]
    assert [p for p in parts if p not in text] == []
