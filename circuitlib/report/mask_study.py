"""Designing to masks: a grid of masks drawn by a seed, designed through the API or the command line, each design
checked again by a solver that did not produce its figures.

`random_masks` draws the response, the band edges (through the lowpass-equivalent stopband ratio W_s, from tight to
loose), the ripple, the attenuation and the terminations. `scipy_orders` computes each family's minimum order with
scipy's `*ord` functions called here, so that the design layer's own mapping of a mask onto them is checked.
`cli_check` runs `python -m circuitlib design --json` in a fresh process and re-verifies the netlist it prints on
the exact nodal solver, read back from its text.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, field_validator
from scipy import signal

from circuitlib.analysis.mask import FilterMask, verify
from circuitlib.core.netlist import parse_netlist
from circuitlib.core.records import FILTER_RESPONSES
from circuitlib.designers.mask_design import MaskDesign, design, minimum_order_parts

TERMINATIONS = ((0.0, None), (50.0, 50.0), (600.0, 600.0), (75.0, 300.0))  # (source, load) ohm; None: open
SCIPY_ORD = {"butterworth": signal.buttord, "chebyshev1": signal.cheb1ord, "chebyshev2": signal.cheb2ord,
             "elliptic": signal.ellipord}


class MaskGrid(BaseModel, frozen=True):
    """A grid of masks: how many, the seed, and the ranges the draws come from (log-uniform unless said)."""

    count: int = Field(24, ge=1, le=100_000)
    seed: int = Field(0, ge=0)
    responses: tuple[str, ...] = FILTER_RESPONSES  # cycled in order
    ripple_db: tuple[float, float] = (0.1, 3.0)
    attenuation_db: tuple[float, float] = (20.0, 60.0)  # uniform
    stopband_ratio: tuple[float, float] = (1.15, 6.0)  # W_s, the lowpass-equivalent stopband edge: tight to loose
    fractional_bandwidth: tuple[float, float] = (0.05, 1.0)  # band filters: passband width over centre
    centre_hz: tuple[float, float] = (100.0, 1e7)
    terminations: tuple[tuple[float, float | None], ...] = TERMINATIONS  # cycled, offset from the responses

    @field_validator("responses")
    @classmethod
    def _responses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or set(value) - set(FILTER_RESPONSES):
            raise ValueError(f"responses must be among {', '.join(FILTER_RESPONSES)}")
        return value


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _band_edges(response: str, f0: float, bw: float, ratio: float, skew: float) -> tuple[tuple, tuple]:
    """Passband and stopband pairs of a band mask with geometric centre f0 and passband width bw (Hz), whose
    nearer stopband edge is at lowpass-equivalent ratio `ratio`; the other edge is moved by `skew` (>= 1) away from
    the transition band (bandpass: out, bandstop: towards the centre), so that masks are not all geometrically
    symmetric."""
    lo = -bw / 2 + math.sqrt(bw * bw / 4 + f0 * f0)
    passband = (lo, lo + bw)
    if response == "bandpass":
        hi_s = (ratio * bw + math.sqrt((ratio * bw) ** 2 + 4 * f0 * f0)) / 2  # (f^2 - f0^2) / (f bw) = ratio
        return passband, (f0 * f0 / hi_s / skew, hi_s)
    hi_s = (bw + math.sqrt(bw * bw + 4 * (ratio * f0) ** 2)) / (2 * ratio)  # f bw / (f^2 - f0^2) = ratio
    return passband, (f0 * f0 / hi_s, f0 + (hi_s - f0) / skew)  # the moved edge stays above the centre


def random_masks(grid: MaskGrid) -> list[FilterMask]:
    """`grid.count` masks from `grid.seed`: responses in turn, terminations in turn (offset by one per cycle of
    responses, so that every response meets every termination), the rest drawn."""
    rng = np.random.default_rng(grid.seed)
    masks = []
    for i in range(grid.count):
        response = grid.responses[i % len(grid.responses)]
        rs, rl = grid.terminations[(i + i // len(grid.responses)) % len(grid.terminations)]
        ripple = _log_uniform(rng, *grid.ripple_db)
        attenuation = max(float(rng.uniform(*grid.attenuation_db)), 2 * ripple)
        ratio = _log_uniform(rng, *grid.stopband_ratio)
        f0 = _log_uniform(rng, *grid.centre_hz)
        if response in ("lowpass", "highpass"):
            edges = (f0, f0 * ratio) if response == "lowpass" else (f0, f0 / ratio)
        else:
            bw = _log_uniform(rng, *grid.fractional_bandwidth) * f0
            edges = _band_edges(response, f0, bw, ratio, float(rng.uniform(1.0, 1.3)))
        masks.append(FilterMask(response, *edges, ripple, attenuation, rs, rl))
    return masks


def timed_design(mask: FilterMask) -> tuple[MaskDesign, float]:
    """The best design of `mask` (`design(mask, n=1)`: verified exactly and in ngspice) and the milliseconds it took
    where it ran, for mapping a grid of masks onto workers (`core.executors.mapped`)."""
    t0 = time.perf_counter()
    (best,) = design(mask, n=1)
    return best, 1e3 * (time.perf_counter() - t0)


def scipy_orders(mask: FilterMask) -> dict[str, int]:
    """The minimum order of each scipy family for `mask`, from scipy's `*ord(..., analog=True)` called on the mask's
    edges in rad/s."""
    wp, ws = 2 * math.pi * np.atleast_1d(mask.passband_hz), 2 * math.pi * np.atleast_1d(mask.stopband_hz)
    wp_arg, ws_arg = (wp[0], ws[0]) if wp.size == 1 else (wp.tolist(), ws.tolist())
    return {family: int(fn(wp_arg, ws_arg, mask.ripple_db, mask.attenuation_db, analog=True)[0])
            for family, fn in SCIPY_ORD.items()}


def cli_arguments(mask: FilterMask) -> list[str]:
    """The `design` command-line arguments that state `mask`."""
    edge = lambda b: ",".join(repr(float(f)) for f in np.atleast_1d(b))  # noqa: E731
    return ["--response", mask.response, "--passband", edge(mask.passband_hz), "--stopband", edge(mask.stopband_hz),
            "--ripple-db", repr(mask.ripple_db), "--attenuation-db", repr(mask.attenuation_db),
            "--source-ohm", repr(mask.source_ohm),
            "--load-ohm", "open" if mask.load_ohm is None else repr(mask.load_ohm)]


@dataclass(frozen=True)
class CliCheck:
    """One mask through the command line: what the command reported, and the independent re-verification."""

    exit_status: int
    reported_met: bool | None
    reported_margin_db: float | None
    family: str | None
    order: int | None
    parts: int | None
    recheck_met: bool | None  # the printed netlist, read back and verified on the exact nodal solver
    recheck_margin_db: float | None
    recheck_parts: int | None
    wall_s: float
    error: str | None = None


def cli_check(mask: FilterMask, timeout_s: float = 120.0) -> CliCheck:
    """Design `mask` with `python -m circuitlib design ... -n 1 --json` in a fresh process, then read the netlist it
    printed back from its text and verify it again on the exact nodal solver."""
    import time

    t0 = time.perf_counter()
    try:
        run = subprocess.run([sys.executable, "-m", "circuitlib", "design", *cli_arguments(mask), "-n", "1", "--json"],
                             capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return CliCheck(-1, None, None, None, None, None, None, None, None, timeout_s, f"no answer in {timeout_s:g} s")
    wall = time.perf_counter() - t0
    if run.returncode != 0:
        return CliCheck(run.returncode, None, None, None, None, None, None, None, None, wall, run.stderr.strip())
    (d,) = json.loads(run.stdout)
    parsed = parse_netlist(d["netlist"], output_node=d["output_node"])
    if parsed.node_names[1] != d["input_node"]:
        raise AssertionError(f"the netlist's source drives {parsed.node_names[1]}, not {d['input_node']}")
    again = verify(parsed.circuit, mask)
    parts = sum(name not in ("RS", "RL") for name in parsed.element_names)
    return CliCheck(0, d["verified"]["met"], d["verified"]["margin_db"], d["family"], d["order"], d["parts"],
                    again.met, again.margin_db, parts, wall)


def main(argv: list[str] | None = None) -> int:
    """`python -m circuitlib.report.mask_study --count N --seed S [--out CSV]`: N masks through the command line,
    each re-verified; prints the meet rate and writes one row per mask."""
    import argparse
    import dataclasses

    import pandas as pd
    from tqdm import tqdm

    from circuitlib.core import files

    ap = argparse.ArgumentParser(prog="python -m circuitlib.report.mask_study")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="CSV of one row per mask")
    args = ap.parse_args(argv)
    masks = random_masks(MaskGrid(count=args.count, seed=args.seed))
    rows = [mask.to_json() | dataclasses.asdict(cli_check(mask))
            | {"classical_min_parts": minimum_order_parts(mask),
               "scipy_order_parts": minimum_order_parts(mask, must_meet=False)}
            for mask in tqdm(masks, desc="masks", unit="mask")]
    table = pd.DataFrame(rows)
    ok = table["recheck_met"].fillna(False).astype(bool) & table["reported_met"].fillna(False).astype(bool)
    fewer = (table["recheck_parts"] <= table["classical_min_parts"]).sum()
    strict = (table["recheck_parts"] <= table["scipy_order_parts"]).sum()
    print(f"{int(ok.sum())} of {len(table)} masks met (reported in ngspice and re-verified), "
          f"{int(fewer)} with no more parts than the cheapest classical ladder at its lowest meeting order "
          f"({int(strict)} than any ladder at scipy's order, met or not), "
          f"{int((table['exit_status'] != 0).sum())} refused; median {table['wall_s'].median():.2f} s per command, "
          f"max |reported - recheck margin| {(table['reported_margin_db'] - table['recheck_margin_db']).abs().max():.2e} dB")
    if args.out:
        files.atomic_write_bytes(Path(args.out), table.to_csv(index=False).encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
