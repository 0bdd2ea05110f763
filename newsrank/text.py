"""Text hygiene every layer shares (pure, standard library only).

A Python string can hold *lone surrogates*, code points U+D800-U+DFFF that are not
characters: ``json.loads('"\\ud800"')`` makes one, and so does ``surrogateescape``
decoding of bytes that are not UTF-8. They cannot be encoded as UTF-8, so the fast
tokenizers reject them (``TypeError: TextInputSequence must be str``) and a response
holding one cannot be written. :func:`replace_surrogates` swaps each for U+FFFD, one
code point for one, so character offsets into the cleaned text are offsets into the
original too. The web app cleans every text parameter with it; each head cleans what
it tokenizes, so a caller that skipped the web layer is safe as well.

>>> replace_surrogates("oil \\ud800 prices")
'oil \\ufffd prices'
>>> replace_surrogates("Café 石油 🛢")  # real characters, astral ones included, stay
'Café 石油 🛢'
"""

from __future__ import annotations

import re

#: The character that stands in for a lone surrogate (U+FFFD REPLACEMENT CHARACTER).
REPLACEMENT = "\ufffd"

_SURROGATE = re.compile("[\ud800-\udfff]")

#: A regular expression matching one character that is not whitespace as Python's
#: ``str.strip()`` and ``str.isspace()`` see it, spelled out so that it means the same in
#: Python's ``re`` and in the ECMA-262 dialect JSON Schema patterns use (ECMA's ``\\s``
#: leaves out U+001C-U+001F and U+0085, which Python strips, and takes in U+FEFF, which
#: Python keeps). A required text field must match it somewhere: the API strips its
#: text fields and refuses what is left empty, and its description says the same.
NOT_SPACE = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def replace_surrogates(text: str) -> str:
    """``text`` with every surrogate code point replaced by U+FFFD; same length."""
    if text.isascii():
        return text
    return _SURROGATE.sub(REPLACEMENT, text)
