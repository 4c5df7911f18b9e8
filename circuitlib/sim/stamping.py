"""Nodal stamping: where every element's value lands in the nodal matrices of one circuit or of a batch.

This is the one place where a circuit becomes matrices; the numpy pencil (`mna.pencil`), the fast sweep
(`sweep`) and the differentiable torch solver (`differentiable.torch_matrices`) all stamp through `stamp`.

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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from circuitlib.core.circuit import Circuit

KIND_CODE = {"R": 0, "L": 1, "C": 2}
_R, _L, _C = KIND_CODE["R"], KIND_CODE["L"], KIND_CODE["C"]
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


def _elements(circuits: Sequence[Circuit]) -> tuple[np.ndarray, np.ndarray]:
    """((E, 4) int table of circuit, kind code, node a, node b; (E,) values) of every element, circuit by circuit in
    `Circuit.components()` order (sorted edges, then R, L, C), read straight from the edges."""
    flat, values = [], []
    extend, add = flat.extend, values.append
    for i, circuit in enumerate(circuits):
        for key, edge in sorted(circuit.edges.items()):
            r, l, c = edge.r_ohm, edge.l_h, edge.c_f
            if r is not None:
                extend((i, _R, *key))
                add(r)
            if l is not None:
                extend((i, _L, *key))
                add(l)
            if c is not None:
                extend((i, _C, *key))
                add(c)
    return np.array(flat, dtype=np.int64).reshape(-1, 4), np.array(values, dtype=float)


def stamp(circuits: Sequence[Circuit]) -> Stamps:
    """The stamps of `circuits`, in order: the elements are read in one Python pass, their stamps laid out with
    array operations (five slots per element, the ones that touch ground dropped).

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> st = stamp([Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})])
    >>> st.unknowns.tolist(), st.kinds.tolist()  # one unknown (vout); C1 on edge (0, 2) comes before R1 on (1, 2)
    ([1], [2, 0])
    """
    table, values = _elements(circuits)
    owner, kinds = table[:, 0], table[:, 1]
    a, b = table[:, 2] - 1, table[:, 3] - 1  # full indices; -1 is ground
    nodes = np.array([c.n_nodes for c in circuits], dtype=np.int64)
    inductor = kinds == KIND_CODE["L"]
    n_inductors = np.bincount(owner[inductor], minlength=len(circuits))
    before = np.cumsum(inductor) - inductor - np.concatenate([[0], np.cumsum(n_inductors)[:-1]])[owner]
    l_row = nodes[owner] - 1 + before  # the row of each inductor's current (meaningless for R and C)
    # five slots per element: R and C stamp (a,a) (b,b) (a,b) (b,a); an inductor (a,l) (l,a) (b,l) (l,b) (l,l)
    row = np.where(inductor[:, None], np.stack([a, l_row, b, l_row, l_row], 1), np.stack([a, b, a, b, a], 1))
    col = np.where(inductor[:, None], np.stack([l_row, a, l_row, b, l_row], 1), np.stack([a, b, b, a, a], 1))
    sign = np.where(inductor[:, None], [1.0, 1.0, -1.0, -1.0, -1.0], [1.0, 1.0, -1.0, -1.0, 0.0])
    power = np.where(inductor[:, None], [_ONE, _ONE, _ONE, _ONE, _VALUE],
                     np.where(kinds == KIND_CODE["R"], _INVERSE, _VALUE)[:, None])
    in_g = np.where(inductor[:, None], [True, True, True, True, False], (kinds == KIND_CODE["R"])[:, None])
    used = (row >= 0) & (col >= 0) & (inductor[:, None] | (np.arange(5) < 4))
    element = np.broadcast_to(np.arange(len(kinds))[:, None], row.shape)
    sizes = nodes - 1 + n_inductors
    return Stamps(len(circuits), int(sizes.max()), sizes - 1, kinds, values, owner, owner[element[used]], row[used],
                  col[used], element[used], sign[used], power[used].astype(np.int64), in_g[used])


def unknowns(circuit: Circuit) -> int:
    """Size of a circuit's reduced nodal system: node voltages other than GND and VIN, plus inductor currents."""
    return circuit.n_nodes - 2 + sum(e.l_h is not None for e in circuit.edges.values())


def subset(st: Stamps, rows: np.ndarray) -> Stamps:
    """The stamps of the circuits `rows` of `st`, in that order, padded to the largest of them: what `stamp` would
    give for those circuits alone, without reading them again.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rcs = [Circuit(0, {(1, 2): Edge(r_ohm=r), (0, 2): Edge(c_f=1e-6)}) for r in (1e3, 2e3, 4e3)]
    >>> matrices(subset(stamp(rcs), np.array([2, 0])))[0][:, 0, 0].tolist()  # G of 4 kohm, then of 1 kohm
    [0.00025, 0.001]
    """
    rows = np.asarray(rows, dtype=np.int64)
    new = np.full(st.n_circuits, -1)
    new[rows] = np.arange(len(rows))
    elements = np.flatnonzero(new[st.owner] >= 0)
    elements = elements[np.argsort(new[st.owner[elements]], kind="stable")]  # circuit by circuit, in the new order
    renumber = np.full(len(st.owner), -1)
    renumber[elements] = np.arange(len(elements))
    kept = np.flatnonzero(new[st.circuit] >= 0)
    kept = kept[np.argsort(new[st.circuit[kept]], kind="stable")]
    sizes = st.unknowns[rows]
    return Stamps(len(rows), int(sizes.max(initial=0)) + 1, sizes, st.kinds[elements], st.values[elements],
                  new[st.owner[elements]], new[st.circuit[kept]], st.row[kept], st.col[kept],
                  renumber[st.element[kept]], st.sign[kept], st.power[kept], st.in_g[kept])


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
    shape = (st.n_circuits, st.full_size, st.full_size)
    flat = np.ravel_multi_index((st.circuit, st.row, st.col), shape)
    g_full, c_full = (np.bincount(flat[mask], stamped[mask], minlength=math.prod(shape)).reshape(shape)
                      for mask in (st.in_g, ~st.in_g))  # summed in stamp order, as np.add.at would
    return reduce(g_full, c_full, st.unknowns)
