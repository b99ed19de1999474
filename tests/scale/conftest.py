"""The distributed tick's tests use the tick tests' fixtures: a real SQLite store, the shipped
policy, a real HTTP server as every channel's provider, and its dispatcher; and, here, a
PostgreSQL database holding a portfolio with `arrears worker`s to start against it, on Redis
or on RabbitMQ."""
import pytest

from arrears.engine.store import Store
from arrears.plugins.testing import RecordingServer
from tests.scale.scalekit import ACCOUNTS, Workers, write_config
from tests.tick.conftest import dispatcher, policy, server, store  # noqa: F401 (fixtures)
from tests.tick.tickkit import load, load_portfolio


@pytest.fixture(scope="module")
def portfolio():
    """The demo generator's ACCOUNTS accounts and their histories."""
    return load_portfolio(ACCOUNTS, seed=11)


@pytest.fixture
def sink():
    """A real HTTP server, every channel's provider: it records each contact it receives."""
    with RecordingServer() as recorder:
        yield recorder


@pytest.fixture
def world(pg_url, redis_url, tmp_path, sink, portfolio, policy):  # noqa: F811 (the fixture)
    """A PostgreSQL database holding the portfolio, a config file, and workers to start, on Redis."""
    yield from _world(pg_url, redis_url, tmp_path, sink, portfolio)


@pytest.fixture
def amqp_world(pg_url, amqp_url, tmp_path, sink, portfolio, policy):  # noqa: F811 (the fixture)
    """The same as `world`, with a RabbitMQ node as the broker (amqp://)."""
    yield from _world(pg_url, amqp_url, tmp_path, sink, portfolio)


def _world(pg_url, broker, tmp_path, sink, portfolio):
    with Store(pg_url) as pg:
        load(pg, *portfolio)
    config = write_config(tmp_path / "arrears.toml", sink.url)
    workers = Workers(pg_url, broker, config, tmp_path)
    try:
        yield {"db": pg_url, "broker": broker, "config": config, "workers": workers, "sink": sink}
    finally:
        workers.stop()
