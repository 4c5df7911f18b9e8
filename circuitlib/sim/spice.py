"""AC simulation in ngspice through PySpice's shared-library interface.

One ngspice instance per process, never used from threads. The netlist handed to
ngspice is always rebuilt from a parsed Circuit by `to_netlist`, never user text.
"""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import dataclass

import numpy as np

from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import SimulationError
from circuitlib.core.netlist import AcSweep, to_netlist
from circuitlib.sim.mna import pencil, response_hz

VERIFY_SWEEP = AcSweep("dec", 40, 1.0, 1e7)  # the sweep on which ngspice confirms the nodal solver

_LIB_GLOBS = ("/usr/lib/x86_64-linux-gnu/libngspice.so*", "/usr/lib/*/libngspice.so*", "/usr/lib/libngspice.so*",
              os.path.join(os.environ.get("CONDA_PREFIX", "/nonexistent"), "lib", "libngspice.so*"))


def find_library() -> str | None:
    """The ngspice shared library: NGSPICE_LIBRARY_PATH, else the versioned Debian or conda file."""
    if os.environ.get("NGSPICE_LIBRARY_PATH"):
        return os.environ["NGSPICE_LIBRARY_PATH"]
    for pattern in _LIB_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


class _Engine:
    """Lazily created per-process ngspice instance."""

    instance = None
    pid = None

    @classmethod
    def get(cls):
        if cls.instance is None or cls.pid != os.getpid():
            lib = find_library()
            if lib is None:
                raise SimulationError("the ngspice shared library is not installed (apt-get install libngspice0)")
            os.environ.setdefault("NGSPICE_LIBRARY_PATH", lib)
            logging.getLogger("PySpice").setLevel(logging.CRITICAL)  # 'Unsupported Ngspice version 39' is harmless
            from PySpice.Spice.NgSpice.Shared import (
                NgSpiceShared,  # after NGSPICE_LIBRARY_PATH is set: PySpice reads it on import
            )

            cls.instance = NgSpiceShared.new_instance()
            cls.pid = os.getpid()
        return cls.instance


@dataclass
class AcResult:
    f_hz: np.ndarray
    h: np.ndarray  # complex V(vout) / V(vin)
    poles: np.ndarray | None = None  # rad/s, from `.pz` when asked for


def simulate(circuit: Circuit, sweep: AcSweep = AcSweep()) -> AcResult:
    """Run an `.ac` sweep of `circuit` in ngspice and return H at ngspice's own frequencies."""
    return _run(circuit, sweep, poles=False)


def simulate_with_poles(circuit: Circuit, sweep: AcSweep) -> AcResult:
    """`simulate`, and the poles of V(vout) / V(vin) from ngspice's own pole-zero analysis (`.pz`) in `poles`."""
    return _run(circuit, sweep, poles=True)


def _run(circuit: Circuit, sweep: AcSweep, poles: bool) -> AcResult:
    ng = _Engine.get()
    if sweep.variation != "lin" and sweep.fstop_hz > sweep.fstart_hz and len(sweep.frequencies_hz()) < 2:
        # ngspice 39 never returns from a dec/oct sweep narrower than one step (and a lin sweep of 2 points gives
        # only the first): sweep its ends and midpoint instead
        sweep = AcSweep("lin", 3, sweep.fstart_hz, sweep.fstop_hz)
    cards = ".options noopac\n" + (".pz vin 0 vout 0 vol pol\n" if poles else "")
    text = to_netlist(circuit, ac=sweep).replace(".end", cards + ".end")
    found = None
    try:
        ng.load_circuit(text)
        ng.run()
        names = ng.plot_names
        plot = ng.plot(None, next(n for n in names if n.startswith("ac")))
        f_hz = np.real(plot["frequency"]._data).astype(float)
        h = np.asarray(plot["vout"]._data, dtype=complex)
        if poles:
            pz = ng.plot(None, next(n for n in names if n.startswith("pz")))
            found = np.array([complex(np.asarray(v._data)[0]) for k, v in pz.items() if k.startswith("pole")])
    except Exception as exc:  # ngspice reports failures in many shapes; each becomes one typed error
        raise SimulationError(f"ngspice could not solve the circuit: {str(exc).strip()[:200] or type(exc).__name__}") from None
    finally:
        try:
            ng.destroy()
            ng.remove_circuit()
        except Exception:  # noqa: BLE001 - cleanup must not mask the result
            pass
    if not (len(f_hz) and np.all(np.isfinite(h))):
        raise SimulationError("ngspice returned no finite data")
    return AcResult(f_hz, h, found)


def ngspice_rel_err(circuit: Circuit, sweep: AcSweep = VERIFY_SWEEP) -> float:
    """Largest relative difference between ngspice and the nodal solver where |H| > 1e-9."""
    result = simulate(circuit, sweep)
    h = response_hz(pencil(circuit), result.f_hz)
    mask = np.abs(result.h) > 1e-9
    return float(np.max(np.abs(h[mask] - result.h[mask]) / np.abs(result.h[mask]))) if mask.any() else 0.0


def gain_at(circuit: Circuit, f_hz: np.ndarray) -> np.ndarray:
    """H at each of the frequencies `f_hz` (Hz, > 0) from ngspice, one single-point `.ac lin 1 f f` run each."""
    return np.array([simulate(circuit, AcSweep("lin", 1, float(f), float(f))).h[0] for f in np.atleast_1d(f_hz)])
