"""Hook specifications: the contract between Arrears and its plugins.

Every hook is prefixed `arrears_`. A plugin is any module or object with functions
decorated by `plugins.hookimpl` whose names match these specs; it is found through the
`arrears` entry-point group (see docs/plugin-guide.md). Built-in channels are ordinary
plugins registered first, with `trylast=True`, so any plugin can override them.

Hooks are called with keyword arguments; an implementation may accept any subset of the
arguments a spec lists.
"""
from __future__ import annotations

import pluggy

PROJECT = "arrears"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def arrears_config(config):
    """Receive the service configuration once, when the host starts delivering.

    Passed: `config`, the whole service configuration as a plain dict (sections such as
    `channels`, `templates`, `creditor`, and any section a plugin documents for itself).
    Returns: nothing; return values are ignored. Every implementation is called.
    Channels get their own section through `Channel.configure()` instead.
    """


@hookspec
def arrears_channels():
    """Provide delivery channels.

    Passed: nothing.
    Returns: a list of `arrears.plugins.channels.Channel` objects (fresh instances; the host
    configures them). All results are collected. When several plugins provide the same
    channel `kind`, the one registered last wins, and built-ins (registered first, with
    `trylast=True`) lose to any plugin: that is how a plugin overrides a built-in channel.
    Not firstresult. Called impl by impl, so wrappers are not supported on this hook.
    """


@hookspec
def arrears_channel_kinds():
    """Declare channel kinds the built-in ones do not cover (WhatsApp, push, in-app).

    Passed: nothing.
    Returns: a list of `arrears.plugins.kinds.ChannelKind` (name, label: the reporting name,
    guardrail_class: how the jurisdiction profiles treat it, e.g. `text_message` or
    `electronic`, reach: the contact detail it needs, consent, opt_out wording by language,
    retry_after_hours, written). All results are collected and appended to the engine's kind
    tables when the plugin manager is built; nothing is ever redefined: a built-in's name, or a
    name two plugins declare differently, stops start-up with a `PluginError` listing every
    problem. A policy channel may then have the kind; every loaded profile must say how its
    class is treated (`channel_classes`), or the policy does not load. Provide the transport
    with `arrears_channels` (a channel whose `kind` is the new kind). Not firstresult.
    """


@hookspec(firstresult=True)
def arrears_deliver(message, channel):
    """Intercept the delivery of one message, before the channel sees it.

    Passed: `message`, the rendered `arrears.plugins.message.Message`; `channel`, the configured
    `Channel` that would deliver it.
    Returns: a `DeliveryResult` to take over the delivery (the channel is then not
    called), or None to let it pass. firstresult: the first non-None result wins.
    Use it for dry runs, sandboxes, or routing one tenant's messages elsewhere.
    """


@hookspec(firstresult=True)
def arrears_render(message, template_id, language, context):
    """Render a message instead of the built-in Jinja2 templates.

    Passed: `message` (unrendered `Message`), `template_id` (the policy's template id),
    `language` (ISO 639-1), `context` (the template variables, a dict).
    Returns: a `arrears.plugins.message.Rendered`, a plain string (used as a text body), or None
    to fall through to the built-in templates. firstresult: the first non-None wins.
    The host still enforces the compliance flags on what is returned: a missing opt-out
    line, disclosure or validation notice is appended.
    """


@hookspec
def arrears_template_dirs():
    """Add directories searched for message templates.

    Passed: nothing.
    Returns: a list of directory paths (str or `pathlib.Path`). All results are collected;
    plugin directories are searched after the operator's `templates.dirs` and before the
    shipped defaults, later-registered plugins first. Not firstresult.
    """


@hookspec
def arrears_facts():
    """Add computed facts that policy conditions may use.

    Passed: nothing.
    Returns: a list of `arrears.plugins.facts.PluginFact` (name, kind, description, compute,
    params, optional, choices). Names are in the plugin namespace, `x_` then
    lower_snake_case (`x_<plugin>_<name>`), which no built-in fact uses. `compute(facts,
    **params)` receives the engine's batch `Facts` object and returns a numpy column of
    length `facts.n` (or a `(values, present)` pair for optional facts), in the
    representation of `arrears.engine.policy.conditions.column`; it is called once per batch and
    parameter set, never per account. If it raises or returns a bad column, the fact is
    unknown for that batch (every comparison false), the failure is recorded and traced,
    and the evaluation goes on. All results are collected; a name may be defined once
    across all plugins. Not firstresult. Read through `arrears.plugins.facts.plugin_facts`.
    """


@hookspec
def arrears_decision(decision):
    """Observe a decision the host has persisted (for CRM sync, analytics, alerts).

    Passed: `decision`, an `arrears.engine.domain.decision.Decision` (use `decision.to_dict()` for JSON).
    Returns: nothing; return values are ignored. Every implementation is called, each in
    isolation: one that raises is recorded as a failure and does not stop the others.
    """


@hookspec
def arrears_delivery(message, result):
    """Observe a delivery attempt the host has recorded.

    Passed: `message`, the rendered `Message`; `result`, its `DeliveryResult`.
    Returns: nothing; return values are ignored. Every implementation is called, each in
    isolation, after the result is persisted: an observer can never cause a resend.
    """


@hookspec(firstresult=True)
def arrears_payment_link(message, amount, expires_at):
    """Mint an online payment link for one message.

    Passed: `message`, the composed, unrendered `Message` (its `idempotency_key`, `account_id`
    and, from the tick, `metadata["outbox_id"]` identify it); `amount`, the money the message
    asks for as `{"amount": "50.00", "currency": "GBP"}` (the overdue balance, or the balance
    when nothing is overdue yet); `expires_at`, the aware UTC datetime the host proposes the
    link stop working (the decision's time plus `LINK_VALID_DAYS`).
    Returns: an `arrears.plugins.message.PaymentLink` (an http(s) `url`, and optionally its own
    `expires_at`), or None for no link. firstresult: the first non-None result wins.
    The host calls it only for messages by email, SMS or letter to an account that may be
    asked to pay (something owed; not disputed, ceased, bankrupt, deceased, represented or in
    breathing space), at most once per outbox message: the link is stored with the message and
    reused on every retry while its amount still holds. A hook that raises or returns anything
    else is recorded as a plugin failure and the message goes out without a link.
    """
