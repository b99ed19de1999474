"""`arrears plugins`: list the loaded plugins, the channel kinds they provide, and plugin facts."""
from __future__ import annotations

from arrears.engine.cli.errors import ExitCode
from arrears.engine.cli.options import add_command, add_format, write_json

HELP = "list loaded plugins and channels"


def register(subparsers) -> None:
    """Add the `plugins` subcommand to the `arrears` argument parser."""
    parser = add_command(
        subparsers, "plugins", HELP,
        description="List the built-in plugins and those installed through the 'arrears' "
                    "entry-point group, the hooks each implements, which plugin provides each "
                    "channel kind (and which it overrides), the channel kinds and facts added "
                    "by plugins.",
        exits={ExitCode.PROBLEMS: None, ExitCode.CANNOT_START: "a plugin cannot be loaded, or bad arguments",
               ExitCode.DATABASE: None})
    add_format(parser)
    parser.add_argument("--no-entrypoints", action="store_true",
                        help="only the built-in plugins (skip installed ones)")
    parser.set_defaults(handler=run)


def collect(load_entrypoints: bool = True) -> dict:
    """Everything `arrears plugins` reports, as a JSON-ready dict."""
    from arrears.plugins.facts import plugin_facts
    from arrears.plugins.manager import get_plugin_manager, list_plugins, register_kinds
    from arrears.plugins.registry import collect_channels

    pm = get_plugin_manager(load_entrypoints=load_entrypoints)
    channels = collect_channels(pm)
    return {
        "plugins": [p.to_dict() for p in list_plugins(pm)],
        "channels": [{"kind": e.kind, "name": e.channel.name, "plugin": e.plugin,
                      "class": f"{type(e.channel).__module__}.{type(e.channel).__qualname__}",
                      "overrides": list(e.overrides)} for e in channels.values()],
        "facts": [{"name": f.name, "kind": f.kind, "plugin": f.plugin, "description": f.description,
                   "params": list(f.params), "optional": f.optional, "choices": list(f.choices)}
                  for f in plugin_facts(pm).values()],
        "kinds": [k.to_dict() for k in register_kinds(pm)],
    }


def render_text(report: dict) -> str:
    """The human-readable listing."""
    lines = ["Plugins:"]
    for p in report["plugins"]:
        origin = "built-in" if p["builtin"] else (
            f"{p['distribution']} {p['version']}" if p["distribution"] else p["module"])
        lines.append(f"  {p['name']}  ({origin})")
        lines.append(f"      hooks: {', '.join(p['hooks']) or '-'}")
    lines.append("Channels:")
    for c in report["channels"]:
        over = f"  [overrides {', '.join(c['overrides'])}]" if c["overrides"] else ""
        lines.append(f"  {c['kind']:<10} {c['name']}  <- {c['plugin']}{over}")
    if report["facts"]:
        lines.append("Plugin facts (use them in policy conditions as {fact: NAME, ...}):")
        for f in report["facts"]:
            extra = [f"params: {', '.join(f['params'])}"] if f["params"] else []
            extra += ["optional"] if f["optional"] else []
            extra += [f"values: {', '.join(f['choices'])}"] if f["choices"] else []
            lines.append(f"  {f['name']} ({', '.join([f['kind'], *extra])}) <- {f['plugin']}: "
                         f"{f['description']}")
    if report["kinds"]:
        lines.append("Channel kinds added by plugins (a policy channel may have them):")
        for k in report["kinds"]:
            lines.append(f"  {k['name']:<10} {k['label']}, treated as {k['class']}"
                         f"{', needs consent' if k['consent'] else ''} <- {k['plugin']}")
    return "\n".join(lines)


def run(args) -> int:
    """Handler: print the report (a plugin that cannot be loaded is a PluginError, exit 2)."""
    report = collect(load_entrypoints=not args.no_entrypoints)
    if args.format == "json":
        write_json(report)
    else:
        print(render_text(report))
    return ExitCode.OK
