"""Catalog text that talks to the model instead of describing an item: a prompt injection.

The prompts withhold such text, the templates never print it, and the verifier forbids its words
(`verify.evidence`). Kept apart so that writing a prompt does not load the verifier.
"""

from __future__ import annotations

import re

# Catalog text that talks to the model instead of describing an item.
_UNSAFE = re.compile(
    r"\bignore\s+(?:(?:all|any|the|your|my|of|these|those)\s+)*"
    r"(?:previous|prior|above|earlier|preceding|former|other)?\s*"
    r"(?:instructions?|prompts?|rules|directions|messages?|context)\b"
    r"|\bdisregard\b"
    r"|\bforget\s+(?:all|everything|your|previous|prior|the\s+above|any)\b"
    r"|\byou\s+are\s+now\b|\byou['\u2019]re\s+now\b|\bpretend\s+(?:to\s+be|you)\b"
    r"|\b(?:system|assistant|developer)\s*:"
    r"|\b(?:reply|respond|answer|say|print|output|write|type)\s+"
    r"(?:(?:only|just|exactly|with|the\s+word)\s+)+\S"
    r"|\bnew\s+instructions\b|\bsystem\s+prompt\b|\bjailbreak\b"
    r"|<\|[a-z_]+\|>|\[/?inst\]|</?\s*(?:system|assistant|user|instructions?)\s*>",
    re.IGNORECASE,
)
# "reply HACKED": a verb of speech and a shouted word; the capitals keep "Say Anything" safe.
_UNSAFE_SHOUT = re.compile(r"\b(?i:reply|respond|answer|say|print|output)\s+[\"'“]?[A-Z]{3,}\b")


def is_unsafe(text: str) -> bool:
    """Whether catalog text reads like an instruction to the model (a prompt injection)."""
    return _UNSAFE.search(text) is not None or _UNSAFE_SHOUT.search(text) is not None
