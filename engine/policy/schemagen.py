"""`python -m arrears.engine.policy.schemagen [--check] [--dir DIR]`: regenerate the schemas.

The JSON Schemas in `engine/policy/schemas/` are committed files, because editors read them
(autocomplete, hover text, inline errors) and the validator loads them as they are. The parts
of them that restate the engine's own tables are generated, never edited by hand:

- `policy.schema.json`: fact names, kinds, parameters and operators from the fact catalogue,
  and the channel kinds (`policyschema`);
- `profile.schema.json`: the compliance rule kinds and their keys from the kind registry
  (`profileschema`);
- `experiment.schema.json`: the condition an experiment's `eligibility` is, copied from the
  policy schema's `$defs` (`condition` and every definition it refers to), so an experiment's
  eligibility is written exactly as a policy's `when`.

Run it after changing the catalogue or a rule kind; `--check` only reports (exit 1 when a
file is stale), which is what tests/test_schema.py and tests/test_rule_kinds.py assert.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

from arrears.engine.policy import policyschema, profileschema
from arrears.engine.policy.validation import SCHEMA_DIR

COMMAND = "python -m arrears.engine.policy.schemagen"
# Each generated file and the function that regenerates its generated parts.
GENERATED = {"policy.schema.json": policyschema.generate, "profile.schema.json": profileschema.generate}
_REF = re.compile(r'"#/\$defs/([A-Za-z0-9_]+)"')


def with_condition(schema: dict, policy: dict | None = None) -> dict:
    """A copy of `schema` whose `$defs` hold the policy schema's `condition` and the
    definitions it refers to (transitively), as the policy schema generates them."""
    if policy is None:
        policy = policyschema.generate(json.loads((SCHEMA_DIR / "policy.schema.json").read_text(encoding="utf-8")))
    defs, todo = {}, ["condition"]
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        defs[name] = copy.deepcopy(policy["$defs"][name])
        todo += _REF.findall(json.dumps(defs[name]))
    out = copy.deepcopy(schema)
    out["$defs"] = {**{k: v for k, v in out.get("$defs", {}).items() if k not in defs}, **dict(sorted(defs.items()))}
    return out


GENERATED["experiment.schema.json"] = with_condition


def render(schema: dict) -> str:
    """A schema as the committed files hold it: two-space indents, UTF-8, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def regenerated(directory: Path = SCHEMA_DIR) -> dict[Path, tuple[str, str]]:
    """Per generated file: (its text now, its text as generated)."""
    out = {}
    for name, generate in GENERATED.items():
        path = Path(directory) / name
        text = path.read_text(encoding="utf-8")
        out[path] = (text, render(generate(json.loads(text))))
    return out


def main(argv=None) -> int:
    """Rewrite the stale generated schemas (or, with --check, exit 1 if any is stale)."""
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check: exit 1 if a file is not up to date")
    ap.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="the schemas' directory (default: the shipped one)")
    args = ap.parse_args(argv)
    stale = 0
    for path, (now, fresh) in regenerated(args.dir).items():
        if now == fresh:
            print(f"{path}: up to date")
        elif args.check:
            stale += 1
            print(f"{path}: stale; regenerate it with `{COMMAND}`", file=sys.stderr)
        else:
            path.write_text(fresh, encoding="utf-8")
            print(f"{path}: rewritten")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
