"""ngspice's own AC result for a deck of the corpus (tests/decks): a re-export of `circuitlib.report.corpus`, where
the runner lives so that tests/test_corpus.py and the book's interoperability page (book/interop.ipynb) share it."""

from circuitlib.report.corpus import (
    DEFAULT_AC,
    DEFAULT_AC_CARD,
    DROPPED,
    GROUND,
    NGSPICE,
    TIMEOUT_S,
    NgspiceAc,
    NgspiceError,
    deck_text,
    load_manifest,
    natural_output,
    ngspice_ac,
    probed_nodes,
    wrapper_text,
)

__all__ = ["DEFAULT_AC", "DEFAULT_AC_CARD", "DROPPED", "GROUND", "NGSPICE", "TIMEOUT_S", "NgspiceAc", "NgspiceError",
           "deck_text", "load_manifest", "natural_output", "ngspice_ac", "probed_nodes", "wrapper_text"]
