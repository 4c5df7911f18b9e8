"""The command line: measure, simulate, generate, train, bench. JSON on request; bad input prints one line on
stderr and exits with status 2, never a traceback.

The model-based commands import torch and torch-geometric (about 4 s) only when they run, so that `measure`
and `simulate` start quickly."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from circuitlib.analysis.measure import measure
from circuitlib.analysis.spec import RESPONSES
from circuitlib.core.config import parse_config
from circuitlib.core.errors import CircuitlibError, NetlistError
from circuitlib.core.netlist import AcSweep, Parsed, read_netlist_file
from circuitlib.core.paths import DATASET
from circuitlib.core.records import FILTER_RESPONSES
from circuitlib.sim.ac import ENGINES, simulate
from circuitlib.synthesis.values import ESERIES

EXIT_BAD_INPUT = 2
EXPORTS = ("ltspice", "kicad", "touchstone", "svg")  # report.export.FORMATS, named here so startup stays light


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise CircuitlibError(f"{self.prog}: {message}")


def _sweep(args: argparse.Namespace, from_file: AcSweep | None) -> AcSweep:
    base = from_file or AcSweep()
    given = (args.fstart, args.fstop, args.ppd)
    sweep = base if given == (None, None, None) else AcSweep(
        "dec", args.ppd or 200, args.fstart or 1.0, args.fstop or 1e6)
    if not (0 < sweep.fstart_hz < sweep.fstop_hz and math.isfinite(sweep.fstop_hz) and 0 < sweep.points <= 10_000):
        raise CircuitlibError("need 0 < fstart < fstop (finite) and 0 < ppd <= 10000")
    return sweep


def _fmt(value) -> str:
    if value is None:
        return "none"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def cmd_measure(args: argparse.Namespace) -> int:
    parsed = _read_deck_file(args)
    m = measure(parsed.circuit)
    if args.json:
        print(json.dumps(m.to_json() | {"notes": parsed.notes}))
        return 0
    for note in parsed.notes:
        print(f"note: {note}")
    print(f"valid: {'yes' if m.valid else 'no'}")
    for p in m.problems:
        print(f"  problem {p}")
    for key in ("response", "fc_hz", "f0_hz", "q", "q_pole", "order"):
        why = f"  ({m.absent[key]})" if key in m.absent and getattr(m, key) is None else ""
        print(f"{key}: {_fmt(getattr(m, key))}{why}")
    if m.multi_band:
        print("multi-band: the gain crosses its -3 dB level more often than its class implies; the figures are read "
              "next to the passband (or around the peak or the deepest notch)")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    parsed = _read_deck_file(args)
    if args.s_params:
        return _print_s_params(args, parsed)
    result = simulate(parsed.circuit, _sweep(args, parsed.ac), engine=args.engine)
    f_hz, h = result.f_hz, result.h
    if args.json:
        print(json.dumps({"engine": args.engine, "f_hz": f_hz.tolist(), "re": h.real.tolist(), "im": h.imag.tolist(),
                          "notes": parsed.notes}))
        return 0
    for note in parsed.notes:
        print(f"* note: {note}")
    print("f_hz\tmag_db\tphase_deg")
    mag_db = 20 * np.log10(np.maximum(np.abs(h), 1e-300))
    for f, m, ph in zip(f_hz, mag_db, np.degrees(np.angle(h))):
        print(f"{f:.6g}\t{m:.6f}\t{ph:.4f}")
    return 0


def _print_s_params(args: argparse.Namespace, parsed: Parsed) -> int:
    """S21 and S11 in dB of a deck's filter between its source and load resistors (nodal solver)."""
    from circuitlib.report.export import s_parameters, two_port

    tp = two_port(parsed.circuit)
    f_hz = _sweep(args, parsed.ac).frequencies_hz()
    s = s_parameters(parsed.circuit, f_hz)
    s21_db, s11_db = (20 * np.log10(np.maximum(np.abs(s[:, i, 0]), 1e-300)) for i in (1, 0))
    if args.json:
        print(json.dumps({"engine": "mna", "rs_ohm": tp.rs_ohm, "rl_ohm": tp.rl_ohm, "f_hz": f_hz.tolist(),
                          "s21_db": s21_db.tolist(), "s11_db": s11_db.tolist(), "notes": parsed.notes}))
        return 0
    for note in parsed.notes:
        print(f"* note: {note}")
    print(f"* S-parameters between RS = {tp.rs_ohm:g} ohm and RL = {tp.rl_ohm:g} ohm (nodal solver)")
    print("f_hz\ts21_db\ts11_db")
    for f, a, b in zip(f_hz, s21_db, s11_db):
        print(f"{f:.6g}\t{a:.6f}\t{b:.6f}")
    return 0


def _check_export(args: argparse.Namespace, unterminated: str | None) -> None:
    """Refuse an export request that cannot be met before any design work; `unterminated` says why S-parameters
    are undefined for these designs (None: they are defined)."""
    if (args.export is None) != (args.export_path is None):
        raise CircuitlibError("--export and --export-path go together: --export ltspice|kicad|touchstone|svg "
                              "--export-path FILE")
    if args.export == "touchstone" and unterminated:
        raise CircuitlibError(f"--export touchstone: {unterminated}")
    if args.export_path is not None and Path(args.export_path).is_dir():
        raise CircuitlibError(f"--export-path {args.export_path} is a folder: name the file to write")


def _write_export(args: argparse.Namespace, circuit, sweep: AcSweep, title: str) -> None:
    """Write the best design as `--export` to `--export-path` atomically and say where (on stderr with --json)."""
    from circuitlib.core.files import atomic_write_bytes
    from circuitlib.report.export import render

    text = render(args.export, circuit, sweep, title)
    try:
        atomic_write_bytes(Path(args.export_path), text.encode("utf-8"))
    except OSError as exc:
        raise CircuitlibError(f"cannot write {args.export_path}: {exc.strerror or exc}") from None
    print(f"wrote the best design as {args.export} to {args.export_path}", file=sys.stderr if args.json else sys.stdout)


def cmd_generate(args: argparse.Namespace) -> int:
    _check_export(args, "the (f, Q) designs are driven by an ideal source into an open output, so S-parameters are "
                        "undefined (design --source-ohm R --load-ohm R makes terminated ladders)")
    from circuitlib.designers.generate import generate  # torch: loaded only for the model commands

    designs = generate(args.response, args.f, args.q, n=args.n, method=args.method, seed=args.seed,
                       build=_generate_build(args))
    if args.json:
        print(json.dumps([d.to_json() for d in designs]))
    else:
        for d in designs:
            status = "meets" if d.met(0.01) else "does NOT meet"
            print(f"* {d.method}: {status} the specification at 1% "
                  f"(f error {_fmt(d.f_err)}, q error {_fmt(d.q_err)}, {d.latency_ms:.0f} ms)")
            print("\n".join(_describe_build(d)))
            print(d.to_json()["netlist"])
    if args.export:
        _write_export(args, designs[0].circuit, AcSweep("dec", 100, args.f / 100, args.f * 100),
                      f"circuitlib {designs[0].method} {args.response} f = {args.f:g} Hz")
    if args.min_yield is not None and not designs[0].reaches_yield:
        from circuitlib.designers.generate import YIELD_POOL

        print(f"no design reaches yield {args.min_yield:g}: the best of up to {YIELD_POOL} {args.method} candidates "
              f"yields {designs[0].yield_report.fraction:.3f}", file=sys.stderr)
        return 1
    return 0


def _percent(text: str, name: str) -> float:
    """'5%' or '0.05' as a fraction."""
    try:
        value = float(text[:-1]) / 100 if text.strip().endswith("%") else float(text)
    except ValueError:
        raise CircuitlibError(f"--{name} must read like 5% or 0.05, not {text!r}") from None
    return value


def _generate_build(args: argparse.Namespace):
    """The buildable-design options of `generate`: standard values, tolerance yield, yield target, sensitivity."""
    from circuitlib.analysis.tolerance import parse_tolerance
    from circuitlib.designers.generate import Buildable

    if args.tolerance is None and args.min_yield is not None:
        raise CircuitlibError("--min-yield needs --tolerance (for example --tolerance 5%)")
    tol = None if args.tolerance is None else parse_tolerance(args.tolerance, distribution=args.distribution,
                                                              samples=args.samples, seed=args.seed)
    return Buildable(args.eseries, tol, _percent(args.within, "within"), args.min_yield, args.sensitivity)


def _describe_build(d) -> list[str]:
    """The yield and sensitivity lines of an (f, Q) design, where asked for."""
    lines = []
    y = d.yield_report
    if y is not None:
        blamed = ", ".join(f"{name} ({k})" for name, k in y.top_failing_parts) or "none"
        lines.append(f"  yield {y.fraction:.3f} (95% {y.ci95[0]:.3f}-{y.ci95[1]:.3f}) with f and q within "
                     f"{100 * y.within:g}% at {y.tolerance.label()} {y.tolerance.distribution}, {y.tolerance.samples} "
                     f"samples, seed {y.tolerance.seed}; worst error {100 * y.worst_error:.2f}%; most often "
                     f"failing: {blamed}")
    if d.sensitivity is not None:
        top = sorted(d.sensitivity, key=lambda p: -max(abs(p.f or 0.0), abs(p.q or 0.0)))[:6]
        lines.append("  sensitivity, % per %: " + ", ".join(
            f"{p.name} f {p.f:+.4f}" + ("" if p.q is None else f" q {p.q:+.4f}") for p in top))
    return lines + [f"  note: {note}" for note in d.notes]


def _edges(text: str, name: str) -> float | tuple[float, float]:
    """'1000' or '900,1100' (Hz)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise CircuitlibError(f"--{name} must be a frequency in Hz or a pair lo,hi, not {text!r}") from None
    return values[0] if len(values) == 1 else values


def _load(text: str | None) -> float | None:
    if text is None or text.lower() == "open":
        return None
    try:
        return float(text)
    except ValueError:
        raise CircuitlibError(f"--load-ohm must be a resistance in ohm or 'open', not {text!r}") from None


def _build_options(args: argparse.Namespace) -> dict:
    """The buildable-design options of `design`: tolerance, yield target, part losses, sensitivity."""
    from circuitlib.analysis.tolerance import parse_tolerance
    from circuitlib.core.lossy import Losses

    out: dict = {"sensitivity": args.sensitivity}
    if args.tolerance is not None:
        out["tolerance"] = parse_tolerance(args.tolerance, distribution=args.distribution, samples=args.samples,
                                           seed=args.seed)
    elif args.min_yield is not None:
        raise CircuitlibError("--min-yield needs --tolerance (for example --tolerance 5%)")
    out["min_yield"] = args.min_yield
    if args.inductor_q is not None or args.capacitor_esr is not None:
        out["losses"] = Losses(args.inductor_q, args.q_freq_hz, args.capacitor_esr)
    elif args.q_freq_hz is not None:
        raise CircuitlibError("--q-freq-hz needs --inductor-q")
    return out


def _search_options(args: argparse.Namespace):
    """The search's configuration from --budget, --proposals and --seed (None for a classical design)."""
    from circuitlib.designers.mask_search import search_config

    if args.method == "classical":
        for flag in ("budget", "proposals"):
            if getattr(args, flag) is not None:
                raise CircuitlibError(f"--{flag} applies to the searching methods (search, generative, knn)")
        return None
    given = {k: getattr(args, k) for k in ("budget", "proposals") if getattr(args, k) is not None}
    return search_config(seed=args.seed, **given)


def _describe(d) -> list[str]:
    r = d.verified or d.nodal
    what = f"{d.family} order {d.order}, {d.form}" if d.method == "classical" else \
        f"{d.method} topology{'' if d.novel is None else (' (novel)' if d.novel else ' (from the training set)')}"
    lines = [f"* {what}: {d.parts} parts ({d.inductors} L), "
             f"{'meets' if r.met else 'does NOT meet'} the mask in {r.engine} (margin {r.margin_db:.3f} dB; "
             f"passband {r.pass_min_db:.3f} to {r.pass_max_db:.3f} dB, stopband <= {r.stop_max_db:.2f} dB)"]
    y = d.yield_report
    if y is not None:
        blamed = ", ".join(f"{name} ({k})" for name, k in y.top_failing_parts) or "none"
        lines.append(f"  yield {y.fraction:.3f} (95% {y.ci95[0]:.3f}-{y.ci95[1]:.3f}) at {y.tolerance.label()} "
                     f"{y.tolerance.distribution}, {y.tolerance.samples} samples, seed {y.tolerance.seed}; worst "
                     f"margin {y.worst_margin_db:.3f} dB; most often failing: {blamed}")
    if d.sensitivity is not None:
        top = sorted(d.sensitivity, key=lambda p: -abs(p.d_margin_db_per_pct))[:4]
        lines.append("  margin sensitivity (dB per +1%): "
                     + ", ".join(f"{p.name} {p.d_margin_db_per_pct:+.4f}" for p in top))
    lines += [f"  note: {note}" for note in d.notes]
    return lines


def cmd_design(args: argparse.Namespace) -> int:
    from circuitlib.analysis.mask import FilterMask
    from circuitlib.designers.mask_design import design

    mask = FilterMask(args.response, _edges(args.passband, "passband"), _edges(args.stopband, "stopband"),
                      args.ripple_db, args.attenuation_db, args.source_ohm, _load(args.load_ohm))
    _check_export(args, None if mask.source_ohm > 0 and mask.load_ohm is not None else
                  "S-parameters of a design with an ideal source or an open load are undefined: give --source-ohm "
                  "and --load-ohm")
    designs = design(mask, method=args.method, n=args.n, eseries=args.eseries, family=args.family, form=args.form,
                     search=_search_options(args), **_build_options(args))
    missed = args.min_yield is not None and not designs[0].reaches_yield
    if args.json:
        print(json.dumps([d.to_json() for d in designs]))
    else:
        for d in designs:
            print("\n".join(_describe(d)))
            print(d.to_json()["netlist"])
    if args.export:
        best = designs[0]
        _write_export(args, best.circuit, mask.sweep(),
                      f"circuitlib {best.family} order {best.order} {best.form} {mask.response}"
                      if best.method == "classical" else f"circuitlib searched {mask.response}")
    if args.method != "classical" and not designs[0].met:
        print("the search found no design that meets the mask: the closest is listed", file=sys.stderr)
        return 1
    if missed:
        best = designs[0].yield_report
        print(f"no design reaches yield {args.min_yield:g}: the best found yields "
              f"{best.fraction:.3f} (orders up to the minimum + 2 tried)" if best else
              f"no design reaches yield {args.min_yield:g}: none meets the mask", file=sys.stderr)
        return 1
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from circuitlib.report.bench import run  # torch: loaded only for the model commands

    for name in ("circuits", "specs", "graphs", "masks"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise CircuitlibError(f"--{name} must be a positive integer")
    out = run(args.quick, Path(args.dataset) if args.dataset else DATASET, args.seed,
              (args.circuits, args.specs, args.graphs, args.masks), with_curves=args.curves)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"simulation, {out['circuits']} circuits x {out['sweep_points']} points (1 Hz to 1 MHz, 200/decade):")
    print(f"  ngspice {out['ngspice_circuits_per_s']:.0f} circuits/s, nodal solver {out['mna_circuits_per_s']:.0f}"
          f" circuits/s: {out['mna_vs_ngspice_throughput']:.1f}x, max rel disagreement"
          f" {out['mna_vs_ngspice_max_rel_err']:.1e}")
    print(f"  order-10 ladders, {out['order10_circuits']} circuits: ngspice {out['order10_ngspice_circuits_per_s']:.0f}"
          f" circuits/s, nodal solver {out['order10_mna_circuits_per_s']:.0f} circuits/s:"
          f" {out['order10_mna_vs_ngspice_throughput']:.1f}x, max rel disagreement"
          f" {out['order10_mna_vs_ngspice_max_rel_err']:.1e}")
    print(f"generation, {out['generate_specs']} specifications: refined {out['generate_refined_median_ms']:.0f} ms,"
          f" knn {out['generate_knn_median_ms']:.0f} ms median ({out['generate_refined_vs_knn_latency']:.1f}x)")
    print(f"mask design, {out['mask_design_masks']} masks: best classical design verified in ngspice in"
          f" {out['mask_design_median_ms']:.0f} ms median, {out['mask_design_max_ms']:.0f} ms worst; exact verification"
          f" takes {out['mask_verify_mna_vs_ngspice_time']:.2f}x the time of ngspice's")
    print(f"mask verification, {out['mask_verify_masks']} designs in one batch: {out['masks_verified_per_s']:.0f} masks/s"
          f" against ngspice's {out['ngspice_masks_verified_per_s']:.0f} ({out['mask_verify_vs_ngspice']:.1f}x);"
          f" largest margin difference {out['mask_verify_max_margin_diff_db']:.1e} dB")
    print(f"Monte Carlo yield, order-{out['yield_order']} ladder: {out['yield_samples']} samples in"
          f" {out['yield_s']:.2f} s, {out['yield_samples_per_s']:.0f} samples/s against ngspice's"
          f" {out['ngspice_yield_samples_per_s']:.0f} ({out['yield_vs_ngspice_throughput']:.0f}x); largest margin"
          f" difference {out['yield_vs_ngspice_max_margin_diff_db']:.1e} dB")
    print(f"training: {out['train_graphs_per_s']:.0f} graphs/s")
    if out["design_generative_median_ms"] is None:
        print(f"generative mask design: not measured ({out['null_reasons']['design_generative_median_ms']})")
    else:
        print(f"mask design by search, {out['design_search_masks']} masks: generative (prior, optimised, verified)"
              f" {out['design_generative_median_ms'] / 1e3:.1f} s median, the same search without a model"
              f" {out['design_search_median_ms'] / 1e3:.1f} s, classical {out['mask_design_median_ms']:.0f} ms"
              f" ({out['design_generative_vs_classical_latency']:.0f}x classical's time)")
    for axis, rows in out.get("curves", {}).items():
        size = next(iter(rows[0]))
        print(f"cost against {axis} ({size}: nodal solver s, ngspice s): " + ", ".join(
            f"{r[size]}: {r['mna_s']:.3g}, " + ("-" if r["ngspice_s"] is None else f"{r['ngspice_s']:.3g}") for r in rows))
    print(f"machine: {out['machine']}; GPU: {out['gpu'] or 'none'}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from circuitlib.learn.dataset import load_records, verify_manifest  # torch: loaded only for the model commands
    from circuitlib.learn.distributed import run_distributed
    from circuitlib.learn.training import TrainConfig, resolve_device

    resolve_device(args.device)  # a missing GPU is reported before anything is loaded
    try:
        groups = tuple(int(g) for g in args.latent.split(","))
    except ValueError:
        raise CircuitlibError(f"--latent must be comma-separated integers, not {args.latent!r}") from None
    cfg = parse_config(TrainConfig, model={"latent_groups": groups, "dim": args.dim, "conditional": args.conditional,
                              "prototype": args.conditional},
                       weights={"kl": args.kl}, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                       threads=args.threads)
    folder = Path(args.dataset) if args.dataset else DATASET
    manifest = verify_manifest(folder)
    out = run_distributed(cfg, load_records(folder / manifest["records"]), manifest["sha256"], Path(args.out),
                          device=args.device)
    if out is not None:
        print(json.dumps(out))
    return 0


def _deck_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="SPICE deck, read as ngspice reads it")
    p.add_argument("--out", help="output node name (default: the one node voltage the deck's output cards name; "
                                 "with --subckt, its second pin)")
    p.add_argument("--subckt", help="read the bare .subckt NAME (pins: in out [ref]) instead of a full deck")
    p.add_argument("--source-ohm", type=float, help="with --subckt: source resistance (default: ideal source)")
    p.add_argument("--load-ohm", type=float, help="with --subckt: load resistance (default: open output)")


def _read_deck_file(args: argparse.Namespace) -> Parsed:
    if args.subckt is None and (args.source_ohm is not None or args.load_ohm is not None):
        raise NetlistError("--source-ohm and --load-ohm terminate a bare --subckt; a full deck has its own")
    return read_netlist_file(args.file, args.out, subckt=args.subckt, source_ohm=args.source_ohm,
                             load_ohm=args.load_ohm)


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--export", choices=EXPORTS, help="also write the best design as an LTspice schematic, a KiCad "
                   "netlist, Touchstone S-parameters or an SVG drawing")
    p.add_argument("--export-path", help="the file --export writes (atomically)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m circuitlib", description="Measure, simulate and generate RLC filter circuits.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    m = sub.add_parser("measure", help="validity, response class, fc, f0, q, q_pole, poles and zeros")
    _deck_arguments(m)
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_measure)
    s = sub.add_parser("simulate", help="AC sweep with ngspice or the nodal solver")
    _deck_arguments(s)
    s.add_argument("--engine", choices=ENGINES, default="ngspice")
    s.add_argument("--fstart", type=float)
    s.add_argument("--fstop", type=float)
    s.add_argument("--ppd", type=int, help="points per decade")
    s.add_argument("--s-params", action="store_true", help="S21 and S11 in dB between the deck's source resistor "
                   "and load resistor (nodal solver)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_simulate)
    g = sub.add_parser("generate", help="design circuits that meet a specification")
    g.add_argument("--response", required=True, choices=RESPONSES)
    g.add_argument("--f", type=float, required=True, help="fc (low/highpass) or f0 (band filters), Hz")
    g.add_argument("--q", type=float, help="pole Q (low/highpass) or f0/BW (band filters)")
    g.add_argument("--method", default="refined", help="knn, decoded, conditional, refined (default) or analytic")
    g.add_argument("-n", type=int, default=1)
    g.add_argument("--eseries", choices=ESERIES, help="put every part at a standard value of this series")
    g.add_argument("--seed", type=int, default=0, help="seed of the model's draws and of the yield's samples")
    g.add_argument("--tolerance", help="part tolerance for the yield: 5%%, or per kind R=1%%,C=5%%,L=10%%")
    g.add_argument("--distribution", default="normal", choices=("normal", "uniform"),
                   help="normal: sigma = tol/3 truncated at +-tol (default); uniform on +-tol")
    g.add_argument("--samples", type=int, default=1000, help="Monte Carlo samples of the yield (default 1000)")
    g.add_argument("--within", default="5%", help="a build passes when its f and q are this close to the "
                                                  "specification (default 5%%)")
    g.add_argument("--min-yield", type=float, help="return the cheapest designs whose yield reaches this (0-1)")
    g.add_argument("--sensitivity", action="store_true", help="sensitivity of f and q to each part (autograd)")
    g.add_argument("--json", action="store_true")
    _export_arguments(g)
    g.set_defaults(func=cmd_generate)
    d = sub.add_parser("design", help="design ladders that meet a filter mask (classical synthesis, verified)")
    d.add_argument("--response", required=True, choices=FILTER_RESPONSES)
    d.add_argument("--passband", required=True, help="passband edge in Hz, or lo,hi for band filters")
    d.add_argument("--stopband", required=True, help="stopband edge in Hz, or lo,hi for band filters")
    d.add_argument("--ripple-db", type=float, required=True, help="largest passband deviation from G_ref, dB")
    d.add_argument("--attenuation-db", type=float, required=True, help="least stopband attenuation re G_ref, dB")
    d.add_argument("--source-ohm", type=float, default=0.0, help="source resistance (0: ideal source)")
    d.add_argument("--load-ohm", help="load resistance, or 'open' (default)")
    d.add_argument("--method", default="classical",
                   help="classical (synthesis, the default); or a search whose values are optimised and verified: "
                        "search (random topologies, no model), generative (the mask-conditioned prior), knn (the "
                        "nearest training pairs)")
    d.add_argument("--budget", type=int, help="search: exact verifications after optimisation (default 16)")
    d.add_argument("--proposals", type=int, help="search: topologies proposed and optimised (default 48)")
    d.add_argument("--family", help="butterworth, chebyshev1, chebyshev2, elliptic or bessel (default: all)")
    d.add_argument("--form", help="min-inductor or min-capacitor (default: both)")
    d.add_argument("-n", type=int, default=3, help="how many of the best designs")
    d.add_argument("--eseries", choices=ESERIES, help="put every filter part at a standard value of this series")
    d.add_argument("--tolerance", help="part tolerance for the yield: 5%%, or per kind R=1%%,C=5%%,L=10%%")
    d.add_argument("--distribution", default="normal", choices=("normal", "uniform"),
                   help="normal (sigma = tol/3, truncated at +-tol; default) or uniform on +-tol")
    d.add_argument("--samples", type=int, default=1000, help="Monte Carlo samples of the yield (default 1000)")
    d.add_argument("--seed", type=int, default=0, help="seed of the samples and of the search")
    d.add_argument("--min-yield", type=float, help="return the cheapest designs whose yield reaches this (0-1)")
    d.add_argument("--inductor-q", type=float, help="inductor quality factor (series loss 2 pi f L / Q)")
    d.add_argument("--q-freq-hz", type=float, help="where the Q holds (default: passband edge or centre)")
    d.add_argument("--capacitor-esr", type=float, help="capacitor equivalent series resistance, ohm")
    d.add_argument("--sensitivity", action="store_true", help="the margin's sensitivity to each part (autograd)")
    d.add_argument("--json", action="store_true")
    _export_arguments(d)
    d.set_defaults(func=cmd_design)
    t = sub.add_parser("train", help="train the VAE (on a GPU when present); under torchrun, with DDP")
    t.add_argument("--out", required=True, help="checkpoint folder")
    t.add_argument("--dataset", help="dataset folder (default: data/dataset)")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--latent", default="8,8,16", help="latent group sizes, e.g. 2,2,4")
    t.add_argument("--dim", type=int, default=96)
    t.add_argument("--conditional", action="store_true")
    t.add_argument("--kl", type=float, default=0.005)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: a GPU when torch sees one, else the CPU")
    t.set_defaults(func=cmd_train)
    b = sub.add_parser("bench", help="speed against peers in the same run: ngspice, the seed's knn, training")
    b.add_argument("--quick", action="store_true", help="fewer circuits and specifications (under 5 minutes)")
    b.add_argument("--json", action="store_true")
    b.add_argument("--dataset", help="dataset folder (default: data/dataset)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--circuits", type=int, help="circuits in the simulation benchmark (default 200 quick, 1000)")
    b.add_argument("--specs", type=int, help="specifications in the generation benchmark (default 200 quick, 400)")
    b.add_argument("--graphs", type=int, help="graphs in the training benchmark (default 512 quick, 2048)")
    b.add_argument("--masks", type=int, help="masks in the mask-design benchmark (default 12 quick, 40)")
    b.add_argument("--curves", action="store_true",
                   help="add cost against size (circuits, points, order, Monte Carlo samples) with ngspice beside it")
    b.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except CircuitlibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into head and closed
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
