"""The distributed tick's tests use the tick tests' fixtures: a real SQLite store, the shipped
policy, a real HTTP server as every channel's provider, and its dispatcher."""
from tests.tick.conftest import dispatcher, policy, server, store  # noqa: F401 (fixtures)
