"""Keys kept in the database work without a restart, and a revoked one is refused within a second."""
from __future__ import annotations

import json
import time

from arrears.api.auth import STORED_KEY_TTL, StoredKeys
from arrears.engine.cli import main


def _get(app, key):
    return app.test_client().get("/v1/policies", headers={"Authorization": f"Bearer {key}"})


def test_a_key_made_by_the_cli_works_at_once_and_stops_after_revoking(app, db_url, capsys):
    capsys.readouterr()
    assert main(["keys", "create", "--role", "compliance", "--label", "policy bot", "--db", db_url,
                 "--format", "json"]) == 0
    made = json.loads(capsys.readouterr().out)
    key = made["key"]
    assert _get(app, key).status_code == 200                         # no restart
    r = app.test_client().post("/v1/accounts:batch", json={"accounts": []},
                               headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403                                      # the role is the stored one
    assert main(["keys", "revoke", str(made["id"]), "--db", db_url]) == 0
    time.sleep(STORED_KEY_TTL + 0.1)
    r = _get(app, key)
    assert r.status_code == 401 and r.get_json()["errors"][0]["detail"] == "unknown API key"


def test_configured_keys_still_work_beside_stored_ones(api, state):
    key, _ = state.store.api_keys.create("agent", "floor", by="test")
    assert api.get("/v1/policies").status_code == 200                # the configured admin key
    assert _get(api.app, key).status_code in (200, 403)
    assert _get(api.app, "ark_" + "x" * 43).status_code == 401


def test_each_lookup_is_reused_for_the_ttl_then_asked_again():
    asked, now = [], [100.0]
    roles = {"aa": "agent"}

    def role_of(digest):
        asked.append(digest)
        return roles.get(digest)

    keys = StoredKeys(role_of, ttl=1.0, clock=lambda: now[0])
    assert keys.role(b"\xaa") == "agent" and keys.role(b"\xaa") == "agent"
    assert asked == ["aa"]                                           # one query a second at most
    roles.pop("aa")                                                  # revoked
    now[0] += 0.5
    assert keys.role(b"\xaa") == "agent"                             # inside the window
    now[0] += 0.6
    assert keys.role(b"\xaa") is None and asked == ["aa", "aa"]      # refused after it
    assert keys.role(b"\xbb") is None and keys.role(b"\xbb") is None and asked.count("bb") == 1
