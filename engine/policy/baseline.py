"""The shipped jurisdiction profiles as released: one digest per profile, recorded here.

A shipped profile edited where it is installed (to widen an hour, raise a cap, drop a rule)
would quietly loosen the law's guardrails, so `load_profiles` refuses a shipped profile whose
content differs from the digest recorded below, and one that is missing. A company's own
stricter rules belong in a profiles directory of its own (`--profiles DIR`, the `profiles`
setting), which can only add restrictions.

The digest is `digest_of` the profile's parsed content, so comments and layout do not count.
`SHIPPED` is generated: after changing a shipped profile on purpose, run
`python -m arrears.engine.policy.baselinegen` (with `--check` it only reports, exit 1 when
stale; tests/test_profiles_dir.py fails while it is).
"""
from __future__ import annotations

COMMAND = "python -m arrears.engine.policy.baselinegen"

# profile id -> digest of its content as shipped (generated; do not edit by hand)
SHIPPED = {
    "au-accc-asic": "sha256:143cea52867b584fa5c1e214c30adbfc39515c74fabb51fa2a801ea9075a2d2e",
    "eu-late-payment": "sha256:aa9ba0db82767c6b424aeb592fce98e39d4cbe46029b297e003be7bfdf529ffd",
    "uk-debt-respite": "sha256:efb8f881f62090fd6b679371c24623736ecd8b19b047bd0ae6a9de0fd5159781",
    "uk-fca-conc": "sha256:7fdf5929b1f0fc8c66ba11f5b82a6ad92db95b7e67b4c99ae231ead6f7aea351",
    "us-fdcpa-regf": "sha256:3a347e54b5f72604ee175411acfbd2704198d350fe384c569cb99b6c7bc1e1cf",
    "us-limitations": "sha256:c930f2d6bf2c5a030a9fd293e35a3218487b6dbe9eaa39762f7f13e6ba1f7e23",
    "us-ma": "sha256:202ab40bd6ea21e029de9f431c04520aff900b9d9c235b64f59e5296e8bf6968",
    "us-nyc": "sha256:35876f397044b7d688e03b2d5e84959b4e74d40462f8da1b7e222378d1c51dfd",
}
