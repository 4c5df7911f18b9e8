"""The third-party deck corpus (tests/decks): its manifest, and ngspice's own AC result for a deck of it.

Shared by tests/test_corpus.py and the book's interoperability page (book/interop.ipynb).

`load_manifest()` reads `tests/decks/manifest.json` (`core.paths.DECK_MANIFEST`): one dict per deck with its file,
source repository, licence, `expect` (accept or refuse), `output_node`, `reason` and `features`.

`ngspice_ac(path, output_node)` runs the `ngspice` batch binary on a wrapper of the ORIGINAL deck text: a copy
of the deck in a temporary folder, and returns the node voltages ngspice writes. The wrapper keeps every byte of
the deck (decoded and re-encoded as Latin-1, so UTF-8, Latin-1 and Windows-1252 bytes reach ngspice
unchanged, and CRLF stays CRLF) except for these documented edits:

* analysis and output cards other than `.ac` (`.op .tran .dc .noise .pz .disto .sens .tf .four .fourier .print
  .plot .probe .probe64 .save .meas .measure`), with their `+` continuation lines, are commented out with a leading
  `*`: batch mode would run every analysis in the deck (a 400 ms transient at 0.5 us steps, Xyce-only `.print`
  expressions and `.measure AC_CONT` forms), and none of them changes the circuit or the `.ac` result;
* LTspice's `.backanno` (back-annotation for the schematic editor, in every LTspice export) is commented out the
  same way: ngspice 39 stops on it ("unimplemented control card - error") and runs nothing. circuitlib ignores
  it with a note;
* a source card without an AC part gets a continuation line `+ AC 1` (in ngspice the AC value of a DC, PULSE, PWL
  or SIN-only source is 0). circuitlib documents: "a deck whose only source has no AC part is simulated with that
  source as the AC input at 1 V", so this gives ngspice the same input;
* PSpice's two-value temperature coefficient `TC=a,b` on R/L/C cards is removed: ngspice 39 stops on that syntax,
  and a temperature coefficient does not change an AC analysis at the nominal temperature (circuitlib ignores it
  with a note);
* before the deck's `.end` (at the end of a deck without one): `.ac dec 20 1m 1g` when the deck has no `.ac` card
  of its own, then a `.control` block that runs the deck and writes `v(<output>)` and the source's phasor `V(+) - V(-)`
  (real and imaginary parts, 15 digits) with `wrdata`, and `quit 0`.

ngspice runs as `ngspice -b -n wrapper.cir` (batch, no user or local `.spiceinit`) with the temporary folder as
the working directory and HOME. Nothing here uses circuitlib's reader (only `core.paths`): the source card and the
`.ac` card are found by a few lines of text handling of their own, so a reader bug in circuitlib cannot leak into the
reference.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from circuitlib.core.paths import DECK_MANIFEST, DECKS

NGSPICE = shutil.which("ngspice")
DEFAULT_AC = ("dec", 20, 1e-3, 1e9)  # the sweep added to a deck without .ac: 1 mHz to 1 GHz, 20 per decade
DEFAULT_AC_CARD = ".ac dec 20 1m 1g"
DROPPED = {".op", ".tran", ".dc", ".noise", ".pz", ".disto", ".sens", ".tf", ".four", ".fourier", ".print", ".plot",
           ".probe", ".probe64", ".save", ".meas", ".measure", ".backanno"}
GROUND = {"0", "gnd"}
_TC_PAIR = re.compile(r"(?i)\btc\s*=\s*[^\s,()=]+\s*,\s*[^\s,()=]+")
_INLINE_COMMENT = re.compile(r";|//|(?<=[ \t])\$")
_WORDS = re.compile(r"[\s,=()]+")
TIMEOUT_S = 60


class NgspiceError(RuntimeError):
    """ngspice did not produce an AC result for the wrapper."""


@dataclass
class NgspiceAc:
    """ngspice's AC result as ngspice wrote it: frequencies, V(output), and V(+) - V(-) across the source."""

    f_hz: np.ndarray
    v_out: np.ndarray
    v_src: np.ndarray
    source: str  # the source card's name
    source_nodes: tuple[str, str]
    own_ac: bool  # the deck has an .ac card (else DEFAULT_AC was added)
    edits: list[str] = field(default_factory=list)  # what the wrapper changed, one line each
    wrapper: str = ""
    log: str = ""

    @property
    def mag_db(self) -> np.ndarray:
        """|V(output)| in dB (re 1 V), floored at -6000 dB."""
        return 20 * np.log10(np.maximum(np.abs(self.v_out), 1e-300))


@dataclass
class _Card:
    lines: list[int]  # physical line indices: the card's first line, then its '+' continuations
    text: str  # joined, comments removed


def _cards(lines: list[str]) -> tuple[list[_Card], int | None]:
    """Cards after the title line, up to `.end`; the index of the `.end` line (None without one)."""
    cards: list[_Card] = []
    for index in range(1, len(lines)):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("*"):
            continue
        text = _INLINE_COMMENT.split(stripped, 1)[0].strip()
        if not text:
            continue
        if text.startswith("+") and cards:
            cards[-1].lines.append(index)
            cards[-1].text += " " + text[1:]
            continue
        if text.split()[0].lower() == ".end":
            return cards, index
        cards.append(_Card([index], text))
    return cards, None


def _head(card: _Card) -> str:
    """The card's first word, lower case (`.ac`, `r1`, ...)."""
    return card.text.split()[0].lower()


def wrapper_text(deck_text: str, output_node: str, data_file: str) -> tuple[str, dict]:
    """The wrapper (see the module docstring) and what it found: source name and nodes, own .ac, edits."""
    newline = "\r\n" if "\r\n" in deck_text else "\n"
    lines = deck_text.split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    if lines and lines[-1] == "":
        lines.pop()
    cards, end = _cards(lines)
    edits: list[str] = []
    depth = 0
    sources: list[_Card] = []
    own_ac = False
    for card in cards:
        head = _head(card)
        if head == ".subckt":
            depth += 1
        elif head == ".ends":
            depth -= 1
        elif head in DROPPED:
            for index in card.lines:
                lines[index] = "*" + lines[index]
            edits.append(f"commented out {head} (line {card.lines[0] + 1})")
        elif head == ".ac":
            own_ac = True
        elif depth == 0 and head[0] == "v":
            sources.append(card)
        if head[:1] in ("r", "l", "c") and _TC_PAIR.search(card.text):
            for index in card.lines:
                lines[index] = _TC_PAIR.sub("", lines[index])
            edits.append(f"removed PSpice TC=a,b from {card.text.split()[0]} (line {card.lines[0] + 1})")
    if len(sources) != 1:
        raise NgspiceError(f"expected one top-level V source, found {len(sources)}")
    source = sources[0]
    words = [w for w in _WORDS.split(source.text) if w]
    name, node_pos, node_neg = words[0], words[1].lower(), words[2].lower()
    inserted: dict[int, list[str]] = {}
    if "ac" not in (w.lower() for w in words[3:]):
        inserted[source.lines[-1]] = ["+ AC 1"]
        edits.append(f"added AC 1 to {name} (it has no AC part)")
    added = ["* --- added by circuitlib.report.corpus: AC sweep and output of the corpus check ---"]
    if not own_ac:
        added.append(DEFAULT_AC_CARD)
        edits.append(f"added {DEFAULT_AC_CARD}")
    plus, minus = (f"v({n})" if n not in GROUND else "" for n in (node_pos, node_neg))
    probe_src = f"{plus}-{minus}" if minus else plus  # the source's phasor V(+) - V(-): '-v(1)' for 'V 0 1'
    if not probe_src:
        raise NgspiceError(f"{name} has both terminals at ground")
    added += [".control", "set wr_vecnames", "set wr_singlescale", "run", f"let vsource = {probe_src}",
              f"wrdata {data_file} v({output_node.lower()}) vsource", "quit 0", ".endc"]
    out: list[str] = []
    for index, line in enumerate(lines):
        if index == end:
            out += added
        out.append(line)
        out += inserted.get(index, [])
    if end is None:
        out += added
    info = {"source": name, "nodes": (node_pos, node_neg), "own_ac": own_ac, "edits": edits}
    return newline.join(out) + newline, info


def ngspice_ac(path: str | os.PathLike, output_node: str) -> NgspiceAc:
    """Run ngspice on the wrapper of the deck at `path` (see the module docstring) and read its AC result."""
    if NGSPICE is None:
        raise NgspiceError("the ngspice batch binary is not installed")
    deck_text = Path(path).read_bytes().decode("latin-1")  # byte-preserving: ngspice reads bytes
    with tempfile.TemporaryDirectory(prefix="corpus-ngspice-") as tmp:
        text, info = wrapper_text(deck_text, output_node, "ac.txt")
        Path(tmp, "wrapper.cir").write_bytes(text.encode("latin-1"))
        env = {**os.environ, "HOME": tmp}
        run = subprocess.run([NGSPICE, "-b", "-n", "wrapper.cir"], cwd=tmp, env=env, capture_output=True,
                             timeout=TIMEOUT_S, check=False)
        log = (run.stdout + run.stderr).decode("latin-1")
        data = Path(tmp, "ac.txt")
        if run.returncode != 0 or not data.exists():
            raise NgspiceError(f"ngspice exit status {run.returncode}, no AC data:\n{log[-3000:]}")
        rows = np.atleast_2d(np.loadtxt(data, skiprows=1))
    if rows.shape[1] != 5 or len(rows) < 2:
        raise NgspiceError(f"unexpected wrdata table of shape {rows.shape}:\n{log[-3000:]}")
    return NgspiceAc(rows[:, 0], rows[:, 1] + 1j * rows[:, 2], rows[:, 3] + 1j * rows[:, 4], info["source"],
                     info["nodes"], info["own_ac"], info["edits"], text, log)


_PROBE = re.compile(r"(?i)(?<![A-Za-z0-9_])(?:v|vm|vdb|vp|vr|vi|n)\(\s*\[?([^\s,()\[\]]+)\]?\s*\)")
_OUTPUT_CARDS = {".print", ".plot", ".probe", ".probe64", ".save", ".meas", ".measure"}


def probed_nodes(deck_text: str) -> list[str]:
    """The single node voltages (`v(x)`, `vm(x)`, ..., PSpice `n(x)` and `v([x])`) that the deck's output cards
    name, in order, lower case: the manifest's `output_node: null` means the one node so named."""
    lines = [line.rstrip("\r") for line in deck_text.split("\n")]
    cards, _ = _cards(lines)
    found: list[str] = []
    for card in cards:
        if _head(card) in _OUTPUT_CARDS:
            for node in _PROBE.findall(card.text):
                if node.lower() not in found and node.lower() not in GROUND:
                    found.append(node.lower())
    return found


def load_manifest(path: str | os.PathLike = DECK_MANIFEST) -> list[dict[str, Any]]:
    """The corpus manifest (`tests/decks/manifest.json`): one dict per deck, in the manifest's order."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "file" in e for e in entries):
        raise ValueError(f"{path}: not a list of deck entries")
    return entries


def deck_text(name: str, decks: str | os.PathLike = DECKS) -> str:
    """The bytes of deck `name` decoded as Latin-1 (byte-preserving, whatever the deck's own encoding)."""
    return (Path(decks) / name).read_bytes().decode("latin-1")


def natural_output(entry: dict[str, Any], decks: str | os.PathLike = DECKS) -> str:
    """The deck's output node: the manifest's `output_node`, or (null) the one node voltage its output cards name.
    ValueError when `output_node` is null and the output cards name no node or several."""
    given = entry.get("output_node")
    if given is not None:
        return str(given)
    named = probed_nodes(deck_text(entry["file"], decks))
    if len(named) != 1:
        raise ValueError(f"{entry['file']}: output_node is null, but the output cards name {named}")
    return named[0]
