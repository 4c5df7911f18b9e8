"""Typed configuration for the notebooks' papermill parameters."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from circuitlib.core.errors import CircuitlibError

M = TypeVar("M", bound=BaseModel)


def parse_config(schema: type[M], /, **params) -> M:
    """Build `model` from notebook parameters; any bad value raises one clear CircuitlibError line."""
    try:
        return schema(**params)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "parameters"
        value = params.get(first["loc"][0], first.get("input")) if first["loc"] else first.get("input")
        raise CircuitlibError(f"bad parameter {field}={value!r}: {first['msg']}") from None
