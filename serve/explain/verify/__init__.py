"""The verifier wing, the explanation stage's security boundary: whether what the LLM wrote may
be shown (`verifier`, its rules in `rules` and `roles`), and the word lists and readers it
judges with (`titles`, `ratings`, `claims`, `grounding`, `surface`, `languages`). `injection`
is the one piece the prompts and templates use too."""
