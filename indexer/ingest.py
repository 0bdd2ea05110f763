"""Read articles from JSONL, CSV/TSV and folders of text files.

A bad record (malformed line, missing title or text, bad date, duplicate id) is
reported with its file and line and skipped; every good record is kept. Only a file
that cannot be read at all raises :class:`IngestError`.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.jsonl").write_text('{"id": "1", "title": "T", "text": "x"}\\n{oops\\n')
>>> r = read_articles([d / "a.jsonl"])
>>> [a.id for a in r.articles], r.rejected[0].line
(['1'], 2)
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from indexer.article import FIELDS, REQUIRED, Article
from newsrank.errors import IngestError

JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
CSV_SUFFIXES = {".csv", ".tsv"}
TEXT_SUFFIXES = {".txt"}


@dataclass(frozen=True)
class Rejected:
    """A record that was skipped, and why."""

    path: str
    line: int  # 1-based line (JSONL, CSV row's first line) or 0 for whole files
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class IngestReport:
    """What was read: the good articles, and every skipped record with its reason."""

    articles: list[Article] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    _seen: dict[str, str] = field(default_factory=dict, repr=False)

    def add(self, article: Article, path: str, line: int = 0) -> None:
        """Keep ``article`` unless its id was seen before (then reject it, naming the first)."""
        where = f"{path}:{line}" if line else path
        first = self._seen.get(article.id)
        if first is not None:
            self.rejected.append(
                Rejected(path, line, f"duplicate id {article.id!r} (first at {first})")
            )
            return
        self._seen[article.id] = where
        self.articles.append(article)

    def add_record(
        self, record: object, mapping: Mapping[str, str], path: str, line: int = 0
    ) -> None:
        """Validate a raw record and keep it, or reject it with the reason."""
        if isinstance(record, Exception):
            self.rejected.append(Rejected(path, line, str(record)))
        elif not isinstance(record, dict):
            self.rejected.append(Rejected(path, line, "record is not an object with named fields"))
        else:
            try:
                self.add(make_article(record, mapping), path, line)
            except ValueError as exc:
                self.rejected.append(Rejected(path, line, str(exc)))

    def extend(self, other: IngestReport) -> None:
        """Merge another report in, checking its ids against ours."""
        self.rejected.extend(other.rejected)
        for article in other.articles:
            self.add(article, other._seen.get(article.id, "?"))


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """Turn ``["title=headline", "text=body"]`` into ``{"title": "headline", ...}``.

    >>> parse_mapping(["title=headline"])
    {'title': 'headline'}
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not theirs or ours not in FIELDS:
            raise ValueError(
                f"bad field mapping {pair!r}: write FIELD=COLUMN with FIELD one of "
                + ", ".join(FIELDS)
            )
        mapping[ours] = theirs
    return mapping


#: The date spellings :func:`normalize_date` reads (the API's description quotes it).
DATE_PATTERN = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$"


def normalize_date(value: str) -> str:
    """Return ``YYYY-MM-DD`` for common date spellings, or raise ValueError.

    >>> normalize_date("2017/2/7"), normalize_date("2020-03-09T10:00:00Z")
    ('2017-02-07', '2020-03-09')
    """
    value = value.strip()
    m = re.match(DATE_PATTERN, value)
    if not m:
        raise ValueError(f"bad date {value!r}: expected YYYY-MM-DD")
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError as exc:
        raise ValueError(f"bad date {value!r}: {exc}") from None


def make_article(raw: Mapping[str, object], mapping: Mapping[str, str]) -> Article:
    """Validate one raw record into an :class:`Article`; raise ValueError naming the problem."""
    values: dict[str, str | None] = {}
    for name in FIELDS:
        value = raw.get(mapping.get(name, name))
        if value is None or (isinstance(value, float) and value != value):
            text = ""
        elif isinstance(value, (str, int, float)):
            text = str(value).strip()
        else:
            raise ValueError(f"field {name!r} must be a string, got {type(value).__name__}")
        values[name] = text or None
    for name in REQUIRED:
        if not values[name]:
            column = mapping.get(name, name)
            raise ValueError(
                f"missing {name}" + (f" (column {column!r})" if column != name else "")
            )
    if values["date"]:
        values["date"] = normalize_date(values["date"])
    return Article(**values)  # type: ignore[arg-type]


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _base_suffix(path: Path) -> str:
    return Path(path.stem).suffix if path.suffix == ".gz" else path.suffix


def _json_records(path: Path) -> Iterator[tuple[int, object]]:
    """Yield (line, record) for JSON lines; a .json file holding an array yields its items."""
    with _open_text(path) as fh:
        text = fh.read()
    if _base_suffix(path) == ".json" and text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(
                f"{path}: not valid JSON ({exc}); use one JSON object per line"
            ) from exc
        yield from ((i + 1, item) for i, item in enumerate(items))
        return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, ValueError(f"malformed JSON ({exc.msg} at column {exc.colno})")


def _csv_records(path: Path) -> Iterator[tuple[int, object]]:
    delimiter = "\t" if _base_suffix(path) == ".tsv" else ","
    with _open_text(path) as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if not reader.fieldnames:
            raise IngestError(f"{path}: empty CSV file, expected a header row")
        line = reader.line_num + 1
        for row in reader:
            if None in row:
                yield (
                    line,
                    ValueError(
                        f"{len(row) - 1 + len(row[None])} columns, "
                        f"header has {len(reader.fieldnames)}"
                    ),
                )
            else:
                yield line, row
            line = reader.line_num + 1


def _text_record(path: Path, rel: Path) -> dict[str, str]:
    """A text file: the first non-empty line is the title, the rest the text."""
    body = path.read_text(encoding="utf-8", errors="replace").strip()
    title, _, text = body.partition("\n")
    record = {"id": rel.with_suffix("").as_posix(), "title": title, "text": text.strip()}
    if len(rel.parts) > 1:
        record["category"] = rel.parts[-2]
    return record


def read_articles(
    paths: Iterable[str | Path], mapping: Mapping[str, str] | None = None
) -> IngestReport:
    """Read every path (file or folder) into one report; ids must be unique across all."""
    mapping = dict(mapping or {})
    report = IngestReport()
    for path in map(Path, paths):
        for where, line, record in _records(path):
            report.add_record(record, mapping, where, line)
    return report


def _records(path: Path) -> Iterator[tuple[str, int, object]]:
    if path.is_dir():
        for file in sorted(path.rglob("*.txt")):
            yield str(file), 0, _text_record(file, file.relative_to(path))
        return
    if not path.is_file():
        raise IngestError(f"{path}: no such file or folder")
    suffix = _base_suffix(path)
    if suffix in JSON_SUFFIXES:
        records = _json_records(path)
    elif suffix in CSV_SUFFIXES:
        records = _csv_records(path)
    elif suffix in TEXT_SUFFIXES:
        records = iter([(0, _text_record(path, Path(path.name)))])
    else:
        raise IngestError(
            f"{path}: unknown format {suffix!r}; use .jsonl, .json, .csv, .tsv (optionally .gz), "
            ".txt or a folder of .txt files"
        )
    try:
        for line, record in records:
            yield str(path), line, record
    except (OSError, UnicodeError, csv.Error) as exc:
        raise IngestError(f"{path}: cannot read ({exc})") from exc
