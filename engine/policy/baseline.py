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
    "au-accc-asic": "sha256:8af183bcf269835bf0f151d5bf9b96afede2ca1e5b7a79f0ff1c0b21feadac40",
    "eu-late-payment": "sha256:592af6972347036044c0a074c220b3c8a1babaf4720fbf0123a0d02ff9f1716d",
    "uk-debt-respite": "sha256:5bb45c51e911203325686387f17af08a49fa9e3e3fb3a1eb518a6c9d3964f453",
    "uk-fca-conc": "sha256:dfc9397b4241c45d46bd1f8a6ecb81822f3ec33f32ca036602218193c3d755ed",
    "us-fdcpa-regf": "sha256:b8ddb3c9599f79cd513d5d06627c10a90feb479e20d3f1328b8006909159b4f4",
    "us-limitations": "sha256:0686b0d68635f77e1e9c04deccdf4790bdbd3177f5f465662cbe3ddaaa636ba4",
    "us-ma": "sha256:30124b060f18928e328b4557f37cdddce4d79fc109e840fdafcbee251ccc10fd",
    "us-nyc": "sha256:5f01ac879ba08ce6cf2875e16e8ea8bb91bdd24241f23f04f0fbbd2d660f9471",
}
