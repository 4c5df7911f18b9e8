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
RESULTS = DATA / "results"
SEED_CASES = DATA / "seed" / "seed_cases.json"
TESTS = ROOT / "tests"
DECKS = TESTS / "decks"  # the third-party SPICE deck corpus, kept byte for byte (tests/decks/README.md)
DECK_MANIFEST = DECKS / "manifest.json"  # source, licence, expect accept/refuse, reason and features of each deck
