"""Cached execution of the notebooks: a notebook reruns when its code, the package or anything upstream changes,
and not when only its prose does."""

import json

import nbformat
import pytest

from circuitlib.report import execute


def _notebook(path, code: str, prose: str = "# A page") -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(prose), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def pair(tmp_path):
    a, b = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    _notebook(a, "x = 1")
    _notebook(b, "y = 2")
    return a, b


def test_prose_does_not_change_a_key_and_code_changes_it_and_everything_after(pair):
    a, b = pair
    before = execute.keys([a, b])
    _notebook(a, "x = 1", prose="# The same code, other words")
    assert execute.keys([a, b]) == before
    _notebook(a, "x = 3")
    after = execute.keys([a, b])
    assert after[0] != before[0] and after[1] != before[1]  # b reads what a wrote: it reruns too
    _notebook(a, "x = 1")
    _notebook(b, "y = 5")
    last = execute.keys([a, b])
    assert last[0] == before[0] and last[1] != before[1]


def test_a_second_run_keeps_what_did_not_change(pair, tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(execute, "stamp_path", lambda nb: tmp_path / "cache" / (nb.name + ".json"))
    a, b = pair
    assert [r["state"] for r in execute.run([a, b])] == ["executed", "executed"]
    assert nbformat.read(a, as_version=4).metadata["papermill"]["duration"] > 0  # papermill ran it
    assert [r["state"] for r in execute.run([a, b])] == ["cached", "cached"]
    _notebook(b, "y = 7")
    assert [r["state"] for r in execute.run([a, b])] == ["cached", "executed"]
    assert [r["state"] for r in execute.run([a, b], force=True)] == ["executed", "executed"]
    assert json.loads((tmp_path / "cache" / "b.ipynb.json").read_text())["state"] == "executed"


def test_a_failing_notebook_stops_the_sequence_without_a_stamp(pair, tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(execute, "stamp_path", lambda nb: tmp_path / "cache" / (nb.name + ".json"))
    a, b = pair
    _notebook(a, "raise ValueError('broken')")
    with pytest.raises(SystemExit, match="a.ipynb failed"):
        execute.run([a, b])
    assert not (tmp_path / "cache" / "a.ipynb.json").exists()
    assert not (tmp_path / "cache" / "b.ipynb.json").exists()
