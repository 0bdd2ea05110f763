"""A normal (non-editable) install carries the shipped heads and searches with every one.

Builds a wheel of the checkout, installs it into a fresh virtual environment outside
the checkout, and runs the installed ``newsrank`` from another directory: the index
build labels with the topic head and the tagger, the search reranks and reads. The
new environment borrows the heavy dependencies (torch, transformers...) of the
running one through a ``.pth`` path entry instead of downloading them; the project's
own packages come only from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` directory of a fresh venv holding the newsrank wheel."""
    tmp = tmp_path_factory.mktemp("install")
    # build from a copy of the files git would commit: no stale build/ tree of the
    # checkout can leak into the wheel, and nothing is written into the checkout
    source = tmp / "source"
    listed = _run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot tell the project's files")
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = tmp / "dist"
    build = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(dist), str(source)],
        cwd=tmp,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("newsrank-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp
    )
    # the dependencies of the running environment, as a plain path entry (its .pth
    # files, the editable install's finder among them, are not processed)
    Path(site.stdout.strip(), "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    install = _run([*pip, "--no-deps", "--no-index", str(wheel)], cwd=tmp)
    assert install.returncode == 0, install.stderr
    return env_dir / "bin"


def test_the_wheel_carries_every_shipped_head(installed, tmp_path):
    probe = (
        "import json, heads, heads.registry as r\n"
        "print(json.dumps({'module': heads.__file__, 'dir': str(r.shipped_dir()),"
        " 'available': {n: r.is_available(n) for n in r.SHIPPED}}))"
    )
    out = _run([str(installed / "python"), "-c", probe], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    venv_dir = str(installed.parent)
    assert info["module"].startswith(venv_dir) and info["dir"].startswith(venv_dir)
    assert not info["module"].startswith(str(ROOT))
    assert all(info["available"].values()), info


def test_installed_newsrank_indexes_and_searches_with_every_head(installed, tmp_path):
    newsrank = str(installed / "newsrank")
    news = ROOT / "tests" / "fixtures" / "news.jsonl"
    index = tmp_path / "index"
    built = _run(
        [newsrank, "index", "build", "--input", str(news), "--index", str(index), "--json"],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    assert "is off" not in built.stderr
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["enrichment"]["topic"] == "topic-agnews"
    assert manifest["enrichment"]["tagger"] == "tagger"

    found = _run(
        [newsrank, "search", "--index", str(index), "who bought the oil company", "--json"],
        cwd=tmp_path,
    )
    assert found.returncode == 0, found.stderr
    assert "is off" not in found.stderr
    response = json.loads(found.stdout)
    top = response["results"][0]
    assert "rerank" in top["stages"]  # the reranker ran
    assert top["topic"] is not None and top["entities"]  # labelled by topic head and tagger
    assert "answers" in response and "read" in response["timings_ms"]  # the reader ran

    bbc = _run(
        [
            str(installed / "python"),
            "-c",
            "from heads.classifier import TextClassifier as T; "
            "print(T('topic-bbc').predict(['Chelsea won the league'])[0][0].label)",
        ],
        cwd=tmp_path,
    )
    assert bbc.returncode == 0, bbc.stderr
    assert bbc.stdout.strip() == "sports"
