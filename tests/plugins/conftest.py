"""Fixtures for the plugin tests: a fresh plugin manager, a real SMTP server (aiosmtpd),
a real HTTP server, a self-signed TLS certificate, and a real decision from the engine."""
from __future__ import annotations

import copy
import shutil
import ssl
import subprocess
from email import message_from_bytes
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from arrears.engine.policy.profiles import load_profiles
from arrears.plugins.testing import RecordingServer, plugin_manager
from tests.serving import unused_ports


@pytest.fixture
def pm():
    """A fresh plugin manager with the built-ins and no installed plugins."""
    return plugin_manager()


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 that records requests (see arrears.plugins.testing)."""
    with RecordingServer() as server:
        yield server


class Mailbox:
    """aiosmtpd handler: keeps accepted mail; rejects scripted recipients."""

    def __init__(self):
        self.messages = []          # (envelope, parsed email.message.EmailMessage)
        self.reject = {}            # recipient -> SMTP reply
        self.reject_sender = None   # SMTP reply to MAIL FROM, if it is to be refused

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.reject_sender:
            return self.reject_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=email_policy.default)
        self.messages.append((envelope, parsed, session))
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"arrears" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


def _start(handler, **kwargs):
    controller = Controller(handler, hostname="127.0.0.1", port=unused_ports(1)[0], **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1; yields (mailbox, port)."""
    mailbox = Mailbox()
    controller = _start(mailbox, authenticator=_authenticate, auth_require_tls=False)
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (skips if openssl is not installed)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def smtp_starttls(tls_files):
    """An SMTP server that requires STARTTLS before anything else; yields (mailbox, port, ca)."""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    controller = _start(mailbox, tls_context=context, require_starttls=True,
                        authenticator=_authenticate)
    try:
        yield mailbox, controller.port, cert
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def fdcpa_policy(policy_doc):
    """The default policy with the US FDCPA / Regulation F profile switched on."""
    doc = copy.deepcopy(policy_doc)
    doc["compliance"]["fdcpa_applies"] = True
    return compile_policy(doc, profiles=load_profiles())


@pytest.fixture
def us_decision(fdcpa_policy, make_account, now):
    """A real first email to a US consumer: the guardrails require an opt-out and a
    validation notice. Returns (account, decision)."""
    account = make_account(jurisdiction="US-NY", language="en", timezone="America/New_York")
    decision = decide(account, [], fdcpa_policy, now)
    assert decision.action is not None and "opt_out" in decision.action.content
    return account, decision
