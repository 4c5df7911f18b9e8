"""circuitlib: passive RLC filters, designed and proved by simulation.

Three lines measure a netlist:

>>> import circuitlib as cl
>>> rc = cl.read_netlist("* RC low-pass\\nV1 in 0 AC 1\\nR1 in out 1k\\nC1 out 0 100n\\n", output_node="out")
>>> m = cl.measure(rc.circuit)
>>> m.response, round(m.fc_hz, 2), m.q_pole  # fc = 1 / (2 pi R C); a first-order circuit has no pole Q
('lowpass', 1591.55, None)

and two more design to a mask (pass 0-1 kHz within 0.5 dB, 40 dB down from 2.5 kHz, between 50 ohm and 50 ohm):

>>> mask = cl.FilterMask("lowpass", 1000.0, 2500.0, ripple_db=0.5, attenuation_db=40.0, source_ohm=50.0, load_ohm=50.0)
>>> best = cl.design(mask, n=1)[0]  # classical synthesis at minimum order, verified exactly and in ngspice
>>> best.family, best.order, best.parts, best.verified.met, best.verified.engine
('elliptic', 4, 5, True, 'ngspice')

The package is built in layers, and each imports only from the layers below it (an import-linter contract
in pyproject.toml, checked by `make test`):

    cli         the command line (python -m circuitlib)
    report      plots and schematics, the benchmark, the audit, the book check
    designers   design methods for specifications (generate) and their registry; designs to a filter mask (design)
    learn       dataset, graphs, the VAE, training, decoding, evaluation, ablation, pole/zero study
    synthesis   families of classical circuits, value tools (scaling, refinement, E-series snapping), LC ladders
    analysis    validity, measurement (response class and figures), specifications, filter masks
    sim         nodal stamping, the exact and the differentiable nodal solvers, the fast sweep, ngspice
    core        errors, configuration, paths, the records vocabulary, the circuit type, SPICE netlists

A new module goes into the lowest layer whose imports it needs. The public surface is `__all__`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from circuitlib.analysis.mask import FilterMask, MaskReport
from circuitlib.analysis.measure import Measurement, measure
from circuitlib.analysis.spec import Specification
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.core.errors import CircuitlibError
from circuitlib.core.netlist import AcSweep, parse_netlist, read_netlist_file, to_netlist
from circuitlib.sim.ac import simulate

if TYPE_CHECKING:
    from circuitlib.designers.generate import generate
    from circuitlib.designers.mask_design import design
    from circuitlib.report.plots import schematic

read_netlist = parse_netlist

# generate needs torch and torch-geometric, schematic matplotlib and schemdraw: imported on first use, so that
# `import circuitlib` (and every command-line start) stays fast.
_LAZY = {"generate": ("circuitlib.designers.generate", "generate"), "schematic": ("circuitlib.report.plots", "schematic"),
         "design": ("circuitlib.designers.mask_design", "design")}

__all__ = ["AcSweep", "Circuit", "CircuitlibError", "Edge", "FilterMask", "MaskReport", "Measurement", "Specification",
           "design", "generate", "measure", "read_netlist", "read_netlist_file", "schematic", "simulate", "to_netlist"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'circuitlib' has no attribute {name!r}")
