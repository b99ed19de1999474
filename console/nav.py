"""The console's main navigation: its links, each shown to whom its view lets in.

A link names the endpoint it leads to; whether the logged-in user sees it is asked of that view's
own role check (`session.may_open`, which reads what `require` declared), so the navigation never
keeps a second list of roles: a link is shown exactly when the page would open. base.html draws
`nav_links()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from flask import Flask, g, request, url_for

from arrears.console.session import may_open


@dataclass(frozen=True)
class Link:
    """One link of the navigation: its text, the endpoint it opens, and the endpoints (shell
    patterns) of the pages it is the current link of."""
    label: str
    endpoint: str
    current: tuple[str, ...]


LINKS = (
    Link("Dashboard", "console_dashboard.dashboard", ("console_dashboard.*",)),
    Link("Work queue", "console_queue.queue", ("console_queue.*",)),
    Link("Policies", "console_workbench.workbench", ("console_workbench.*",)),
    Link("Experiments", "console_experiments.experiments", ("console_experiments.*",)),
    Link("Accounts", "console_explorer.accounts", ("console_explorer.*",)),
    Link("Tick runs", "console_admin.ticks", ("console_admin.ticks",)),
    Link("Users", "console_admin.users", ("console_admin.*user*",)),
    Link("Audit log", "console_admin.audit_log", ("console_admin.audit*",)),
    Link("API keys", "console_admin.keys", ("console_admin.*key*",)),
)


@dataclass(frozen=True)
class Shown:
    """A link as drawn: its text, its URL, and whether it is the current page's."""
    label: str
    url: str
    current: bool


def nav_links() -> list[Shown]:
    """The links the request's user may open, in order (none when nobody is logged in)."""
    user, endpoint = getattr(g, "user", None), request.endpoint or ""
    return [Shown(link.label, url_for(link.endpoint), any(fnmatchcase(endpoint, p) for p in link.current))
            for link in LINKS if may_open(user, link.endpoint)]


def init_app(app: Flask) -> None:
    """Give the templates `nav_links`."""
    app.context_processor(lambda: {"nav_links": nav_links})
