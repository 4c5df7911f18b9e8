"""Decoding a posterior into a circuit: greedy, the most self-consistent of several decodes, and decodes whose
values are fitted to the posterior by re-encoding (production model)."""

import numpy as np
import pytest
import torch

from circuitlib.learn import dataset
from circuitlib.learn.loading import load_model


@pytest.fixture(scope="module")
def made_records():
    """160 seen-topology circuits drawn with notebook 01's defaults (the production model's own families and
    ranges), made here: CI has no dataset file yet when the unit tests run."""
    cfg = dataset.DatasetConfig()
    reserved = dataset.reserved_topologies(cfg)
    drawn = (dataset.make_record(i, cfg, reserved) for i in range(200))
    recs = [r for r in drawn if r is not None and not r["heldout_topology"]][:160]
    assert len(recs) == 160
    return recs


def test_one_candidate_is_the_greedy_decode_and_more_rebuild_at_least_as_many_topologies(made_records):
    """decode_means (one candidate) is the decoder's greedy decode of the posterior mean; with 24 candidates
    decode_consistent keeps, per circuit, the decode that re-encodes closest to the posterior, which must
    rebuild at least as many of their topologies exactly."""
    from torch_geometric.data import Batch

    from circuitlib.core.circuit import topology_signature
    from circuitlib.designers.generate import PRODUCTION
    from circuitlib.learn import graphs
    from circuitlib.learn.decoding import decode_consistent, decode_means
    from circuitlib.learn.training import graphs_of

    model, _ = load_model(PRODUCTION)
    recs = made_records
    data = graphs_of(recs, model.cfg)
    greedy = decode_means(model, data)
    batch = Batch.from_data_list(data)
    with torch.no_grad():
        direct = model.decoder.generate(model.encode(batch)[0], batch.spec)
    assert [c.edges for c in greedy] == [graphs.from_tensors(int(n), c, v).edges for n, c, v in zip(*direct)]
    exact = lambda circuits: sum(topology_signature(c) == r["topology"] for c, r in zip(circuits, recs))  # noqa: E731
    assert exact(decode_consistent(model, data, 24)) >= exact(greedy)


def test_polishing_recovers_perturbed_values_and_never_changes_a_topology(made_records):
    """Round trip: encode real circuits, spoil every value by up to 0.3 decade, and fit the values back to the
    posterior by re-encoding (decoding.polish_values). The values must come back, and the topology must not move.
    A circuit whose topology cannot reach the posterior (a wrong one) keeps its values as they were."""
    from torch_geometric.data import Batch

    from circuitlib.core.circuit import Circuit, topology_signature
    from circuitlib.designers.generate import PRODUCTION
    from circuitlib.learn import graphs
    from circuitlib.learn.decoding import polish_values
    from circuitlib.learn.training import graphs_of, model_circuit

    model, _ = load_model(PRODUCTION)
    recs = made_records[:48]
    truth = [model_circuit(r, model.cfg) for r in recs]  # as the model reads them (prototypes)
    with torch.no_grad():
        mu, logvar = model.encode(Batch.from_data_list(graphs_of(recs, model.cfg)))
    rng = torch.Generator().manual_seed(0)

    def spoil(c: Circuit) -> Circuit:
        scale = lambda v: v * 10 ** float(0.6 * torch.rand(1, generator=rng) - 0.3) if v else v  # noqa: E731
        return Circuit(c.n_internal, {k: type(e)(scale(e.r_ohm), scale(e.l_h), scale(e.c_f))
                                      for k, e in c.edges.items()})

    spoiled = [spoil(c) for c in truth]
    before = np.concatenate([graphs.values_log10_error(t, s) for t, s in zip(truth, spoiled)])
    polished, distance = polish_values(model, spoiled, mu, torch.exp(0.5 * logvar), steps=100)
    after = np.concatenate([graphs.values_log10_error(t, p) for t, p in zip(truth, polished)])
    assert [topology_signature(p) for p in polished] == [r["topology"] for r in recs]
    assert np.median(before) > 0.1 and np.median(after) < np.median(before) / 10
    assert (distance <= model.cfg.latent_dim).all()
    assert topology_signature(truth[0]) != topology_signature(truth[1])  # circuit 1's topology is wrong for 0
    kept, distance = polish_values(model, truth[1:2], mu[:1], torch.exp(0.5 * logvar[:1]), steps=100)
    assert distance[0] > model.cfg.latent_dim and kept[0].edges == truth[1].edges


def test_fitted_decodes_are_the_consistent_ones_or_fits_inside_the_posterior(made_records):
    """decode_fitted returns decode_consistent's choices from the same candidates, and in their place either a fit
    that re-encodes inside the posterior or, failing that, the consistent choice itself. Where both rebuild the
    original's topology, the fitted values are far closer to the original's."""
    from torch_geometric.data import Batch

    from circuitlib.core.circuit import topology_signature
    from circuitlib.designers.generate import PRODUCTION
    from circuitlib.learn import graphs
    from circuitlib.learn.decoding import decode_consistent, decode_fitted
    from circuitlib.learn.training import graphs_of, model_circuit

    model, _ = load_model(PRODUCTION)
    recs = made_records[:64]
    data = graphs_of(recs, model.cfg)
    fitted, consistent = decode_fitted(model, data, candidates=6, seed=4)
    assert [c.edges for c in consistent] == [c.edges for c in decode_consistent(model, data, 6, seed=4)]
    with torch.no_grad():
        mu, logvar = model.encode(Batch.from_data_list(data))
        again = model.encode(Batch.from_data_list([graphs.to_data(c) for c in fitted]))[0]
    distance = (((again - mu) / torch.exp(0.5 * logvar)) ** 2).sum(dim=1)
    assert all(d <= model.cfg.latent_dim or f is c for d, f, c in zip(distance, fitted, consistent))
    both = [(model_circuit(r, model.cfg), f, c) for r, f, c in zip(recs, fitted, consistent)
            if topology_signature(f) == topology_signature(c) == r["topology"]]
    assert len(both) > 40
    err = lambda k: np.median(np.concatenate([graphs.values_log10_error(b[0], b[k]) for b in both]))  # noqa: E731
    assert err(1) < err(2) / 5
