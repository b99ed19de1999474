"""Channel kinds for plugin authors: what `arrears_channel_kinds` returns.

    from arrears.plugins import hookimpl
    from arrears.plugins.kinds import ChannelKind

    @hookimpl
    def arrears_channel_kinds():
        return [ChannelKind("whatsapp", "WhatsApp", guardrail_class="text_message", reach="mobile",
                            consent=True, opt_out={"en": "Reply STOP to stop WhatsApp messages from {creditor}."})]

The kind itself lives in the engine's one table (`arrears.engine.domain.kinds`: its fields and
what each means); this module only names it for plugins, with the built-in kinds' names, which
a plugin cannot redefine (docs/plugin-guide.md, "A channel kind of its own").
"""
from __future__ import annotations

from arrears.engine.domain.kinds import BUILTIN_NAMES, ChannelKind

__all__ = ["BUILTIN_NAMES", "ChannelKind"]
