"""Words in messages: counted nouns ("1 account", "2 accounts", never "1 accounts" or
"account(s)"), and the "did you mean" of a value that is not one of those allowed. Every part
that words a count or a suggestion for people uses these.
"""
from __future__ import annotations

import difflib


def did_you_mean(word, choices) -> str:
    """'; did you mean 'x'?' when `word` is close to one of `choices`, else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` (with thousands separators) and `noun` in the number it needs: `plural(1, "goal")`
    is "1 goal", `plural(1200, "entry")` "1,200 entries", `plural(2, "plugin error")` "2 plugin
    errors" (the last word is declined). `many` gives an irregular plural ("analyses")."""
    if count == 1:
        return f"{count:,} {noun}"
    if many is None:
        if noun.endswith("y") and noun[-2:-1] not in "aeiou":
            many = noun[:-1] + "ies"
        elif noun.endswith(("s", "x", "ch", "sh")):
            many = noun + "es"
        else:
            many = noun + "s"
    return f"{count:,} {many}"
