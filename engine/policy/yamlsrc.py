"""Safe YAML loading that remembers where every value came from.

Policies are written by people, so every later error must point at `file:line:col`.
We compose PyYAML's node tree (which carries marks) and build plain Python data from
it ourselves, recording the position of each value and key by JSON path. Building
the data ourselves also lets us refuse hostile input (alias bombs, huge or deeply
nested files) before it costs memory or time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from arrears.engine.domain.errors import PolicyError, Problem

MAX_BYTES = 1024 * 1024     # a policy is a few KiB; anything near this is a mistake or an attack
MAX_ALIASES = 100           # aliases written in the text
# Nodes written in the text, and nodes after expanding aliases and merge keys (counted on the
# composed tree before any data is built). The shipped policy has about 400, its tests 1,500;
# each node costs about 1 KiB while a document is loaded.
MAX_NODES = 20_000
MAX_DEPTH = 64              # PyYAML's composer recurses; stay far below Python's limit

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}

JsonPath = tuple      # keys and list indexes from the root, e.g. ("escalation", "stages", 2)


@dataclass(frozen=True)
class Document:
    """A loaded YAML document: plain `data` plus the source position of every part."""

    data: Any
    filename: str
    values: dict[JsonPath, tuple[int, int]] = field(default_factory=dict, repr=False)
    keys: dict[JsonPath, tuple[int, int]] = field(default_factory=dict, repr=False)
    # Problems in single values (a date that is none, an unsupported tag) when loaded with
    # `lenient=True`: the rest of the document is whole, so its other checks can still run.
    value_problems: tuple[Problem, ...] = field(default=(), repr=False)

    def position(self, path) -> tuple[int, int]:
        """1-based (line, col) of the value at `path`, else of its nearest existing ancestor."""
        return self._lookup(self.values, tuple(path))

    def key_position(self, path) -> tuple[int, int]:
        """1-based (line, col) of the mapping key that ends `path` (falls back like `position`)."""
        path = tuple(path)
        if path in self.keys:
            return self.keys[path]
        return self._lookup(self.values, path)

    @staticmethod
    def _lookup(table, path):
        while path:
            if path in table:
                return table[path]
            path = path[:-1]
        return table.get((), (1, 1))


class _Limit(Exception):
    """Input exceeds a safety limit; carries the offending mark."""

    def __init__(self, message, mark):
        super().__init__(message)
        self.message, self.mark = message, mark


class _Alias:
    """Stands in for an alias in the node tree so we know where the alias itself was written."""

    def __init__(self, target, mark):
        self.target, self.start_mark = target, mark


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer counts aliases and nodes, bounds nesting and keeps alias marks."""

    def __init__(self, stream):
        super().__init__(stream)
        self.alias_count = 0
        self.node_count = 0
        self.depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                raise _Limit(f"too many aliases (more than {MAX_ALIASES})", mark)
            return _Alias(super().compose_node(parent, index), mark)
        self.node_count += 1
        if self.node_count > MAX_NODES:
            raise _Limit(f"document has more than {MAX_NODES} nodes", self.peek_event().start_mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Limit(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_expansion(root) -> None:
    """Raise `_Limit` if the composed tree `root` expands (aliases and merge keys followed)
    to more than MAX_NODES nodes, or if an alias refers to a collection that contains it.

    Counted on the tree the composer built, before any data: each collection's expanded
    size is computed once and reused wherever an alias repeats it, so a billion laughs
    costs as little to refuse as it took to compose."""
    sizes: dict[int, int] = {}
    active: set[int] = set()          # collections being counted: reaching one again is a cycle

    def size(node) -> int:
        if isinstance(node, _Alias):
            if id(node.target) in active:
                raise _Limit("an alias refers to a collection that contains it", node.start_mark)
            total = 1 + size(node.target)
        elif id(node) in sizes:
            return sizes[id(node)]
        else:
            active.add(id(node))
            if isinstance(node, yaml.MappingNode):
                total = 1 + sum(size(key) + size(value) for key, value in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total = 1 + sum(size(item) for item in node.value)
            else:
                total = 1
            active.discard(id(node))
            sizes[id(node)] = total
        if total > MAX_NODES:
            raise _Limit(f"document expands to more than {MAX_NODES} nodes (alias bomb?)", node.start_mark)
        return total

    size(root)


def _pos(mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _offset_to_pos(text, offset) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Builder:
    """Turns a node tree into plain data, recording positions and collecting problems."""

    def __init__(self, filename):
        self.filename = filename
        self.values: dict = {}
        self.keys: dict = {}
        self.problems: list[Problem] = []
        self.scalars = SafeConstructor()

    def problem(self, mark, message, path):
        line, col = _pos(mark)
        self.problems.append(Problem(self.filename, line, col, message, pointer(path)))

    def build(self, node, path, mark=None):
        """The plain data of `node` at `path` (its size and cycles checked by `_check_expansion`)."""
        self.values[path] = _pos((mark or node).start_mark)
        if isinstance(node, _Alias):
            return self.build(node.target, path, node)
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.tag in _SCALAR_TAGS:
            return self._scalar(node, path)
        self.problem(node.start_mark, f"unsupported YAML tag {node.tag!r}", path)
        return None

    def _scalar(self, node, path):
        try:
            return self.scalars.construct_object(node)
        except ValueError as exc:       # e.g. 2026-02-30 looks like a date but is none
            self.problem(node.start_mark, f"{node.value!r} is not a valid date or time: {exc}", path)
            return node.value

    def _mapping(self, node, path):
        # Merge sources first, so positions of keys written out here overwrite theirs.
        own, merged, explicit = self.values[path], {}, {}
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                self._merge(value_node, path, merged)
        self.values[path] = own
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in explicit:
                first = self.keys[path + (key,)][0]
                self.problem(key_node.start_mark, f"duplicate key {key!r} (first defined on line {first})",
                             path + (key,))
                continue
            self.keys[path + (key,)] = _pos(key_node.start_mark)
            explicit[key] = self.build(value_node, path + (key,))
        return {**merged, **explicit}   # keys written out override merged ones, as YAML specifies

    def _merge(self, value_node, path, merged):
        sources = value_node.target if isinstance(value_node, _Alias) else value_node
        sources = sources.value if isinstance(sources, yaml.SequenceNode) else [value_node]
        for source in sources:
            data = self.build(source, path)
            if not isinstance(data, dict):
                self.problem(source.start_mark, "a merge key '<<' needs a mapping or a list of mappings",
                             path)
                continue
            for key, value in data.items():
                merged.setdefault(key, value)   # earlier sources win, as YAML specifies

    def _key(self, key_node, path):
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str":
            return key_node.value
        # Show the key as written with its resolved type: 'on' and 'yes' are booleans in YAML 1.1.
        shown = (f"{key_node.tag.rsplit(':', 1)[-1]} {key_node.value}".strip()
                 if isinstance(key_node, yaml.ScalarNode) else "a collection")
        self.problem(key_node.start_mark, f"mapping keys must be strings, got {shown}; quote the key", path)
        return None


def _is_merge(key_node) -> bool:
    return isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE


def pointer(path) -> str:
    """The JSON pointer (RFC 6901) for a path tuple: ('a', 0) -> '/a/0'."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _syntax_problem(filename, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, col = _pos(mark) if mark else (1, 1)
    message = error.problem or error.context or "invalid YAML"
    if error.context and error.problem:
        where = f", line {error.context_mark.line + 1}" if error.context_mark else ""
        message = f"{message} ({error.context}{where})"
    return Problem(filename, line, col, f"YAML syntax error: {message}")


def _decode(source, filename) -> str:
    if isinstance(source, str):
        if len(source) > MAX_BYTES and len(source.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise PolicyError([_too_big(filename, len(source.encode("utf-8", "surrogatepass")))])
        return source.removeprefix("\ufeff")
    if len(source) > MAX_BYTES:
        raise PolicyError([_too_big(filename, len(source))])
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        col = exc.start - (source.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PolicyError([Problem(filename, line, col, "file is not valid UTF-8 text")]) from None


def _too_big(filename, size) -> Problem:
    return Problem(filename, 1, 1, f"file is {size / 1048576:.1f} MiB; a policy may be at most 1 MiB")


def load_document(text: str | bytes, filename: str, *, lenient: bool = False) -> Document:
    """Parse one YAML mapping from `text`; raise PolicyError listing every problem found.

    `lenient`: problems confined to one value (`2026-13-01` is not a date) do not raise;
    they are returned in `Document.value_problems`, the value kept as its text, so the
    caller can report them together with its schema and semantic problems."""
    text = _decode(text, filename)
    builder = _Builder(filename)
    loader = None
    try:
        loader = _Loader(text)                              # checks for unprintable characters
        loader.get_event()                                  # stream start
        node = None if loader.check_event(yaml.StreamEndEvent) else loader.compose_document()
        if not loader.check_event(yaml.StreamEndEvent):
            line, col = _pos(loader.peek_event().start_mark)
            raise PolicyError([Problem(filename, line, col, "a policy file must hold a single YAML "
                                                            "document; found another one here")])
        if node is None:
            raise PolicyError([Problem(filename, 1, 1, "the file is empty; expected a mapping such as "
                                                       "'metadata: ...'")])
        _check_expansion(node)
        data = builder.build(node, ())
    except _Limit as exc:
        line, col = _pos(exc.mark)
        raise PolicyError([Problem(filename, line, col, f"refused: {exc.message}")]) from None
    except yaml.MarkedYAMLError as exc:
        raise PolicyError([_syntax_problem(filename, exc)]) from None
    except yaml.reader.ReaderError as exc:
        line, col = _offset_to_pos(text, exc.position)
        message = f"character U+{exc.character:04X} is not allowed in YAML"
        raise PolicyError([Problem(filename, line, col, message)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict) and not builder.problems:
        kind = "a list" if isinstance(data, list) else "nothing" if data is None else repr(data)
        line, col = _pos(node.start_mark)
        message = f"a policy must be a mapping of sections at the top level, got {kind}"
        builder.problems.append(Problem(filename, line, col, message))
    if builder.problems and not (lenient and isinstance(data, dict)):
        raise PolicyError(builder.problems)
    return Document(data, filename, builder.values, builder.keys, tuple(builder.problems))


def load_file(path, filename: str | None = None, *, lenient: bool = False) -> Document:
    """Load a YAML file, refusing it by its size before reading it; `filename` names it in
    problems; `lenient` as for `load_document`."""
    path = os.fspath(path)
    name = filename or path
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise PolicyError([_too_big(name, size)])
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)    # the file may grow after stat
    except OSError as exc:
        raise PolicyError([Problem(name, 1, 1, f"cannot read file: {exc.strerror or exc}")]) from None
    return load_document(raw, name, lenient=lenient)
