"""Evaluation of a trained VAE on the test split: teacher-forced accuracy and free-running reconstruction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Batch

from circuitlib.analysis.measure import measure
from circuitlib.core.circuit import topology_signature
from circuitlib.core.records import main_figures
from circuitlib.learn import graphs
from circuitlib.learn.decoding import decode_means
from circuitlib.learn.models import CircuitVAE
from circuitlib.learn.training import graphs_of, model_circuit, model_f_hz


@torch.no_grad()
def teacher_forced_accuracy(model: CircuitVAE, data: list) -> dict[str, float]:
    """Node type, edge existence and component type accuracy with teacher forcing at the posterior mean."""
    model.eval()
    hits = dict.fromkeys(("node", "exist", "component"), 0)
    counts = dict.fromkeys(hits, 0)
    for k in range(0, len(data), 256):
        batch = Batch.from_data_list(data[k : k + 256])
        mu, _ = model.encode(batch)
        n = model.decoder.max_nodes
        types = model.node_types(batch.n_nodes, n)
        spec = getattr(batch, "spec", None) if model.cfg.conditional else None
        type_logits, class_logits, _ = model.decoder(mu, types, batch.pair_classes, batch.pair_values, spec)
        t = torch.arange(n + 1)
        type_target = torch.cat([types, torch.full((len(types), 1), 4)], dim=1)
        tmask = t[None] <= batch.n_nodes[:, None]
        hits["node"] += int((type_logits.argmax(-1) == type_target)[tmask].sum())
        counts["node"] += int(tmask.sum())
        idx = torch.arange(n)
        real = idx[None] < batch.n_nodes[:, None]
        pmask = real[:, :, None] & real[:, None, :] & (idx[:, None] < idx[None, :])[None]
        pred, true = class_logits.argmax(-1), batch.pair_classes
        hits["exist"] += int(((pred > 0) == (true > 0))[pmask].sum())
        counts["exist"] += int(pmask.sum())
        emask = pmask & (true > 0)
        hits["component"] += int((pred == true)[emask].sum())
        counts["component"] += int(emask.sum())
    return {"node_type_acc": hits["node"] / counts["node"], "edge_existence_acc": hits["exist"] / counts["exist"],
            "component_type_acc": hits["component"] / max(1, counts["component"])}



def reconstruct(model: CircuitVAE, records: list[dict]) -> "pd.DataFrame":  # noqa: F821
    """Per record: decode the posterior mean, re-measure it, and compare with the original."""
    decoded = decode_means(model, graphs_of(records, model.cfg))
    rows = []
    for rec, circ in zip(records, decoded):
        same = topology_signature(circ) == rec["topology"]
        m = measure(circ)
        f0, q0 = main_figures(rec)
        f1, q1 = main_figures(m) if m.valid and m.response == rec["response"] else (None, None)
        f1 = f1 * f0 / model_f_hz(rec, model.cfg) if f1 else None  # a prototype's frequency, denormalised
        err = graphs.values_log10_error(model_circuit(rec, model.cfg), circ) if same else np.zeros(0)
        rows.append({"id": rec["id"], "family": rec["family"], "exact": same, "valid": m.valid,
                     "f_orig": f0, "f_decoded": f1, "q_orig": q0, "q_decoded": q1,
                     "f_err": abs(f1 - f0) / f0 if f1 else math.inf,
                     "q_err": (abs(q1 - q0) / q0 if q1 else math.inf) if q0 is not None else None,
                     "value_errs": err.tolist()})
    return pd.DataFrame(rows)



def reconstruction_metrics(frame) -> dict[str, float]:
    """Topology exactness, decoded validity, value error and electrical f/q errors from `reconstruct`."""
    if not len(frame):
        return {"n": 0}
    value_errs = [e for errs in frame["value_errs"] for e in errs]
    q_err = frame["q_err"].dropna()
    return {"n": len(frame), "topology_exact": float(frame["exact"].mean()), "decoded_valid": float(frame["valid"].mean()),
            "median_abs_log10_value_err": float(np.median(value_errs)) if value_errs else math.inf,
            "median_rel_f_err": float(frame["f_err"].median()),
            "median_rel_q_err": float(q_err.median()) if len(q_err) else None}



def test_subsets(records: list[dict]) -> dict[str, list[dict]]:
    """The test split in two: circuits whose topology occurs in training ("seen topology") and circuits whose
    topology never does ("held-out topology": the reserved topologies plus random ones drawn only once)."""
    train_topologies = {r["topology"] for r in records if r["split"] == "train"}
    test = [r for r in records if r["split"] == "test"]
    return {"seen topology": [r for r in test if r["topology"] in train_topologies],
            "held-out topology": [r for r in test if r["topology"] not in train_topologies]}



def heldout_metrics(model: CircuitVAE, records: list[dict]) -> tuple[dict[str, float], "pd.DataFrame"]:  # noqa: F821
    """Every acceptance metric on the test split (see `test_subsets`): seen-topology circuits (main) and
    held-out-topology circuits (prefixed heldout_topology_), plus the per-record reconstruction frame."""
    subsets = test_subsets(records)
    seen, unseen = subsets["seen topology"], subsets["held-out topology"]
    frame_seen, frame_unseen = reconstruct(model, seen), reconstruct(model, unseen)
    out = {"heldout_n": len(seen)}
    out.update(teacher_forced_accuracy(model, graphs_of(seen, model.cfg)))
    out.update({k: v for k, v in reconstruction_metrics(frame_seen).items() if k != "n"})
    out.update({f"heldout_topology_{k}": v for k, v in reconstruction_metrics(frame_unseen).items()})
    frame = pd.concat([frame_seen.assign(topology="seen"), frame_unseen.assign(topology="held out")])
    return out, frame
