"""The nodal solver agrees with ngspice to 1e-6 relative wherever |H| > 1e-9, on every test circuit and seed netlist."""

import circuits as tc
import numpy as np
import pytest

from circuitlib.core.netlist import AcSweep
from circuitlib.report.seed_cases import load_cases
from circuitlib.sim.differentiable import batch_response_hz
from circuitlib.sim.mna import pencil, response_hz
from circuitlib.sim.spice import simulate

SEED_SWEEP = AcSweep("dec", 200, 1.0, 1e6)

TEST_CIRCUITS = {
    "rc_lowpass": tc.rc_lowpass(1e3, 1e-6), "rc_highpass": tc.rc_highpass(1e3, 1e-6),
    "rl_lowpass": tc.rl_lowpass(100.0, 1e-3), "rl_highpass": tc.rl_highpass(100.0, 1e-3),
    "series_rlc_q0.1": tc.series_rlc_bandpass(1e3, 0.1), "series_rlc_q100": tc.series_rlc_bandpass(1e3, 100.0),
    "parallel_rlc_q30": tc.parallel_rlc_bandpass(5e3, 30.0), "lowpass_rlc_q10": tc.series_rlc_lowpass(2e4, 10.0),
    "butterworth2": tc.butterworth2_lowpass(1e3), "butterworth3": tc.butterworth3_lowpass(1e4),
    "twin_t": tc.twin_t_notch(1e3), "wien": tc.wien(2e3), "two_rc": tc.two_rc_sections(1e3, 1e-7),
}


def max_rel_err(circuit) -> float:
    result = simulate(circuit, SEED_SWEEP)
    h = response_hz(pencil(circuit), result.f_hz)
    mask = np.abs(result.h) > 1e-9
    return float(np.max(np.abs(h[mask] - result.h[mask]) / np.abs(result.h[mask]))) if mask.any() else 0.0


@pytest.mark.parametrize("name", sorted(TEST_CIRCUITS))
def test_textbook_circuits_agree_with_ngspice(name):
    assert max_rel_err(TEST_CIRCUITS[name]) <= 1e-6


def test_seed_netlists_agree_with_ngspice():
    errors = [max_rel_err(case.circuit) for case in load_cases()]
    assert max(errors) <= 1e-6


def test_torch_batch_matches_numpy_solver():
    circuits = list(TEST_CIRCUITS.values())
    f_hz = np.logspace(0, 6, 61)
    batch = batch_response_hz(circuits, f_hz)
    for row, circuit in zip(batch, circuits):
        np.testing.assert_allclose(row, response_hz(pencil(circuit), f_hz), rtol=1e-10, atol=1e-14)


def test_ngspice_frequency_grid_is_the_seed_sweep():
    result = simulate(TEST_CIRCUITS["rc_lowpass"], SEED_SWEEP)
    assert len(result.f_hz) == 1201 and result.f_hz[0] == 1.0 and np.isclose(result.f_hz[-1], 1e6)


def test_a_sweep_narrower_than_one_step_returns_instead_of_hanging():
    """ngspice 39 never returns from `.ac dec 200 506.6 511.5` (under one step of 10^(1/200)): simulate sweeps the
    band's ends and midpoint instead, and they agree with the nodal solver."""
    import numpy as np

    from circuitlib.core.circuit import Circuit, Edge
    from circuitlib.core.netlist import AcSweep
    from circuitlib.sim import spice
    from circuitlib.sim.mna import pencil, response_hz

    rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    result = spice.simulate(rc, AcSweep("dec", 200, 506.6, 511.5))
    np.testing.assert_allclose(result.f_hz, [506.6, 509.05, 511.5])
    np.testing.assert_allclose(result.h, response_hz(pencil(rc), result.f_hz), rtol=1e-6)
