"""Arrears plugins: hook specifications, the plugin manager, built-in channels and templates.

Plugin authors need only `hookimpl` (the decorator for hook implementations), the
`Channel` base class and the `Message` / `DeliveryResult` values::

    from plugins import hookimpl
    from plugins.channels import Channel
    from plugins.message import DeliveryResult

See docs/plugin-guide.md.
"""
from plugins.hookspecs import PROJECT, hookimpl, hookspec

__all__ = ["PROJECT", "hookimpl", "hookspec"]
