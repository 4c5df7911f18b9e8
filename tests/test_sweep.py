"""The factored fast sweep against closed forms and against the exact per-frequency solve."""

import math

import numpy as np
import pytest

import circuits as tc
from circuitlib import sweep
from circuitlib.families import Target, ladder
from circuitlib.mna import pencil, response_hz

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
