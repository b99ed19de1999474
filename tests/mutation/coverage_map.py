"""Which tests run which lines: the mutation run tests a mutant only with the tests that reach it.

One coverage run per test suite (`--cov-context=test`) records, for every line of the
target modules, the tests during which it ran. A mutant is then tested with the tests that
ran its statement, in suite order, stopping at the first failure — seconds instead of the
whole suite. Two cases fall back to the whole suite, so selection never hides a kill:
lines that ran outside any test (at import, or in a subprocess the tests started: the CLI,
the served API, the tick's workers, whose coverage carries no test context), and modules
coverage did not see at all.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

EVERYTHING = None      # "run the whole suite": the line ran where no test context was recorded


def measure(shadow_base: Path, tests, root: Path, data_file: Path) -> bool:
    """Run `tests` once under coverage with per-test contexts; True when they passed."""
    env = dict(os.environ, PYTHONPATH=str(shadow_base), ARREARS_HYPOTHESIS_PROFILE="ci",
               PYTHONDONTWRITEBYTECODE="1", COVERAGE_FILE=str(data_file))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--no-header",
           "-m", "not postgresql", "--cov", "--cov-context=test", "--cov-report=", *tests]
    proc = subprocess.run(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc.returncode == 0


def _statement_lines(source: str) -> dict[int, range]:
    """Line -> the lines of the innermost statement holding it (coverage counts statements)."""
    spans: dict[int, tuple[int, int]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt):
            for line in range(node.lineno, node.end_lineno + 1):
                known = spans.get(line)
                if known is None or (node.end_lineno - node.lineno) < (known[1] - known[0]):
                    spans[line] = (node.lineno, node.end_lineno)
    return {line: range(a, b + 1) for line, (a, b) in spans.items()}


class TestsByLine:
    """The tests (pytest node ids, in suite order) that ran each line of one module."""

    def __init__(self, data_file: Path, module: str, source: str, suite):
        from coverage import CoverageData

        data = CoverageData(basename=str(data_file))
        data.read()
        suffix = "/arrears/" + module
        measured = [f for f in data.measured_files() if f.replace(os.sep, "/").endswith(suffix)]
        self.seen = bool(measured)
        self.by_line = data.contexts_by_lineno(measured[0]) if measured else {}
        self.stmts = _statement_lines(source)
        self.order = {path: i for i, path in enumerate(suite)}

    def tests_for(self, line: int):
        """Node ids to run for a mutant on `line`; [] when no test reaches it; EVERYTHING to run all."""
        if not self.seen:
            return EVERYTHING
        contexts = set()
        for number in self.stmts.get(line, range(line, line + 1)):
            contexts.update(self.by_line.get(number, ()))
        if not contexts:
            return []
        if any(not c for c in contexts):          # import time or a subprocess: no test recorded
            return EVERYTHING
        ids = {c.rsplit("|", 1)[0] for c in contexts}
        return sorted(ids, key=lambda node: (self.order.get(node.split("::", 1)[0], len(self.order)), node))
