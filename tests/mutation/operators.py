"""The mutants of a module: small, plausible mistakes, each one text edit of its source.

A mutant replaces one node's source text (found with `ast`) by an altered copy of that
node (`ast.unparse`, in parentheses where it is an expression), so everything else in the
file stays byte for byte as written. Strings, f-strings, docstrings, annotations, logging
calls and lines marked `# pragma: no mutate` are never changed: wording is not behaviour.
Nor is the placeholder default of a rule kind's required parameter, which is never read.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

SWAP_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
SWAP_BINOP = {ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.Add: ast.Sub, ast.Sub: ast.Add,
              ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult}
SWAP_NAMES = {"max": "min", "min": "max", "maximum": "minimum", "minimum": "maximum", "any": "all",
              "all": "any", "argmin": "argmax", "argmax": "argmin"}
QUIET_CALLS = ("log", "logger", "logging", "warnings", "print")


@dataclass(frozen=True)
class Mutant:
    """One change: where (1-based line), what it did, and the whole mutated source."""

    line: int
    change: str
    source: str


class _Offsets:
    """(line, byte column) of `ast` positions to offsets in the decoded text."""

    def __init__(self, text: str):
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, line: int, col_bytes: int) -> int:
        raw = self.lines[line - 1].encode("utf-8")[:col_bytes]
        return self.starts[line - 1] + len(raw.decode("utf-8"))


def _skipped_ranges(tree: ast.AST) -> list[tuple[int, int]]:
    """Line ranges never mutated: docstrings, f-strings, annotations, logging and raise texts."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                                     ast.Constant):
                out.append((body[0].lineno, body[0].end_lineno))
        if isinstance(node, ast.JoinedStr):
            out.append((node.lineno, node.end_lineno))
        if isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in QUIET_CALLS:
                out.append((node.lineno, node.end_lineno))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("__repr__", "__str__"):
            out.append((node.lineno, node.end_lineno))
    return out


def _quiet_nodes(tree: ast.AST) -> set[int]:
    """Nodes inside annotations and decorators: types and registrations, not behaviour."""
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            every = (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg)
            roots += [arg.annotation for arg in every if arg is not None and arg.annotation]
            roots += [node.returns] if node.returns else []
            roots += node.decorator_list
        elif isinstance(node, ast.ClassDef):
            roots += node.decorator_list
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
        elif _required_param(node):
            roots.append(node.args[0])     # a required rule parameter's placeholder default
    return {id(n) for root in roots for n in ast.walk(root)}


def _required_param(node: ast.AST) -> bool:
    """`param(default, ..., required=True)` in a rule kind: the schema refuses a rule without the
    parameter, so the default is never read (the dataclass only needs one for field order)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "param"
            and bool(node.args) and any(k.arg == "required" and isinstance(k.value, ast.Constant)
                                        and k.value.value is True for k in node.keywords))


def _variants(node: ast.AST):
    """(description, replacement node or None for `pass`) for each mutation of `node`."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAP_COMPARE:
        new = copy.deepcopy(node)
        new.ops = [SWAP_COMPARE[type(node.ops[0])]()]
        yield f"{type(node.ops[0]).__name__} -> {type(new.ops[0]).__name__}", new
    elif isinstance(node, ast.BinOp) and type(node.op) in SWAP_BINOP:
        new = copy.deepcopy(node)
        new.op = SWAP_BINOP[type(node.op)]()
        yield f"{type(node.op).__name__} -> {type(new.op).__name__}", new
        if isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            yield "keep the left operand only", node.left
            yield "keep the right operand only", node.right
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield f"{type(node.op).__name__} -> {type(new.op).__name__}", new
        for i in range(len(node.values)):
            rest = [v for j, v in enumerate(node.values) if j != i]
            yield f"drop operand {i + 1} of {type(node.op).__name__.lower()}", \
                rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert, ast.USub)):
        yield f"drop {type(node.op).__name__}", node.operand
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield f"{node.value} -> {not node.value}", ast.Constant(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield f"{node.value} -> {node.value + 1}", ast.Constant(node.value + 1)
        if node.value != 0:
            yield f"{node.value} -> 0", ast.Constant(0)
    elif isinstance(node, ast.Call):
        yield from _call_variants(node)
    elif isinstance(node, ast.AugAssign):
        yield "remove the statement", None
    elif isinstance(node, ast.If) and not isinstance(node.test, ast.Constant):
        new = copy.deepcopy(node.test)
        yield "negate the condition", ast.UnaryOp(op=ast.Not(), operand=new)


def _call_variants(node: ast.Call):
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in SWAP_NAMES:
        new = copy.deepcopy(node)
        if isinstance(new.func, ast.Attribute):
            new.func.attr = SWAP_NAMES[name]
        else:
            new.func.id = SWAP_NAMES[name]
        yield f"{name}() -> {SWAP_NAMES[name]}()", new
    is_numpy = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "np"
    if name == "where" and not is_numpy and len(node.args) >= 2:
        for i in range(len(node.args)):       # a SQL condition dropped
            new = copy.deepcopy(node)
            del new.args[i]
            yield f"drop condition {i + 1} of where()", new


def mutants(source: str) -> list[Mutant]:
    """Every mutant of a module's source, in source order."""
    tree = ast.parse(source)
    off = _Offsets(source)
    lines = source.splitlines()
    skipped = _skipped_ranges(tree)
    quiet = _quiet_nodes(tree)
    out = []
    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or id(node) in quiet:
            continue
        if any(a <= node.lineno <= b for a, b in skipped):
            continue
        if "pragma: no mutate" in lines[node.lineno - 1]:
            continue
        for change, replacement in _variants(node):
            target = node.test if isinstance(node, ast.If) else node
            start = off.at(target.lineno, target.col_offset)
            end = off.at(target.end_lineno, target.end_col_offset)
            text = "pass" if replacement is None else f"({ast.unparse(replacement)})"
            mutated = source[:start] + text + source[end:]
            try:
                compile(mutated, "<mutant>", "exec")
            except SyntaxError:
                continue
            out.append(Mutant(node.lineno, change, mutated))
    out.sort(key=lambda m: (m.line, m.change))
    return out
