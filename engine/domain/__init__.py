"""The domain: the values every other part of the engine speaks in.

Owns accounts, invoices and the append-only events of their history (`model`), the channel
kinds, built-in and those plugins declare, in one append-only table (`kinds`), money as
`Decimal` with a currency at the edges and integer minor units inside (`money`), time as
epoch seconds with its sentinels (`clock`), IANA time zones (`tzutil`) and public holidays
(`holidaycal`), the column-wise form of many accounts (`batch`), the `Decision` value a
decision is reported as (`decision`; its JSON is written by `decide.decision_json`, which
the engine hands each Decision it makes), the one exception tree (`errors`), and counted
nouns in messages (`words`: "1 account", "2 accounts").

May import: the standard library, numpy, `holidays`. Nothing else of Arrears.
"""
