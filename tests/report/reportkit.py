"""Helpers for the report tests: a demo portfolio, headless Chromium, and a small DOM index.

Chromium is Debian's `chromium` package (`.ci/run` installs it); the browser tests skip,
saying so, only when no Chromium binary exists on this machine.
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from datetime import date
from html.parser import HTMLParser

TODAY = date(2026, 3, 31)
START = date(2026, 1, 10)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Quiet, isolated, no background traffic of the browser's own.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars", "--enable-logging=stderr", "--v=0")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

GOALS = """
    description: Goals of the report tests.
    defaults: {scope: {currency: GBP}}
    goals:
      - id: ninety-plus
        title: 90+ balance down 10% <by> "March" & beyond <script>alert(1)</script>
        metric: {bucket: "90+"}
        baseline: 2026-01-31
        target: {by: 2026-06-30, change_percent: -10}
        milestones:
          - {by: 2026-02-28, change_percent: -2}
          - {by: 2026-04-30, change_percent: -5}
      - id: dso
        metric: dso
        baseline: 2026-01-31
        target: {by: 2026-06-30, value: 45}
      - id: later
        metric: cure_rate
        baseline: 2026-05-01
        target: {by: 2026-06-30, change_percent: 10}
"""


def browser() -> str | None:
    """The path of a Chromium (or Chrome) binary, or None."""
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def run_browser(binary: str, profile, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium with a throwaway profile; returns the finished process."""
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def console_lines(stderr: str) -> list[str]:
    """The page's console messages (errors, CSP violations) from Chromium's log."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def write_goals(path) -> None:
    """Write the goals of the report tests to `path`."""
    path.write_text(textwrap.dedent(GOALS).lstrip("\n"), encoding="utf-8")


class Dom(HTMLParser):
    """Every element of a document with its attributes and its ancestors' (tag, attrs)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, tuple]] = []
        self.stack: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, tuple(self.stack)))
        if tag not in VOID:
            self.stack.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), tuple(self.stack)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs) -> list[tuple[str, dict, tuple]]:
        """Elements named `tag` whose attributes include `attrs` (underscores for dashes)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [e for e in self.elements if e[0] == tag and all(e[1].get(k) == v for k, v in want.items())]

    def inside(self, tag: str, *ancestors: dict, **attrs) -> list[tuple[str, dict, tuple]]:
        """Elements named `tag` (with `attrs`) that have, for each of `ancestors`, an ancestor
        whose attributes include it."""
        def below(element, want):
            return any(all(a.get(k) == v for k, v in want.items()) for _, a in element[2])
        return [e for e in self.find(tag, **attrs) if all(below(e, want) for want in ancestors)]
