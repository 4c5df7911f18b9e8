"""Typed errors. Every user-facing failure is one of these, so the command line
can print one clear line and exit with status 2 instead of a traceback."""


class CircuitlibError(Exception):
    """Base class for every error caused by bad input (file, netlist, spec, parameter, checkpoint)."""


class NetlistError(CircuitlibError):
    """A netlist that is unreadable or uses something outside the accepted subset."""


class SimulationError(CircuitlibError):
    """ngspice (or the nodal solver) could not solve this circuit."""


class SpecificationError(CircuitlibError):
    """A specification that is malformed or that nothing can meet."""


class CheckpointError(CircuitlibError):
    """A checkpoint that is missing, tampered with, or not in safetensors + JSON form."""
