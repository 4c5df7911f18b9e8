"""The dataset for filter masks (circuitlib.learn.mask_dataset): descriptors against closed forms and the exact
response, `attains` against exact verification, reproducible files, coverage, the multi-band flag, the config."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest

from circuitlib.analysis.mask import FilterMask, MaskError, verify
from circuitlib.core.circuit import VOUT, Circuit, Edge
from circuitlib.core.errors import CircuitlibError
from circuitlib.learn import mask_dataset as md
from circuitlib.sim.mna import pencil, response_hz
from circuitlib.synthesis import ladder as lad
from circuitlib.synthesis.classical import ladder_circuit

TWO_PI = 2 * math.pi


@pytest.fixture(scope="module")
def records() -> list[dict]:
    cfg = md.config_from(n_records=200, seed=1)
    return list(md.generate(cfg, progress=False))


def _lowpass(family: str, order: int, ripple_db: float | None, rs: float, rl: float | None, **kw) -> dict:
    ladder = lad.synthesise(family, order, ripple_db, rs_ohm=rs, rl_ohm=rl, **kw)
    g_ref = 1.0 if rl is None or ladder.load_is_element else rl / (rs + rl)
    return md.describe(ladder_circuit(ladder), "lowpass", g_ref)


# ---------------------------------------------------------------- descriptors


@pytest.mark.parametrize("order", [1, 3, 6])
@pytest.mark.parametrize("rs, rl", [(0.0, None), (1.0, 1.0)])  # ideal source and open load; equal terminations
def test_butterworth_edges_follow_the_closed_form(order, rs, rl):
    desc = _lowpass("butterworth", order, None, rs, rl)["descriptors"]
    for r in md.RIPPLES_DB:
        assert desc["pass_edge"][md.level_key(r)] == pytest.approx((10 ** (r / 10) - 1) ** (1 / (2 * order)),
                                                                   rel=1e-6)
    for a in md.ATTENUATIONS_DB:
        assert desc["stop_edge"][md.level_key(a)] == pytest.approx((10 ** (a / 10) - 1) ** (1 / (2 * order)),
                                                                   rel=1e-6)


@pytest.mark.parametrize("order, rs, rl", [(5, 1.0, 1.0), (7, 1.0, None), (3, 0.0, 1.0), (9, 1.0, 3.0)])
def test_chebyshev_passband_edge_is_the_design_edge(order, rs, rl):
    desc = _lowpass("chebyshev1", order, 0.5, rs, rl)["descriptors"]
    assert desc["pass_edge"]["0.5"] == pytest.approx(1.0, abs=1e-6)  # the troughs touch -0.5 dB: not an edge
    assert desc["pass_edge"]["0.25"] < 0.99  # the first trough below -0.25 dB lies inside the passband
    assert desc["pass_edge"]["1.0"] > 1.0


def test_an_even_chebyshev_with_its_dc_at_g_ref_ripples_above_it():
    """Even order, ideal source: the DC gain (G_ref) is a trough, the peaks lie 0.5 dB above, and the edge at 1 is
    another trough at G_ref; the gain first leaves +-0.5 dB re G_ref beyond it."""
    desc = _lowpass("chebyshev1", 4, 0.5, 0.0, 1.0)["descriptors"]
    assert desc["pass_edge"]["0.5"] > 1.0
    assert desc["pass_edge"]["0.25"] < 1.0  # a peak, +0.5 dB, exceeds 0.25 inside the passband


def test_descriptors_sit_on_their_levels_of_the_exact_response(records):
    """Every tabulated edge of 40 records: the exact (MNA) gain there is the level, within 1e-6 dB."""
    checked = 0
    for rec in records[:40]:
        p = pencil(md.record_circuit(rec))
        for kind, table in (("pass", rec["descriptors"]["pass_edge"]), ("stop", rec["descriptors"]["stop_edge"])):
            for key, value in table.items():
                for w in [] if value is None else value if isinstance(value, list) else [value]:
                    g = 20 * math.log10(abs(response_hz(p, np.array([w / TWO_PI]))[0]) / rec["g_ref"])
                    assert (abs(g) if kind == "pass" else -g) == pytest.approx(float(key), abs=1e-6), (rec["id"], key)
                    checked += 1
    assert checked > 500


def test_band_descriptors_are_ordered_pairs(records):
    for rec in records:
        if rec["response"] in ("bandpass", "bandstop"):
            pairs = [v for table in ("pass_edge", "stop_edge") for v in rec["descriptors"][table].values() if v]
            assert pairs and all(lo < hi for lo, hi in pairs), rec["id"]
    bandpass = next(r for r in records if r["response"] == "bandpass" and r["family"] != "mutant")
    lo, hi = bandpass["descriptors"]["pass_edge"]["0.05"]
    assert lo < 1.0 < hi  # the passband around the centre


# ---------------------------------------------------------------- attaining masks


def _terminations(rec: dict) -> tuple[float, float | None]:
    if rec["rs_ohm"] > 0:
        return 50.0, None if rec["rl_ohm"] is None else 50.0 * rec["rl_ohm"]
    return 0.0, None if rec["rl_ohm"] is None else 600.0


def _mask_from(rec: dict, ripple: float, attenuation: float, k: float, widen: float, stop_squeeze: float = 1.0):
    """A mask from the record's own descriptors at levels `ripple` / `attenuation` (tabulated ones are picked from
    them), its edges scaled by k (rad/s per normalised unit), passband narrowed and stopband moved out by `widen`;
    `stop_squeeze` < 1 moves the stopband edge(s) that much towards the passband (a tighter mask)."""
    r, a = md._levels(FilterMask("lowpass", 1.0, 2.0, ripple, attenuation))
    p = rec["descriptors"]["pass_edge"][md.level_key(r)]
    s = rec["descriptors"]["stop_edge"][md.level_key(a)]
    if p is None or s is None:
        return None
    kind, q = rec["response"], stop_squeeze
    if kind == "lowpass":
        pb, sb = k * p * (1 - widen), k * s * (1 + widen) * q
    elif kind == "highpass":
        pb, sb = k * p * (1 + widen), k * s * (1 - widen) / q
    elif kind == "bandpass":
        pb = (k * p[0] * (1 + widen), k * p[1] * (1 - widen))
        sb = (k * s[0] * (1 - widen) / q, k * s[1] * (1 + widen) * q)
    else:
        pb = (k * p[0] * (1 - widen), k * p[1] * (1 + widen))
        sb = (k * s[0] * (1 + widen) / q, k * s[1] * (1 - widen) * q)
    hz = lambda x: tuple(v / TWO_PI for v in x) if isinstance(x, tuple) else x / TWO_PI
    try:
        return FilterMask(kind, hz(pb), hz(sb), ripple, attenuation, *_terminations(rec))
    except MaskError:  # a narrow notch: the squeezed or widened stopband is empty
        return None


def test_attains_is_honest(records):
    rng = np.random.default_rng(7)
    met = 0
    for rec in records[::4]:
        ripple = md.RIPPLES_DB[int(rng.integers(len(md.RIPPLES_DB)))] * rng.uniform(1.0, 1.4)
        attenuation = md.ATTENUATIONS_DB[int(rng.integers(len(md.ATTENUATIONS_DB)))] / rng.uniform(1.0, 1.1)
        k = 10 ** rng.uniform(2, 6)
        mask = _mask_from(rec, ripple, attenuation, k, widen=1e-4)
        if mask is None:
            continue
        got = md.attains(rec, mask)
        assert got == pytest.approx(k, rel=1e-6), rec["id"]
        report = verify(md.circuit_of(rec, mask, got), mask, delay=False)
        assert report.margin_db >= -1e-6, (rec["id"], report)
        met += 1
    assert met >= 30


def test_a_tighter_stopband_is_refused_or_verified(records):
    rng = np.random.default_rng(8)
    tried = 0
    for rec in records[1::5]:
        mask = _mask_from(rec, 0.5, 40.0, 10 ** rng.uniform(2, 6), widen=0.0, stop_squeeze=0.95)
        if mask is None:
            continue
        tried += 1
        k = md.attains(rec, mask)
        assert k is None or verify(md.circuit_of(rec, mask, k), mask, delay=False).margin_db >= -1e-6, rec["id"]
    assert tried >= 15


def test_attains_needs_the_same_response_terminations_and_levels(records):
    rec = next(r for r in records if r["family"] == "butterworth" and r["rs_ohm"] > 0 and r["rl_ohm"] is not None
               and r["response"] == "lowpass")
    mask = _mask_from(rec, 1.0, 30.0, 1e4, widen=1e-3)
    assert md.attains(rec, mask) is not None
    load = 50.0 * rec["rl_ohm"] * 1.01
    other_ratio = FilterMask("lowpass", mask.passband_hz, mask.stopband_hz, 1.0, 30.0, 50.0, load)
    open_load = FilterMask("lowpass", mask.passband_hz, mask.stopband_hz, 1.0, 30.0, 50.0, None)
    too_flat = FilterMask("lowpass", mask.passband_hz, mask.stopband_hz, 0.04, 30.0, *_terminations(rec))
    too_deep = FilterMask("lowpass", mask.passband_hz, mask.stopband_hz, 1.0, 81.0, *_terminations(rec))
    highpass = FilterMask("highpass", mask.stopband_hz, mask.passband_hz, 1.0, 30.0, *_terminations(rec))
    for m in (other_ratio, open_load, too_flat, too_deep, highpass):
        assert md.attains(rec, m) is None
    with pytest.raises(CircuitlibError):
        md.circuit_of(rec, open_load, 1e4)


def test_circuit_of_scales_impedance_and_frequency(records):
    rec = next(r for r in records if r["rs_ohm"] > 0 and r["rl_ohm"] is not None)
    mask = FilterMask("lowpass", 1.0, 2.0, 1.0, 30.0, 75.0, 75.0 * rec["rl_ohm"])  # only its terminations count
    k = 1234.5
    scaled, base = md.circuit_of(rec, mask, k), md.record_circuit(rec)
    w = np.array([0.3, 1.0, 2.7])
    h_base = response_hz(pencil(base), w / TWO_PI)
    h_scaled = response_hz(pencil(scaled), k * w / TWO_PI)
    np.testing.assert_allclose(h_scaled, h_base, rtol=1e-9)
    rs = next(c for c in scaled.components() if c.name == "RS")
    assert rs.value == pytest.approx(75.0)


# ---------------------------------------------------------------- reproducibility and files


def test_generation_and_files_are_reproducible(tmp_path):
    cfg = md.config_from(n_records=12, seed=5)
    first, second = list(md.generate(cfg, progress=False)), list(md.generate(cfg, progress=False))
    assert first == second
    assert list(md.generate(md.config_from(n_records=12, seed=6), progress=False)) != first
    m1, m2 = md.write(first, tmp_path / "a", cfg), md.write(iter(second), tmp_path / "b", cfg)
    assert m1 == m2 and m1["count"] == 12
    for name in (md.RECORDS_FILE, md.MANIFEST_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert md.load(tmp_path / "a") == first
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]  # no temporary files left


def test_tampered_records_fail_to_load(tmp_path):
    cfg = md.config_from(n_records=10, seed=2)
    records = list(md.generate(cfg, progress=False))
    md.write(records, tmp_path, cfg)
    path = tmp_path / md.RECORDS_FILE
    records[3]["descriptors"]["pass_edge"]["1.0"] = 123.0
    with gzip.GzipFile(path, "wb", mtime=0) as gz:
        gz.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode())
    with pytest.raises(CircuitlibError) as err:
        md.load(tmp_path)
    assert "SHA256" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CircuitlibError):
        md.load(tmp_path / "missing")


# ---------------------------------------------------------------- coverage


def test_coverage_of_a_small_dataset(records):
    assert {r["response"] for r in records} == set(md.RESPONSES)
    assert {r["family"] for r in records} == set(md.FAMILIES) | {"mutant"}
    ladders = [r for r in records if r["family"] != "mutant"]
    assert max(r["order"] for r in ladders) == 10 and min(r["order"] for r in ladders) == 1
    assert sum(r["order"] >= 8 for r in ladders) >= 5
    mutants = [r for r in records if r["family"] == "mutant"]
    assert 20 <= len(mutants) <= 80 and all(r["parent_family"] in md.FAMILIES and r["mutation"] for r in mutants)
    assert any(r["response"] == "bandpass" and r["order"] >= 5 and r["n_nodes"] >= 12 for r in ladders)
    assert {r["terminations"] for r in records} == set(md.TERMINATIONS)
    for r in records:
        assert r["parts"] == len([e for e in md.record_circuit(r).components() if e.name not in ("RS", "RL")])
        assert (r["rs_ohm"] == 0) == ("RS" not in {n for *_, n in r["termination_names"]})
        assert (r["rl_ohm"] is None) == ("RL" not in {n for *_, n in r["termination_names"]})
    assert {r["split"] for r in records} == {"train", "val", "test"}


def test_elliptic_bandpass_of_order_5_has_at_least_12_nodes():
    spec = {"family": "elliptic", "order": 5, "ripple_db": 0.5, "attenuation_db": 40.0, "rs": 1.0, "rl": 1.0,
            "form": "series_first", "variant": "a", "fractional_bandwidth": 0.2}
    _, circuit = md._ladder(spec, "bandpass")
    assert circuit.n_nodes >= 12
    assert not md.describe(circuit, "bandpass", 0.5)["multi_band"]


# ---------------------------------------------------------------- multi-band


def test_a_passband_dip_is_multi_band():
    ladder = lad.synthesise("butterworth", 3, rs_ohm=1.0, rl_ohm=1.0, form="shunt_first")
    plain = ladder_circuit(ladder)
    assert not md.describe(plain, "lowpass", 0.5)["multi_band"]
    trap = plain.n_nodes  # a narrow series LC (25 ohm) from VOUT to ground, resonant at omega = 0.5: a dip
    edges = {**plain.edges, (VOUT, trap): Edge(l_h=50.0), (0, trap): Edge(c_f=0.08)}
    dipped = Circuit(plain.n_internal + 1, edges, dict(plain.names))
    found = md.describe(dipped, "lowpass", 0.5)
    assert found["multi_band"] and found["crossings_3db"] == 3
    assert found["descriptors"]["pass_edge"]["3.0"] < 0.5  # the passband edge is the one next to DC
    plain_stop = md.describe(plain, "lowpass", 0.5)["descriptors"]["stop_edge"]["40.0"]
    assert found["descriptors"]["stop_edge"]["40.0"] == pytest.approx(plain_stop, rel=0.01)  # the stopband stays


def test_butterworth_ladders_of_every_response_are_single_band():
    for response in md.RESPONSES:
        spec = {"family": "butterworth", "order": 4, "ripple_db": 1.0, "attenuation_db": None, "rs": 1.0, "rl": 1.0,
                "form": "shunt_first", "variant": "a", "fractional_bandwidth": 0.3}
        _, circuit = md._ladder(spec, response)
        found = md.describe(circuit, response, 0.5)
        assert not found["multi_band"], response
        assert found["crossings_3db"] == (2 if response in ("bandpass", "bandstop") else 1)


# ---------------------------------------------------------------- config


@pytest.mark.parametrize("params", [
    {"n_records": 5}, {"n_records": 2.5}, {"seed": -1}, {"max_order": 0}, {"mutation_share": 1.5},
    {"ripple_db": (2.0, 1.0)}, {"ripple_db": (0.1, 5.0)}, {"attenuation_db": (2.0, 30.0)},
    {"fractional_bandwidth": (0.0, 1.0)}, {"responses": ("lowpass", "notch")}, {"responses": ()},
    {"responses": ("lowpass", "lowpass")}, {"ripple_db": (float("nan"), 1.0)},
])
def test_bad_config_values_raise_one_line(params):
    with pytest.raises(CircuitlibError) as err:
        md.config_from(**params)
    assert "\n" not in str(err.value) and str(err.value).startswith("bad parameter")


def test_config_defaults():
    cfg = md.config_from()
    assert (cfg.n_records, cfg.max_order, cfg.mutation_share) == (3000, 10, 0.25)
    assert cfg.responses == md.RESPONSES and cfg.fractional_bandwidth == (0.05, 1.5)


def test_build_keeps_a_matching_dataset_and_rebuilds_a_changed_one(tmp_path):
    cfg = md.MaskDatasetConfig(n_records=12, seed=5)
    first, made = md.build(cfg, tmp_path, progress=False)
    assert made and first["count"] == 12
    again, made = md.build(cfg, tmp_path, progress=False)
    assert not made and again == first
    other, made = md.build(md.MaskDatasetConfig(n_records=14, seed=5), tmp_path, progress=False)
    assert made and other["count"] == 14


def test_lowpass_transitions_are_the_narrowest_a_record_attains(records):
    """Each transition ratio is where `attains` changes its answer: a low-pass mask of 1 dB ripple and that attenuation,
    with the record's terminations, is attained with its stopband edge just above ratio x passband edge and refused
    just below. Only classical low-pass records count (no mutants, no other response)."""
    rows = md.lowpass_transitions(records, ripple_db=1.0)
    classical = {r["family"] for r in records if r["response"] == "lowpass" and r["family"] != "mutant"}
    assert rows and {r["family"] for r in rows} <= classical
    checked = 0
    for rec in records:
        if rec["response"] != "lowpass" or rec["family"] == "mutant":
            continue
        for row in md.lowpass_transitions([rec], ripple_db=1.0)[:2]:
            p_hz = rec["descriptors"]["pass_edge"]["1.0"] / TWO_PI * 1e3
            a = row["attenuation dB"]
            wide = FilterMask("lowpass", p_hz, p_hz * row["ratio"] * (1 + 1e-6), 1.0, a, *_terminations(rec))
            narrow = FilterMask("lowpass", p_hz, p_hz * row["ratio"] * (1 - 1e-3), 1.0, a, *_terminations(rec))
            assert md.attains(rec, wide) is not None and md.attains(rec, narrow) is None, rec["id"]
            checked += 1
    assert checked >= 10
    assert md.lowpass_transitions([r for r in records if r["family"] == "mutant" or r["response"] != "lowpass"]) == []
