"""`python -m arrears.engine.policy.baselinegen [--check]`: record the shipped profiles' digests.

Rewrites `SHIPPED` in `arrears.engine.policy.baseline` from the profiles in the shipped
`policies/profiles/`; `--check` only reports (exit 1 when the record is stale).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arrears.engine.policy import baseline
from arrears.engine.policy.baseline import COMMAND, SHIPPED

MODULE = Path(baseline.__file__)


def current(directory: Path | None = None) -> dict[str, str]:
    """Digest per profile id of the profiles in `directory` (the shipped one by default)."""
    from arrears.engine.policy.digest import digest_of
    from arrears.engine.policy.yamlsrc import load_file
    from arrears.policies import PROFILES_DIR
    out = {}
    for path in sorted(Path(directory or PROFILES_DIR).glob("*.yaml")):
        data = load_file(str(path), str(path)).data
        out[data["id"]] = digest_of(data)
    return out


def render(digests: dict[str, str]) -> str:
    """This module's text with `SHIPPED` set to `digests`."""
    text = MODULE.read_text(encoding="utf-8")
    head, rest = text.split("SHIPPED = {\n", 1)
    tail = rest.split("}\n", 1)[1]
    body = "".join(f'    "{pid}": "{digest}",\n' for pid, digest in sorted(digests.items()))
    return head + "SHIPPED = {\n" + body + "}\n" + tail


def main(argv=None) -> int:
    """Record the shipped profiles' digests (or, with --check, exit 1 if they changed)."""
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check: exit 1 if the record is stale")
    args = ap.parse_args(argv)
    fresh = current()
    if fresh == SHIPPED:
        print(f"{MODULE}: up to date")
        return 0
    if args.check:
        print(f"{MODULE}: stale; record the shipped profiles with `{COMMAND}`", file=sys.stderr)
        return 1
    MODULE.write_text(render(fresh), encoding="utf-8")
    print(f"{MODULE}: rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
