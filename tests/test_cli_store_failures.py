"""Every command on a database that is really full or really read-only: one line, exit 3 when
it could not do its work, and nothing half-written.

Full: SQLite's own `max_page_count` (the file may not grow), and a tmpfs with no byte left.
Read-only: a `mode=ro` URL, and a tmpfs remounted read-only (EROFS, which stops root too).
The tmpfs cases need root (to mount); they are skipped otherwise.
"""
from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from arrears.engine.cli import main
from arrears.engine.demo import load_demo
from arrears.engine.store import Store
from tests.disks import fill, page_capped, remount_read_only, tiny_tmpfs
from tests.test_cli_errors import COMMANDS, _argv, assert_one_line, world  # noqa: F401 (fixture)

# `worker` needs PostgreSQL and a broker: on these SQLite files it is refused (2) before opening one.
WITH_A_DATABASE = [name for name, argv in COMMANDS.items() if "{db}" in argv and name != "worker"]
WRITES = ("import", "tick")                  # the commands whose work is a write
READS = ("audit verify", "outbox unknown", "simulate", "kpis", "goals", "report")
AT = "2026-11-02T10:00:00Z"          # the seed's tick
LATER = "2026-11-20T10:00:00Z"       # the tests' ticks: most accounts are due again


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A database with 500 demo accounts, their events and one tick's decisions and outbox."""
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    with Store(f"sqlite:///{path}") as store:
        load_demo(store, date(2026, 11, 1))
    assert main(["tick", "--db", f"sqlite:///{path}", "--at", AT, "--no-dispatch"]) == 0
    return path


@pytest.fixture
def on_seed(world, seeded, tmp_path):  # noqa: F811
    """The world's files, its database a copy of the seeded one, and 300 accounts to import."""
    db = tmp_path / "arrears.db"
    shutil.copy(seeded, db)
    account = json.loads((Path(world["account"])).read_text(encoding="utf-8"))
    with open(world["accounts"], "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({**account, "id": f"BULK-{i}", "invoices": [
            {**inv, "id": f"BULK-{i}-{j}"} for j, inv in enumerate(account["invoices"])]}) + "\n" for i in range(300))
    return {**world, "db": f"sqlite:///{db}", "path": db}


def _argv_for(command: str, files: dict) -> list[str]:
    argv = _argv(COMMANDS[command], files)
    return argv + ["--at", LATER] if command == "tick" else argv


def _counts(path: Path) -> dict:
    with Store(f"sqlite:///{path}", upgrade=False) as store:
        return store.counts()


def _fails_in_one_line(capsys, command: str, files: dict, fragment: str) -> None:
    code = main(_argv_for(command, files))
    out, err = capsys.readouterr()
    assert code == 3, err
    assert fragment in assert_one_line(err, command)
    assert out == ""


@pytest.mark.parametrize("command", WRITES)
def test_on_a_full_database_writes_are_3_in_one_line_and_nothing_is_written(on_seed, capsys, command):
    before = _counts(on_seed["path"])
    with page_capped():
        _fails_in_one_line(capsys, command, on_seed, "disk full or database read-only")
    assert _counts(on_seed["path"]) == before


@pytest.mark.parametrize("command", READS)
def test_on_a_full_database_reading_still_works(on_seed, capsys, command):
    with page_capped():
        code = main(_argv_for(command, on_seed))
    assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize("command", WRITES)
def test_through_a_read_only_url_writes_are_3_in_one_line_and_nothing_is_written(on_seed, capsys, command):
    before = _counts(on_seed["path"])
    files = {**on_seed, "db": f"sqlite:///file:{on_seed['path']}?mode=ro&uri=true"}
    _fails_in_one_line(capsys, command, files, "disk full or database read-only")
    assert _counts(on_seed["path"]) == before


@pytest.mark.parametrize("command", READS)
def test_through_a_read_only_url_reading_works(on_seed, capsys, command):
    files = {**on_seed, "db": f"sqlite:///file:{on_seed['path']}?mode=ro&uri=true"}
    assert main(_argv_for(command, files)) == 0, capsys.readouterr().err


@pytest.fixture
def on_tmpfs(on_seed, tmp_path):
    """The seeded database alone on a 2 MiB tmpfs."""
    with tiny_tmpfs(tmp_path / "disk", 2048) as disk:
        shutil.copy(on_seed["path"], disk / "arrears.db")
        yield {**on_seed, "db": f"sqlite:///{disk / 'arrears.db'}", "path": disk / "arrears.db", "disk": disk}


@pytest.mark.parametrize("command", WITH_A_DATABASE)
def test_on_a_disk_with_no_byte_left_every_command_is_3_in_one_line(on_tmpfs, capsys, command):
    before = _counts(on_tmpfs["path"])
    fill(on_tmpfs["disk"])
    _fails_in_one_line(capsys, command, on_tmpfs, "disk full or database read-only: its disk is full (0 KiB free)")
    (on_tmpfs["disk"] / "filler").unlink()
    assert _counts(on_tmpfs["path"]) == before


@pytest.mark.parametrize("command", WITH_A_DATABASE)
def test_on_a_read_only_file_system_every_command_is_3_in_one_line(on_tmpfs, capsys, command):
    remount_read_only(on_tmpfs["disk"])
    _fails_in_one_line(capsys, command, on_tmpfs, "disk full or database read-only: its file system is read-only")


def test_an_import_that_fills_the_disk_half_way_stores_nothing(on_tmpfs, capsys):
    """Room for part of the file only: the one transaction rolls back, the store is as it was."""
    before = _counts(on_tmpfs["path"])
    with open(on_tmpfs["disk"] / "filler", "wb") as fh:       # leave about 200 KiB
        fh.write(b"\0" * (2048 * 1024 - on_tmpfs["path"].stat().st_size - 200 * 1024))
    with open(on_tmpfs["accounts"], "a", encoding="utf-8") as fh:       # about 1.5 MiB to import
        fh.writelines(json.dumps({"id": f"MORE-{i}", "currency": "EUR", "notes": "x" * 400}) + "\n"
                      for i in range(300, 2000))
    code = main(_argv_for("import", on_tmpfs))
    err = capsys.readouterr().err
    assert code == 3 and "(nothing stored)" in assert_one_line(err, "import")
    (on_tmpfs["disk"] / "filler").unlink()
    assert _counts(on_tmpfs["path"]) == before


def test_the_seed_is_what_the_tests_think(seeded):
    counts = _counts(seeded)
    assert counts["accounts"] == 500 and counts["outbox"] > 0
