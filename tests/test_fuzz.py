"""Fuzzing with hypothesis: every outcome is a result or a typed error, never an unhandled exception.
A few hundred examples per test by default; CIRCUITLIB_LONG=1 runs 10,000 each."""

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuitlib.analysis.measure import measure
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.core.config import parse_config
from circuitlib.core.errors import CircuitlibError, NetlistError, SimulationError, SpecificationError
from circuitlib.core.netlist import MAX_BYTES, parse_netlist
from circuitlib.designers.generate import METHODS, GridConfig, generate
from circuitlib.learn.ablation import AblationConfig
from circuitlib.learn.dataset import config_from
from circuitlib.learn.pole_zero import StudyConfig
from circuitlib.learn.training import TrainConfig

LONG = os.environ.get("CIRCUITLIB_LONG") == "1"
# The default run is derandomized, so CI sees the same examples every time; the long run explores.
FUZZ = settings(max_examples=10_000 if LONG else 150, deadline=None, derandomize=not LONG, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

NODES = st.sampled_from(["0", "gnd", "in", "out", "a", "b", "c", "n1", "weird!"])
VALUES = st.one_of(st.sampled_from(["1k", "2.2u", "10n", "1meg", "0", "-5", "abc", "1e400", "nan", "3.3pF", "1x"]),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr))
CARD = st.one_of(
    st.tuples(st.sampled_from("RLCrlc"), st.integers(1, 9), NODES, NODES, VALUES).map(lambda t: f"{t[0]}{t[1]} {t[2]} {t[3]} {t[4]}"),
    st.tuples(st.sampled_from(["V1", "V2", "VIN"]), NODES, NODES).map(lambda t: f"{t[0]} {t[1]} {t[2]} AC 1"),
    st.sampled_from([".ac dec 10 1 1e6", ".end", "* comment", ".control", "shell ls", ".include x", "X1 a b sub",
                     ".ac lin -3 5 1", "E1 a 0 b 0 2", ""]),
)


def _measure_or_typed_error(text):
    try:
        parsed = parse_netlist(text, "out")
    except NetlistError:
        return
    m = measure(parsed.circuit)
    for key in ("fc_hz", "f0_hz", "q", "q_pole"):
        value = getattr(m, key)
        assert value is None or (math.isfinite(value) and value > 0)


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text):
    _measure_or_typed_error(text)


@FUZZ
@given(st.lists(CARD, min_size=1, max_size=10))
def test_random_netlists_from_cards(cards):
    _measure_or_typed_error("\n".join(cards))


EDGE = st.builds(Edge, st.one_of(st.none(), st.floats(1.0, 1e7)), st.one_of(st.none(), st.floats(1e-9, 10.0)),
                 st.one_of(st.none(), st.floats(1e-12, 1e-2)))


@st.composite
def circuits(draw):
    n_int = draw(st.integers(0, 3))
    pairs = [(a, b) for a in range(3 + n_int) for b in range(a + 1, 3 + n_int)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    return Circuit(n_int, {p: draw(EDGE) for p in chosen})


@FUZZ
@given(circuits())
def test_random_circuits_measure_and_simulate(circuit):
    m = measure(circuit)
    assert m.valid == (not m.problems)
    if m.valid:
        from circuitlib.sim.spice import ngspice_rel_err

        try:  # values anywhere in the practical ranges (12 decades apart): a sanity bound, not the 1e-6 of the dataset
            assert ngspice_rel_err(circuit) <= 1e-4
        except SimulationError:
            pass


@FUZZ
@given(st.sampled_from(["lowpass", "highpass", "bandpass", "bandstop", "any", "notch", ""]),
       st.floats(allow_nan=True, allow_infinity=True), st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_random_specifications(response, f_hz, q):
    try:
        (d,) = generate(response, f_hz, q, method="analytic", verify=False)
    except SpecificationError:
        return
    assert d.met(1e-6)


PARAM = st.one_of(st.integers(-10, 10**7), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                  st.none(), st.lists(st.floats(-1e7, 1e7), max_size=3), st.booleans())


@FUZZ
@given(st.dictionaries(st.sampled_from(["n_circuits", "seed", "families", "f_range_hz", "q_range", "z0_range_ohm",
                                        "random_share", "heldout_topology_share", "workers"]), PARAM, max_size=4))
def test_random_dataset_parameters(params):
    try:
        cfg = config_from(**params)
    except CircuitlibError:
        return
    assert cfg.n_circuits >= 10 and cfg.workers >= 1


@FUZZ
@given(st.dictionaries(st.sampled_from(["epochs", "batch_size", "lr", "seed", "threads", "weight_decay"]), PARAM,
                       max_size=4),
       st.dictionaries(st.sampled_from(["latent_groups", "dim", "heads", "dropout", "conditional"]), PARAM, max_size=3))
def test_random_training_parameters(params, model):
    try:
        cfg = parse_config(TrainConfig, model=model, **params)
    except CircuitlibError:
        return
    assert cfg.epochs >= 1 and cfg.lr > 0


@FUZZ
@given(st.dictionaries(st.sampled_from(["kl_weights", "seeds", "epochs", "n_train", "latent_groups", "dim", "layers",
                                        "prior_samples", "workers"]), PARAM, max_size=4))
def test_random_kl_ablation_parameters(params):
    try:
        cfg = parse_config(AblationConfig, **params)
    except CircuitlibError:
        return
    assert cfg.kl_weights and all(w >= 0 for w in cfg.kl_weights) and cfg.seeds >= 1


@FUZZ
@given(st.dictionaries(st.sampled_from(["head_epochs", "seed", "doublet_rtol"]), PARAM, max_size=3))
def test_random_pole_zero_parameters(params):
    try:
        cfg = parse_config(StudyConfig, **params)
    except CircuitlibError:
        return
    assert cfg.head_epochs >= 1 and 0 <= cfg.doublet_rtol <= 0.5


@FUZZ
@given(st.dictionaries(st.sampled_from(["n_grid", "methods", "tolerances", "eseries", "n_bom", "seed"]), PARAM,
                       max_size=4))
def test_random_generation_test_parameters(params):
    try:
        cfg = parse_config(GridConfig, **params)
    except CircuitlibError:
        return
    assert set(cfg.methods) <= set(METHODS) and all(0 < t < 1 for t in cfg.tolerances) and cfg.n_bom <= cfg.n_grid


def test_oversized_netlist_is_refused():
    with pytest.raises(NetlistError, match="at most 256000 are read"):
        parse_netlist("* padding\n" * (MAX_BYTES // 10 + 10), "out")
