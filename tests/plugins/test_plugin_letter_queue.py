"""The letter spool / print provider and the call and task queues."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from arrears.plugins.channels.letter import LetterChannel, spool_name
from arrears.plugins.channels.queue import QueueChannel, TaskChannel, open_tasks
from arrears.plugins.errors import ChannelConfigError
from arrears.plugins.message import Recipient
from arrears.plugins.rendering import Renderer
from arrears.plugins.testing import make_message

LETTER = {"channel": "letter", "channel_kind": "letter", "template": "formal_notice",
          "stage": "formal_notice", "content": ("validation_notice",)}


def letter(**settings) -> LetterChannel:
    channel = LetterChannel()
    channel.configure(settings)
    channel.clock = lambda: datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    return channel


def test_letter_is_spooled_once_atomically(tmp_path):
    channel = letter(spool_dir=str(tmp_path / "spool"))
    message = Renderer().render(make_message(**LETTER))
    first = channel.deliver(message)
    assert first.ok and first.detail == "spooled"
    path = tmp_path / "spool" / "A1%3Aformal_notice%3A1%3Aletter.html"
    assert first.provider_id == path.name
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "1 High Street<br>London N1 1AA" in text
    assert "Example Ltd" in text and "2026-11-22" in text
    assert "VALIDATION NOTICE: As of 22 November 2026 you owe €1,000.00" in text
    assert "30 days" in text
    mtime = path.stat().st_mtime_ns
    again = channel.deliver(message.with_rendering("changed", "<p>changed</p>", "html"))
    assert again.ok and "already in the spool" in again.detail
    assert path.stat().st_mtime_ns == mtime and "changed" not in path.read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == [path.name]   # no temp files


def test_letter_text_body_is_escaped_into_paragraphs(tmp_path):
    channel = letter(spool_dir=str(tmp_path))
    message = make_message(**LETTER).with_rendering("Re: <you>", "Dear <customer>,\n\nPay & smile.")
    assert channel.deliver(message).ok
    text = (tmp_path / spool_name(message.idempotency_key)).read_text(encoding="utf-8")
    assert "<p>Dear &lt;customer&gt;,</p>" in text and "<p>Pay &amp; smile.</p>" in text
    assert "<h1>Re: &lt;you&gt;</h1>" in text


def test_letter_without_address_is_permanent(tmp_path):
    message = Renderer().render(make_message(**LETTER, recipient=Recipient(email="a@b.c")))
    result = letter(spool_dir=str(tmp_path)).deliver(message)
    assert result.status == "failed_permanent" and "postal address" in result.detail


def test_letter_to_a_print_provider(http_server):
    http_server.reply(202, {"id": "print-9"})
    message = Renderer().render(make_message(**LETTER))
    result = letter(provider_url=http_server.url + "/letters", token="t").deliver(message)
    assert result.ok and result.provider_id == "print-9"
    sent = http_server.requests[0]
    assert sent.headers["Authorization"] == "Bearer t"
    assert sent.json()["address"] == "1 High Street\nLondon N1 1AA"
    assert "<!DOCTYPE html>" in sent.json()["document"]


def test_letter_config_needs_exactly_one_target(tmp_path):
    for settings in ({}, {"spool_dir": str(tmp_path), "provider_url": "https://p.example.com"}):
        with pytest.raises(ChannelConfigError, match="exactly one of spool_dir"):
            LetterChannel().configure(settings)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ChannelConfigError, match="is not a directory"):
        LetterChannel().configure({"spool_dir": str(tmp_path / "file")})


def queue(kind_class, path, capacity, **extra):
    channel = kind_class()
    channel.configure({"queue_db": str(path), "daily_capacity": capacity, **extra})
    return channel


def call_message(account, priority, stage="personal_call"):
    return Renderer().render(make_message(
        account_id=account, stage=stage, channel="call", channel_kind="call",
        template="call_script", metadata={"priority": priority}))


def test_call_queue_is_capped_per_day_and_idempotent(tmp_path):
    db = tmp_path / "queue.db"
    channel = queue(QueueChannel, db, 2, timezone="Europe/London")
    day = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    channel.clock = lambda: day
    first = channel.deliver(call_message("A1", 20.0))
    assert first.ok and first.contact_outcome == "queued" and first.provider_id == "A1:personal_call:1:call"
    assert channel.deliver(call_message("A1", 20.0)).detail == "already queued"
    assert channel.deliver(call_message("A2", 90.0)).ok
    over = channel.deliver(call_message("A3", 50.0))
    assert over.status == "failed_retryable"
    assert "daily call capacity of 2 reached for 2026-11-22" in over.detail
    channel.clock = lambda: day + timedelta(days=1)
    assert channel.deliver(call_message("A3", 50.0)).ok
    tasks = open_tasks(db, kind="call")
    assert [t["account_id"] for t in tasks] == ["A2", "A3", "A1"]     # by priority
    assert tasks[0]["phone"] == "+441234567890"
    assert tasks[0]["script"].startswith("Account A2 (consumer)")
    assert tasks[0]["subject"] == "Call A2: €1,000.00 overdue (21 days)"


def test_task_queue_counts_its_own_capacity(tmp_path):
    db = tmp_path / "queue.db"
    calls = queue(QueueChannel, db, 1)
    tasks = queue(TaskChannel, db, 1)
    assert calls.deliver(call_message("A1", 1.0)).ok
    review = Renderer().render(make_message(channel="review", channel_kind="task", stage="write_off_review",
                                            template="write_off_review", recipient=Recipient()))
    assert tasks.deliver(review).ok                # no phone needed for a staff task
    assert sorted(t["kind"] for t in open_tasks(db)) == ["call", "task"]


def test_an_unusable_queue_file_is_retried_later(tmp_path):
    result = queue(QueueChannel, tmp_path, 5).deliver(call_message("A1", 1.0))   # a directory
    assert result.status == "failed_retryable"
    assert result.detail.startswith(f"work queue {tmp_path} unavailable: the database cannot be reached")


def test_call_without_phone_is_permanent(tmp_path):
    message = Renderer().render(make_message(channel_kind="call", template="call_script",
                                             recipient=Recipient(email="a@b.c")))
    assert queue(QueueChannel, tmp_path / "q.db", 5).deliver(message).status == "failed_permanent"


def test_queue_config_errors(tmp_path):
    with pytest.raises(ChannelConfigError) as err:
        QueueChannel().configure({"daily_capacity": -1, "timezone": "Mars/Olympus"})
    text = str(err.value)
    assert "queue_db is required" in text and "daily_capacity must be between" in text
    assert "Mars/Olympus" in text
