"""The factored fast sweep against closed forms and against the exact per-frequency solve."""

import functools
import math

import circuits as tc
import numpy as np
import pytest

from circuitlib.core.circuit import Circuit, Edge
from circuitlib.sim import sweep
from circuitlib.sim.mna import Pencil, _frequency_scale, pencil, response, response_hz
from circuitlib.synthesis.families import Target, ladder

F_HZ = np.logspace(0, 6, 1201)  # the seed's sweep: 1 Hz to 1 MHz, 200 points per decade


def test_rc_lowpass_matches_closed_form():
    r, c = 1e3, 100e-9
    got = sweep.sweep_hz([tc.rc_lowpass(r, c)], F_HZ)[0]
    want = 1 / (1 + 2j * math.pi * F_HZ * r * c)
    assert np.max(np.abs(got - want) / np.abs(want)) < 1e-12


def test_series_rlc_bandpass_matches_closed_form():
    f0, q, z0 = 3e3, 20.0, 1e3
    s = 2j * math.pi * F_HZ
    w0 = 2 * math.pi * f0
    want = (s * w0 / q) / (s * s + s * w0 / q + w0 * w0)
    got = sweep.sweep_hz([tc.series_rlc_bandpass(f0, q, z0)], F_HZ)[0]
    assert np.max(np.abs(got - want) / np.abs(want)) < 1e-10


def test_deep_stopbands_keep_relative_accuracy():
    """Fifth-order ladders fall by 100 dB per decade: a sum of residues would cancel here, a product does not."""
    rng = np.random.default_rng(0)
    circuits = [tc.butterworth3_lowpass(200.0), tc.twin_t_notch(1e3), tc.wien(50e3), tc.two_rc_sections(1e3, 1e-7)]
    for kind, highpass in (("butterworth", False), ("chebyshev", True), ("bessel", False)):
        circuits.append(ladder(kind, 5, highpass, Target(float(10 ** rng.uniform(1.5, 5)), 0.707, 1e3, 5)))
    got = sweep.sweep_hz(circuits, F_HZ)
    for c, h in zip(circuits, got):
        want = response_hz(pencil(c), F_HZ)
        assert np.max(np.abs(h - want) / np.abs(want)) < 1e-8


def test_every_test_circuit_uses_its_factored_form():
    circuits = [tc.rc_lowpass(1e3, 1e-7), tc.series_rlc_bandpass(1e3, 50), tc.twin_t_notch(2e3), tc.wien(300.0)]
    assert sweep.sweep_with_report(circuits, F_HZ)[1].all()


def test_a_failed_check_falls_back_to_exact_solves(monkeypatch):
    c = tc.butterworth3_lowpass(1e3)
    monkeypatch.setattr(sweep, "CHECK_RTOL", -1.0)  # no factored form can pass
    got, factored = sweep.sweep_with_report([c], F_HZ)
    assert not factored[0]
    assert np.array_equal(got[0], response_hz(pencil(c), F_HZ))


@pytest.mark.parametrize("highpass", [False, True])
def test_multiple_roots_at_origin_or_infinity_keep_the_factored_form(highpass):
    """A fifth-order ladder has five zeros at infinity (low-pass) or at the origin (high-pass): the eigen-solver
    returns them as a ring eps^(1/5) wide, which must be recognised as the multiple root, not used as is."""
    c = ladder("butterworth", 5, highpass, Target(2e3, 0.707, 1e3, 5))
    got, factored = sweep.sweep_with_report([c], F_HZ)
    assert factored[0]
    want = response_hz(pencil(c), F_HZ)
    assert np.max(np.abs(got[0] - want) / np.abs(want)) < 1e-8


def test_a_ring_is_one_multiple_root_and_single_roots_are_not():
    ring = 1e-4 * np.exp(2j * np.pi * np.arange(4) / 4)  # roots of z^4 = 1e-16: a perturbed 4-fold root at 0
    genuine = np.array([0.02, 0.01j, -0.01j, 3.0])  # a small real root and a small conjugate pair are real roots
    x = np.stack([np.concatenate([ring, [0.5, 2.0]]), np.concatenate([genuine[:3], [1e-12], [5.0, 7.0]])])
    mask = sweep._ring_at_zero(x, np.ones(2))
    assert mask[0].tolist() == [True] * 4 + [False, False]
    assert mask[1].tolist() == [False, False, False, True, False, False]  # only the 1e-12 root is "at 0"


def test_a_bad_first_shift_is_retried_at_the_worst_check_point(monkeypatch):
    """With every shift a million times too high, the roots in the circuit's band are found too inaccurately
    to pass the check; the retry shifts to where the check failed and gets the factored form's full accuracy."""
    circuits = [tc.series_rlc_bandpass(2e5, 30), tc.twin_t_notch(3e5), tc.butterworth3_lowpass(1e5)]
    scales = sweep._frequency_scales
    monkeypatch.setattr(sweep, "_frequency_scales", lambda g, c: 1e6 * scales(g, c))
    g, c, b0, b1, out, sigma = sweep._stack(circuits)
    s_check = 2j * np.pi * np.geomspace(F_HZ[0], F_HZ[-1], sweep.CHECK_POINTS)
    first = sweep._factor((g, c, b0, b1, out), sigma, s_check, sweep._exact(g, c, b0, b1, out, s_check))
    assert not first.ok.any()
    got, factored = sweep.sweep_with_report(circuits, F_HZ)
    for c, h in zip(circuits, got):
        want = response_hz(pencil(c), F_HZ)
        assert np.max(np.abs(h - want) / np.abs(want)) < 1e-8
    assert factored.all()


def test_the_stack_is_the_nodal_pencil():
    circuits = [tc.rc_lowpass(1e3, 1e-7), tc.series_rlc_bandpass(1e3, 5), tc.twin_t_notch(2e3)]
    g, c, b0, b1, out, sigma = sweep._stack(circuits)
    for i, circuit in enumerate(circuits):
        p, k = pencil(circuit), pencil(circuit).G.shape[0]
        h_stack = response(Pencil(g[i], c[i], b0[i], b1[i], out[i]), 2j * np.pi * F_HZ[::50])
        assert np.allclose(h_stack, response(p, 2j * np.pi * F_HZ[::50]), rtol=1e-12, atol=0)
        assert np.array_equal(g[i, k:, k:], np.eye(g.shape[1] - k)) and not c[i, k:].any()
        assert sigma[i] == pytest.approx(_frequency_scale(p), rel=1e-12)


def test_groups_of_similar_size_keep_every_circuit_in_its_row(monkeypatch):
    """Circuits are regrouped by size (`size_groups`, here groups of two at least); each row of the result must still
    be its own circuit's sweep."""
    circuits = [tc.butterworth3_lowpass(2e3), tc.rc_lowpass(1e3, 1e-8), tc.twin_t_notch(5e2),
                tc.rl_highpass(50.0, 1e-3), tc.wien(3e4), tc.series_rlc_bandpass(7e3, 8), tc.rc_highpass(2e3, 1e-7)]
    monkeypatch.setattr(sweep, "size_groups", functools.partial(sweep.size_groups, least=2))
    assert len(sweep.stack(circuits).groups) > 2
    got = sweep.sweep_hz(circuits, F_HZ)
    for row, c in zip(got, circuits):
        want = response_hz(pencil(c), F_HZ)
        assert np.max(np.abs(row - want) / np.abs(want)) < 1e-8


def test_rows_of_different_lengths_are_each_their_own_circuits_sweep():
    """sweep_rows evaluates rows in order of length, each block only as far as its longest row: every row must still
    be its own circuit on its own grid, and the padding (the last frequency repeated) its value there."""
    circuits = [tc.butterworth3_lowpass(2e3), tc.twin_t_notch(5e2), tc.rc_lowpass(1e3, 1e-8), tc.wien(3e4)]
    lengths = [700, 40, 1201, 3]
    f = np.empty((len(circuits), max(lengths)))
    for i, n in enumerate(lengths):
        f[i, :n] = np.geomspace(10.0 * (i + 1), 1e5, n)
        f[i, n:] = f[i, n - 1]
    got = sweep.sweep_rows(circuits, f)
    for row, c, fr in zip(got, circuits, f):
        want = response_hz(pencil(c), fr)
        assert np.max(np.abs(row - want) / np.abs(want)) < 1e-8


@pytest.mark.parametrize("q", [1e2, 1e4, 1e6])
def test_high_q_and_widely_spread_values_stay_accurate(q):
    """Ill-conditioned circuits: a resonance of Q up to 1e6 swept across its peak, and a ladder whose values span
    eighteen decades (1 pF against 1 Mohm). The factored form must match exact solves there, or fall back to them."""
    f0 = 1e4
    f = np.concatenate([np.geomspace(1e2, 1e6, 601), f0 * (1 + np.linspace(-3, 3, 601) / q)])
    f.sort()
    circuits = [tc.series_rlc_bandpass(f0, q), tc.series_rlc_lowpass(f0, q),
                ladder("chebyshev", 7, False, Target(f0, 0.707, 1e6, 7)), tc.parallel_rlc_bandpass(f0, q, z0=1e-2)]
    got, factored = sweep.sweep_with_report(circuits, f)
    for row, c in zip(got, circuits):
        want = response_hz(pencil(c), f)
        assert np.max(np.abs(row - want) / np.abs(want)) < 1e-7
    assert factored.any()


def _spy_zero_pencil(monkeypatch) -> list[int]:
    """Record how many circuits each call of sweep._zeros_of (the zero pencil's eigenvalues) is given."""
    calls: list[int] = []
    real = sweep._zeros_of

    def spy(mats, sigma):
        calls.append(len(sigma))
        return real(mats, sigma)

    monkeypatch.setattr(sweep, "_zeros_of", spy)
    return calls


def test_numerators_k_s_to_the_m_spare_the_zero_pencil(monkeypatch):
    """All-pole low-passes (K), their high-pass transforms (K s^n) and a series RLC band-pass (K s) are evaluated from
    their poles and the guessed monomial numerator: the zero pencil is never solved, and H is exact to 1e-8."""
    calls = _spy_zero_pencil(monkeypatch)
    circuits = [ladder(kind, n, hp, Target(2e3, 0.707, 600.0, n))
                for kind in ("butterworth", "chebyshev", "bessel") for n in (3, 6, 9) for hp in (False, True)]
    circuits += [tc.series_rlc_bandpass(5e3, 10), tc.rc_highpass(1e3, 1e-7)]
    got, factored = sweep.sweep_with_report(circuits, F_HZ)
    assert factored.all() and sum(calls) == 0
    for c, h in zip(circuits, got):
        want = response_hz(pencil(c), F_HZ)
        assert np.max(np.abs(h - want) / np.abs(want)) < 1e-8


def test_a_numerator_that_only_looks_monomial_gets_its_zeros_from_the_zero_pencil(monkeypatch):
    """An RC low-pass with 0.1 fF across its resistor has a zero at 1e13 rad/s: over 1 Hz to 1 MHz its numerator is
    constant to 6e-7, close enough for the monomial guess to be tried but not to pass the 1e-9 check. The zero pencil
    then gives the zero, and H is exact; a twin-T notch, whose zeros lie in the band, goes to the zero pencil at once."""
    calls = _spy_zero_pencil(monkeypatch)
    bridged = Circuit(0, {(1, 2): Edge(r_ohm=1e3, c_f=1e-16), (0, 2): Edge(c_f=1e-6)})
    notch = tc.twin_t_notch(2e3)
    got, factored = sweep.sweep_with_report([bridged, notch, tc.rc_lowpass(1e3, 1e-6)], F_HZ)
    assert factored.all() and sorted(calls) == [1, 1]  # the notch (no fit), then the bridged RC (fit, failed check)
    want = response_hz(pencil(bridged), F_HZ)
    assert np.max(np.abs(got[0] - want) / np.abs(want)) < 1e-10
    s = 2j * np.pi * F_HZ
    assert np.max(np.abs(got[0] - (1 + s * 1e3 * 1e-16) / (1 + s * 1e3 * (1e-6 + 1e-16))) / np.abs(want)) < 1e-10


@pytest.mark.parametrize("known_roots", [False, True])
def test_a_shift_on_a_pole_goes_to_the_retry(monkeypatch, known_roots):
    """With the shift placed exactly on an RC low-pass's pole (sigma = -1/RC, where G + sigma C is singular), the one
    LU at the shifts fails: the circuit must still come out exact, from the retry at its worst check point, whether
    its roots are found in the sweep or given (`sweep_rows` after `finite_roots`, as the batched verification does)."""
    r, c = 1e3, 1e-7
    rc = tc.rc_lowpass(r, c)
    want = 1 / (1 + 2j * math.pi * F_HZ * r * c)
    if known_roots:
        stacked = sweep.stack([rc])
        sweep.finite_roots([rc], stacked)
    monkeypatch.setattr(sweep, "_frequency_scales", lambda g, c_: np.full(len(g), -1 / (r * c)))
    if known_roots:
        stacked.parts = [(mats, np.full(1, -1 / (r * c))) for mats, _ in stacked.parts]
        got = sweep.sweep_rows([rc], F_HZ[None, :], stacked=stacked)[0]
    else:
        got, factored = sweep.sweep_with_report([rc], F_HZ)
        got = got[0]
        assert factored[0]  # by the retry
    assert np.max(np.abs(got - want) / np.abs(want)) < 1e-12
