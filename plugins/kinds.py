"""Channel kinds for plugin authors: what `arrears_channel_kinds` returns.

    from arrears.plugins import hookimpl
    from arrears.plugins.kinds import ChannelKind

    @hookimpl
    def arrears_channel_kinds():
        return [ChannelKind("whatsapp", "WhatsApp", guardrail_class="text_message", reach="mobile",
                            consent=True, opt_out={"en": "Reply STOP to stop WhatsApp messages from {creditor}."})]

The kind itself lives in the engine's one table (`arrears.engine.domain.kinds`); this module
only names it for plugins. `kinds()` lists every kind registered, built-in ones first.
"""
from __future__ import annotations

from arrears.engine.domain.kinds import BUILTIN_NAMES, KINDS, ChannelKind

__all__ = ["BUILTIN_NAMES", "ChannelKind", "kinds"]


def kinds() -> list[ChannelKind]:
    """Every registered channel kind, built-in ones first, then plugins' in registration order."""
    return list(KINDS.values())
