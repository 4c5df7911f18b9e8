"""Canonical labelling of a circuit's topology by colour refinement and individualisation-refinement search.

The circuit is a vertex- and edge-coloured graph: GND, VIN and VOUT each have a colour of their own, the internal
nodes share one (plus the labels of any self-loops), and an edge's label is its edge class with the fixed element
names on it ("R[RS]"). The algorithm is the one of nauty, in plain Python:

1. Colour refinement (1-WL): a node's new colour is (old colour, sorted multiset of (edge label, neighbour colour)),
   the distinct signatures ranked in sorted order; repeat until no cell splits. Only invariant data is used (never
   the input node numbers), and the old colour leads the signature, so the colours form an ordered partition that
   each round refines in place.
2. Search: while the partition has a non-singleton cell, take the first one (lowest colour), individualise each of
   its nodes in turn (it keeps the cell's colour, the rest of the cell moves one colour up), refine, and recurse.
   Each discrete partition (a leaf) numbers the nodes; the key is the smallest edge-list string over the leaves.
3. Pruning: two leaves with the same edge list give an automorphism; at a search node, a child is skipped when an
   automorphism found so far that fixes the nodes individualised on the path maps an explored child onto it (its
   subtree would only repeat edge lists already seen); and when a leaf repeats an earlier one, the search goes back
   to the two paths' common ancestor, since that automorphism maps the rest of the current subtree onto explored
   leaves (nauty's rule). The set of edge lists visited, hence the key, stays the same whatever the input
   numbering; only the order among automorphic internal nodes may differ.
"""

from __future__ import annotations

from numbers import Integral

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit


def edge_label(circuit: Circuit, a: int, b: int) -> str:
    """The label of the edge (a, b): its class, then in brackets the fixed names of its parts in R, L, C order
    (an unnamed part leaves its slot empty), if any part has one: "R", "R[RS]", "RC[RS,]", "RC[,CX]"."""
    lo, hi = min(a, b), max(a, b)
    edge = circuit.edges[(lo, hi)] if (lo, hi) in circuit.edges else circuit.edges[(a, b)]
    present = [kind for kind, _ in edge.parts()]
    names = [circuit.names.get((lo, hi, kind), "") for kind in present]
    return edge.edge_class + (f"[{','.join(names)}]" if any(names) else "")


def _edge_list(circuit: Circuit) -> list[tuple[int, int, str]]:
    """Every edge with parts as (a, b, label), a <= b, after checking the node numbers."""
    n = circuit.n_nodes
    out: list[tuple[int, int, str]] = []
    seen: set[tuple[int, int]] = set()
    for (a, b), edge in circuit.edges.items():
        if not all(isinstance(x, Integral) and 0 <= x < n for x in (a, b)):
            raise ValueError(f"edge ({a}, {b}) names a node outside 0..{n - 1} (the circuit has {n} nodes: "
                             f"GND, VIN, VOUT and {circuit.n_internal} internal)")
        if not edge.parts():
            continue
        lo, hi = min(a, b), max(a, b)
        if (lo, hi) in seen:
            raise ValueError(f"edges ({a}, {b}) and ({b}, {a}) both given: one edge per node pair")
        seen.add((lo, hi))
        out.append((lo, hi, edge_label(circuit, a, b)))
    return out


class _Search:
    """Individualisation-refinement search over one circuit graph with n nodes."""

    def __init__(self, n: int, n_internal: int, edges: list[tuple[int, int, str]]) -> None:
        self.n = n
        self.prefix = f"{n_internal}|"
        self.edges = edges
        label_id = {lab: i for i, lab in enumerate(sorted({lab for _, _, lab in edges}))}  # invariant: by label
        self.adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        loops: list[list[int]] = [[] for _ in range(n)]
        for a, b, lab in edges:
            if a == b:
                loops[a].append(label_id[lab])
            else:
                self.adj[a].append((label_id[lab], b))
                self.adj[b].append((label_id[lab], a))
        roles = [min(v, 3) for v in range(n)]  # GND 0, VIN 1, VOUT 2, internal 3
        self.initial = self._rank([(roles[v], tuple(sorted(loops[v]))) for v in range(n)])
        self.best_key: str | None = None
        self.best_lab: list[int] = []
        self.leaves: dict[str, tuple[list[int], list[int]]] = {}  # edge list -> first leaf numbering and its path
        self.autos: list[list[int]] = []  # automorphisms found, as node maps
        self.n_leaves = 0

    @staticmethod
    def _rank(sigs: list) -> list[int]:
        ranking = {s: i for i, s in enumerate(sorted(set(sigs)))}
        return [ranking[s] for s in sigs]

    def refine(self, colours: list[int]) -> list[int]:
        """The coarsest equitable ordered partition finer than `colours` (colours are ranks 0..k-1)."""
        k = len(set(colours))
        while k < self.n:
            sigs = [(colours[v], tuple(sorted((lab, colours[u]) for lab, u in self.adj[v]))) for v in range(self.n)]
            new = self._rank(sigs)
            k_new = max(new) + 1
            if k_new == k:  # no cell split: stable (the old colour leads, so the partition is unchanged)
                break
            colours, k = new, k_new
        return colours

    def key_of(self, lab: list[int]) -> str:
        items = sorted((min(lab[a], lab[b]), max(lab[a], lab[b]), cls) for a, b, cls in self.edges)
        return self.prefix + ",".join(f"{a}-{b}:{cls}" for a, b, cls in items)

    def leaf(self, lab: list[int], path: list[int]) -> int | None:
        """Record a leaf; if an earlier leaf gave the same edge list, record the automorphism and return the depth
        of the two paths' common ancestor (the rest of this leaf's subtree there repeats explored leaves)."""
        self.n_leaves += 1
        key = self.key_of(lab)
        seen = self.leaves.get(key)
        if seen is None:
            self.leaves[key] = (lab, path)
            if self.best_key is None or key < self.best_key:
                self.best_key, self.best_lab = key, lab
            return None
        first, first_path = seen  # first^-1 o lab is an automorphism, fixing the common path prefix pointwise
        inverse = [0] * self.n
        for v, pos in enumerate(first):
            inverse[pos] = v
        gamma = [inverse[lab[v]] for v in range(self.n)]
        if any(gamma[v] != v for v in range(self.n)):
            self.autos.append(gamma)
        depth = 0
        while depth < min(len(path), len(first_path)) and path[depth] == first_path[depth]:
            depth += 1
        return depth

    def _same_orbit(self, path: list[int], explored: list[int], w: int) -> bool:
        """Whether the automorphisms found so far that fix `path` pointwise map some explored node onto w."""
        gens = [g for g in self.autos if all(g[p] == p for p in path)]
        if not gens:
            return False
        parent = list(range(self.n))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for g in gens:
            for v in range(self.n):
                ra, rb = find(v), find(g[v])
                if ra != rb:
                    parent[ra] = rb
        root = find(w)
        return any(find(x) == root for x in explored)

    def search(self, colours: list[int], path: list[int]) -> int | None:
        """Explore the subtree under the refined partition `colours` reached by individualising `path`; returns
        None, or the depth to go back to when a leaf repeated an earlier one (see `leaf`)."""
        counts = [0] * self.n
        for c in colours:
            counts[c] += 1
        target = next((c for c in range(self.n) if counts[c] > 1), None)
        if target is None:
            return self.leaf(colours, path)
        cell = [v for v in range(self.n) if colours[v] == target]
        explored: list[int] = []
        for w in cell:
            if explored and self._same_orbit(path, explored, w):
                continue
            explored.append(w)
            child = [c + 1 if c > target or (c == target and v != w) else c for v, c in enumerate(colours)]
            back = self.search(self.refine(child), path + [w])
            if back is not None and back < len(path):
                return back
        return None


def canonical_labelling(circuit: Circuit) -> tuple[str, list[int]]:
    """(key, order): a canonical string of the circuit's topology (equal for two circuits exactly when they are
    isomorphic with GND, VIN and VOUT fixed, edge classes and fixed element names kept), and the internal nodes in
    canonical order.

    The key is f"{n_internal}|" and the sorted edge list "a-b:label,..." in canonical numbering (GND 0, VIN 1,
    VOUT 2, internal nodes 3.. in canonical order); edges without parts are ignored. `order` lists the original
    internal node ids in canonical order, so `[0, 1, 2] + order` is a node order. Raises ValueError when an edge
    names a node outside 0..n_nodes-1.

    >>> from circuitlib.core.circuit import Edge
    >>> c = Circuit(2, {(1, 4): Edge(r_ohm=50.0), (4, 3): Edge(l_h=1e-3), (3, 2): Edge(l_h=1e-3),
    ...                 (0, 3): Edge(c_f=1e-6)}, {(1, 4, "R"): "RS"})
    >>> canonical_labelling(c)
    ('2|0-3:C,1-4:R[RS],2-3:L,3-4:L', [3, 4])
    """
    edges = _edge_list(circuit)
    s = _Search(circuit.n_nodes, circuit.n_internal, edges)
    s.search(s.refine(s.initial), [])
    assert s.best_key is not None
    lab = s.best_lab
    assert lab[GND] == GND and lab[VIN] == VIN and lab[VOUT] == VOUT
    order = sorted(range(3, circuit.n_nodes), key=lab.__getitem__)
    return s.best_key, order
