"""Every `arrears` subcommand fails the same way: one line `arrears <command>: <message>` on
stderr (a policy's problems as `file:line:col: message` lines), never a traceback, and the
exit code of the table in engine/cli/errors.py (README.md, "The command line"):
0 ok, 1 problems found, 2 could not start, 3 database unusable, 70 a bug, 130 Ctrl-C.

Through the real `main`, and a few through a real process (`python -m arrears.engine`,
the `arrears` console script).
"""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import arrears.engine.cli as cli
from arrears.engine.cli import main
from arrears.engine.cli.errors import ExitCode
from arrears.engine.store import Store
from tests.plugins.pluginkit import install_fake_distribution

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "default.yaml"
ACCOUNT = ROOT / "examples" / "account.json"
SAMPLE = ROOT / "examples" / "replay" / "sample.csv"
PERIOD = ["--from", "2026-10-01", "--to", "2026-10-31"]
CONSOLE_SCRIPT = Path(sys.executable).with_name("arrears")

# Each command and arguments that parse, on the world's files.
COMMANDS = {
    "validate": ["validate", "{policy}"],
    "test": ["test", "{policies}"],
    "ladder": ["ladder", "{policy}"],
    "explain": ["explain", "--policy", "{policy}", "--account", "{account}"],
    "import": ["import", "{accounts}", "--db", "{db}"],
    "audit verify": ["audit", "verify", "--db", "{db}"],
    "plugins": ["plugins"],
    "tick": ["tick", "--db", "{db}", "--no-dispatch"],
    "serve": ["serve", "--db", "{db}", "--port", "0", "--no-scheduler"],
    "worker": ["worker", "--db", "{db}"],
    "status": ["status", "--db", "{db}"],
    "outbox unknown": ["outbox", "unknown", "--db", "{db}"],
    "outbox resolve": ["outbox", "resolve", "1", "--as", "sent", "--db", "{db}"],
    "simulate": ["simulate", "--candidate", "{policy}", "--db", "{db}"],
    "replay": ["replay", "{sample}", "--from", "2025-03-01", "--to", "2025-03-31"],
    "kpis": ["kpis", *PERIOD, "--db", "{db}"],
    "goals": ["goals", "--db", "{db}"],
    "report": ["report", *PERIOD, "--out", "{out}", "--db", "{db}"],
    "users list": ["users", "list", "--db", "{db}"],
    "keys list": ["keys", "list", "--db", "{db}"],
    "keys revoke": ["keys", "revoke", "1", "--db", "{db}"],
    "experiment validate": ["experiment", "validate", "{experiment}"],
    "experiment status": ["experiment", "status", "--db", "{db}"],
    "experiment stop": ["experiment", "stop", "e1", "--db", "{db}"],
    "experiment resume": ["experiment", "resume", "e1", "--db", "{db}"],
}
# How messages name a command, where it is not its key above (`arrears outbox: ...`, as always).
PREFIX = {"outbox unknown": "outbox", "outbox resolve": "outbox"}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Files for every scenario, in a clean environment whose working directory is tmp_path."""
    for name in [n for n in os.environ if n.startswith("ARREARS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.read_text(encoding="utf-8").replace("kind: sms", "kind: smss"), encoding="utf-8")
    (tmp_path / "bad_test.yaml").write_text("policy: bad.yaml\ncases:\n  - name: x\n"
                                            "    expect: {action: reminder}\n", encoding="utf-8")
    (tmp_path / "accounts.jsonl").write_text('{"id": "A", "currency": "EUR"}\n', encoding="utf-8")
    (tmp_path / "badconfig.toml").write_text("[tick]\nfrequency = 3\n", encoding="utf-8")
    (tmp_path / "garbage.db").write_bytes(b"this is not a database, it only has the name of one\n" * 20)
    sqlite3.connect(tmp_path / "empty.db").close()              # a database without the Arrears schema
    Store(f"sqlite:///{tmp_path / 'arrears.db'}").close()      # one with it
    (tmp_path / "experiment.yaml").write_text(
        "name: e1\nchampion: {share: 50}\nchallengers:\n  - {name: b, policy: 'sha256:" + "0" * 64 + "', share: 50}\n"
        "start: 2026-12-01\nend: 2027-03-01\nprimary_metric: {kpi: cure_rate, minimum_detectable_effect: 5, "
        "baseline: 30}\n", encoding="utf-8")
    return {"policy": str(POLICY), "policies": str(POLICY.parent), "account": str(ACCOUNT),
            "sample": str(SAMPLE), "accounts": str(tmp_path / "accounts.jsonl"),
            "out": str(tmp_path / "report.html"), "db": f"sqlite:///{tmp_path / 'arrears.db'}",
            "experiment": str(tmp_path / "experiment.yaml"),
            "garbage": f"sqlite:///{tmp_path / 'garbage.db'}", "empty": f"sqlite:///{tmp_path / 'empty.db'}",
            "missing": str(tmp_path / "missing.yaml"), "bad": str(bad),
            "bad_test": str(tmp_path / "bad_test.yaml"),
            "config": str(tmp_path / "badconfig.toml"), "tmp": str(tmp_path)}


def _argv(template: list[str], world: dict) -> list[str]:
    return [part.format(**world) for part in template]


def _run(capsys, template, world) -> tuple[int, str, str]:
    code = main(_argv(template, world))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, command: str) -> str:
    """stderr is exactly one line, `arrears <command>: ...`, and no traceback; returns the message."""
    prefix = f"arrears {PREFIX.get(command, command)}: "
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    assert "Traceback" not in err
    return lines[0][len(prefix):]


def assert_located(text: str, file: str) -> None:
    """Every line is a problem located in `file`, `file:line:col: message`."""
    lines = text.splitlines()
    assert lines and all(re.match(rf"{re.escape(file)}:\d+:\d+: ", line) for line in lines), text
    assert "Traceback" not in text


# --- could not start (2) -------------------------------------------------------------------------

MISSING_FILE = [
    ("validate", ["validate", "{missing}"]),
    ("test", ["test", "{missing}"]),
    ("ladder", ["ladder", "{missing}"]),
    ("explain", ["explain", "--policy", "{missing}", "--account", "{account}"]),
    ("explain", ["explain", "--policy", "{policy}", "--account", "{missing}"]),
    ("import", ["import", "{missing}", "--db", "{db}"]),
    ("tick", ["tick", "--db", "{db}", "--policy", "{missing}"]),
    ("serve", ["serve", "--db", "{db}", "--port", "0", "--policy", "{missing}"]),
    ("outbox unknown", ["outbox", "unknown", "--db", "{db}", "--config", "{missing}"]),
    ("outbox resolve", ["outbox", "resolve", "1", "--as", "failed", "--db", "{db}", "--config", "{missing}"]),
    ("simulate", ["simulate", "--candidate", "{missing}", "--db", "{db}"]),
    ("replay", ["replay", "{missing}", "--from", "2025-03-01", "--to", "2025-03-31"]),
    ("replay", ["replay", "{sample}", "--from", "2025-03-01", "--to", "2025-03-31", "--policy", "{missing}"]),
    ("kpis", ["kpis", *PERIOD, "--db", "{db}", "--policy", "{missing}"]),
    ("goals", ["goals", "--db", "{db}", "--goals", "{missing}"]),
    ("report", ["report", *PERIOD, "--out", "{out}", "--db", "{db}", "--goals", "{missing}"]),
    ("experiment validate", ["experiment", "validate", "{missing}"]),
    ("experiment start", ["experiment", "start", "{missing}", "--db", "{db}"]),
]


@pytest.mark.parametrize("command, template", MISSING_FILE)
def test_a_missing_input_file_is_2_in_one_line(world, capsys, command, template):
    code, out, err = _run(capsys, template, world)
    assert code == ExitCode.CANNOT_START == 2
    assert "missing.yaml" in assert_one_line(err, command)
    assert out == ""


BAD_CONFIG = [(name, [*COMMANDS[name], "--config", "{config}"])
              for name in ("tick", "serve", "outbox unknown", "outbox resolve", "simulate", "replay", "kpis",
                           "goals", "report")]


@pytest.mark.parametrize("command, template", BAD_CONFIG)
def test_bad_configuration_is_2_in_one_line(world, capsys, command, template):
    code, out, err = _run(capsys, template, world)
    assert code == 2
    assert assert_one_line(err, command).startswith("tick.frequency: unknown setting")
    assert out == ""


@pytest.mark.parametrize("variable, value, command, message", [
    ("ARREARS_TICK_INTERVAL", "0", "tick", "interval: must be at least 1"),
    ("ARREARS_CONFIG", "{tmp}/nowhere.toml", "kpis", "cannot read the config file"),
    ("ARREARS_API_KEYS", "not-a-key-role-pair", "serve", "ARREARS_API_KEYS: expected KEY:ROLE"),
])
def test_bad_configuration_from_the_environment_is_2(world, capsys, monkeypatch, variable, value, command,
                                                       message):
    monkeypatch.setenv(variable, value.format(**world))
    code, _, err = _run(capsys, COMMANDS[command], world)
    assert code == 2 and message in assert_one_line(err, command)


@pytest.mark.parametrize("command, template", [
    ("kpis", ["kpis", "--from", "2026-10-31", "--to", "2026-10-01", "--db", "{db}"]),
    ("explain", [*COMMANDS["explain"], "--at", "2026-11-23 10:00"]),
    ("replay", [*COMMANDS["replay"], "--tick-hours", "5"]),
    ("serve", [*COMMANDS["serve"], "--workers", "0"]),
    ("worker", COMMANDS["worker"]),                                          # no broker
    ("worker", ["worker", "--db", "{db}", "--broker", "redis://localhost", "--concurrency", "0"]),
    ("worker", ["worker", "--db", "{db}", "--broker", "http://localhost"]),   # not a broker URL
    ("tick", [*COMMANDS["tick"], "--broker", "redis://localhost"]),          # SQLite has one writer
    ("goals", ["goals", "--db", "{db}", "--at", "tomorrow"]),
])
def test_arguments_argparse_cannot_check_are_2(world, capsys, command, template):
    code, out, err = _run(capsys, template, world)
    assert code == 2 and out == ""
    assert_one_line(err, command)


@pytest.mark.parametrize("command", ["validate", "test", "explain", "plugins", "tick", "simulate", "kpis"])
def test_a_plugin_that_cannot_be_loaded_is_2(world, capsys, monkeypatch, tmp_path, command):
    install_fake_distribution(tmp_path / "site", "arrears-broken", "1.0", {"broken": "no_such_module_xyz"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    code, _, err = _run(capsys, COMMANDS[command], world)
    assert code == 2 and "no_such_module_xyz" in assert_one_line(err, command)


# --- the database cannot be used (3) --------------------------------------------------------------

WITH_A_DATABASE = ("import", "audit verify", "status", "tick", "serve", "outbox unknown", "outbox resolve",
                   "simulate", "kpis", "goals", "report", "users list", "keys list", "keys revoke",
                   "experiment status", "experiment stop", "experiment resume")
READ_ONLY = ("audit verify", "status", "outbox unknown", "simulate", "kpis", "goals", "report", "users list",
             "keys list", "experiment status")


def _on(template: list[str], database: str) -> list[str]:
    return [database if part == "{db}" else part for part in template]


@pytest.mark.parametrize("command", WITH_A_DATABASE)
def test_a_file_that_is_not_a_database_is_3_in_one_line(world, capsys, command):
    code, out, err = _run(capsys, _on(COMMANDS[command], "{garbage}"), world)
    assert code == ExitCode.DATABASE == 3
    assert "not a usable database file" in assert_one_line(err, command)
    assert out == ""


@pytest.mark.parametrize("command", READ_ONLY)
def test_a_database_without_the_arrears_schema_is_3_for_the_commands_that_only_read(world, capsys, command):
    code, out, err = _run(capsys, _on(COMMANDS[command], "{empty}"), world)
    assert code == 3 and out == ""
    assert "has no Arrears schema" in assert_one_line(err, command)


@pytest.fixture
def locked(world, monkeypatch):
    """Another connection holds the database's write lock; the store waits 0.2 s for it, not 30."""
    monkeypatch.setitem(Store.__init__.__kwdefaults__, "busy_timeout", 0.2)
    holder = sqlite3.connect(Path(world["tmp"]) / "arrears.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.parametrize("command", ["import", "tick", "outbox resolve"])
def test_a_locked_database_where_a_write_is_needed_is_3(world, locked, capsys, command):
    code, out, err = _run(capsys, COMMANDS[command], world)
    assert code == 3 and out == ""
    assert assert_one_line(err, command).startswith("database is locked")


# --- problems found (1) ----------------------------------------------------------------------------

INVALID_POLICY = [
    ("explain", ["explain", "--policy", "{bad}", "--account", "{account}"]),
    ("tick", [*COMMANDS["tick"], "--policy", "{bad}"]),
    ("serve", [*COMMANDS["serve"], "--policy", "{bad}"]),
    ("simulate", ["simulate", "--candidate", "{bad}", "--db", "{db}"]),
    ("replay", [*COMMANDS["replay"], "--policy", "{bad}"]),
    ("kpis", [*COMMANDS["kpis"], "--policy", "{bad}"]),
    ("goals", [*COMMANDS["goals"], "--policy", "{bad}"]),
    ("report", [*COMMANDS["report"], "--policy", "{bad}"]),
]


@pytest.mark.parametrize("command, template", INVALID_POLICY)
def test_an_invalid_policy_is_1_with_its_located_problems_on_stderr(world, capsys, command, template):
    code, out, err = _run(capsys, template, world)
    assert code == ExitCode.PROBLEMS == 1 and out == ""
    assert_located(err, world["bad"])


def test_validate_prints_the_located_problems_as_its_findings(world, capsys):
    code, out, err = _run(capsys, ["validate", "{bad}"], world)
    assert (code, err) == (1, "")
    assert_located(out.splitlines()[0], world["bad"])


def test_a_policy_test_whose_policy_does_not_load_is_2_the_cases_could_not_run(world, capsys):
    code, out, err = _run(capsys, ["test", "{bad_test}"], world)
    assert (code, err) == (2, "")
    assert_located(out.splitlines()[0], world["bad"])


# --- Ctrl-C (130) and bugs (70), for every command --------------------------------------------------

@pytest.fixture
def handler(monkeypatch):
    """`handler(fn)`: whichever command `main` parses runs `fn(args)` in place of its own handler."""
    def install(fn):
        real = cli.build_parser

        def build():
            parser = real()
            parse = parser.parse_args

            def parse_args(argv=None, namespace=None):
                args = parse(argv, namespace)
                args.handler = fn
                return args
            parser.parse_args = parse_args
            return parser
        monkeypatch.setattr(cli, "build_parser", build)
    return install


def _raise(exc):
    def fn(args):
        raise exc
    return fn


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_is_130_without_a_traceback(world, capsys, handler, command):
    handler(_raise(KeyboardInterrupt()))
    code, out, err = _run(capsys, COMMANDS[command], world)
    assert code == ExitCode.INTERRUPTED == 130
    assert assert_one_line(err, command) == "interrupted"


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unexpected_exception_is_70_in_one_line(world, capsys, handler, command):
    handler(_raise(ZeroDivisionError("division by zero\nsecond line")))
    code, out, err = _run(capsys, COMMANDS[command], world)
    assert code == ExitCode.INTERNAL == 70
    assert assert_one_line(err, command) == ("internal error: ZeroDivisionError: division by zero; "
                                             "please report it")


@pytest.mark.parametrize("command", ["explain", "tick", "outbox resolve"])
def test_arrears_debug_shows_the_traceback_of_an_unexpected_exception(world, capsys, handler, monkeypatch,
                                                                       command):
    monkeypatch.setenv("ARREARS_DEBUG", "1")
    handler(_raise(ZeroDivisionError("division by zero")))
    code, _, err = _run(capsys, COMMANDS[command], world)
    assert code == 70
    assert err.startswith("Traceback (most recent call last):") and "ZeroDivisionError" in err
    line = "internal error: ZeroDivisionError: division by zero; please report it"
    assert err.splitlines()[-1] == f"arrears {PREFIX.get(command, command)}: {line}"


def test_arrears_debug_0_is_off(world, capsys, handler, monkeypatch):
    monkeypatch.setenv("ARREARS_DEBUG", "0")
    handler(_raise(RuntimeError("boom")))
    assert main(["plugins"]) == 70
    assert_one_line(capsys.readouterr().err, "plugins")


def test_a_broken_pipe_is_0_and_silent(world, capsys, handler):
    handler(_raise(BrokenPipeError(32, "Broken pipe")))
    assert main(["plugins"]) == 0
    assert capsys.readouterr().err == ""


# --- as a real process ---------------------------------------------------------------------------------

def _process(world, argv, *, script=False, boot=None, env=None, **kw):
    if script and not CONSOLE_SCRIPT.exists():
        pytest.skip("the `arrears` console script is not installed next to this Python")
    command = ([str(CONSOLE_SCRIPT)] if script else [sys.executable, "-c", boot] if boot
               else [sys.executable, "-m", "arrears.engine"])
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")} | (env or {})
    return subprocess.run(command + _argv(argv, world), capture_output=True, text=True, timeout=120,
                          cwd=world["tmp"], env=environ, **kw)


@pytest.mark.parametrize("script", [False, True], ids=["python -m arrears.engine", "arrears"])
@pytest.mark.parametrize("command, template, status", [
    ("explain", ["explain", "--policy", "{missing}", "--account", "{account}"], 2),
    ("kpis", _on(COMMANDS["kpis"], "{garbage}"), 3),
    ("tick", [*COMMANDS["tick"], "--config", "{config}"], 2),
])
def test_as_a_process_one_line_and_the_code(world, script, command, template, status):
    done = _process(world, template, script=script)
    assert done.returncode == status, done.stderr
    assert_one_line(done.stderr, command)
    assert done.stdout == ""


def test_as_a_process_an_invalid_policy_is_1_with_located_problems(world):
    done = _process(world, ["explain", "--policy", "{bad}", "--account", "{account}"], script=True)
    assert done.returncode == 1
    assert_located(done.stderr, world["bad"])


# The real `main`, with the `plugins` handler replaced before the parser is built.
BOOT = ("import sys, time, arrears.engine.cli as c, arrears.engine.cli.plugins as p\n"
        "p.run = {handler}\n"
        "sys.exit(c.main(sys.argv[1:]))")


def test_as_a_process_a_bug_is_70_and_arrears_debug_shows_the_traceback(world):
    boot = BOOT.format(handler="lambda args: 1 / 0")
    done = _process(world, ["plugins"], boot=boot)
    assert done.returncode == 70
    assert done.stderr == ("arrears plugins: internal error: ZeroDivisionError: division by zero; "
                           "please report it\n")
    debug = _process(world, ["plugins"], boot=boot, env={"ARREARS_DEBUG": "1"})
    assert debug.returncode == 70
    assert debug.stderr.startswith("Traceback") and debug.stderr.endswith(done.stderr)


def test_as_a_process_ctrl_c_is_130_without_a_traceback(world):
    boot = BOOT.format(handler="lambda args: (print('ready', flush=True), time.sleep(60))")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    # SIGINT back to its default in the child: a test run started in the background by a
    # non-interactive shell ignores it, and Python would then not turn it into Ctrl-C.
    proc = subprocess.Popen([sys.executable, "-c", boot, "plugins"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=world["tmp"], env=environ,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err == "arrears plugins: interrupted\n"


def test_as_a_process_a_closed_pipe_is_0_and_silent(world):
    boot = BOOT.format(handler="lambda args: [print('x' * 79) for _ in range(200_000)]")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    proc = subprocess.Popen([sys.executable, "-c", boot, "plugins"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=world["tmp"], env=environ)
    proc.stdout.readline()
    proc.stdout.close()                      # as `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == b""


def test_every_command_is_in_the_table():
    """A new subcommand gets the scenarios above too."""
    modules = {"import" if module == "importer" else module for module in cli.COMMANDS}
    assert {name.split()[0] for name in COMMANDS} == modules
