"""Text as Go's ``encoding/json`` writes it, where Python's ``json`` differs.

Go's encoder escapes ``<``, ``>``, ``&``, U+2028 and U+2029 as ``\\u`` escapes by default
(``encoding/json``'s HTML-safe encoding), which Python's ``json.dumps`` leaves alone. Used for
``kubectl -o json`` output (``cmp.emit``) and for the LLMInferenceService controller's template
pass, which runs on the spec's JSON text (``cmp.llmisvc.gotemplate``).
"""

from __future__ import annotations

GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_escape(text: str) -> str:
    """``text`` (JSON from ``json.dumps(..., ensure_ascii=False)``) with Go's extra escapes applied."""
    if any(c in text for c in GO_ESCAPES):
        text = "".join(GO_ESCAPES.get(c, c) for c in text)
    return text
