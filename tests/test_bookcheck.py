"""The browser check fails on each kind of breakage a reader would see, planted in a tiny book built
the same way as the real one (Jupyter Book 1.x, warnings as errors are not used here so breakage can land)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from circuitlib.report import bookcheck

pytestmark = pytest.mark.skipif(not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()),
                                reason="chromium and chromium-driver are installed by `make setup`")

PAGES = {
    "intro.md": "# Tiny\n\nA clean page with [a good link](good.md).\n",
    "good.md": "# Good\n\n![ok](ok.png)\n",
    "broken_image.md": "# Broken image\n\n![missing](nothing-here.png)\n",
    "figure_repr.md": "# Repr\n\n```text\n<Figure size 640x480 with 1 Axes>\n```\n",
    "traceback.md": "# Traceback\n\n```text\nTraceback (most recent call last):\n  File x\n```\n",
    # a glue role that reached the reader as text (here through raw HTML, which MyST passes through)
    "glue.md": "# Glue\n\n<p>The value is {glue:text}`never_glued`.</p>\n",
    "dead_link.md": "# Dead\n\n<a href=\"nowhere.html\">dead link</a>\n",
}


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    for name, text in PAGES.items():
        (root / name).write_text(text)
    shutil.copy(Path(__file__).parents[1] / "figures" / "seed_example_1.png", root / "ok.png")
    (root / "_config.yml").write_text("title: tiny\nexecute:\n  execute_notebooks: 'off'\nonly_build_toc_files: true\n")
    chapters = "".join(f"  - file: {n[:-3]}\n" for n in PAGES if n != "intro.md")
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n{chapters}")
    jb = Path(sys.executable).parent / "jupyter-book"
    subprocess.run([str(jb), "build", str(root), "--quiet"], check=True, capture_output=True, timeout=300)
    html = root / "_build" / "html"
    (html / "orphan.html").write_text("<html><body><p>nobody links here</p></body></html>")
    return html


def test_each_planted_breakage_is_reported(tiny_book, tmp_path):
    problems = "\n".join(bookcheck.check(tiny_book, tmp_path / "shots"))
    assert "broken_image.html: image did not load" in problems
    assert "figure_repr.html: figure repr" in problems
    assert "traceback.html: Python traceback" in problems
    assert "glue.html: unresolved glue" in problems
    assert "dead_link.html: link to nowhere.html leads nowhere" in problems
    assert "orphan.html: built but not reachable" in problems
    for clean in ("intro.html", "good.html"):
        assert f"{clean}:" not in problems
    assert (tmp_path / "shots" / "good.png").stat().st_size > 0
