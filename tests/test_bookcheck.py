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
    "warning.md": "# Warning\n\n```text\nTqdmWarning: IProgress not found. Please update jupyter and ipywidgets.\n```\n",
    "abs_path.md": "# Path\n\nRead from /home/builder/repo/.venv/lib/python3.11/site-packages/tqdm/std.py.\n",
    "relative_path.md": "# Relative\n\nRun `.venv/bin/python -m circuitlib bench` from the repository.\n",
    "shrunk.md": "# Shrunk\n\n```{image} ok.png\n:width: 120px\n```\n",
}


def _outputs_notebook() -> dict:
    """A page whose stored outputs have a stderr stream, a table cell of nan, and a table whose '<' was not escaped
    (its plain text says 'Band-pass (1<Q<5)', its HTML loses 'Q<5)')."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Outputs"), nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="something went to stderr\n"),
        nbformat.v4.new_output("execute_result", data={
            "text/plain": "       err\nA        nan",
            "text/html": "<table><tr><th></th><th>err</th></tr><tr><th>A</th><td>nan</td></tr></table>"},
            execution_count=1),
        nbformat.v4.new_output("execute_result", data={
            "text/plain": "                    err\nBand-pass (1<Q<5)   0.1",
            "text/html": "<table><tr><th></th><th>err</th></tr><tr><th>Band-pass (1<Q<5)</th><td>0.1</td></tr></table>"},
            execution_count=2)])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    for name, text in PAGES.items():
        (root / name).write_text(text)
    import nbformat

    nbformat.write(_outputs_notebook(), root / "outputs.ipynb")
    shutil.copy(Path(__file__).parents[1] / "figures" / "seed_example_1.png", root / "ok.png")  # 711 px wide
    (root / "_config.yml").write_text("title: tiny\nexecute:\n  execute_notebooks: 'off'\nonly_build_toc_files: true\n")
    chapters = "".join(f"  - file: {Path(n).stem}\n" for n in [*PAGES, "outputs.ipynb"] if n != "intro.md")
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
    assert "warning.html: warning in the page text: 'TqdmWarning: '" in problems
    assert "abs_path.html: absolute path in the page text" in problems
    assert "shrunk.html: image shrunk to unreadable size" in problems
    assert "outputs.html: table cells that read nan" in problems
    assert "outputs.html: 1 stderr output(s) published" in problems
    assert "outputs.html: table text missing from the page: 'Band-pass (1<Q<5)'" in problems
    for clean in ("intro.html", "good.html", "relative_path.html"):
        assert f"{clean}:" not in problems
    assert (tmp_path / "shots" / "good.png").stat().st_size > 0
