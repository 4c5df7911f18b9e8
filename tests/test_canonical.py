"""circuitlib.core.canonical: canonical keys by colour refinement and individualisation-refinement search, checked
for invariance under relabelling, against networkx isomorphism and against the brute-force permutation search."""

from __future__ import annotations

import itertools
import time

import networkx as nx
import numpy as np
import pytest

from circuitlib.core import canonical
from circuitlib.core.canonical import canonical_labelling
from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge, _canonical

CLASSES = ("R", "L", "C", "RL", "RC", "LC", "RLC")


def make_edge(cls: str, rng: np.random.Generator | None = None) -> Edge:
    """An edge of class `cls`; values random if `rng` is given (the key must not depend on them)."""
    v = (lambda: float(rng.uniform(1.0, 2.0))) if rng is not None else (lambda: 1.0)
    return Edge(r_ohm=1e3 * v() if "R" in cls else None, l_h=1e-3 * v() if "L" in cls else None,
                c_f=1e-6 * v() if "C" in cls else None)


def random_circuit(rng: np.random.Generator, n_internal: int, classes=CLASSES, p_extra: float = 0.25,
                   named: bool = False) -> Circuit:
    """A connected graph on GND, VIN, VOUT and `n_internal` internal nodes (random spanning tree plus random extra
    edges) with random edge classes; with `named`, some R-carrying edges get the fixed names RS or RL."""
    n = 3 + n_internal
    nodes = [int(x) for x in rng.permutation(n)]
    pairs = {tuple(sorted((nodes[i], nodes[int(rng.integers(i))]))) for i in range(1, n)}
    for a, b in itertools.combinations(range(n), 2):
        if rng.random() < p_extra:
            pairs.add((a, b))
    edges = {pair: make_edge(str(rng.choice(classes)), rng) for pair in sorted(pairs)}
    names = {}
    if named:
        for (a, b), e in edges.items():
            if e.r_ohm is not None and rng.random() < 0.3:
                names[(a, b, "R")] = str(rng.choice(["RS", "RL"]))
    return Circuit(n_internal, edges, names)


def lc_ladder(order: int, traps: tuple[int, ...] = ()) -> Circuit:
    """A shunt-first lowpass LC ladder between RS (VIN to node 3) and RL (VOUT to ground): arms 0, 2, 4, ... are
    shunt C's to ground, arms 1, 3, ... series L's along the chain (the last one ends at VOUT); the shunt arms listed
    in `traps` (by arm index) are series-LC traps (L from the rail to a middle node, C from it to ground)."""
    edges: dict[tuple[int, int], Edge] = {}
    nxt = 3
    node = nxt
    nxt += 1
    edges[(VIN, node)] = make_edge("R")
    last_series = max(i for i in range(order) if i % 2 == 1)
    for i in range(order):
        if i % 2 == 0:  # shunt arm
            if i in traps:
                mid, nxt = nxt, nxt + 1
                edges[(node, mid)] = make_edge("L")
                edges[(mid, GND)] = make_edge("C")
            else:
                edges[(node, GND)] = make_edge("C")
        else:  # series arm
            to = VOUT if i == last_series else nxt
            if to != VOUT:
                nxt += 1
            edges[(node, to)] = make_edge("L")
            node = to
    edges[(VOUT, GND)] = make_edge("R")
    return Circuit(nxt - 3, edges, {(VIN, 3, "R"): "RS", (GND, VOUT, "R"): "RL"})


def permute(circuit: Circuit, perm: dict[int, int]) -> Circuit:
    """The circuit with node v renamed perm[v] (fixed nodes map to themselves)."""
    p = {GND: GND, VIN: VIN, VOUT: VOUT, **perm}
    return Circuit(circuit.n_internal, {(p[a], p[b]): e for (a, b), e in circuit.edges.items()},
                   {(p[a], p[b], k): name for (a, b, k), name in circuit.names.items()})


def random_perm(rng: np.random.Generator, circuit: Circuit) -> dict[int, int]:
    internal = list(range(3, circuit.n_nodes))
    return dict(zip(internal, (int(x) for x in rng.permutation(internal))))


def label(circuit: Circuit, a: int, b: int) -> tuple:
    """Edge label for networkx: the class and the fixed names of its parts."""
    e = circuit.edges[(a, b)]
    return e.edge_class, tuple((k, circuit.names.get((a, b, k))) for k, _ in e.parts())


def topology(circuit: Circuit) -> set[tuple]:
    return {(a, b, label(circuit, a, b)) for (a, b), e in circuit.edges.items() if e.parts()}


def key_string(circuit: Circuit) -> str:
    """The key format of the spec, written out directly for a circuit already in canonical numbering."""
    items = []
    for (a, b), e in circuit.edges.items():
        if e.parts():
            names = [circuit.names.get((a, b, k), "") for k, _ in e.parts()]
            items.append((a, b, e.edge_class + (f"[{','.join(names)}]" if any(names) else "")))
    return f"{circuit.n_internal}|" + ",".join(f"{a}-{b}:{cls}" for a, b, cls in sorted(items))


def to_nx(circuit: Circuit) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from((v, {"role": min(v, 3)}) for v in range(circuit.n_nodes))
    g.add_edges_from((a, b, {"label": label(circuit, a, b)}) for (a, b), e in circuit.edges.items() if e.parts())
    return g


def isomorphic(c1: Circuit, c2: Circuit) -> bool:
    return c1.n_internal == c2.n_internal and nx.is_isomorphic(
        to_nx(c1), to_nx(c2), node_match=lambda x, y: x["role"] == y["role"],
        edge_match=lambda x, y: x["label"] == y["label"])


def ladders() -> list[Circuit]:
    out = [lc_ladder(10, (0, 2, 4, 6)), lc_ladder(10, (2, 4, 6, 8)), lc_ladder(10, (0, 4, 8)), lc_ladder(16, (2, 6, 10, 14))]
    out += [lc_ladder(order, traps) for order in (2, 3, 5, 7, 9, 12) for traps in ((), (0,), (2,))]
    return out


def check_invariant(circuit: Circuit, rng: np.random.Generator, n_perms: int = 2) -> None:
    key, order = canonical_labelling(circuit)
    assert sorted(order) == list(range(3, circuit.n_nodes))
    canon = permute(circuit, {v: 3 + i for i, v in enumerate(order)})  # relabel by the returned order
    assert key == key_string(canon)
    for _ in range(n_perms):
        other = permute(circuit, random_perm(rng, circuit))
        key2, order2 = canonical_labelling(other)
        assert key2 == key
        canon2 = permute(other, {v: 3 + i for i, v in enumerate(order2)})
        assert topology(canon2) == topology(canon)


# 1. invariance ----------------------------------------------------------------------------------------------------

N_RANDOM_INVARIANCE = 450


def test_invariance_random_circuits():
    rng = np.random.default_rng(20240601)
    for i in range(N_RANDOM_INVARIANCE):
        n_internal = i % 15  # 0..14 internal nodes, each size 30 times
        p_extra = float(rng.choice([0.05, 0.15, 0.3, 0.6]))
        classes = CLASSES if i % 3 else ("L", "C")  # few classes: more symmetry left for the search
        check_invariant(random_circuit(rng, n_internal, classes, p_extra, named=bool(i % 2)), rng)


def test_invariance_ladders():
    rng = np.random.default_rng(7)
    for circuit in ladders():
        check_invariant(circuit, rng, n_perms=5)


def test_invariance_symmetric():
    rng = np.random.default_rng(11)
    for circuit in [star(12), star(9, "RC"), cycles_circuit([6, 6]), cycles_circuit([3, 3, 3, 3]), *srg_pair()]:
        check_invariant(circuit, rng, n_perms=3)



def test_invariance_mixed_regular():
    """Regular graphs whose nodes are not all equivalent, with many automorphisms: refinement leaves one big cell
    that mixes orbits, so the search must visit every orbit and prune only with automorphisms that fix its path."""
    rng = np.random.default_rng(13)
    graphs = [nx.disjoint_union_all([nx.cycle_graph(k) for k in lengths])
              for lengths in ([3, 3, 6], [4, 8], [3, 4, 5], [3, 3, 5, 5], [6, 3, 3, 4], [3, 9])]
    graphs += [nx.disjoint_union(nx.complete_graph(4), nx.cubical_graph()),
               nx.disjoint_union(nx.petersen_graph(), nx.complete_graph(4)),
               nx.disjoint_union_all([nx.complete_bipartite_graph(3, 3), nx.complete_graph(4), nx.complete_graph(4)])]
    for g in graphs:
        for attach in ((GND,), (VIN, VOUT)):
            check_invariant(graph_circuit(g, attach), rng, n_perms=15)

# 2. discrimination against networkx -------------------------------------------------------------------------------

def mutate(circuit: Circuit, rng: np.random.Generator) -> Circuit:
    """The same node and edge counts, changed a little: one edge moved to a free pair, two edge classes swapped,
    or one class changed."""
    edges, names = dict(circuit.edges), dict(circuit.names)
    keys = list(edges)
    choice = int(rng.integers(3))
    free = [p for p in itertools.combinations(range(circuit.n_nodes), 2) if p not in edges]
    if choice == 0 and free:
        old = keys[int(rng.integers(len(keys)))]
        new = free[int(rng.integers(len(free)))]
        edges[new] = edges.pop(old)
        names = {(new[0], new[1], k) if (a, b) == old else (a, b, k): v for (a, b, k), v in names.items()}
    elif choice == 1 and len(keys) > 1:
        i, j = rng.choice(len(keys), 2, replace=False)
        edges[keys[i]], edges[keys[j]] = edges[keys[j]], edges[keys[i]]
        names = {}
    else:
        k = keys[int(rng.integers(len(keys)))]
        edges[k] = make_edge(str(rng.choice(CLASSES)))
        names = {key: v for key, v in names.items() if key[:2] != k}
    return Circuit(circuit.n_internal, edges, names)


N_PAIRS = 600


def test_discrimination_random_pairs():
    rng = np.random.default_rng(99)
    counts = {True: 0, False: 0}
    for i in range(N_PAIRS):
        n_internal = int(rng.integers(0, 10))
        named = i % 4 == 0
        a = random_circuit(rng, n_internal, ("L", "C") if i % 2 else CLASSES, float(rng.choice([0.1, 0.3])), named)
        kind = i % 3
        if kind == 0:  # an isomorphic copy
            b = permute(a, random_perm(rng, a))
        elif kind == 1:  # a small change, often still isomorphic when the classes are few
            b = permute(mutate(a, rng), random_perm(rng, a))
        else:  # an independent circuit with the same counts, one edge class: collisions are common
            a = random_circuit(rng, n_internal, ("L",), 0.2)
            b = random_circuit(rng, n_internal, ("L",), 0.2)
            if len(b.edges) != len(a.edges):
                continue
        iso = isomorphic(a, b)
        counts[iso] += 1
        assert (canonical_labelling(a)[0] == canonical_labelling(b)[0]) == iso, (a, b)
    print(f"\n{sum(counts.values())} pairs: {counts[True]} isomorphic, {counts[False]} not")
    assert counts[True] > 100 and counts[False] > 100


def cycles_circuit(lengths: list[int], cls: str = "L") -> Circuit:
    """Disjoint cycles of internal nodes (edges of class `cls`), each internal node also joined to GND by a C."""
    edges: dict[tuple[int, int], Edge] = {}
    start = 3
    for n in lengths:
        for i in range(n):
            edges[(start + i, start + (i + 1) % n)] = make_edge(cls)
        start += n
    for v in range(3, start):
        edges[(GND, v)] = make_edge("C")
    return Circuit(start - 3, edges)


def graph_circuit(g: nx.Graph, attach: tuple[int, ...] = (GND,)) -> Circuit:
    """Internal nodes = the nodes of g (edges L), each also joined to every node of `attach` by a C."""
    index = {v: 3 + i for i, v in enumerate(sorted(g.nodes))}
    edges = {(index[a], index[b]): make_edge("L") for a, b in g.edges}
    for v in index.values():
        for f in attach:
            edges[(f, v)] = make_edge("C")
    return Circuit(len(index), edges)


def wl_hash(circuit: Circuit) -> str:
    g = to_nx(circuit)
    nx.set_node_attributes(g, {v: str(d["role"]) for v, d in g.nodes(data=True)}, "role")
    nx.set_edge_attributes(g, {(a, b): str(d["label"]) for a, b, d in g.edges(data=True)}, "label")
    return nx.weisfeiler_lehman_graph_hash(g, edge_attr="label", node_attr="role")


def srg_pair() -> tuple[Circuit, Circuit]:
    """The 4x4 rook's graph and the Shrikhande graph, both strongly regular (16, 6, 2, 2), not isomorphic."""
    rook = nx.cartesian_product(nx.complete_graph(4), nx.complete_graph(4))
    shrikhande = nx.Graph()
    for x, y in itertools.product(range(4), repeat=2):
        for dx, dy in ((1, 0), (0, 1), (1, 1)):
            shrikhande.add_edge((x, y), ((x + dx) % 4, (y + dy) % 4))
    return graph_circuit(rook), graph_circuit(shrikhande)


def test_wl_equivalent_pairs():
    """Pairs that colour refinement (and the networkx WL hash) cannot tell apart."""
    pairs = [(cycles_circuit([6]), cycles_circuit([3, 3])),
             (cycles_circuit([6], "RL"), cycles_circuit([3, 3], "RL")),
             (cycles_circuit([12]), cycles_circuit([6, 6])),
             (cycles_circuit([12]), cycles_circuit([4, 4, 4])),
             (graph_circuit(nx.cycle_graph(8), (VIN, VOUT)), graph_circuit(nx.disjoint_union(nx.cycle_graph(4),
                                                                                          nx.cycle_graph(4)),
                                                                          (VIN, VOUT))),
             srg_pair()]
    for a, b in pairs:
        assert wl_hash(a) == wl_hash(b)  # the old fallback of topology_signature would call them equal
        assert not isomorphic(a, b)
        assert canonical_labelling(a)[0] != canonical_labelling(b)[0]


N_REGULAR = 120


def test_random_regular_pairs():
    """Random d-regular graphs of the same size are all WL-equivalent; keys must follow networkx."""
    rng = np.random.default_rng(5)
    counts = {True: 0, False: 0}
    for i in range(N_REGULAR):
        d, k = [(2, 9), (3, 8), (3, 10), (3, 12), (4, 9), (4, 12)][i % 6]
        g1 = nx.random_regular_graph(d, k, seed=int(rng.integers(1 << 30)))
        g2 = nx.random_regular_graph(d, k, seed=int(rng.integers(1 << 30))) if i % 3 else g1
        a, b = graph_circuit(g1), graph_circuit(g2)
        if i % 3 == 0:
            b = permute(b, random_perm(rng, b))
        iso = isomorphic(a, b)
        counts[iso] += 1
        assert (canonical_labelling(a)[0] == canonical_labelling(b)[0]) == iso
    print(f"\n{N_REGULAR} regular pairs: {counts[True]} isomorphic, {counts[False]} not")
    assert counts[True] >= N_REGULAR // 3 and counts[False] > 30


def test_names_are_part_of_the_key():
    plain = lc_ladder(6)
    bare = Circuit(plain.n_internal, dict(plain.edges))
    assert canonical_labelling(plain)[0] != canonical_labelling(bare)[0]
    assert "R[RS]" in canonical_labelling(plain)[0] and "R[RL]" in canonical_labelling(plain)[0]
    swapped = Circuit(plain.n_internal, dict(plain.edges), {(1, 3, "R"): "RL", (0, 2, "R"): "RS"})
    assert canonical_labelling(plain)[0] != canonical_labelling(swapped)[0]


def test_self_loops_and_empty_edges():
    """An edge without parts is ignored; a self-loop is part of the topology."""
    a = Circuit(2, {(1, 3): make_edge("R"), (3, 2): make_edge("L"), (1, 4): make_edge("R"), (4, 2): make_edge("L"),
                    (0, 2): make_edge("C"), (3, 4): Edge()})
    b = Circuit(2, {k: e for k, e in a.edges.items() if e.parts()})
    assert canonical_labelling(a)[0] == canonical_labelling(b)[0]
    loop3 = Circuit(2, {**b.edges, (3, 3): make_edge("C")})
    loop4 = Circuit(2, {**b.edges, (4, 4): make_edge("C")})
    assert canonical_labelling(loop3)[0] == canonical_labelling(loop4)[0] != canonical_labelling(b)[0]


# 3. agreement with the brute-force search -------------------------------------------------------------------------

N_BRUTE = 500


def test_agrees_with_brute_force():
    rng = np.random.default_rng(3)
    pool: list[Circuit] = []
    while len(pool) < N_BRUTE:
        n_internal = int(rng.integers(0, 6))
        c = random_circuit(rng, n_internal, ("L", "C", "R") if len(pool) % 2 else ("L",), float(rng.choice([0.1, 0.3])))
        pool += [c, permute(c, random_perm(rng, c)), permute(mutate(c, rng), random_perm(rng, c))]
    pool = pool[:N_BRUTE]
    brute = [(c.n_internal, _canonical(c)[0]) for c in pool]
    mine = [canonical_labelling(c)[0] for c in pool]
    n_classes = len(set(brute))
    assert len(set(mine)) == n_classes == len(set(zip(brute, mine)))  # the same partition of the pool
    print(f"\n{N_BRUTE} circuits, {n_classes} isomorphism classes")
    assert n_classes < 0.7 * N_BRUTE  # many pairs of isomorphic circuits in the pool



def unpruned_key(circuit: Circuit) -> str:
    """The smallest edge list over every leaf of the search tree (no automorphism pruning, no jumps)."""
    s = canonical._Search(circuit.n_nodes, circuit.n_internal, canonical._edge_list(circuit))
    s._same_orbit = lambda *args: False
    record = s.leaf
    s.leaf = lambda lab, path: record(lab, path) and None
    s.search(s.refine(s.initial), [])
    return s.best_key


def test_pruning_keeps_the_smallest_leaf():
    """On small symmetric circuits the pruned search finds the same key as the full search tree."""
    rng = np.random.default_rng(17)
    circuits = [cycles_circuit(lengths) for lengths in ([3, 3], [3, 4], [3, 5], [4, 4], [3, 3, 3], [4, 5], [3, 6])]
    circuits += [graph_circuit(g, (VIN, VOUT)) for g in (nx.complete_bipartite_graph(3, 3), nx.cubical_graph(),
                                                          nx.circular_ladder_graph(3), nx.complete_graph(5))]
    circuits += [star(6), star(5, "RC")] + [random_circuit(rng, int(rng.integers(2, 8)), ("L",), 0.15)
                                             for _ in range(60)]
    for circuit in circuits:
        circuit = permute(circuit, random_perm(rng, circuit))
        assert canonical_labelling(circuit)[0] == unpruned_key(circuit)

# 4. speed ---------------------------------------------------------------------------------------------------------

def star(k: int, cls: str = "L") -> Circuit:
    """k internal nodes, each joined only to VIN and VOUT by identical edges: all k! relabellings are automorphisms."""
    edges = {}
    for v in range(3, 3 + k):
        edges[(VIN, v)] = make_edge(cls)
        edges[(VOUT, v)] = make_edge(cls)
    return Circuit(k, edges)


@pytest.mark.parametrize("name, circuit", [
    ("order-10 ladder, 4 traps", lc_ladder(10, (0, 2, 4, 6))),
    ("order-16 ladder, 4 traps", lc_ladder(16, (2, 6, 10, 14))),
    ("12-node star", star(12)),
    ("rook 4x4", srg_pair()[0]),
    ("Shrikhande", srg_pair()[1]),
])
def test_speed(name, circuit):
    start = time.perf_counter()
    _key, order = canonical_labelling(circuit)
    elapsed = time.perf_counter() - start
    print(f"\n{name}: {circuit.n_internal} internal nodes, {elapsed * 1e3:.1f} ms")
    assert len(order) == circuit.n_internal
    assert elapsed < 1.0


def test_ladder_sizes():
    assert lc_ladder(10, (0, 2, 4, 6)).n_internal == 9 and lc_ladder(16, (2, 6, 10, 14)).n_internal == 12


# 5. bad input -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("edge", [(1, 7), (5, 0), (-1, 3)])
def test_unknown_node(edge):
    circuit = Circuit(2, {(1, 3): make_edge("R"), (3, 4): make_edge("L"), (4, 2): make_edge("C"), edge: make_edge("R")})
    with pytest.raises(ValueError, match=r"names a node outside 0\.\.4"):
        canonical_labelling(circuit)
    with pytest.raises(ValueError, match=r"names a node outside 0\.\.2"):  # even an edge without parts
        canonical_labelling(Circuit(0, {(1, 2): make_edge("R"), (0, 3): Edge()}))


def test_topology_signature_of_large_circuits_is_the_canonical_key():
    """Above PERMUTATION_LIMIT internal nodes the signature (and the node order the model reads) come from the
    canonical labelling: equal under relabelling, and different for the WL-equivalent pair a hash would merge."""
    from circuitlib.core.circuit import PERMUTATION_LIMIT, canonical_order, topology_signature

    rng = np.random.default_rng(7)
    big = lc_ladder(16, traps=(2, 6, 10, 14))
    assert big.n_internal > PERMUTATION_LIMIT
    assert topology_signature(big) == canonical_labelling(big)[0]
    moved = permute(big, random_perm(rng, big))
    assert topology_signature(moved) == topology_signature(big)
    assert canonical_order(big)[3:] == canonical_labelling(big)[1]
    a, b = srg_pair()
    assert a.n_internal > PERMUTATION_LIMIT and topology_signature(a) != topology_signature(b)
