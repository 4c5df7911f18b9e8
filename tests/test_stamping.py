"""Nodal stamping: the batched, array-built stamps against a textbook element-by-element stamp, and subsets."""

import circuits as tc
import numpy as np

from circuitlib.sim import stamping
from circuitlib.synthesis.families import Target, ladder


def textbook(circuit):
    """Full G and C (VIN, VOUT, internal nodes, then inductor currents) stamped one element at a time."""
    comps = circuit.components()
    n_l = sum(c.kind == "L" for c in comps)
    size = circuit.n_nodes - 1 + n_l
    g, c = np.zeros((size, size)), np.zeros((size, size))
    l_row = circuit.n_nodes - 1
    for comp in comps:
        a, b = comp.node_a - 1, comp.node_b - 1
        if comp.kind == "L":
            for node, sign in ((a, 1.0), (b, -1.0)):
                if node >= 0:
                    g[node, l_row] += sign
                    g[l_row, node] += sign
            c[l_row, l_row] -= comp.value
            l_row += 1
            continue
        target, y = (g, 1 / comp.value) if comp.kind == "R" else (c, comp.value)
        for i, j, sign in ((a, a, 1), (b, b, 1), (a, b, -1), (b, a, -1)):
            if i >= 0 and j >= 0:
                target[i, j] += sign * y
    return g, c


CIRCUITS = [tc.rc_lowpass(1e3, 1e-7), tc.series_rlc_bandpass(1e3, 5), tc.twin_t_notch(2e3), tc.wien(300.0),
            tc.parallel_rlc_bandpass(5e3, 3), ladder("chebyshev", 7, True, Target(2e3, 0.707, 50, 5)),
            ladder("butterworth", 4, False, Target(1e4, 0.707, 600, 4))]


def test_a_batch_stamps_every_circuit_as_the_textbook_does():
    g, c, b0, b1, out = stamping.matrices(stamping.stamp(CIRCUITS))
    for i, circuit in enumerate(CIRCUITS):
        g_full, c_full = textbook(circuit)
        n = len(g_full) - 1  # VIN's row and column are dropped; its column is the source
        assert np.allclose(g[i, :n, :n], g_full[1:, 1:], rtol=1e-15, atol=0)
        assert np.allclose(c[i, :n, :n], c_full[1:, 1:], rtol=1e-15, atol=0)
        assert np.allclose(b0[i, :n], -g_full[1:, 0], rtol=1e-15, atol=0)
        assert np.allclose(b1[i, :n], -c_full[1:, 0], rtol=1e-15, atol=0)
        assert np.array_equal(g[i, n:, n:], np.eye(len(g[i]) - n)) and not c[i, n:].any()  # padding decoupled
        assert out[i, 0] == 1 and not out[i, 1:].any()


def test_a_subset_is_what_stamping_those_circuits_alone_gives():
    st = stamping.stamp(CIRCUITS)
    rows = np.array([5, 0, 3])
    alone, picked = stamping.stamp([CIRCUITS[i] for i in rows]), stamping.subset(st, rows)
    for got, want in zip(stamping.matrices(picked), stamping.matrices(alone)):
        assert np.array_equal(got, want)
    assert np.array_equal(picked.kinds, alone.kinds) and np.array_equal(picked.values, alone.values)
    assert picked.full_size == alone.full_size


def test_unknowns_count_nodes_and_inductor_currents():
    assert [stamping.unknowns(c) for c in CIRCUITS] == (stamping.stamp(CIRCUITS).unknowns).tolist()
    assert stamping.unknowns(tc.series_rlc_bandpass(1e3, 5)) == 3  # vout, n3 and the inductor's current
