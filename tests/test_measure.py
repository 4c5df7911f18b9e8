"""`measure` against closed-form answers (each expected value names its formula in tests/circuits.py)."""

import math

import circuits as tc
import pytest

from circuitlib.analysis.measure import measure
from circuitlib.core.circuit import Circuit, Edge

REL = 1e-3  # the definitions: figures accurate to 0.1% up to Q = 100


def close(value, expected, rel=REL):
    return value is not None and math.isclose(value, expected, rel_tol=rel)


@pytest.mark.parametrize("r, c", [(1e3, 1e-6), (50.0, 3.3e-9), (1e6, 47e-6)])
def test_rc_first_order(r, c):
    fc = 1 / (2 * math.pi * r * c)
    lp, hp = measure(tc.rc_lowpass(r, c)), measure(tc.rc_highpass(r, c))
    assert (lp.response, hp.response) == ("lowpass", "highpass")
    assert close(lp.fc_hz, fc) and close(hp.fc_hz, fc)
    assert lp.q_pole is None and hp.q_pole is None and "q_pole" in lp.absent
    assert lp.order == hp.order == 1


@pytest.mark.parametrize("r, l", [(100.0, 1e-3), (10e3, 0.5)])
def test_rl_first_order(r, l):
    fc = r / (2 * math.pi * l)
    lp, hp = measure(tc.rl_lowpass(r, l)), measure(tc.rl_highpass(r, l))
    assert (lp.response, hp.response) == ("lowpass", "highpass")
    assert close(lp.fc_hz, fc) and close(hp.fc_hz, fc)
    assert lp.q_pole is None and hp.q_pole is None


@pytest.mark.parametrize("q", [0.1, 0.3, 0.707, 1.0, 5.0, 20.0, 60.0, 100.0])
@pytest.mark.parametrize("f0", [50.0, 12e3, 400e3])
def test_series_rlc_bandpass(f0, q):
    m = measure(tc.series_rlc_bandpass(f0, q))
    assert m.valid and m.response == "bandpass" and m.order == 2
    assert close(m.f0_hz, f0) and close(m.q, q) and close(m.q_pole, q)
    assert m.fc_hz is None


@pytest.mark.parametrize("q", [0.1, 0.5, 2.0, 30.0, 100.0])
def test_parallel_rlc_bandpass(q):
    m = measure(tc.parallel_rlc_bandpass(5e3, q))
    assert m.response == "bandpass"
    assert close(m.f0_hz, 5e3) and close(m.q, q) and close(m.q_pole, q)


@pytest.mark.parametrize("q", [0.2, 0.5, 0.707, 2.0, 10.0, 100.0])
def test_series_rlc_lowpass(q):
    m = measure(tc.series_rlc_lowpass(1e4, q))
    assert m.response == "lowpass"
    assert close(m.q_pole, q)
    assert close(m.fc_hz, tc.second_order_lowpass_fc(1e4, q))


@pytest.mark.parametrize("fc", [100.0, 25e3])
def test_butterworth_ladders(fc):
    m2, m3 = measure(tc.butterworth2_lowpass(fc)), measure(tc.butterworth3_lowpass(fc))
    assert m2.response == m3.response == "lowpass"
    assert close(m2.fc_hz, fc) and close(m3.fc_hz, fc)
    assert close(m2.q_pole, 1 / math.sqrt(2)) and close(m3.q_pole, 1.0)  # Butterworth pole Q of orders 2 and 3
    assert (m2.order, m3.order) == (2, 3)


def test_twin_t_notch():
    m = measure(tc.twin_t_notch(1e3))
    assert m.response == "bandstop"
    assert close(m.f0_hz, 1e3) and close(m.q, 0.25) and close(m.q_pole, 0.25)


def test_wien():
    m = measure(tc.wien(2e3))
    assert m.response == "bandpass"
    assert close(m.f0_hz, 2e3) and close(m.q, 1 / 3)


def test_two_rc_sections():
    m = measure(tc.two_rc_sections(1e3, 1e-7))
    assert m.response == "lowpass" and m.order == 2
    assert close(m.fc_hz, tc.two_rc_sections_fc(1e3, 1e-7))
    assert close(m.q_pole, tc.two_rc_sections_qpole())


def test_disconnected_output_is_invalid():
    c = Circuit(0, {(0, 1): Edge(r_ohm=100.0), (0, 2): Edge(r_ohm=1e3, c_f=1e-6)})
    m = measure(c)
    assert not m.valid and any(p.startswith("output_unreachable") for p in m.problems)
    assert m.fc_hz is None and m.q_pole is None


def test_lossless_tank_cut_off_from_the_input_is_invalid_not_a_crash():
    """VIN reaches only a dangling node; VOUT sits on a lossless LC tank whose DC pole comes out denormal
    (about 1e-313 rad/s): that pole is at the origin, and the circuit is reported invalid."""
    c = Circuit(2, {(0, 3): Edge(c_f=1.5881010950735686e-09), (1, 4): Edge(r_ohm=304.34722900390625),
                    (2, 3): Edge(l_h=0.001244269427843392, c_f=3.7516686979266467e-10)})
    m = measure(c)
    assert not m.valid and any(p.startswith("output_unreachable") for p in m.problems)


def test_no_reactive_element_is_invalid():
    m = measure(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(r_ohm=2e3)}))
    assert not m.valid and m.response == "flat"
    assert any(p.startswith("constant_transfer") for p in m.problems)


def test_reactive_element_that_shapes_nothing_is_invalid():
    # A capacitor across the ideal source does not change V(VOUT)/V(VIN).
    m = measure(Circuit(0, {(0, 1): Edge(c_f=1e-6), (1, 2): Edge(r_ohm=1e3), (0, 2): Edge(r_ohm=1e3)}))
    assert not m.valid and any(p.startswith("constant_transfer") for p in m.problems)


def test_self_loop_and_range_are_named_problems():
    loop = measure(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6), (2, 2): Edge(r_ohm=5.0)}))
    assert not loop.valid and any(p.startswith("self_loop") for p in loop.problems)
    big = measure(tc.rc_lowpass(1e9, 1e-9))
    assert not big.valid and any(p.startswith("value_out_of_range") for p in big.problems)


def test_floating_internal_node_is_invalid():
    c = tc.rc_lowpass(1e3, 1e-6)
    c.n_internal = 1  # node 3 declared but connected to nothing
    m = measure(c)
    assert not m.valid and any(p.startswith("floating_node") for p in m.problems)


def test_a_passband_dip_makes_a_lowpass_multi_band_and_fc_stays_the_crossing_next_to_dc():
    """A narrow series LC from VOUT to ground, resonant inside the passband of a Butterworth ladder (fc 1 kHz),
    cuts a dip below -3 dB: the gain crosses its -3 dB level three times. fc is read at the first crossing from
    DC, below the dip, and the record is flagged."""
    from circuitlib.core.circuit import VOUT
    from circuitlib.synthesis import ladder as lad
    from circuitlib.synthesis.classical import ladder_circuit
    from circuitlib.synthesis.values import scale

    plain = ladder_circuit(lad.synthesise("butterworth", 3, rs_ohm=1.0, rl_ohm=1.0, form="shunt_first"))
    trap = plain.n_nodes
    dipped = Circuit(plain.n_internal + 1, {**plain.edges, (VOUT, trap): Edge(l_h=50.0), (0, trap): Edge(c_f=0.08)},
                     dict(plain.names))
    to_khz = lambda c: scale(c, freq=2 * math.pi * 1e3, impedance=1e3)  # noqa: E731 - fc 1 kHz, 1 kohm
    m_plain, m_dip = measure(to_khz(plain)), measure(to_khz(dipped))
    assert m_plain.response == m_dip.response == "lowpass"
    assert m_plain.multi_band is False and m_dip.multi_band is True
    assert m_plain.fc_hz == pytest.approx(1e3, rel=1e-6)
    assert m_dip.fc_hz < 500.0  # below the dip at 500 Hz, not the edge near 1 kHz


@pytest.mark.parametrize("circuit", [tc.series_rlc_bandpass(1e3, 5.0), tc.twin_t_notch(1e3), tc.rc_highpass(1e3, 1e-7),
                                     tc.series_rlc_lowpass(1e3, 8.0)])
def test_textbook_filters_are_single_band(circuit):
    m = measure(circuit)
    assert m.response in ("lowpass", "highpass", "bandpass", "bandstop") and m.multi_band is False


def test_a_class_without_a_3db_level_has_no_multi_band_flag():
    shelf = Circuit(0, {(1, 2): Edge(r_ohm=1e3, c_f=1e-7), (0, 2): Edge(r_ohm=1e3)})
    m = measure(shelf)  # a divider whose top arm is bypassed by C: gain 1/2 at DC, 1 at infinity, no notch
    assert m.response == "other" and m.multi_band is None


def test_a_grid_point_on_the_level_itself_is_not_a_crossing():
    """The search grid holds each refined -3 dB crossing, where |H| is the level to the last bit and may land an ulp
    to either side of it: a Butterworth high-pass (once flagged multi-band on one machine) crosses once."""
    c = Circuit(1, {(0, 2): Edge(l_h=0.05410497818862903), (1, 3): Edge(r_ohm=29838.321712304987),
                    (2, 3): Edge(c_f=1.215397777024124e-10)})
    m = measure(c)
    assert m.response == "highpass" and m.multi_band is False
    assert m.fc_hz == pytest.approx(62064.36, rel=1e-6)
