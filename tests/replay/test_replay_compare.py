"""`arrears replay FILE --policy A --compare B`: the same history under two policies, and B - A."""
from __future__ import annotations

import json

from arrears.engine.cli import main
from arrears.policies import DEFAULT_POLICY
from tests.replay.replaykit import SAMPLE

MARCH = ["--from", "2025-03-01", "--to", "2025-03-31"]
# B: the friendly reminder only from day 12, so fewer contacts go out on the same history.
LATER = DEFAULT_POLICY.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "1.0.2-later"').replace(
    "      days_past_due: 1\n      action: reminder", "      days_past_due: 12\n      action: reminder")


def test_the_same_history_under_both_and_the_differences(tmp_path, capsys):
    later = tmp_path / "later.yaml"
    later.write_text(LATER, encoding="utf-8")
    code = main(["replay", str(SAMPLE), *MARCH, "--policy", str(DEFAULT_POLICY), "--compare", str(later),
                 "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["a"]["policy"]["version"] == "1.0.0" and out["b"]["policy"]["version"] == "1.0.2-later"
    rows = {(r["metric"], r["currency"]): r for r in out["comparison"]["rows"]}
    contacts = rows[("contacts", None)]
    assert int(contacts["a"]) == out["a"]["total"]["contacts"] and int(contacts["b"]) == out["b"]["total"]["contacts"]
    assert int(contacts["difference"]) == int(contacts["b"]) - int(contacts["a"]) < 0
    # The payments are the file's: the KPIs of money received agree under both policies.
    assert rows[("collection_rate", "USD")]["difference"] in ("0", "0.00")
    for r in out["comparison"]["rows"]:
        if r["a"] is not None and r["b"] is not None:
            assert float(r["difference"]) == float(r["b"]) - float(r["a"])


def test_text_ends_with_a_against_b_and_store_is_refused(tmp_path, capsys):
    later = tmp_path / "later.yaml"
    later.write_text(LATER, encoding="utf-8")
    assert main(["replay", str(SAMPLE), *MARCH, "--compare", str(later)]) == 0
    out = capsys.readouterr().out
    assert "under the --compare policy:" in out and "\nA against B\n" in out and "B - A" in out
    code = main(["replay", str(SAMPLE), *MARCH, "--compare", str(later), "--store", str(tmp_path / "x.db")])
    assert code == 2 and "--compare cannot be combined with --store" in capsys.readouterr().err
