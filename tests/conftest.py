"""Shared fixtures for the core tests (the factories themselves live in core_factories), the
database fixtures (SQLite, and PostgreSQL where a test opts in), the Hypothesis profiles and
the strict mode CI runs in. See docs/testing.md."""
from __future__ import annotations

import os
import uuid
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from arrears.engine.policy.compiler import compile_policy
from tests import pgcluster
from tests.core_factories import NOW, POLICY_PATH, TODAY, days_ago, default_policy_doc, ev, make_account  # noqa: F401  (re-exported for fixtures below)

# ---- Hypothesis profiles ---------------------------------------------------------------------------
# `ci` (the default): bounded, derandomized (every run draws the same cases, so a failure
# reproduces and a green run stays green), no example database, no deadline (a loaded
# machine slows a test down instead of failing it). `deep` (ARREARS_HYPOTHESIS_PROFILE=deep):
# ten times the examples, a fresh random seed each run, failures remembered in .hypothesis/.
# Tests with their own `max_examples` scale it with `tests.profiles.examples(n)`.
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("deep", max_examples=1000, derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("ARREARS_HYPOTHESIS_PROFILE", "ci"))

# ---- strict mode -------------------------------------------------------------------------------------
# ARREARS_TEST_STRICT=1 (.ci/run sets it): a test that would skip fails instead. Every skip in
# this suite is a missing service or program (PostgreSQL, Chromium, openssl), and CI must
# provide them all, so a skip there means a test that silently did not run.
STRICT = os.environ.get("ARREARS_TEST_STRICT", "") not in ("", "0")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"ARREARS_TEST_STRICT=1 and this test skipped: {reason}"
    return report


# ---- databases ---------------------------------------------------------------------------------------

def pytest_generate_tests(metafunc):
    """A test marked `also_postgresql` that uses `db_url` (directly or through `store`) runs
    twice: on SQLite and, marked `postgresql`, on a fresh PostgreSQL database (unless it is
    marked `sqlite_only`: a test of SQLite itself in such a module)."""
    marked = metafunc.definition.get_closest_marker
    if "db_url" in metafunc.fixturenames and marked("also_postgresql") and not marked("sqlite_only"):
        metafunc.parametrize("db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
                             indirect=True)


@pytest.hookimpl(tryfirst=True)         # before -m deselects
def pytest_collection_modifyitems(items):
    """Every PostgreSQL test counts as slow: each needs a database of its own and a server
    round trip per statement, ~0.5 s more than on SQLite, so together they would double the
    inner loop (`-m "not slow"`). `-m postgresql` runs them alone; the plain command runs all."""
    for item in items:
        if item.get_closest_marker("postgresql"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _channel_kinds_as_before():
    """The channel kinds a test's plugins register (a WhatsApp) are gone after it. In the product
    the kind tables are process-wide and append-only, one plugin manager a process; in this
    session one test's kinds must not change another's enumerations and reach."""
    from arrears.engine.domain import kinds
    tables = (kinds.KINDS, kinds.CHANNEL_KINDS, kinds.KIND_CODES, kinds.WRITTEN_KINDS, kinds.RETRY_AFTER_HOURS)
    saved = [table.copy() for table in tables]
    yield
    for table, before in zip(tables, saved):
        if len(table) != len(before):
            table.clear()
            table.extend(before) if isinstance(table, list) else table.update(before)


@pytest.fixture
def db_url(request, tmp_path) -> str:
    """URL of a database that does not exist yet: a SQLite file under `tmp_path`, or (for the
    `postgresql` parameter of an `also_postgresql` test) a new, empty PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'arrears.db'}"


@pytest.fixture(scope="session")
def pg_admin_url():
    """URL of a PostgreSQL database to create test databases from: ARREARS_TEST_PG_URL, else a
    throwaway cluster for this session (see tests/pgcluster.py); skips when there is neither."""
    url = os.environ.get(pgcluster.URL_ENV)
    if url:
        yield url
        return
    cluster = pgcluster.session_cluster()
    if cluster is None:
        pytest.skip(pgcluster.MISSING)
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_admin_url):
    """URL of a new, empty PostgreSQL database (dropped after the test)."""
    from arrears.engine.store import pgadmin

    name = f"arrears_t_{uuid.uuid4().hex[:12]}"
    yield pgadmin.create_database(pg_admin_url, name)
    pgadmin.drop_database(pg_admin_url, name)


# ---- the core's fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def policy_doc():
    """The shipped policy document (a fresh copy per session; do not mutate)."""
    return default_policy_doc()


@pytest.fixture(scope="session")
def policy():
    """The shipped default policy, compiled."""
    return compile_policy(default_policy_doc())


@pytest.fixture(scope="session")
def now() -> datetime:
    """The fixed evaluation instant of the suite: 2026-11-22T15:00:00Z (a Sunday)."""
    return NOW


@pytest.fixture(scope="session", name="make_account")
def make_account_fixture():
    return make_account


@pytest.fixture(scope="session", name="ev")
def ev_fixture():
    return ev


# ---- Redis (the distributed tick's broker) -------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_admin_url():
    """URL of a Redis server for the distributed tests: ARREARS_TEST_REDIS_URL, else a throwaway
    server for this session (see tests/redisserver.py); skips when there is neither."""
    from tests import redisserver
    yield from _session_broker(redisserver)


def _session_broker(helper):
    """The URL in `helper.URL_ENV`, else a throwaway server of `helper` (tests/redisserver.py,
    tests/amqpserver.py) started for this session and stopped at its end; skips without one.
    With several test workers (xdist) each starts a server of its own even when the variable
    is set: the tests empty the broker and their Celery workers take any task of the queue, so
    two workers' tests must never share one."""
    url = os.environ.get(helper.URL_ENV)
    if url and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) <= 1:
        yield url
        return
    server = helper.session_server()
    if server is None:
        pytest.skip(helper.MISSING)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_admin_url):
    """URL of the Redis server, emptied (FLUSHDB) for this test: no queue or counter of another
    test's is left in it."""
    from arrears.engine.tick.broker import redis_client
    with redis_client(redis_admin_url) as client:
        client.flushdb()
    return redis_admin_url


# ---- RabbitMQ (the distributed tick's AMQP broker) ---------------------------------------------------

@pytest.fixture(scope="session")
def amqp_admin_url():
    """URL of a RabbitMQ node for the AMQP tests: ARREARS_TEST_AMQP_URL, else a throwaway node
    for this session (see tests/amqpserver.py); skips when there is neither."""
    from tests import amqpserver
    yield from _session_broker(amqpserver)


@pytest.fixture
def amqp_url(amqp_admin_url):
    """URL of the RabbitMQ node with the tick's queues deleted for this test: no task of another
    test's is left in them."""
    from kombu import Connection

    from arrears.engine.tick.distributed import QUEUES
    with Connection(amqp_admin_url, connect_timeout=10) as conn:
        channel = conn.channel()
        for name in QUEUES:
            channel.queue_delete(name)          # a queue that does not exist is no error
    return amqp_admin_url
