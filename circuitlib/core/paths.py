"""Where the repository keeps its data: one place for every folder name the package, notebooks and tests use."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: circuitlib/core/paths.py -> ../..
DATA = ROOT / "data"
DATASET = DATA / "dataset"
CHECKPOINTS = DATA / "checkpoints"
PRODUCTION = CHECKPOINTS / "production"  # the specification-conditioned model
REPRODUCTION = CHECKPOINTS / "seed8d"  # the seed's 8-D model, reproduced
LATENT_INDEX = CHECKPOINTS / "latent_index"  # training circuits' posterior means (knn and conditional)
MASK_DATASET = DATA / "mask_dataset"  # classical ladders, their transforms and mutations, with the masks they attain
MASK_PRIOR = CHECKPOINTS / "mask_prior"  # the mask-conditioned prior p(circuit | mask)
RESULTS = DATA / "results"
SEED_CASES = DATA / "seed" / "seed_cases.json"
TESTS = ROOT / "tests"
DECKS = TESTS / "decks"  # the third-party SPICE deck corpus, kept byte for byte (tests/decks/README.md)
DECK_MANIFEST = DECKS / "manifest.json"  # source, licence, expect accept/refuse, reason and features of each deck


RESULTS_ENV = "CIRCUITLIB_RESULTS_DIR"  # set (by `make nbval`) to keep the committed results as they are


def results_path(path: str | Path) -> Path:
    """Where a notebook writes a result file: `path` itself, or the file of that name in the folder that the
    environment variable CIRCUITLIB_RESULTS_DIR names when it is set. `make nbval` sets it to a temporary folder, so
    that re-executing the notebooks leaves the committed results (whose timing columns differ run to run) untouched.

    >>> import os
    >>> results_path("../data/results/masks.csv").as_posix() if RESULTS_ENV not in os.environ else "unset it"
    '../data/results/masks.csv'
    """
    import os

    folder = os.environ.get(RESULTS_ENV)
    return Path(folder) / Path(path).name if folder else Path(path)
