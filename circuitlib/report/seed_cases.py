"""The earlier system's 18 published cases (data/seed/seed_cases.json, transcribed from the seed's
GENERATION_RESULTS.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from circuitlib.analysis.measure import measure
from circuitlib.analysis.spec import any_figures
from circuitlib.core.circuit import Circuit
from circuitlib.core.netlist import parse_netlist
from circuitlib.core.paths import SEED_CASES


@dataclass(frozen=True)
class SeedCase:
    example: int
    title: str
    target_f_hz: float
    target_q: float
    reported_f_hz: float
    reported_q: float
    reported_f_err_pct: float
    reported_q_err_pct: float
    edges: int
    netlist: str
    input_node: str
    output_node: str

    @property
    def circuit(self) -> Circuit:
        """The case's circuit. The seed's netlists begin with their source card and no title; SPICE reads line 1
        as the title (ngspice would drop that source), so a title line is put before them."""
        return parse_netlist(f"* seed example {self.example}\n{self.netlist}", self.output_node).circuit


def load_cases(path: Path = SEED_CASES) -> list[SeedCase]:
    return [SeedCase(**case) for case in json.loads(Path(path).read_text())["cases"]]


def load_categories(path: Path = SEED_CASES) -> dict[str, dict[str, float]]:
    return json.loads(Path(path).read_text())["categories"]


def remeasure(cases: list[SeedCase]) -> "pd.DataFrame":  # noqa: F821
    """One row per seed case: what the seed reported next to what its own netlist measures."""
    rows = []
    for case in cases:
        m = measure(case.circuit)
        fig = any_figures(case.circuit)
        rows.append({
            "example": case.example, "seed title": case.title,
            "seed f (Hz)": case.reported_f_hz, "seed Q": case.reported_q,
            "valid": m.valid, "problems": "; ".join(p.split(":")[0] for p in m.problems) or "-",
            "response": m.response, "order": m.order, "complex pair": any(im > 0 for _, im in m.poles),
            "fc (Hz)": m.fc_hz, "f0 (Hz)": m.f0_hz, "q_pole": m.q_pole,
            "pair f (Hz)": fig.f_hz, "pair q": fig.q,
        })
    return pd.DataFrame(rows).set_index("example")


# The seed's four categories, by example number. Averaging the seed's own per-case errors over these
# members reproduces its published category averages (tests/test_seed_cases.py checks it); example 16
# belongs to none of them.
CATEGORY_MEMBERS = {
    "Low-pass (Q\u22480.707)": (1, 2, 3, 4, 5, 15),
    "Band-pass (1<Q<5)": (6, 7, 8, 9),
    "High-Q (Q\u22655)": (10, 11, 12, 18),
    "Overdamped (Q<0.5)": (13, 14, 17),
}


def category_of(example: int) -> str:
    return next((name for name, members in CATEGORY_MEMBERS.items() if example in members), "uncategorized")
