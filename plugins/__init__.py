"""Arrears plugins: hook specifications, the plugin manager, built-in channels and templates.

Plugin authors need only `hookimpl` (the decorator for hook implementations), the
`Channel` base class, the `Message` / `DeliveryResult` values, and for a channel kind of
their own `arrears.plugins.kinds.ChannelKind`::

    from arrears.plugins import hookimpl
    from arrears.plugins.channels import Channel
    from arrears.plugins.message import DeliveryResult

See docs/plugin-guide.md.
"""
from arrears.plugins.hookspecs import PROJECT, hookimpl, hookspec

__all__ = ["PROJECT", "hookimpl", "hookspec"]
