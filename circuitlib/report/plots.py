"""Figures: Bode plots of the exact response, schematic and Bode side by side (the ladder drawing itself is in
`schematic`), and the notebooks' charts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import NullFormatter, ScalarFormatter

from circuitlib.core.circuit import Circuit
from circuitlib.report.schematic import eng, schematic
from circuitlib.sim.mna import group_delay_s, pencil, response_hz


def bode(circuit: Circuit, f_hz: np.ndarray | None = None, ax: plt.Axes | None = None,
         target_hz: float | None = None, label: str | None = None) -> plt.Axes:
    """Magnitude of the exact response in dB against frequency, with an optional target marker."""
    f_hz = np.logspace(0, 7, 1401) if f_hz is None else f_hz
    h = response_hz(pencil(circuit), f_hz)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    ax.semilogx(f_hz, 20 * np.log10(np.maximum(np.abs(h), 1e-15)), label=label)
    if target_hz:
        ax.axvline(target_hz, color="crimson", ls="--", lw=1, label=f"target {eng(target_hz, 'Hz')}")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("|H| (dB)")
    ax.grid(True, which="both", alpha=0.3)
    if target_hz or label:
        ax.legend(loc="best", fontsize=8)
    return ax


def schematic_and_bode(circuit: Circuit, title: str = "", target_hz: float | None = None) -> plt.Figure:
    """One figure: schematic on the left, Bode magnitude on the right."""
    n_cols = circuit.n_nodes
    fig = plt.figure(figsize=(4 + 1.3 * n_cols, 3.4 + 0.25 * len(circuit.components())))
    gs = fig.add_gridspec(1, 2, width_ratios=[1.2 + 0.25 * n_cols, 1.6])
    schematic(circuit, ax=fig.add_subplot(gs[0]))
    bode(circuit, ax=fig.add_subplot(gs[1]), target_hz=target_hz)
    fig.suptitle(title)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.14, top=0.88, wspace=0.15)
    return fig


def coverage(df, seed_targets=None) -> plt.Figure:
    """Where the dataset's filters sit in frequency and Q (seaborn), with the seed's 18 targets overlaid."""
    has_q = df.dropna(subset=["q_main"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1.5, 1]})
    sns.scatterplot(data=has_q, x="f_hz", y="q_main", hue="group", s=9, alpha=0.6, linewidth=0, ax=axes[0])
    if seed_targets is not None:
        axes[0].scatter(seed_targets["f_hz"], seed_targets["q"], marker="*", s=140, c="black",
                        label="seed's 18 targets")
    axes[0].set(xscale="log", yscale="log", xlabel="frequency f (Hz): fc or f0", ylabel="Q: q_pole or f0/BW",
                title="f-Q coverage")
    axes[0].axhline(5, color="crimson", lw=0.8, ls=":")
    axes[0].legend(fontsize=8, loc="lower left")
    sns.histplot(data=has_q, x="q_main", hue="group", multiple="stack", log_scale=True, bins=40, ax=axes[1],
                 legend=False)
    axes[1].axvline(5, color="crimson", lw=0.8, ls=":")
    axes[1].set(xlabel="Q", title="Q distribution (dotted: Q = 5)")
    fig.tight_layout()
    return fig


def agreement(errors) -> plt.Figure:
    """Histogram of the per-circuit largest relative difference between ngspice and the nodal solver."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    sns.histplot(np.log10(np.maximum(np.asarray(errors), 1e-17)), bins=40, ax=ax)
    ax.axvline(-6, color="crimson", ls="--", lw=1, label="acceptance 1e-6")
    ax.set(xlabel="log10 max |H_mna - H_ngspice| / |H_ngspice|", ylabel="circuits")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def loss_curves(histories: dict[str, list[dict]]) -> plt.Figure:
    """Per-term training and validation loss against epoch, one panel per term (seaborn)."""
    rows = [{"run": run, "epoch": h["epoch"], "split": split, "term": term, "loss": value}
            for run, hist in histories.items() for h in hist for split in ("train", "val")
            for term, value in h[split].items() if term != "total"]
    df = pd.DataFrame(rows)
    grid = sns.relplot(data=df, x="epoch", y="loss", hue="run", style="split", col="term", kind="line",
                       col_wrap=5, height=2.6, aspect=1.0, facet_kws={"sharey": False})
    grid.set(yscale="log")
    return grid.figure


def latent_scatter(mu: np.ndarray, labels, title: str) -> plt.Figure:
    """First two principal components of the posterior means, coloured by label."""
    centred = mu - mu.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    fig, ax = plt.subplots(figsize=(7, 4.8))
    sns.scatterplot(x=xy[:, 0], y=xy[:, 1], hue=list(labels), s=10, linewidth=0, alpha=0.7, ax=ax)
    ax.set(xlabel="PC 1 of mu", ylabel="PC 2 of mu", title=title)
    ax.legend(fontsize=7, ncol=2, loc="best", markerscale=2)
    fig.tight_layout()
    return fig


def reconstruction_scatter(frame) -> plt.Figure:
    """Decoded against original frequency (and Q) of held-out circuits."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ok = frame.dropna(subset=["f_decoded"])
    for ax, (orig, dec, name) in zip(axes, [("f_orig", "f_decoded", "f (Hz)"), ("q_orig", "q_decoded", "Q")]):
        sub = ok.dropna(subset=[orig, dec])
        for label, part in sub.groupby("topology"):
            ax.scatter(part[orig], part[dec], s=8, alpha=0.6, label=f"{label} topology")
        lo, hi = np.nanmin(sub[[orig, dec]].values), np.nanmax(sub[[orig, dec]].values)
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel=f"original {name}", ylabel=f"decoded {name}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def root_counts(records) -> plt.Figure:
    """Heatmap: how many circuits have each (number of poles, number of zeros)."""
    df = pd.DataFrame({"poles": [len(r["poles"]) for r in records], "zeros": [len(r["zeros"]) for r in records]})
    table = df.value_counts().unstack(fill_value=0).sort_index()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    sns.heatmap(table, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax)
    ax.add_patch(plt.Rectangle((2, 1), 1, 1, fill=False, ec="crimson", lw=2))  # the (2 poles, 2 zeros) cell
    ax.set(xlabel="finite zeros", ylabel="poles", title="circuits per (poles, zeros); red: what a 2x2 head can fit")
    fig.tight_layout()
    return fig


def s_plane(found: dict, indices: list[int], labels: list[str], methods: tuple[str, ...]) -> plt.Figure:
    """One row per example circuit, one column per method of `methods` (pole_zero.METHODS): true poles (x) and zeros (o) in black, predicted in
    red, in asinh(s / omega_ref) coordinates."""
    methods = [m for m in methods if m in found]
    fig, axes = plt.subplots(len(indices), len(methods), figsize=(3.2 * len(methods), 2.7 * len(indices)),
                             squeeze=False)
    for row, (i, label) in enumerate(zip(indices, labels)):
        for col, method in enumerate(methods):
            ax = axes[row, col]
            for roots, color, size in ((found["truth"][i], "black", 90), (found[method][i], "crimson", 40)):
                ax.scatter(*roots.poles.T, marker="x", c=color, s=size, lw=1.5)
                ax.scatter(*roots.zeros.T, marker="o", facecolors="none", edgecolors=color, s=size, lw=1.3)
            ax.axvline(0, color="grey", lw=0.6)
            ax.axhline(0, color="grey", lw=0.6)
            ax.set_title(f"{method}: {label}" if row == 0 else label, fontsize=8)
            if row == len(indices) - 1:
                ax.set_xlabel("asinh(Re s / ω_ref)")
            if col == 0:
                ax.set_ylabel("asinh(Im s / ω_ref)")
    fig.suptitle("black: true roots, red: predicted  (x pole, o zero)", fontsize=9)
    fig.tight_layout()
    return fig


def value_errors(before: np.ndarray, after: np.ndarray) -> plt.Figure:
    """Cumulative share of components within each |log10 value error|, for decoded and for polished values."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    floor = 1e-5  # errors below this (exact to float32) are drawn at the floor of the log axis
    for errs, label in ((before, "as decoded"), (after, "fitted to the posterior (polish_values)")):
        x = np.sort(np.maximum(np.abs(errs), floor))
        ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=f"{label}: median {np.median(errs):.4f}")
    ax.set(xscale="log", xlabel="|log10 value error| (decades)", ylabel="share of components",
           title="component values of decodes with the right topology")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _plot_span(mask, margin: float = 4.0) -> tuple[float, float]:
    """A frequency span that shows every edge of `mask` with room on both sides (Hz)."""
    edges = [f for _, lo, hi in mask.bands() for f in (lo, hi) if 0 < f < np.inf]
    return min(edges) / margin, max(edges) * margin


def forbidden_regions(ax: plt.Axes, mask, floor_db: float, ceiling_db: float, kinds: tuple = ("pass", "stop")) -> None:
    """Shade what `mask` forbids, in dB relative to G_ref: above +ripple and below -ripple in each passband, above
    -attenuation in each stopband (of the band kinds in `kinds`)."""
    lo_plot, hi_plot = ax.get_xlim()
    style = dict(color="crimson", alpha=0.14, lw=0)
    for kind, lo, hi in mask.bands():
        if kind not in kinds:
            continue
        lo, hi = max(lo, lo_plot), min(hi, hi_plot)
        if kind == "pass":
            ax.fill_between([lo, hi], mask.ripple_db, ceiling_db, **style)
            ax.fill_between([lo, hi], floor_db, -mask.ripple_db, **style)
        else:
            ax.fill_between([lo, hi], -mask.attenuation_db, ceiling_db, **style)


def mask_bode(designs: list, mask, labels: list[str] | None = None, points: int = 2000) -> plt.Figure:
    """The exact responses of `designs` (circuits with their terminations) in dB relative to G_ref, in front of the
    mask's forbidden regions (shaded), and below it the passband ripple and the passband group delay."""
    lo, hi = _plot_span(mask)
    f = np.geomspace(lo, hi, points)
    labels = labels or [None] * len(designs)
    fig = plt.figure(figsize=(8.5, 6.2))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.7, 1])
    ax, ripple_ax, delay_ax = fig.add_subplot(grid[0, :]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_minor_formatter(NullFormatter())
    floor = -mask.attenuation_db - 30
    ax.set_ylim(floor, 6)
    forbidden_regions(ax, mask, floor, 6)
    pass_bands = [(max(a, lo), min(b, hi)) for kind, a, b in mask.bands() if kind == "pass"]
    pf = np.concatenate([np.geomspace(a, b, 400) for a, b in pass_bands])
    for circuit, label in zip(designs, labels):
        p = pencil(circuit)
        db = 20 * np.log10(np.maximum(np.abs(response_hz(p, f)), 1e-15) / mask.g_ref)
        line, = ax.plot(f, db, lw=1.4, label=label)
        for a, b in pass_bands:
            band = np.geomspace(a, b, 400)
            ripple_ax.plot(band, 20 * np.log10(np.abs(response_hz(p, band)) / mask.g_ref), color=line.get_color())
            delay_ax.plot(band, 1e3 * group_delay_s(p, band), color=line.get_color())
    ripple_lim = (-1.5 * mask.ripple_db, 1.5 * mask.ripple_db)
    for panel in (ripple_ax, delay_ax):
        panel.set_xscale("log" if pf.max() / pf.min() > 10 else "linear")
        panel.xaxis.set_minor_formatter(NullFormatter())
        panel.set_xlim(pf.min(), pf.max())
        panel.grid(True, which="both", alpha=0.3)
        panel.set_xlabel("frequency (Hz)")
    ripple_ax.set_ylim(*ripple_lim)
    forbidden_regions(ripple_ax, mask, *ripple_lim, kinds=("pass",))
    ripple_ax.set(ylabel="dB re G_ref", title="passband ripple")
    delay_ax.set(ylabel="ms", title="passband group delay")
    ax.set(xlabel="frequency (Hz)", ylabel="gain re G_ref (dB)")
    ax.set_title(mask_title(mask), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    if any(labels):
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def mask_title(mask) -> str:
    """One line that states a mask, as a designer writes it."""
    edge = lambda b: "-".join(eng(f, "Hz") for f in np.atleast_1d(b))  # noqa: E731
    load = "open" if mask.load_ohm is None else eng(mask.load_ohm, "Ω")
    source = "ideal" if mask.source_ohm == 0 else eng(mask.source_ohm, "Ω")
    return (f"{mask.response}: pass {edge(mask.passband_hz)} within {mask.ripple_db:.3g} dB, "
            f"stop {edge(mask.stopband_hz)} at {mask.attenuation_db:.3g} dB; source {source}, load {load}")


COST_TITLES = {"circuits": "sweep vs circuits (1,201 points)", "points": "sweep vs points per decade (50 circuits)",
               "order": "sweep vs ladder order (50 ladders)", "montecarlo": "Monte Carlo yield vs samples (order 7)"}


def cost_curves(cost: dict[str, pd.DataFrame], k: dict[str, float | None], epochs: pd.DataFrame) -> plt.Figure:
    """The benchmark's cost curves (`bench.curves` as frames): seconds against work on each axis, the nodal solver
    and ngspice beside it, with the fitted exponents k (`bench.cost_exponents`) in the legends; hollow markers for
    sweeps streamed in blocks; and one training epoch against model width."""
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.6))
    for ax, axis in zip(axes.flat, COST_TITLES):
        frame = cost[axis]
        x = frame.columns[0]  # the size
        for engine, colour in (("mna", "C0"), ("ngspice", "C1")):
            ran = frame.dropna(subset=[f"{engine}_s"])
            slope = k[f"{axis} {engine}"]
            ax.plot(ran[x], ran[f"{engine}_s"], "o-", color=colour,
                    label=engine + ("" if slope is None else f": k = {slope:.2f}"))
        if "streamed" in frame:
            streamed = frame[frame.streamed]
            ax.plot(streamed[x], streamed.mna_s, "o", mfc="white", color="C0", label="streamed in blocks")
        ax.set(title=COST_TITLES[axis], xlabel=x.replace("_", " "), ylabel="seconds", yscale="log",
               xscale="linear" if axis == "order" else "log")
        ax.legend(fontsize=8)
    axes[1, 1].plot(epochs.dim, epochs.seconds, "o-")
    axes[1, 1].set(title=f"one training epoch (256 graphs): k = {k['model']:.2f}", xlabel="model width",
                   ylabel="seconds", xscale="log", yscale="log")
    for ax, ticks in ((axes[0, 1], cost["points"].points_per_decade), (axes[1, 1], epochs.dim)):
        ax.set_xticks(ticks)  # a few plain numbers on the short log axes, not 2 x 10^2
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_formatter(NullFormatter())
    axes[1, 2].axis("off")
    fig.tight_layout()
    return fig
