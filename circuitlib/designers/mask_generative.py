"""Proposals for the mask search from what the project learned: the mask-conditioned prior (generative) and the
seed's nearest neighbours adapted to masks (knn). Both hand their circuits to the same optimisation and the same
budget of exact verifications as the search without a model (`mask_search.search`).

- generative: K samples of p(circuit | mask) at temperature 1, their terminations set to the mask's; the ones that
  are not valid or whose limits at 0 and infinity are not the response's are dropped (and counted).
- knn: the K training pairs (mask attained, circuit) whose normalised masks lie nearest the asked one (Euclidean
  distance between `mask_features`), each circuit with its terminations set to the mask's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from circuitlib.analysis.mask import FilterMask
from circuitlib.core.circuit import Circuit, topology_signature
from circuitlib.core.errors import CheckpointError, CircuitlibError
from circuitlib.core.paths import MASK_DATASET, MASK_PRIOR
from circuitlib.designers import mask_search as ms
from circuitlib.learn import mask_dataset
from circuitlib.learn import mask_prior_training as mpt
from circuitlib.learn.models.mask_prior import mask_features


@dataclass
class Proposals:
    """Normalised circuits for one mask, how many were drawn to get them, and their part counts."""

    circuits: list[Circuit]
    drawn: int
    sizes: list[int] = field(default_factory=list)

    @property
    def valid_share(self) -> float | None:
        return len(self.circuits) / self.drawn if self.drawn else None


def _usable(circuit: Circuit | None, mask: FilterMask) -> bool:
    return circuit is not None and ms.structure_ok(circuit) and ms.limits_right(circuit, mask)


@dataclass
class LearnedProposers:
    """The trained prior and the training pairs, loaded once for many masks."""

    checkpoint: Path = MASK_PRIOR
    dataset: Path = MASK_DATASET
    masks_per_record: int = 3
    seed: int = 0

    @cached_property
    def model(self):
        try:
            return mpt.load_prior(self.checkpoint)
        except CheckpointError as exc:
            raise CheckpointError(f"{exc}; notebook 09 trains the mask prior (after notebook 01)") from None

    @cached_property
    def train_records(self) -> list[dict]:
        try:
            return [r for r in mask_dataset.load(self.dataset) if r["split"] == "train"]
        except CircuitlibError as exc:
            raise CircuitlibError(f"{exc} (notebook 01 builds it)") from None

    @cached_property
    def train_topologies(self) -> set[str]:
        return mpt.training_topologies(self.train_records)

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, list[Circuit]]:
        pairs = mpt.training_pairs(self.train_records, self.masks_per_record, self.seed)
        return np.stack([mask_features(m).numpy() for m, _ in pairs]), [c for _, c in pairs]

    def load(self) -> LearnedProposers:
        """Read the prior, the training records and their pairs now (before the proposers are sent to workers that
        cannot see these paths); returns self."""
        self.model, self.train_records, self._pairs  # noqa: B018 - cached_property: reading them loads them
        return self

    def generative(self, mask: FilterMask, count: int, seed: int) -> Proposals:
        """`count` usable samples of the prior, drawing up to 4 rounds of `count`."""
        r0 = ms.Scale.of(mask).r0_ohm
        out, drawn = [], 0
        for round_ in range(4):
            sampled, n = mpt.sample_circuits(self.model, mask, count, r0, seed * 4 + round_)
            drawn += n
            out += [c for c in sampled if _usable(c, mask)]
            if len(out) >= count:
                break
        out = out[:count]
        return Proposals(out, drawn, [ms.parts_of(c)[0] for c in out])

    def knn(self, mask: FilterMask, count: int) -> Proposals:
        """The circuits of the `count` nearest training pairs that are usable for `mask`."""
        features, circuits = self._pairs
        query = mask_features(mpt.normalised_mask(mask)).numpy()
        order = np.argsort(((features - query) ** 2).sum(axis=1), kind="stable")
        r0 = ms.Scale.of(mask).r0_ohm
        out, seen = [], 0
        for i in order:
            seen += 1
            fixed = mpt.with_terminations(circuits[i], mask, r0)
            if _usable(fixed, mask):
                out.append(fixed)
            if len(out) == count:
                break
        return Proposals(out, seen, [ms.parts_of(c)[0] for c in out])

    def novel(self, circuit: Circuit) -> bool:
        """Whether the circuit's topology is absent from the training records (terminations included)."""
        return topology_signature(circuit) not in self.train_topologies


def search_with(proposer: str, mask: FilterMask, cfg: ms.SearchConfig, learned: LearnedProposers | None,
                sizes: list[int] | None = None) -> tuple[ms.SearchResult, Proposals]:
    """One search for `mask` from proposals of `proposer` for its searched mask (`mask_search.searched_mask`):
    "generative", "knn" or "none" (random topologies whose sizes are drawn from `sizes`)."""
    searched = ms.searched_mask(mask)  # a band mask's lowpass equivalent
    if proposer == "none":
        rng = np.random.default_rng([cfg.seed, 7])
        circuits = ms.random_topologies(searched, cfg.proposals, sizes or [2], rng)
        props = Proposals(circuits, cfg.proposals, [ms.parts_of(c)[0] for c in circuits])
    elif proposer == "generative":
        props = learned.generative(searched, cfg.proposals, cfg.seed)
    elif proposer == "knn":
        props = learned.knn(searched, cfg.proposals)
    else:
        raise ValueError(f"proposer must be generative, knn or none, not {proposer!r}")
    return ms.search(mask, props.circuits, cfg), props
