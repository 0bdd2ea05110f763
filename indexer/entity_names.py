"""Entity names people can read: case variants and aliases of one entity merged.

The tagger writes what the text says, so one entity reaches the store under several
``(type, text)`` pairs: "Moscow" and "MOSCOW", "US", "U.S." and "United States", or the
same text under two types (MISC=US beside LOC=US). :func:`merge_entities` groups them:

- texts are folded (:func:`fold`: case, dots, apostrophes, spaces) and a small alias
  table (:data:`ALIASES`) maps well-known alternative names to one name;
- a group's type is its most frequent type (ties: PER, ORG, LOC, MISC), its text the
  alias table's name or else its most frequent written form, preferring one that is
  not all capitals ("Moscow" over "MOSCOW", but "OPEC" when nothing else is written);
- its key is ``TYPE=text``, its label ``"text · kind"`` (PER person, ORG organisation,
  LOC place, MISC other), and it keeps every ``(type, text)`` variant, so a filter on
  the group can match exactly the rows it was counted from.

>>> groups = merge_entities({("LOC", "Moscow"): 5, ("LOC", "MOSCOW"): 2, ("MISC", "Moscow"): 1})
>>> g = groups.by_variant[("LOC", "MOSCOW")]
>>> g.key, g.label, sorted(g.variants)
('LOC=Moscow', 'Moscow · place', [('LOC', 'MOSCOW'), ('LOC', 'Moscow'), ('MISC', 'Moscow')])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: readable names of the tagger's types
KINDS = {"PER": "person", "ORG": "organisation", "LOC": "place", "MISC": "other"}
#: which type wins a tie in counts
TYPE_ORDER = ("PER", "ORG", "LOC", "MISC")

#: folded alias -> the entity's name (folded forms: see :func:`fold`)
ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ["us", "usa", "united states", "united states of america", "america"],
        "United States",
    ),
    **dict.fromkeys(
        ["uk", "britain", "great britain", "united kingdom"],
        "United Kingdom",
    ),
    **dict.fromkeys(["un", "united nations"], "United Nations"),
    **dict.fromkeys(["eu", "european union"], "European Union"),
    **dict.fromkeys(["uae", "united arab emirates"], "United Arab Emirates"),
    **dict.fromkeys(["ussr", "soviet union"], "Soviet Union"),
    **dict.fromkeys(["nato", "north atlantic treaty organization"], "NATO"),
}

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


def fold(text: str) -> str:
    """The form two spellings of one name share: case-folded, without dots, curly
    apostrophes made straight, a trailing possessive dropped, spaces collapsed.

    >>> fold("U.S."), fold("  St. Petersburg "), fold("MOSCOW"), fold("Britain’s")
    ('us', 'st petersburg', 'moscow', 'britain')
    """
    text = re.sub(r"\s+", " ", text.translate(_APOSTROPHES).replace(".", "").casefold())
    return re.sub(r"'s$", "", text.strip()).strip()


def group_name(text: str) -> str:
    """The folded name of the group ``text`` belongs to (aliases resolved).

    >>> group_name("U.K."), group_name("Britain"), group_name("Moscow")
    ('united kingdom', 'united kingdom', 'moscow')
    """
    folded = fold(text)
    alias = ALIASES.get(folded)
    return fold(alias) if alias is not None else folded


def label(type_: str, text: str) -> str:
    """``"text · kind"``.

    >>> label("LOC", "Moscow"), label("XYZ", "Thing")
    ('Moscow · place', 'Thing · XYZ')
    """
    return f"{text} · {KINDS.get(type_, type_)}"


def _shouting(text: str) -> bool:
    """All capitals and longer than an acronym usually is ("MOSCOW", not "OPEC")."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 4 and text.isupper()


@dataclass(frozen=True)
class EntityGroup:
    """One entity: its chosen type and text, and every stored variant."""

    type: str
    text: str
    variants: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        return f"{self.type}={self.text}"

    @property
    def label(self) -> str:
        return label(self.type, self.text)


@dataclass(frozen=True)
class EntityGroups:
    """Every group, by folded name and by each ``(type, text)`` variant."""

    by_name: dict[str, EntityGroup] = field(default_factory=dict)
    by_variant: dict[tuple[str, str], EntityGroup] = field(default_factory=dict)

    def find(self, type_: str, text: str) -> EntityGroup | None:
        """The group of a filter's ``(type, text)``: its exact variant, else the group
        of its name (any case or alias, any type), else None."""
        exact = self.by_variant.get((type_, text))
        return exact if exact is not None else self.by_name.get(group_name(text))


def _rank_type(type_: str) -> int:
    return TYPE_ORDER.index(type_) if type_ in TYPE_ORDER else len(TYPE_ORDER)


def merge_entities(counts: Mapping[tuple[str, str], int] | Iterable) -> EntityGroups:
    """Group ``{(type, text): articles}`` (or ``(type, text, articles)`` rows) into
    entities; see the module docstring for the rules."""
    rows = counts.items() if isinstance(counts, Mapping) else ((r[:2], r[2]) for r in counts)
    members: dict[str, Counter] = {}
    for (type_, text), n in rows:
        members.setdefault(group_name(text), Counter())[(type_, text)] += int(n)
    by_name, by_variant = {}, {}
    for name, variants in members.items():
        types, texts = Counter(), Counter()
        for (type_, text), n in variants.items():
            types[type_] += n
            texts[text] += n
        best_type = min(types, key=lambda t: (-types[t], _rank_type(t), t))
        alias = ALIASES.get(name)
        best_text = (
            alias if alias is not None else min(texts, key=lambda t: (_shouting(t), -texts[t], t))
        )
        group = EntityGroup(best_type, best_text, tuple(sorted(variants)))
        by_name[name] = group
        for variant in variants:
            by_variant[variant] = group
    return EntityGroups(by_name, by_variant)
