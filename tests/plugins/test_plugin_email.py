"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import pytest

from arrears.plugins.channels.email import EmailChannel, message_id
from arrears.plugins.errors import ChannelConfigError
from arrears.plugins.rendering import Renderer
from arrears.plugins.testing import free_port, make_message


def email_channel(port, **extra) -> EmailChannel:
    channel = EmailChannel()
    channel.configure({"host": "127.0.0.1", "port": port, "from_address": "collections@example.com",
                       "from_name": "Example Ltd", "timeout": 5, **extra})
    return channel


def rendered(**overrides):
    return Renderer().render(make_message(**overrides))


def test_email_arrives_with_headers_body_and_opt_out_line(smtp):
    mailbox, port = smtp
    message = rendered(content=("opt_out",))
    result = email_channel(port).deliver(message)
    assert result.ok, result.detail
    assert len(mailbox.messages) == 1
    envelope, mail, _ = mailbox.messages[0]
    assert envelope.mail_from == "collections@example.com"
    assert envelope.rcpt_tos == ["debtor@example.com"]
    assert mail["Message-ID"] == "<A1%3Afriendly_reminder%3A1%3Aemail@example.com>" == result.provider_id
    assert mail["X-Arrears-Idempotency-Key"] == "A1:friendly_reminder:1:email"
    assert mail["List-Unsubscribe"] == "<mailto:collections@example.com?subject=unsubscribe>"
    assert mail["Subject"] == "Your payment of €1,000.00 is overdue"
    assert str(mail["From"]) == "Example Ltd <collections@example.com>"
    body = mail.get_content()
    assert "€1,000.00 on your account is now overdue" in body
    assert "To stop emails from Example Ltd about this account, reply to this email with the word STOP." in body


def test_no_list_unsubscribe_without_the_opt_out_flag_and_https_one_click(smtp):
    mailbox, port = smtp
    assert email_channel(port).deliver(rendered()).ok
    assert mailbox.messages[0][1]["List-Unsubscribe"] is None
    channel = email_channel(port, unsubscribe_url="https://example.com/u/{account_id}?k={idempotency_key}")
    assert channel.deliver(rendered(content=("opt_out",))).ok
    mail = mailbox.messages[1][1]
    expected = "<https://example.com/u/A1?k=A1%3Afriendly_reminder%3A1%3Aemail>"
    assert mail["List-Unsubscribe"].strip() == expected          # (folded: the key is longer now)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_login(smtp):
    mailbox, port = smtp
    assert email_channel(port, username="arrears", password="s3cret").deliver(rendered()).ok
    assert mailbox.messages[0][2].authenticated
    bad = email_channel(port, username="arrears", password="wrong").deliver(rendered())
    assert bad.status == "failed_retryable" and "login failed" in bad.detail


def test_starttls_with_a_trusted_certificate(smtp_starttls):
    mailbox, port, ca = smtp_starttls
    channel = email_channel(port, security="starttls", ca_file=str(ca),
                            username="arrears", password="s3cret")
    result = channel.deliver(rendered())
    assert result.ok, result.detail
    assert mailbox.messages[0][2].ssl is not None
    # Without STARTTLS the server refuses to go on (530): retryable, it is a config problem.
    plain = email_channel(port).deliver(rendered())
    assert plain.status == "failed_retryable" and "SMTP 530" in plain.detail


def test_untrusted_certificate_is_a_retryable_failure(smtp_starttls):
    _, port, _ = smtp_starttls
    result = email_channel(port, security="starttls").deliver(rendered())
    assert result.status == "failed_retryable"
    assert "CERTIFICATE_VERIFY_FAILED" in result.detail or "certificate" in result.detail.lower()


@pytest.mark.parametrize("reply, status", [("550 5.1.1 No such user", "failed_permanent"),
                                           ("451 4.3.0 Try again later", "failed_retryable")])
def test_recipient_refusals_are_classified(smtp, reply, status):
    mailbox, port = smtp
    mailbox.reject["debtor@example.com"] = reply
    result = email_channel(port).deliver(rendered())
    assert result.status == status
    assert reply.split()[0] in result.detail


def test_a_refused_sender_is_a_retryable_configuration_problem(smtp):
    mailbox, port = smtp
    mailbox.reject_sender = "550 5.7.1 Sender not allowed"
    result = email_channel(port).deliver(rendered())
    assert result.status == "failed_retryable" and "from_address" in result.detail


def test_unreachable_server_is_retryable():
    result = email_channel(free_port(), timeout=2).deliver(rendered())
    assert result.status == "failed_retryable"


def test_no_email_address_is_permanent(smtp):
    from arrears.plugins.message import Recipient
    _, port = smtp
    result = email_channel(port).deliver(rendered(recipient=Recipient(mobile="+447700900000")))
    assert result.status == "failed_permanent" and "no email address" in result.detail


def test_html_body_is_sent_as_an_alternative(smtp):
    mailbox, port = smtp
    message = make_message().with_rendering("Hello", "<p>Dear <b>customer</b></p>", "html")
    assert email_channel(port).deliver(message).ok
    mail = mailbox.messages[0][1]
    assert mail.get_body(("plain",)).get_content().strip() == "Dear customer"
    assert "<b>customer</b>" in mail.get_body(("html",)).get_content()


def test_config_errors_are_all_reported():
    with pytest.raises(ChannelConfigError) as err:
        EmailChannel().configure({"security": "tls", "port": 0, "username": "u", "hots": "x"})
    problems = "\n".join(err.value.problems)
    for expected in ("host is required", "security must be one of", "port must be between",
                     "username is set but password is not", "from_address is required",
                     "unknown setting(s) hots"):
        assert expected in problems
    assert all(p.startswith("channels.email: ") for p in err.value.problems)


def test_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "from-env")
    channel = EmailChannel()
    channel.configure({"host": "h", "from_address": "a@b.c", "username": "u",
                       "password_env": "SMTP_PASSWORD", "security": "ssl"})
    assert channel.password == "from-env" and channel.port == 465
    monkeypatch.delenv("SMTP_PASSWORD")
    with pytest.raises(ChannelConfigError, match="SMTP_PASSWORD"):
        EmailChannel().configure({"host": "h", "from_address": "a@b.c", "username": "u",
                                  "password_env": "SMTP_PASSWORD"})


def test_message_id_is_rfc5322_safe():
    assert message_id("ACME.1:stage one:2", "example.com") == "<ACME%2E1%3Astage%20one%3A2@example.com>"
