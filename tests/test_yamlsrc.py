"""Safe YAML loading: plain data, positions for every path, and clean refusals."""
from __future__ import annotations

import datetime
import time
import tracemalloc
from pathlib import Path

import pytest

from arrears.engine.domain.errors import PolicyError
from arrears.engine.policy.yamlsrc import MAX_ALIASES, MAX_NODES, load_document, load_file, pointer

DEFAULT = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"


def problems_of(text, filename="p.yaml"):
    with pytest.raises(PolicyError) as info:
        load_document(text, filename)
    return info.value.problems


def where(text: str, anchor: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of `anchor` in `text`."""
    at = text.index(anchor)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def test_default_policy_loads_to_plain_data():
    doc = load_file(DEFAULT)
    assert doc.data["metadata"]["name"] == "default"
    assert doc.data["metadata"]["effective_from"] == datetime.date(2026, 1, 1)
    assert doc.filename == str(DEFAULT)


def test_positions_point_at_values_and_keys():
    text = DEFAULT.read_text()
    doc = load_document(text, "default.yaml")
    assert doc.position(("metadata", "version")) == where(text, '"1.0.0"')
    assert doc.key_position(("metadata", "version")) == where(text, "version:")
    assert doc.position(["escalation", "stages", 0, "id"]) == where(text, "pre_due_reminder\n")


def test_position_falls_back_to_nearest_ancestor():
    doc = load_document("a:\n  b: 1\n", "x.yaml")
    assert doc.position(("a", "missing", 3)) == doc.position(("a",)) == (2, 3)
    assert doc.position(("nothing",)) == (1, 1)
    assert doc.key_position(("a", "b")) == (2, 3)
    assert doc.position(("a", "b")) == (2, 6)


@pytest.mark.parametrize("text, line, col, fragment", [
    ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first defined on line 1)"),
    ("1: x\n", 1, 1, "mapping keys must be strings, got int 1"),
    ("on: x\n", 1, 1, "got bool on"),
    ("? [a]\n: x\n", 1, 3, "mapping keys must be strings, got a collection"),
    ("a: [1, 2\n", 2, 1, "YAML syntax error: expected ',' or ']'"),
    ("a: 1\n  b: 2\n", 2, 4, "YAML syntax error: mapping values are not allowed here"),
    ("a:\n\tb: 1\n", 2, 1, "YAML syntax error: found character '\\t'"),
    ("a: *nope\n", 1, 4, "found undefined alias 'nope'"),
    ("- a\n- b\n", 1, 1, "must be a mapping of sections at the top level, got a list"),
    ("just text\n", 1, 1, "got 'just text'"),
    ("a: 1\n---\nb: 2\n", 2, 1, "must hold a single YAML document"),
    ("", 1, 1, "the file is empty"),
    ("# only a comment\n", 1, 1, "the file is empty"),
    ("a: b\x07\n", 1, 5, "character U+0007 is not allowed"),
    ("a: !custom 1\n", 1, 4, "unsupported YAML tag '!custom'"),
    ("a: !!binary aGk=\n", 1, 4, "unsupported YAML tag"),
    ("a: 2026-02-30\n", 1, 4, "'2026-02-30' is not a valid date"),
    ("a: &x [1, *x]\n", 1, 11, "refused: an alias refers to a collection that contains it"),
    ("a: &x\n  <<: *x\n", 2, 7, "refused: an alias refers to a collection that contains it"),
    ("a: " + "[" * 80 + "]" * 80 + "\n", 1, 67, "refused: nested more than 64 levels deep"),
    ("a: &x 1\nb: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n", 2, 405, "refused: too many aliases"),
])
def test_bad_yaml_is_refused_with_a_located_problem(text, line, col, fragment):
    problems = problems_of(text)
    assert len(problems) == 1
    (problem,) = problems
    assert (problem.file, problem.line, problem.col) == ("p.yaml", line, col)
    assert fragment in problem.message


def test_every_key_problem_is_reported_at_once():
    problems = problems_of("a: 1\na: 2\nb:\n  c: 1\n  c: 2\n3: x\n")
    assert [(p.line, p.col) for p in problems] == [(2, 1), (5, 3), (6, 1)]
    assert problems[1].path == "/b/c"


def test_bytes_must_be_utf8():
    (problem,) = problems_of(b"a: 1\nb: caf\xe9\n")
    assert (problem.line, problem.col) == (2, 7)
    assert "not valid UTF-8" in problem.message


def test_byte_order_mark_is_accepted():
    assert load_document("\ufeffa: 1\n".encode("utf-8"), "x").data == {"a": 1}
    assert load_document("\ufeffa: 1\n", "x").data == {"a": 1}


def test_merge_keys_work_and_written_keys_win():
    text = "base: &b {x: 1, y: 2}\nd:\n  y: 3\n  <<: *b\n"
    doc = load_document(text, "x.yaml")
    assert doc.data["d"] == {"x": 1, "y": 3}
    assert doc.position(("d", "y")) == (3, 6)       # the key written out, not the merged one
    assert doc.position(("d", "x")) == (1, 14)      # merged: where the value was written


def test_merge_of_several_mappings_earlier_wins():
    text = "a: &a {k: 1}\nb: &b {k: 2, j: 3}\nc:\n  <<: [*a, *b]\n"
    assert load_document(text, "x").data["c"] == {"k": 1, "j": 3}


def test_alias_position_is_the_alias():
    doc = load_document("a: &x {k: 1}\nb: *x\n", "x")
    assert doc.position(("b",)) == (2, 4)
    assert doc.data["b"] == {"k": 1}


def test_billion_laughs_is_refused_quickly():
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    start = time.process_time()            # CPU time: a loaded machine does not move it
    (problem,) = problems_of("\n".join(lines) + "\n")
    assert time.process_time() - start < 2
    assert f"refused: document expands to more than {MAX_NODES} nodes (alias bomb?)" in problem.message


def _laughs(levels: int = 9, width: int = 10, merge: bool = False) -> str:
    lines = ["l0: &l0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"]
    for i in range(1, levels):
        if merge:       # each level merges every key of the one below, renamed: width x as many
            lines.append(f"l{i}: &l{i} {{" + ", ".join(f"m{j}: *l{i - 1}" for j in range(width)) + "}")
        else:
            lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("merge", [False, True], ids=["sequences", "mappings"])
def test_an_alias_bomb_is_refused_before_it_is_expanded(merge):
    """Counted on the composed tree: refusing it costs what its text costs, not its expansion."""
    text = _laughs(merge=merge)
    tracemalloc.start()
    try:
        (problem,) = problems_of(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "alias bomb" in problem.message
    assert peak < 1024 * 1024, f"refusing a {len(text)}-byte bomb took {peak} bytes"
    # Where: the first collection whose expansion passes the limit (l3, about 22,000 nodes).
    assert (problem.line, problem.col) == (4, 5)


def test_a_merge_key_bomb_is_refused():
    lines = ["m0: &m0 {a: 1, b: 2}"] + [
        f"m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 9) + f"], k{i}: [*m{i - 1}, *m{i - 1}]}}"
        for i in range(1, 10)]
    (problem,) = problems_of("\n".join(lines) + "\n")
    assert "alias bomb" in problem.message


def test_nodes_written_out_are_limited_too():
    (problem,) = problems_of("a: [" + ", ".join(["1"] * (MAX_NODES + 5)) + "]\n")
    assert problem.message == f"refused: document has more than {MAX_NODES} nodes"
    assert problem.line == 1


def test_a_document_at_the_limit_loads():
    items = MAX_NODES - 3          # the root mapping, its key and the sequence, then the items
    assert len(load_document("a: [" + ", ".join(["1"] * items) + "]\n", "x").data["a"]) == items


@pytest.mark.parametrize("as_bytes", [False, True])
def test_two_mib_text_is_refused_quickly(as_bytes):
    text = "a: 1\n" + "# padding\n" * (2 * 1024 * 1024 // 10)
    start = time.process_time()            # CPU time: a loaded machine does not move it
    (problem,) = problems_of(text.encode() if as_bytes else text)
    assert time.process_time() - start < 0.5
    assert (problem.line, problem.col) == (1, 1)
    assert "a policy may be at most 1 MiB" in problem.message


def test_big_file_is_refused_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024 * 1024)            # sparse: cheap to make
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail("read a file it should refuse"))
    with pytest.raises(PolicyError) as info:
        load_file(big)
    (problem,) = info.value.problems
    assert str(problem) == f"{big}:1:1: file is 2.0 MiB; a policy may be at most 1 MiB"


def test_missing_file_is_a_problem(tmp_path):
    with pytest.raises(PolicyError) as info:
        load_file(tmp_path / "nope.yaml", "nope.yaml")
    assert str(info.value).startswith("nope.yaml:1:1: cannot read file")


def test_pointer_escapes():
    assert pointer(("a/b", "c~d", 0)) == "/a~1b/c~0d/0"
    assert pointer(()) == ""
