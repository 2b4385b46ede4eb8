import json

import pytest
import torch

from gan_core.errors import GanError
from gan_core.runs import (
    RunWriter,
    atomic_write_bytes,
    check_step,
    load_optimizer,
    load_tensors,
    optimizer_tensors,
    read_run,
    save_tensors,
)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_safetensors_round_trip_with_metadata(tmp_path):
    tensors = {"a": torch.randn(3, 4), "b": torch.arange(5), "scalar": torch.tensor(2.0)}
    save_tensors(tmp_path / "w.safetensors", tensors, {"gan.step": "7"})
    loaded, meta = load_tensors(tmp_path / "w.safetensors")
    assert meta["gan.step"] == "7" and all(torch.equal(tensors[k], loaded[k]) for k in tensors)


def test_pickle_file_is_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    torch.save({"a": torch.zeros(2)}, path)  # a pickle: must never be loaded
    with pytest.raises(GanError, match="is not a safetensors file"):
        load_tensors(path)


def test_optimizer_state_round_trip():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.9))
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors, info = optimizer_tensors("opt", opt)
    fresh = torch.optim.Adam(model.parameters(), lr=1.0)
    load_optimizer(fresh, "opt", tensors, json.loads(json.dumps(info)))
    a, b = opt.state_dict(), fresh.state_dict()
    assert b["param_groups"][0]["lr"] == 1e-3 and b["param_groups"][0]["betas"] == (0.5, 0.9)
    for pid in a["state"]:
        for key in a["state"][pid]:
            assert torch.equal(a["state"][pid][key], b["state"][pid][key])


def test_read_run_errors(tmp_path):
    with pytest.raises(GanError, match="there is no run at"):
        read_run(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(GanError, match="is a file"):
        read_run(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanError, match="has no run.json"):
        read_run(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{not json")
    with pytest.raises(GanError, match="is corrupt"):
        read_run(tmp_path / "bad")


def test_step_mismatch_is_detected(tmp_path):
    with pytest.raises(GanError, match="the files of two checkpoints are mixed"):
        check_step(tmp_path / "w", {"gan.step": "5"}, 6)


def test_writer_publishes_the_run_only_with_its_first_checkpoint(tmp_path):
    writer = RunWriter(tmp_path / "run")
    writer.log({"step": 1})
    assert not (tmp_path / "run").exists()
    writer.save_checkpoint(1, {"g.w": torch.zeros(1)}, {}, {}, {"components": {}, "checkpoint": {"step": 1}})
    assert (tmp_path / "run" / "run.json").exists() and (tmp_path / "run" / "metrics.jsonl").exists()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_writer_discards_an_unpublished_run(tmp_path):
    writer = RunWriter(tmp_path / "run")
    writer.discard_if_uncommitted()
    assert list(tmp_path.iterdir()) == []
