"""The torch nodal solver: the same responses as the exact numpy solve, on the CPU and, where there is one, a GPU."""

import circuits as tc
import numpy as np
import pytest
import torch

from circuitlib.core.errors import CircuitlibError
from circuitlib.sim.differentiable import batch_response_hz, resolve_device
from circuitlib.sim.mna import pencil, response_hz

F_HZ = np.geomspace(10.0, 1e6, 121)
CIRCUITS = [tc.rc_lowpass(1e3, 1e-7), tc.series_rlc_bandpass(2e3, 10), tc.twin_t_notch(5e3), tc.wien(300.0)]


def test_the_torch_solver_matches_the_exact_solve_on_the_cpu():
    got = batch_response_hz(CIRCUITS, F_HZ)
    for row, c in zip(got, CIRCUITS):
        want = response_hz(pencil(c), F_HZ)
        assert np.max(np.abs(row - want) / np.abs(want)) < 1e-9


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_gpu_where_there_is_none_is_an_error_not_a_cpu_run():
    with pytest.raises(CircuitlibError, match="no GPU"):
        batch_response_hz(CIRCUITS, F_HZ, device="cuda")
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(CircuitlibError, match="device must be one of"):
        resolve_device("tpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no GPU")
def test_the_gpu_gives_the_cpus_responses():
    cpu, gpu = batch_response_hz(CIRCUITS, F_HZ, device="cpu"), batch_response_hz(CIRCUITS, F_HZ, device="cuda")
    assert np.max(np.abs(gpu - cpu) / np.abs(cpu)) < 1e-10
