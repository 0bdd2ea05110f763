"""The command line, run as a user runs it (subprocess) and through ``main``."""

import json
import os
import subprocess
import sys

import pytest

from newsrank.cli import main

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def run(*args, cwd=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=ENV, cwd=cwd)


def test_build_skips_bad_records_reports_them_and_exits_3(fixtures, tmp_path):
    out = tmp_path / "idx"
    proc = run(
        "-m",
        "newsrank",
        "index",
        "build",
        "--input",
        str(fixtures / "bad.jsonl"),
        str(fixtures / "news.jsonl"),
        "--index",
        str(out),
        "--json",
    )
    assert proc.returncode == 3, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["articles"] == 27 and summary["skipped"] == 4
    assert "bad.jsonl:2: malformed JSON" in proc.stderr
    assert "bad.jsonl:4: bad date" in proc.stderr
    assert "Batches" not in proc.stderr  # no progress bars in --json mode
    assert "DEBUG" not in proc.stderr  # bm25s logs at DEBUG unless told otherwise

    search = ("-m", "ranker", "OPEC cut", "--index", str(out), "--json", "-k", "2")
    proc = run(*search, "--rerank-depth", "0")  # the fused ranking alone
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["query"] == "OPEC cut" and data["results"][0]["id"] == "oil-2"
    assert "rerank" not in data["results"][0]["stages"]
    proc = run(*search)  # the shipped reranker on top
    assert proc.returncode == 0 and not proc.stderr, proc.stderr  # no loading chatter
    assert "rerank" in json.loads(proc.stdout)["results"][0]["stages"]


def test_strict_build_changes_nothing(fixtures, tmp_path):
    out = tmp_path / "idx"
    code = main(
        [
            "index",
            "build",
            "--input",
            str(fixtures / "bad.jsonl"),
            "--index",
            str(out),
            "--strict",
            "--json",
        ]
    )
    assert code == 1 and not out.exists()


def test_python_m_indexer_and_field_mapping(fixtures, tmp_path):
    out = tmp_path / "idx"
    proc = run(
        "-m",
        "indexer",
        "build",
        "--input",
        str(fixtures / "news.csv"),
        "--index",
        str(out),
        "--field",
        "id=story_id",
        "--field",
        "title=headline",
        "--field",
        "text=body",
        "--field",
        "date=published",
        "--field",
        "source=outlet",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["articles"] == 2


def test_search_cli_text_output_and_errors(index_dir, capsys):
    assert main(["search", "--index", str(index_dir), "Wimbledon cancelled", "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "Wimbledon cancelled for the first time since the war" in out and "page 1 of" in out
    assert main(["search", "--index", str(index_dir), "  "]) == 2
    assert "empty query" in capsys.readouterr().err
    assert main(["search", "--index", str(index_dir) + "-missing", "oil"]) == 1
    assert "no index at" in capsys.readouterr().err


def test_negative_torch_threads_is_a_clear_error(index_dir, capsys):
    assert main(["--torch-threads", "-1", "search", "--index", str(index_dir), "oil"]) == 1
    assert "torch threads must be 0 (torch's choice) or a positive count, got -1" in (
        capsys.readouterr().err
    )


def test_usage_errors(capsys, tmp_path):
    assert main(["index", "build", "--index", str(tmp_path / "i")]) == 2
    assert (
        main(
            [
                "index",
                "build",
                "--input",
                "x.jsonl",
                "--index",
                str(tmp_path / "i"),
                "--field",
                "headline",
            ]
        )
        == 2
    )
    with pytest.raises(SystemExit):
        main(["search"])


def test_search_cli_filters_by_entity_and_rejects_bad_ones(index_dir, capsys):
    args = ["search", "--index", str(index_dir), "--rerank-depth", "0", "--no-read"]
    assert main([*args, "oil", "--entity", "OPEC"]) == 2
    assert "TYPE=TEXT" in capsys.readouterr().err
    # the fixture index is not enriched: an entity filter matches nothing
    assert main([*args, "oil", "--entity", "ORG=OPEC", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == []


def test_enrich_rest_needs_an_index_built_with_the_tagger(index_dir, capsys):
    assert main(["index", "enrich-rest", "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err
    assert "built without the tagger" in err and "--no-enrich" in err
    assert not (index_dir / "fulltext-entities.sqlite").exists()  # nothing written


def test_output_into_a_closed_pipe_ends_quietly_with_sigpipes_status(tmp_path):
    """``newsrank ... | head``: no BrokenPipeError traceback, exit status 141."""
    import subprocess
    import sys

    script = tmp_path / "talk.py"
    script.write_text(
        "import argparse, sys\n"
        "from newsrank import cli\n"
        "def talk(args):\n"
        "    for i in range(200_000):\n"
        "        print('line', i)\n"
        "def parser(argv):\n"
        "    p = argparse.ArgumentParser()\n"
        "    p.set_defaults(func=talk, verbose=False, global_torch_threads=None)\n"
        "    return p\n"
        "cli.build_parser = parser\n"
        "sys.exit(cli.main([]))\n"
    )
    pipeline = (
        f"{sys.executable} {script} 2>{tmp_path / 'err'} | head -n 2; echo rc=${{PIPESTATUS[0]}}"
    )
    out = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, timeout=120)
    assert out.stdout.splitlines() == ["line 0", "line 1", "rc=141"]
    assert (tmp_path / "err").read_text() == ""
