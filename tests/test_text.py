"""newsrank.text: the text rules every layer shares, checked over every code point."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsrank.errors import QueryError
from newsrank.text import NOT_SPACE, REPLACEMENT, replace_surrogates
from web.params import text_field

_NOT_SPACE = re.compile(NOT_SPACE)


def test_not_space_is_exactly_what_str_strip_keeps():
    """The pattern the API description uses for required text agrees with Python's own
    whitespace on all 1,114,112 code points, so a field the server strips to nothing is
    one the description refuses, and the other way round."""
    disagree = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if bool(_NOT_SPACE.fullmatch(chr(code))) == chr(code).isspace()
    ]
    assert not disagree


def test_not_space_has_no_class_shorthand_whose_meaning_differs_between_dialects():
    """ECMA-262 (JSON Schema's dialect) and Python differ on ``\\s``, ``\\w``, ``\\d``;
    the pattern spells its characters out instead."""
    assert not re.search(r"\\[sSwWdDbB]", NOT_SPACE)


@given(st.text())
def test_a_text_the_server_keeps_is_one_the_pattern_accepts(text):
    assert bool(_NOT_SPACE.search(text)) == bool(text.strip())


@given(st.text())
def test_replace_surrogates_keeps_length_and_leaves_no_surrogate(text):
    cleaned = replace_surrogates(text)
    assert len(cleaned) == len(text)
    assert not re.search("[\ud800-\udfff]", cleaned)
    assert all(c == o or c == REPLACEMENT for c, o in zip(cleaned, text))
    cleaned.encode("utf-8")


def test_the_api_refuses_a_text_field_of_only_python_whitespace():
    """The server side of the agreement: ``web.params.text_field`` strips as Python does."""
    with pytest.raises(QueryError, match="empty"):
        text_field({"text": "\x1c\x85\u3000"}, "text", 100)
    assert text_field({"text": "\ufeffoil"}, "text", 100) == "\ufeffoil"
