"""`pip install 'arrears[postgres]'` brings the PostgreSQL driver; without it, a PostgreSQL URL is
one line saying so, and exit 3 (the database cannot be used), from every command that opens one.

The driver's absence is real: the command runs in a process where `import psycopg` fails.
"""
from __future__ import annotations

import configparser
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from arrears.engine.store.db import POSTGRES_DRIVER, with_driver

ROOT = Path(__file__).resolve().parents[1]
# The real `main`, in a process without psycopg (as if the extra were not installed).
WITHOUT_PSYCOPG = ("import sys; sys.modules['psycopg'] = None\n"
                   "import arrears.engine.cli as c; sys.exit(c.main(sys.argv[1:]))")
URL = "postgresql://clerk:s3cret@db.example.com:5432/arrears"


def _without_psycopg(tmp_path, *argv):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    return subprocess.run([sys.executable, "-c", WITHOUT_PSYCOPG, *argv], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)


def test_the_postgres_extra_declares_the_driver():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    extra = [line.strip() for line in config["options.extras_require"]["postgres"].splitlines() if line.strip()]
    assert extra == ["psycopg[binary]>=3.1"]


def test_the_installed_distribution_offers_the_extra():
    dist = importlib.metadata.distribution("arrears")
    assert "postgres" in dist.metadata.get_all("Provides-Extra")
    assert 'psycopg[binary]>=3.1; extra == "postgres"' in dist.requires


def test_a_plain_postgresql_url_means_the_driver_of_the_extra():
    assert with_driver(make_url(URL)).drivername == POSTGRES_DRIVER == "postgresql+psycopg"
    assert with_driver(make_url("postgresql+psycopg2://h/db")).drivername == "postgresql+psycopg2"
    assert with_driver(make_url("sqlite:///x.db")).drivername == "sqlite"


@pytest.mark.parametrize("argv", [
    ["audit", "verify", "--db", URL],
    ["kpis", "--from", "2026-10-01", "--to", "2026-10-31", "--db", URL],
    ["import", "accounts.jsonl", "--db", URL.replace("postgresql:", "postgresql+psycopg:")],
], ids=["audit verify", "kpis", "import"])
def test_without_the_driver_one_line_and_exit_3(tmp_path, argv):
    (tmp_path / "accounts.jsonl").write_text('{"id": "A", "currency": "EUR"}\n', encoding="utf-8")
    done = _without_psycopg(tmp_path, *argv)
    command = "audit verify" if argv[0] == "audit" else argv[0]
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"arrears {command}: cannot use the database URL "
                                  "postgresql+psycopg://clerk:***@db.example.com:5432/arrears: the PostgreSQL "
                                  "driver (psycopg) is not installed: pip install 'arrears[postgres]'")


def test_another_missing_driver_is_named_as_it_is(tmp_path):
    done = _without_psycopg(tmp_path, "audit", "verify", "--db", "postgresql+pg8000://h/db")
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "its driver is not installed" in done.stderr
