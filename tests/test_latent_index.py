"""The latent index: written, read back equal, refused when its numbers or the weights it came from change, and
rebuilt by `refresh` only when stale."""

import json

import numpy as np
import pytest

from circuitlib.core import paths
from circuitlib.core.errors import CheckpointError
from circuitlib.learn import dataset, latent_index
from circuitlib.learn.loading import load_model


@pytest.fixture(scope="module")
def built():
    records = list(dataset.generate(dataset.DatasetConfig(n_circuits=60, seed=2, workers=1), progress=False))
    prod, repro = load_model(paths.PRODUCTION)[0], load_model(paths.REPRODUCTION)[0]
    return records, prod, repro, latent_index.build(records, prod, repro)


def test_the_index_reads_back_equal(built, tmp_path):
    records, _, _, index = built
    latent_index.save(index, tmp_path, paths.PRODUCTION, paths.REPRODUCTION, "sha-a")
    again = latent_index.load(tmp_path, paths.PRODUCTION, paths.REPRODUCTION)
    assert again.response.tolist() == [r["response"] for r in records if r["split"] == "train"]
    for key, value in index.numbers().items():
        assert np.array_equal(value, again.numbers()[key], equal_nan=True), key
    assert latent_index.up_to_date(tmp_path, paths.PRODUCTION, paths.REPRODUCTION, "sha-a")
    assert not latent_index.up_to_date(tmp_path, paths.PRODUCTION, paths.REPRODUCTION, "sha-b")


def test_tampered_numbers_or_other_weights_are_refused(built, tmp_path):
    latent_index.save(built[3], tmp_path, paths.PRODUCTION, paths.REPRODUCTION, "sha-a")
    meta = json.loads((tmp_path / latent_index.META).read_text())
    meta["production_weights_sha256"] = "0" * 64
    (tmp_path / latent_index.META).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="other weights"):
        latent_index.load(tmp_path, paths.PRODUCTION, paths.REPRODUCTION)
    latent_index.save(built[3], tmp_path, paths.PRODUCTION, paths.REPRODUCTION, "sha-a")
    with open(tmp_path / latent_index.ARRAYS, "r+b") as fh:
        fh.seek(-8, 2)
        fh.write(b"\x00" * 8)
    with pytest.raises(CheckpointError, match="SHA256"):
        latent_index.load(tmp_path, paths.PRODUCTION, paths.REPRODUCTION)


def test_refresh_rebuilds_only_a_stale_index(built, tmp_path):
    records, prod, repro, _ = built
    latent_index.refresh(tmp_path, records, prod, repro, paths.PRODUCTION, paths.REPRODUCTION, "sha-a")
    stamp = (tmp_path / latent_index.META).stat().st_mtime_ns
    latent_index.refresh(tmp_path, records, prod, repro, paths.PRODUCTION, paths.REPRODUCTION, "sha-a")
    assert (tmp_path / latent_index.META).stat().st_mtime_ns == stamp
    latent_index.refresh(tmp_path, records, prod, repro, paths.PRODUCTION, paths.REPRODUCTION, "sha-b")
    assert json.loads((tmp_path / latent_index.META).read_text())["dataset_sha256"] == "sha-b"
