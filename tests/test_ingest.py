from pathlib import Path

import pytest

from indexer.ingest import make_article, normalize_date, parse_mapping, read_articles
from newsrank.errors import IngestError


def test_jsonl_keeps_all_fields(fixtures):
    report = read_articles([fixtures / "news.jsonl"])
    assert len(report.articles) == 25 and not report.rejected
    oil = next(a for a in report.articles if a.id == "oil-1")
    assert oil.source == "Reuters" and oil.date == "2020-03-18" and oil.category == "business"
    assert oil.url == "https://news.example.org/oil-1"


def test_bad_records_are_reported_with_line_and_good_ones_kept(fixtures):
    report = read_articles([fixtures / "bad.jsonl"])
    assert [a.id for a in report.articles] == ["good-1", "good-2"]
    reasons = {r.line: r.reason for r in report.rejected}
    assert set(reasons) == {2, 3, 4, 5}
    assert "malformed JSON" in reasons[2]
    assert "missing title" in reasons[3]
    assert "bad date" in reasons[4]
    assert "duplicate id 'good-1'" in reasons[5] and "bad.jsonl:1" in reasons[5]
    assert all(r.path.endswith("bad.jsonl") for r in report.rejected)


def test_csv_with_field_mapping(fixtures):
    mapping = parse_mapping(
        ["id=story_id", "title=headline", "text=body", "date=published", "source=outlet"]
    )
    report = read_articles([fixtures / "news.csv"], mapping)
    assert [(a.id, a.source, a.date) for a in report.articles] == [
        ("c1", "Wire", "2021-02-01"),
        ("c2", "Wire", "2021-02-03"),
    ]


def test_csv_without_mapping_names_the_missing_column(fixtures):
    report = read_articles([fixtures / "news.csv"])
    assert not report.articles
    assert report.rejected[0].line == 2 and "missing id" in report.rejected[0].reason


def test_text_folder_uses_first_line_as_title_and_folder_as_category(fixtures):
    report = read_articles([fixtures / "textdir"])
    by_id = {a.id: a for a in report.articles}
    assert by_id["politics/a"].title == "Senate debates budget"
    assert by_id["politics/a"].text == "The senate debated the budget for hours."
    assert by_id["sport/b"].category == "sport"


def test_duplicate_ids_across_files(fixtures, tmp_path):
    copy = tmp_path / "copy.jsonl"
    copy.write_text((fixtures / "news.jsonl").read_text().splitlines()[0] + "\n")
    report = read_articles([fixtures / "news.jsonl", copy])
    assert len(report.articles) == 25
    assert len(report.rejected) == 1 and "duplicate id 'oil-1'" in report.rejected[0].reason


def test_unknown_format_and_missing_file_raise(tmp_path):
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(IngestError, match="unknown format"):
        read_articles([tmp_path / "x.xml"])
    with pytest.raises(IngestError, match="no such file"):
        read_articles([tmp_path / "nope.jsonl"])


def test_non_object_json_line_is_rejected(tmp_path: Path):
    path = tmp_path / "a.jsonl"
    path.write_text('[1, 2]\n{"id": "a", "title": "t", "text": "x"}\n')
    report = read_articles([path])
    assert [a.id for a in report.articles] == ["a"]
    assert report.rejected[0].line == 1


def test_dates_and_mapping_errors():
    assert normalize_date("2017/2/7") == "2017-02-07"
    with pytest.raises(ValueError, match="bad date"):
        normalize_date("2017-13-40")
    with pytest.raises(ValueError, match="FIELD=COLUMN"):
        parse_mapping(["headline"])
    with pytest.raises(ValueError, match="must be a string"):
        make_article({"id": "a", "title": ["x"], "text": "t"}, {})
