"""Compliance content every rendered message must carry, and its enforcement.

The engine's guardrails decide which flags a message carries (`Action.content`); this
module makes sure the rendered body honours them whatever the template (or an
`arrears_render` plugin) produced. Each flag has a standard text per language; an
operator may replace it under `templates.compliance.<language>.<flag>` (placeholders
`{creditor}`, `{amount}`, `{date}`). Languages without a text fall back to English.
"""
from __future__ import annotations

import html
from collections.abc import Mapping

from arrears.engine.domain.kinds import KINDS
from arrears.plugins.formatting import format_date, format_money
from arrears.plugins.message import Message, Rendered

ENFORCED = ("opt_out", "disclosure", "validation_notice")   # `first_message` is advisory

STANDARD: dict[str, dict[str, str]] = {
    "en": {
        "opt_out.sms": "Reply STOP to stop text messages from {creditor}.",
        "opt_out.email": "To stop emails from {creditor} about this account, reply to this "
                         "email with the word STOP.",
        "opt_out": "To stop receiving these messages, contact {creditor} and ask us to stop.",
        "disclosure": "This is an attempt to collect a debt by {creditor}. Any information "
                      "obtained will be used for that purpose.",
        "validation_notice": (
            "VALIDATION NOTICE: As of {date} you owe {amount} to {creditor}. You have 30 days "
            "after you receive this notice to dispute all or part of this debt. If you dispute "
            "it in writing within 30 days, we will stop collecting the disputed amount until we "
            "send you verification of the debt. If you do not dispute it within 30 days, we "
            "will assume the debt is valid."),
    },
    "fr": {
        "opt_out.sms": "Répondez STOP pour ne plus recevoir de SMS de {creditor}.",
        "opt_out.email": "Pour ne plus recevoir d'e-mails de {creditor} concernant ce compte, "
                         "répondez à cet e-mail avec le mot STOP.",
        "opt_out": "Pour ne plus recevoir ces messages, contactez {creditor}.",
        "disclosure": "Ce message de {creditor} vise au recouvrement d'une créance. Toute "
                      "information obtenue sera utilisée à cette fin.",
        "validation_notice": (
            "AVIS DE VALIDATION : au {date}, vous devez {amount} à {creditor}. Vous disposez de "
            "30 jours à compter de la réception de cet avis pour contester tout ou partie de "
            "cette dette. Si vous la contestez par écrit dans ce délai, nous suspendrons le "
            "recouvrement du montant contesté jusqu'à l'envoi d'une justification de la dette. "
            "Sans contestation dans les 30 jours, nous considérerons la dette comme valide."),
    },
    "de": {
        "opt_out.sms": "Antworten Sie STOP, um keine SMS mehr von {creditor} zu erhalten.",
        "opt_out.email": "Wenn Sie keine E-Mails von {creditor} zu diesem Konto mehr erhalten "
                         "möchten, antworten Sie auf diese E-Mail mit dem Wort STOP.",
        "opt_out": "Wenn Sie diese Nachrichten nicht mehr erhalten möchten, wenden Sie sich "
                   "an {creditor}.",
        "disclosure": "Diese Mitteilung von {creditor} dient der Einziehung einer Forderung. "
                      "Alle erhaltenen Informationen werden zu diesem Zweck verwendet.",
        "validation_notice": (
            "HINWEIS ZUR FORDERUNGSPRÜFUNG: Zum {date} schulden Sie {creditor} {amount}. Sie "
            "können die Forderung innerhalb von 30 Tagen nach Erhalt dieses Hinweises ganz oder "
            "teilweise bestreiten. Bestreiten Sie sie in dieser Frist schriftlich, stellen wir "
            "die Einziehung des bestrittenen Betrags ein, bis wir Ihnen einen Nachweis der "
            "Forderung übermittelt haben. Andernfalls gehen wir davon aus, dass die Forderung "
            "besteht."),
    },
}


def _kind_texts(kind: str, lang: str) -> dict[str, str]:
    """The opt-out wording a plugin's channel kind declares, in `lang` (else English)."""
    declared = KINDS[kind].opt_out if kind in KINDS else {}
    text = declared.get(lang) or declared.get("en")
    return {f"opt_out.{kind}": text} if text else {}


def standard_text(flag: str, message: Message,
                  overrides: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The text that satisfies `flag` for this message's language and channel kind: the
    operator's (`templates.compliance`), else the kind's own (a plugin kind's declared opt-out
    wording), else the standard one."""
    lang, kind = message.language, message.channel_kind
    table = {**STANDARD["en"], **STANDARD.get(lang, {}), **_kind_texts(kind, lang),
             **dict((overrides or {}).get(lang, {}))}
    text = table.get(f"{flag}.{kind}") or table[flag]
    ctx = message.context
    values = {
        "creditor": str((ctx.get("creditor") or {}).get("name") or "us"),
        "amount": format_money(ctx["total_balance"], lang) if "total_balance" in ctx else "",
        "date": format_date(ctx["today"], lang) if "today" in ctx else "",
    }
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def as_html(flag: str, text: str) -> str:
    """The HTML block for a compliance text."""
    return f'<p class="arrears-compliance arrears-{flag}">{html.escape(text)}</p>'


def enforce(rendered: Rendered, message: Message,
            overrides: Mapping[str, Mapping[str, str]] | None = None) -> Rendered:
    """`rendered` with the standard text of every flag appended that the body lacks."""
    body = rendered.body
    for flag in ENFORCED:
        if not message.has(flag):
            continue
        text = standard_text(flag, message, overrides)
        if rendered.body_format == "html":
            if html.escape(text) not in body:
                block = as_html(flag, text)
                body = (body.replace("</body>", block + "\n</body>", 1) if "</body>" in body
                        else f"{body.rstrip()}\n{block}")
        elif text not in body:
            body = f"{body.rstrip()}\n\n{text}"
    return Rendered(body=body, subject=rendered.subject, body_format=rendered.body_format)
