"""Ladder schematics: every element of the netlist is drawn once, with its name and value, where a ladder puts it."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge  # noqa: E402
from circuitlib.learn import dataset  # noqa: E402
from circuitlib.report import schematic as sch  # noqa: E402
from circuitlib.synthesis import families as fam  # noqa: E402


def _circuits() -> list[Circuit]:
    t = fam.Target(1e3, 2.0, 1e3, 5)
    named = [fam.build(name, t) for name in fam.FAMILIES if name != "random"]
    cfg = dataset.DatasetConfig(n_circuits=40, seed=5, workers=1)
    drawn = [dataset.draw(i, cfg) for i in range(40)]
    return named + [d[1] for d in drawn if d is not None]


@pytest.mark.parametrize("circuit", _circuits())
def test_the_drawing_holds_exactly_the_netlists_elements(circuit):
    placed = sch.layout(circuit)
    assert [p.component for p in placed] == circuit.components()
    fig = sch.schematic(circuit)
    labels = sorted(t.get_text() for t in fig.axes[0].texts if t.get_text() in {p.label for p in placed})
    plt.close(fig)
    assert labels == sorted(p.label for p in placed)


@pytest.mark.parametrize("circuit", _circuits())
def test_series_elements_span_their_nodes_and_shunts_reach_ground(circuit):
    col = sch.node_columns(circuit)
    stubs = sch.shunt_stubs(circuit)
    assert list(col)[0] == VIN and list(col)[-1] == VOUT and GND not in col
    for p in sch.layout(circuit):
        a, b = p.component.node_a, p.component.node_b
        if p.role == "series":
            xs = sorted((sch.PITCH * col[a], sch.PITCH * col[b]))
            assert (p.start[0], p.end[0]) == tuple(xs) and p.start[1] == p.end[1]
            assert abs(p.start[1] - sch.TOP) <= 0.9 if p.row == 0 else p.start[1] >= sch.TOP + sch.LEVEL
        else:
            assert GND in (a, b) or set((a, b)) & set(stubs)
            assert p.start[0] == p.end[0] and p.start[1] > p.end[1] >= 0.0
            assert (p.end[1] == 0.0) == (GND in (a, b))


def test_a_series_lc_trap_to_ground_hangs_below_its_node():
    notch = Circuit(1, {(1, 2): Edge(r_ohm=500.0), (2, 3): Edge(l_h=0.1), (0, 3): Edge(c_f=1e-7)})
    assert sch.shunt_stubs(notch) == {3: VOUT}
    assert sch.node_columns(notch) == {VIN: 0, VOUT: 1}
    roles = {p.component.name: (p.role, p.start, p.end) for p in sch.layout(notch)}
    x_out = sch.PITCH
    assert roles["L1"] == ("shunt", (x_out, sch.TOP), (x_out, sch.TOP / 2))
    assert roles["C1"] == ("shunt", (x_out, sch.TOP / 2), (x_out, 0.0))


def test_values_carry_si_prefixes():
    assert sch.eng(4700.0, "Ω") == "4.7 kΩ"
    assert sch.eng(2.2e-9, "F") == "2.2 nF"
    assert sch.eng(0.125, "H") == "125 mH"
    assert sch.eng(1e6, "Ω") == "1 MΩ"


def test_the_load_is_drawn_right_of_every_shunt_at_the_output():
    from circuitlib.core.circuit import Circuit, Edge
    from circuitlib.report.schematic import layout

    c = Circuit(1, {(1, 3): Edge(r_ohm=50.0), (2, 3): Edge(l_h=1e-3), (0, 2): Edge(r_ohm=50.0, l_h=2e-3, c_f=1e-6)},
                {(0, 2, "R"): "RL", (1, 3, "R"): "RS"})
    at_out = {p.component.name: p.start[0] for p in layout(c) if p.role == "shunt"}
    assert at_out["RL"] > max(x for name, x in at_out.items() if name != "RL")
