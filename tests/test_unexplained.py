"""The unexplained-words rules (serve/explain/verify/unexplained.py) on their own: what a strike
is, and when loose words make a run."""

from __future__ import annotations

import pytest

from serve.explain.verify import unexplained


@pytest.mark.parametrize(
    ("word", "language", "strikes"),
    [
        ("asdkj", "en", 2),  # in no language
        ("m0r0n", "en", 2),  # letters and digits
        ("tt0090605", "en", 2),
        ("wormhole", "en", 1),  # rare
        ("wurmloch", "de", 1),
        ("another", "de", 1),  # English in German text
        ("souvent", "en", 1),
        ("natural", "en", 0),  # common: an adjective a good answer may add
        ("souvent", "fr", 0),
        ("oft", "de", 0),
    ],
)
def test_strikes(word, language, strikes):
    assert unexplained._strikes(word, language) == strikes


def test_elision_is_taken_off_before_looking_up():
    assert unexplained._spelled("Qu\u2019IA") == "ia"
    assert unexplained._spelled("aujourd'hui") == "aujourd'hui"  # not an elision: too far in
