"""Helpers for the plugin tests: install a distribution's entry points the way pip would,
without pip, so `get_plugin_manager()` finds plugins through the real discovery path.

(A module of its own, named so no other test directory's helpers clash with it.)
"""
from __future__ import annotations

import tomllib
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "arrears-teams-channel"


def install_fake_distribution(site: Path, name: str, version: str, entry_points: dict[str, str]):
    """A minimal .dist-info on sys.path, as pip would leave it, advertising entry points."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[arrears]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def install_example(site: Path, monkeypatch) -> dict:
    """The example package importable from its path and advertised through its real
    entry-point table (read from its pyproject.toml); returns its `[project]` table."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    install_fake_distribution(site, project["name"], project["version"], project["entry-points"]["arrears"])
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(site))
    return project


WHATSAPP = Path(__file__).resolve().parents[2] / "examples" / "arrears-whatsapp-channel"


def import_whatsapp(monkeypatch):
    """The WhatsApp example package's plugin module, imported from its source directory."""
    monkeypatch.syspath_prepend(str(WHATSAPP))
    import arrears_whatsapp_channel
    return arrears_whatsapp_channel


def whatsapp_policy_text(kind: str = "whatsapp") -> str:
    """The shipped policy with a channel of `kind` first in the friendly reminder, under the US
    FDCPA and Regulation F (whose rules for SMS include an opt-out notice)."""
    from arrears.policies import DEFAULT_POLICY
    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    for old, new in (("  sms: {kind: sms}\n", f"  sms: {{kind: sms}}\n  whatsapp: {{kind: {kind}}}\n"),
                     ("channels: [email, sms, letter]\n      template: friendly_reminder",
                      "channels: [whatsapp, email, letter]\n      template: friendly_reminder"),
                     ("fdcpa_applies: false", "fdcpa_applies: true")):
        assert old in text
        text = text.replace(old, new, 1)
    return text
