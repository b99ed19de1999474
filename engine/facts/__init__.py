"""Facts: what is true of every account of a batch at a moment, computed column-wise.

Owns the fact catalogue (`catalogue`: the names, kinds and meanings policy conditions may
use; the policy schema's fact list is generated from it), the columns themselves
(`compute.Facts`, with the money facts of `balances` and the history facts of `history`)
and the engine's view of facts that plugins add (`pluginfacts`).

May import: `domain`. Never the policy loader, the decision, the store, the API or plugins.
"""
