"""Load a policy: read, parse with positions, validate (schema + semantics), compile.

`load_policy` is the one entry point the CLI, the API and the tick use, so a policy
that loads anywhere loads the same everywhere.
"""
from __future__ import annotations

from pathlib import Path

from engine.compiler import CompiledPolicy, compile_policy
from engine.validation import parse_policy


def load_policy(source: str | Path, *, filename: str | None = None) -> CompiledPolicy:
    """Compile a policy from a file path or from YAML text.

    Raises `engine.errors.PolicyError` carrying every problem found (YAML syntax, schema,
    semantics), each located as file:line:col.
    """
    doc = parse_policy(source, filename=filename)
    name = filename or (str(source) if _is_path(source) else "<policy>")
    return compile_policy(doc.data, source=name)


def _is_path(source) -> bool:
    if isinstance(source, Path):
        return True
    return isinstance(source, str) and "\n" not in source and Path(source).is_file()
