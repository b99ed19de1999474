"""Policy: from YAML text to an immutable, compiled `CompiledPolicy` with a digest.

Owns YAML loading with positions (`yamlsrc`), the JSON Schemas (`schemas/`; the policy
schema's fact-derived parts are generated from the fact catalogue by `schemagen`), schema and
semantic validation with file:line:col problems (`validation`, `semantics`), conditions
(`conditions`), compilation (`compiler`), digests (`digest`), jurisdiction profiles as
documents (`profiles`), `load_policy` (`load`) and the registry of stored versions the
tick and the API decide with (`registry`, which is handed a store, never imports one).

May import: `domain`, `facts` (the catalogue, for names and kinds), `guardrails` (the rule
kinds profiles are compiled against). Never `decide`, the store, the API or plugins.
"""
