"""The store's tables, as SQLAlchemy Core metadata (the current schema revision).

Conventions: accounts have a compact integer surrogate key (`acct_no`) that every
other table joins on, and keep the external `id` unique; money is integer minor
units (`*_minor`); calendar dates are epoch days (`*_day`); instants are epoch
seconds (`*_at`); JSON is canonical text (sorted keys, no spaces) so it hashes and
compares byte for byte on every database.

The migrations in `engine/store/migrations/versions/` build exactly these tables;
`tests/store/test_schema_upgrade.py` compares the two, so edit both together.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# One naming convention, so constraint names are identical on SQLite and PostgreSQL
# (and migrations can refer to them).
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# INTEGER PRIMARY KEY is SQLite's rowid alias (fast, compact); BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Epoch = BigInteger   # epoch seconds: past 2038
Minor = BigInteger   # money in minor units: int64


def _acct_fk() -> Column:
    return Column("acct_no", Integer, ForeignKey("accounts.acct_no"), nullable=False)


accounts = Table(
    "accounts", metadata,
    Column("acct_no", Integer, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False, unique=True),
    Column("currency", Text, nullable=False),
    Column("debtor_type", Text, nullable=False),
    Column("jurisdiction", Text),
    Column("timezone", Text),
    Column("language", Text),
    Column("tags", Text, nullable=False),            # JSON list, sorted
    Column("risk_score", Float),
    Column("on_time_ratio", Float),
    Column("relationship_tier", Text),
    Column("account_manager", Text),
    Column("debtor_id", Text),                       # groups one debtor's accounts
    Column("other_timezones", Text, nullable=False),  # JSON list, in the given order
    Column("contact", Text, nullable=False),         # JSON object, null fields left out
    Column("digest", Text, nullable=False),          # SHA-256 of the content, to skip no-op upserts
    Column("created_at", Epoch, nullable=False),
    Column("updated_at", Epoch, nullable=False),
    Column("changed_at", Epoch, nullable=False),     # account or history last changed
    Column("revision", Integer, nullable=False),     # +1 on every change
    Column("next_evaluation_at", Epoch),             # NULL: due now
    Column("last_evaluated_at", Epoch),
    Column("evaluated_revision", Integer, nullable=False),
    Column("audit_seq", BigInteger),                 # audit entry of the last change
    Column("decision_key", Text),                    # the tick's last decision key (0003)
    Column("decision_id", BigInteger),               # decisions.id of that decision (0003)
    Column("seal", Text),                            # the row's seal (0010; engine/store/seals.py)
    Index(None, "next_evaluation_at", "acct_no", "revision"),   # covers due_accounts
    Index(None, "debtor_id"),
    Index(None, "account_manager"),                  # the console's search (0007)
)

invoices = Table(
    "invoices", metadata,
    _acct_fk(),
    Column("invoice_id", Text, nullable=False),
    Column("amount_minor", Minor, nullable=False),
    Column("due_day", Integer, nullable=False),
    Column("issued_day", Integer),
    Column("audit_seq", BigInteger),                 # audit entry that sealed the row (0010)
    Column("seal", Text),                            # the row's seal (0010)
    UniqueConstraint("acct_no", "invoice_id"),
)

events = Table(
    "events", metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    _acct_fk(),
    Column("type", Text, nullable=False),
    Column("at", Epoch, nullable=False),
    Column("amount_minor", Minor),
    Column("invoice_id", Text),
    Column("channel", Text),
    Column("stage", Text),
    Column("outcome", Text),
    Column("until_day", Integer),
    Column("instalments", Text),                     # JSON [[due_day, amount_minor], ...]
    Column("event_id", Text),                        # the event's own `id`, if it had one
    Column("event_key", Text),                       # idempotency key
    Column("recorded_at", Epoch, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),  # the audit entry that recorded it
    Column("note", Text),                            # free text, at most 2,000 characters (0004)
    Column("detail", Text),                          # JSON: a representative or wishes (0005)
    Index(None, "acct_no", "at"),
    UniqueConstraint("acct_no", "event_key"),
    # An event's own id is unique per account whatever key it came with (0005; partial:
    # most events have none). A database that already held repeats is covered from then on.
    Index("uq_events_acct_no_event_id", "acct_no", "event_id", unique=True,
          sqlite_where=text("event_id IS NOT NULL"), postgresql_where=text("event_id IS NOT NULL")),
)

decisions = Table(
    "decisions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _acct_fk(),
    Column("evaluated_at", Epoch, nullable=False),
    Column("revision", Integer, nullable=False),     # account revision the decision saw
    Column("policy_digest", Text, nullable=False),
    Column("stage", Text),
    Column("attempt", Integer),
    Column("action_type", Text),
    Column("channel", Text),
    Column("not_before", Epoch),
    Column("next_evaluation_at", Epoch),
    Column("body", Text, nullable=False),            # canonical JSON summary (docs/tick.md)
    Column("audit_seq", BigInteger),                 # the tick.page entry that sealed it (0010)
    Column("seal", Text),                            # the row's seal (0010)
    # The body's `priority`, as a column (0013) so the work queue reads it from an index: a copy,
    # not sealed itself; `arrears audit verify` checks it against the sealed body (seals.DERIVED).
    Column("priority", Float, nullable=False, server_default=text("-1")),
    # The running experiment and the debtor's strategy in it (0016), NULL outside one; sealed.
    Column("experiment_id", Integer),
    Column("strategy", Text),
    Index(None, "acct_no", "evaluated_at"),
)
# The work queue (0013): one channel's decisions, highest priority first (ties: newest first).
Index("ix_decisions_channel_priority_id", decisions.c.channel, decisions.c.priority.desc(),
      decisions.c.id.desc())

outbox = Table(
    "outbox", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _acct_fk(),
    Column("decision_id", BigInteger, ForeignKey("decisions.id")),
    Column("stage", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("episode_key", Text, nullable=False),     # '' when not needed: NULLs never collide
    Column("channel", Text, nullable=False),
    Column("status", Text, nullable=False),          # pending, sending, sent, failed, cancelled, unknown
    Column("tries", Integer, nullable=False),
    Column("next_attempt_at", Epoch),
    Column("created_at", Epoch, nullable=False),
    Column("updated_at", Epoch, nullable=False),
    Column("provider_id", Text),
    Column("last_error", Text),
    Column("payload", Text, nullable=False),         # canonical JSON
    Column("claimed_by", Text),                      # the dispatch run that set `sending` (0003)
    Column("claimed_at", Epoch),                     # (0003)
    Column("audit_seq", BigInteger),                 # the audit entry of its latest transition (0010)
    Column("seal", Text),                            # the row's seal (0010)
    Column("experiment_id", Integer),                # as its decision's (0016); sealed
    Column("strategy", Text),
    UniqueConstraint("acct_no", "stage", "attempt", "episode_key"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "provider_id"),                      # a delivery receipt finds its row (0012)
)

# Named leases (0003): one row per lease; whoever holds an unexpired row may do the
# lease's job (the scheduled tick holds "tick"). See engine/store/leases.py.
leases = Table(
    "leases", metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", Float, nullable=False),     # epoch seconds (wall clock, fractional)
    Column("acquired_at", Float, nullable=False),
)

# Tick runs (0004): one row per tick, scheduled, `arrears tick` or POST /v1/ticks, from
# request to end. See engine/store/tickruns.py.
tick_runs = Table(
    "tick_runs", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("trigger", Text, nullable=False),         # scheduled, cli, api, delivery, console
    Column("status", Text, nullable=False),          # pending, running, succeeded, skipped, stopped, failed
    Column("at", Epoch, nullable=False),             # the instant the tick decides at (its `now`)
    Column("requested_at", Epoch, nullable=False),   # wall clock, like the three below
    Column("started_at", Epoch),
    Column("finished_at", Epoch),
    Column("holder", Text, nullable=False),          # the lease holder name the run uses
    Column("dispatch", Boolean, nullable=False),     # whether it delivers (False: evaluate and queue)
    Column("summary", Text),                         # canonical JSON of the TickSummary, once finished
    Column("error", Text),                           # why it failed
    Index(None, "status"),
)

# The pages of a distributed tick (0015, issue 18): one row per page of due accounts (kind
# `evaluate`) or part of the due contacts (kind `deliver`) that the leader enqueued for the
# Celery workers; the worker that writes a page marks it done in the page's own transaction,
# so a page delivered twice is done once. See engine/store/tickpages.py.
tick_pages = Table(
    "tick_pages", metadata,
    Column("tick", Text, primary_key=True),          # the distributed tick's own id (a uuid)
    Column("kind", Text, primary_key=True),          # evaluate, deliver
    Column("page_no", Integer, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger),                    # the tick_runs row, when the tick is recorded
    Column("status", Text, nullable=False),          # queued, done, stopped
    Column("items", Integer, nullable=False),        # accounts (evaluate) or outbox rows (deliver)
    Column("queued_at", Float, nullable=False),      # wall clock, fractional
    Column("finished_at", Float),
    Column("worker", Text),                          # host:pid of the worker that finished it
    Column("counts", Text),                          # canonical JSON: what the page did
    Index(None, "status"),
)

# Per-channel send counts per second (0018, issue 18): the distributed tick's rate limits shared
# by every worker when the broker has none of its own (AMQP). See engine/store/ratewindows.py.
rate_windows = Table(
    "rate_windows", metadata,
    Column("channel", Text, primary_key=True),       # a policy channel (sms, email, ...)
    Column("second", BigInteger, primary_key=True, autoincrement=False),   # epoch second
    Column("sent", Integer, nullable=False),         # messages taken in that second
)

audit = Table(
    "audit", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", Epoch, nullable=False),
    Column("kind", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),            # canonical JSON
    Column("prev_hash", Text, nullable=False, unique=True),
    Column("hash", Text, nullable=False),
    Index(None, "subject"),                          # entries about one account or policy (0010)
)

# A single row (id = 1): the chain's head. Appenders lock it, which serialises them on
# PostgreSQL, and `verify` compares it with the last entry, which exposes a cut tail.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", Text, nullable=False),
)

policy_versions = Table(
    "policy_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("digest", Text, nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("created_at", Epoch, nullable=False),
    Column("activated_at", Epoch),
    Column("active", Boolean, nullable=False),
    Column("audit_seq", BigInteger),                 # the entry that stored or (de)activated it (0010)
    Column("seal", Text),                            # the row's seal (0010)
)

# People who log in to the console (0007). The password is kept only as an argon2 hash
# (`arrears.console.passwords`); `failed_logins` and `last_failed_at` slow down guessing.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", Epoch, nullable=False),
    Column("password_changed_at", Epoch, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("last_failed_at", Epoch),
    Column("last_login_at", Epoch),
    Column("audit_seq", BigInteger),                 # the entry that sealed it (0010)
    Column("seal", Text),                            # the row's seal (0010)
)

# API keys made without a restart (0011): only each key's SHA-256 (`digest`), never the key.
# The API looks a presented key up by its digest (the unique index); sealed like `users`.
api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", Text, nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("created_at", Epoch, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("revoked_at", Epoch),
    Column("revoked_by", Text),
    Column("audit_seq", BigInteger),                 # the entry that sealed it
    Column("seal", Text),                            # the row's seal
)

# The words of each account's contact name (0019; engine/store/namewords.py): the decision
# explorer finds a name by any word's start from a range of the primary key. On PostgreSQL the
# words compare in the "C" collation (code point order, as SQLite's binary order).
account_words = Table(
    "account_words", metadata,
    Column("word", Text().with_variant(Text(collation="C"), "postgresql"), primary_key=True),
    Column("acct_no", Integer, ForeignKey("accounts.acct_no"), primary_key=True),
    Index(None, "acct_no", "word"),
    sqlite_with_rowid=False,
)

# Small named values the service keeps between restarts (0007): the console's session
# signing key, the demo login. Never policy or account data.
settings = Table(
    "settings", metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Figures computed after the ticks for pages that must answer at once (0008): the console's
# dashboard. One row per name, replaced whole by each refresh.
snapshots = Table(
    "snapshots", metadata,
    Column("name", Text, primary_key=True),
    Column("computed_at", Epoch, nullable=False),
    Column("seconds", Float, nullable=False),          # how long computing it took
    Column("meta", Text, nullable=False),              # canonical JSON: what it covers
    Column("body", Text, nullable=False),
)

# The console's work queue (0009): which agent works which account now. A claim ends when the
# agent records an outcome or releases it, or at `expires_at`; a live claim is never given to
# another agent.
claims = Table(
    "claims", metadata,
    Column("acct_no", Integer, ForeignKey("accounts.acct_no"), primary_key=True),
    Column("username", Text, nullable=False),
    Column("claimed_at", Epoch, nullable=False),
    Column("expires_at", Epoch, nullable=False),
)

# Champion/challenger experiments (0014): the file's text as started, the champion's policy
# when it started, and its status (running, stopped, promoted). At most one runs at a time.
experiments = Table(
    "experiments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("digest", Text, nullable=False),          # SHA-256 of `source`
    Column("source", Text, nullable=False),          # the experiment file's text
    Column("salt", Text, nullable=False),
    Column("champion_digest", Text, nullable=False),  # the active policy when it started
    Column("status", Text, nullable=False),          # running, stopped, promoted
    Column("started_at", Epoch, nullable=False),
    Column("started_by", Text, nullable=False),
    Column("ended_at", Epoch),
    Column("ended_by", Text),
    Column("promoted", Text),                        # the challenger promoted, if any
    Column("paused_reason", Text),                   # why the tick paused it (0016)
)

# Each debtor's strategy in an experiment (0014), written at its first evaluation during
# the experiment and never changed: champion, a challenger's name, or `ineligible`.
# One row per stretch an experiment was paused (0020): the results leave out what happened in it.
experiment_pauses = Table(
    "experiment_pauses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False, index=True),
    Column("paused_at", Epoch, nullable=False),
    Column("resumed_at", Epoch),                     # null while still paused
    Column("reason", Text, nullable=False),
)

experiment_assignments = Table(
    "experiment_assignments", metadata,
    Column("experiment_id", Integer, ForeignKey("experiments.id"), primary_key=True),
    Column("debtor", Text, primary_key=True),        # accounts.debtor_id, else the account's id
    Column("arm", Text, nullable=False),
    Column("assigned_at", Epoch, nullable=False),
)
