"""API keys and roles: every operation for every role, and how keys are configured and kept."""
from __future__ import annotations

import pytest

from arrears.api import create_app
from arrears.api.auth import KeyConfigError, KeyRing, key_id, parse_env_keys
from arrears.api.config import ConfigError
from arrears.api.resources import RESOURCES
from tests.api.apikit import KEYS, ROLES

OPERATIONS = [op for resource in RESOURCES for op in resource.operations]


def _path(op) -> str:
    path = op.path
    for name in op.path_args:
        path = path.replace("{" + name + "}", "X")
    return path


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_operation_for_every_role(api, op):
    for role in (*ROLES, None):
        r = api.request(op.method, _path(op), role=role, check=False)
        if op.roles is None:
            assert r.status_code not in (401, 403), (role, r.get_json())
        elif role is None:
            assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
        elif role == "admin" or role in op.roles:
            assert r.status_code not in (401, 403), (role, r.get_json())
        else:
            assert r.status_code == 403, (role, r.status_code)
            assert r.get_json()["type"] == "urn:arrears:problem:forbidden"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-key-of-ours-000000",
                                    f"Token {KEYS['admin']}", "Bearer " + KEYS["admin"][:-1]])
def test_bad_credentials_are_401(api, header):
    r = api.request("GET", "/v1/policies", role=None, headers={"Authorization": header})
    assert r.status_code == 401
    assert r.get_json()["errors"][0]["header"] == "Authorization"


def test_scheme_is_case_insensitive(api):
    r = api.request("GET", "/v1/policies", role=None, headers={"Authorization": f"bearer {KEYS['compliance']}"})
    assert r.status_code == 200


def test_keys_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ARREARS_API_KEYS", f"{KEYS['integrator']}:integrator, {KEYS['admin']}:admin")
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'a.db'}"})
    try:
        client = app.test_client()
        ok = client.get("/v1/decisions", headers={"Authorization": f"Bearer {KEYS['integrator']}"})
        assert ok.status_code == 200
        no = client.get("/v1/policies", headers={"Authorization": f"Bearer {KEYS['integrator']}"})
        assert no.status_code == 403
    finally:
        app.extensions["arrears"].close()


def test_only_digests_of_keys_are_kept():
    ring = KeyRing({KEYS["admin"]: "admin"})
    assert KEYS["admin"] not in repr(vars(ring))
    assert ring.lookup(KEYS["admin"]).role == "admin"
    assert ring.lookup(KEYS["admin"] + "x") is None


@pytest.mark.parametrize("keys, message", [({"k" * 20: "root"}, "unknown role"), ({"short": "admin"}, "at least")])
def test_bad_key_configuration(keys, message):
    with pytest.raises(KeyConfigError, match=message):
        KeyRing(keys)


def test_env_key_format():
    assert parse_env_keys("a:b:admin, c:agent,") == {"a:b": "admin", "c": "agent"}
    with pytest.raises(KeyConfigError):
        parse_env_keys("nocolon")


def test_a_key_listed_twice_with_different_roles_is_refused_by_position_never_shown():
    key, other = "k" * 24 + "-first", "o" * 24
    assert parse_env_keys(f"{key}:admin,{key}:admin") == {key: "admin"}        # the same role: one key
    with pytest.raises(KeyConfigError) as err:
        parse_env_keys(f"{key}:admin, {other}:agent, {key}:integrator")
    assert str(err.value) == (f"ARREARS_API_KEYS: entries 1 and 3 are the same key (key id {key_id(key)}) "
                              f"with different roles, admin and integrator; give each key one role")
    assert key not in str(err.value) and key[:8] not in str(err.value)


def test_serve_refuses_to_start_with_a_key_listed_twice(tmp_path, monkeypatch, capsys):
    from arrears.engine.cli import main
    key = "s" * 30
    monkeypatch.setenv("ARREARS_API_KEYS", f"{key}:agent,{key}:admin")
    code = main(["serve", "--db", f"sqlite:///{tmp_path / 'a.db'}", "--port", "0", "--no-scheduler"])
    err = capsys.readouterr().err
    assert code == 2
    expected = (f"arrears serve: ARREARS_API_KEYS: entries 1 and 2 are the same key (key id {key_id(key)}) "
                f"with different roles, agent and admin; give each key one role")
    assert err.splitlines() == [expected]


@pytest.mark.parametrize("api_config, message", [({"colour": 1}, "unknown api setting"),
                                                 ({"page_size": 0}, "positive"),
                                                 ({"page_size": 900}, "must not exceed"),
                                                 ({"keys": ["x"]}, "mapping")])
def test_bad_api_configuration(tmp_path, api_config, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"database_url": f"sqlite:///{tmp_path / 'a.db'}", "api": api_config})
