"""Nodal stamping: where every element's value lands in the nodal matrices of one circuit or of a batch.

This is the one place where a circuit becomes matrices; the numpy pencil (`mna.pencil`), the fast sweep
(`sweep`) and the differentiable torch solver (`mna.torch_matrices`) all stamp through `stamp`.

Formulation (modified nodal analysis with the ideal source eliminated). The full matrices of a circuit are
indexed VIN (0), VOUT (1), internal nodes (2, 3, ...), then one current per inductor; ground is dropped.
A resistor stamps 1/R into G, a capacitor C into C (the usual two-terminal pattern), and an inductor adds
the branch equation v_a - v_b - s L i = 0: incidence +-1 in G and -L on its current's diagonal of C.
Dropping VIN's row and column gives, with u = V(VIN) = 1,

    (G + s C) x = b0 + s b1,   b0 = -G_full[1:, 0],   b1 = -C_full[1:, 0],   H(s) = x[0] = V(VOUT).

In a batch every circuit is padded to the largest size; a padding unknown has 1 on G's diagonal and nothing
in C, so it only adds eigenvalues at infinity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from circuitlib.core.circuit import Circuit

KIND_CODE = {"R": 0, "L": 1, "C": 2}
_VALUE, _INVERSE, _ONE = 1, -1, 0  # a stamp is sign * value, sign / value, or the constant sign (inductor incidence)


@dataclass(frozen=True)
class Stamps:
    """The stamp pattern of a batch of circuits, and their element values (SI: ohm, henry, farad).

    Stamp j adds sign[j] * f(values[element[j]]) to G (in_g) or C at (circuit[j], row[j], col[j]) of the full
    matrices, where f is the value itself, its inverse or 1, by power[j]."""

    n_circuits: int
    full_size: int  # padded size of the full matrices (VIN included)
    unknowns: np.ndarray  # (B,) reduced unknowns of each circuit: nodes other than GND and VIN, plus inductors
    kinds: np.ndarray  # (E,) KIND_CODE of every element, circuit by circuit in Circuit.components() order
    values: np.ndarray  # (E,)
    owner: np.ndarray  # (E,) the circuit of each element
    circuit: np.ndarray  # (S,) per stamp
    row: np.ndarray
    col: np.ndarray
    element: np.ndarray
    sign: np.ndarray
    power: np.ndarray
    in_g: np.ndarray


def _circuit_stamps(circuit: Circuit, first_element: int) -> tuple[list[tuple], list[tuple[int, float]], int]:
    """(stamps as (row, col, element, sign, power, in_g), elements as (kind, value), full size) of one circuit."""
    stamps, elements = [], []
    l_row = circuit.n_nodes - 1
    for k, comp in enumerate(circuit.components(), start=first_element):
        a, b = comp.node_a - 1, comp.node_b - 1  # full index; -1 is ground
        elements.append((KIND_CODE[comp.kind], comp.value))
        if comp.kind in "RC":
            power, in_g = (_INVERSE, True) if comp.kind == "R" else (_VALUE, False)
            stamps += [(i, j, k, s, power, in_g) for i, j, s in ((a, a, 1), (b, b, 1), (a, b, -1), (b, a, -1))
                       if i >= 0 and j >= 0]
            continue
        for node, s in ((a, 1.0), (b, -1.0)):  # inductor: its current is unknown l_row
            if node >= 0:
                stamps += [(node, l_row, k, s, _ONE, True), (l_row, node, k, s, _ONE, True)]
        stamps.append((l_row, l_row, k, -1.0, _VALUE, False))
        l_row += 1
    return stamps, elements, l_row


def stamp(circuits: Sequence[Circuit]) -> Stamps:
    """The stamps of `circuits`, in order.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> st = stamp([Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})])
    >>> st.unknowns.tolist(), st.kinds.tolist()  # one unknown (vout); C1 on edge (0, 2) comes before R1 on (1, 2)
    ([1], [2, 0])
    """
    rows, elements, owner, sizes, unknowns = [], [], [], [], []
    for i, circuit in enumerate(circuits):
        stamps, elems, size = _circuit_stamps(circuit, len(elements))
        rows += [(i, *s) for s in stamps]
        elements += elems
        owner += [i] * len(elems)
        sizes.append(size)
        unknowns.append(size - 1)
    table = np.array(rows, dtype=float).reshape(-1, 7)
    col = lambda j, t=np.int64: table[:, j].astype(t)  # noqa: E731
    return Stamps(len(circuits), max(sizes), np.array(unknowns, dtype=np.int64),
                  np.array([k for k, _ in elements], dtype=np.int64), np.array([v for _, v in elements], dtype=float),
                  np.array(owner, dtype=np.int64), col(0), col(1), col(2), col(3), table[:, 4], col(5), col(6, bool))


def repeat(st: Stamps, n: int) -> Stamps:
    """The stamps of `n` copies of the one circuit of `st`, so that `matrices(repeat(st, n), values.ravel())`
    gives the pencils of `n` value sets (values (n, E), E elements each) without stamping each copy again.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> one = stamp([Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})])
    >>> g, c, *_ = matrices(repeat(one, 2), [1e-6, 1e3, 2e-6, 2e3])
    >>> g[:, 0, 0].tolist(), c[:, 0, 0].tolist()
    ([0.001, 0.0005], [1e-06, 2e-06])
    """
    if st.n_circuits != 1:
        raise ValueError("repeat copies the stamps of one circuit")
    n_elements, n_stamps = len(st.kinds), len(st.circuit)
    copy = np.repeat(np.arange(n), n_stamps)
    return Stamps(n, st.full_size, np.tile(st.unknowns, n), np.tile(st.kinds, n), np.tile(st.values, n),
                  np.repeat(np.arange(n), n_elements), copy, np.tile(st.row, n), np.tile(st.col, n),
                  np.tile(st.element, n) + copy * n_elements, np.tile(st.sign, n), np.tile(st.power, n),
                  np.tile(st.in_g, n))


def stamp_values(st: Stamps, values: np.ndarray) -> np.ndarray:
    """The number each stamp adds: sign * value, sign / value or sign, by its power."""
    v = values[st.element]
    with np.errstate(divide="ignore"):
        return st.sign * np.where(st.power == _INVERSE, 1.0 / v, np.where(st.power == _VALUE, v, 1.0))


def reduce(g_full: np.ndarray, c_full: np.ndarray, unknowns: np.ndarray) -> tuple[np.ndarray, ...]:
    """(G, C, b0, b1, out) of the reduced system from full (B, n, n) matrices, padding unknowns decoupled."""
    n = g_full.shape[-1] - 1
    g, c = g_full[:, 1:, 1:].copy(), c_full[:, 1:, 1:].copy()
    pad = np.arange(n)[None, :] >= unknowns[:, None]
    g[pad[:, :, None] & np.eye(n, dtype=bool)[None]] = 1.0
    out = np.zeros((len(g), n))
    out[:, 0] = 1.0  # VOUT is reduced index 0
    return g, c, -g_full[:, 1:, 0], -c_full[:, 1:, 0], out


def matrices(st: Stamps, values: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(G, C, b0, b1, out) of every circuit, shapes (B, n, n) and (B, n), with `values` (default: the circuits')."""
    stamped = stamp_values(st, st.values if values is None else np.asarray(values, dtype=float))
    g_full = np.zeros((st.n_circuits, st.full_size, st.full_size))
    c_full = np.zeros_like(g_full)
    for target, mask in ((g_full, st.in_g), (c_full, ~st.in_g)):
        np.add.at(target, (st.circuit[mask], st.row[mask], st.col[mask]), stamped[mask])
    return reduce(g_full, c_full, st.unknowns)
