"""The suite's own PostgreSQL (tests/pgcluster.py), as a developer's `python -m pytest` starts it
when PostgreSQL is installed: not as root, on its Unix socket only, with a linguistic default
collation, and gone without a trace when stopped. (CI starts it through the same module.)"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests import pgcluster

pytestmark = pytest.mark.postgresql


def test_a_throwaway_cluster_starts_serves_and_leaves_nothing_behind():
    if pgcluster.find_binaries() is None:
        pytest.skip(pgcluster.MISSING)
    root = Path(tempfile.mkdtemp(prefix="arrears-pg-test-"))   # not tmp_path: a server user must reach it
    cluster, pid = pgcluster.Cluster(root), None
    try:
        engine = create_engine(cluster.start())
        pid = cluster.pid()
        with engine.connect() as conn:
            assert conn.execute(text("SHOW listen_addresses")).scalar() == ""
            version = conn.execute(text("SHOW server_version_num")).scalar()
            provider = conn.execute(text("SELECT datlocprovider FROM pg_database "
                                         "WHERE datname = current_database()")).scalar() \
                if int(version) >= 150000 else None
            words = text("SELECT x FROM (VALUES ('b'), ('B'), ('a')) v(x) ORDER BY x")
            order = conn.execute(words).scalars().all()
        engine.dispose()
        if provider == "i":
            assert order == ["a", "b", "B"]          # linguistic, not code-point order
        if os.geteuid() == 0:
            assert os.stat(f"/proc/{pid}").st_uid != 0
    finally:
        cluster.stop()
    assert not root.exists() and not pgcluster._running(pid)
