"""IDX reading, the file search order, the real MNIST copy and image folders."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.builtin.datasets import MNIST, FashionMNIST, FolderOptions, IDXOptions, ImageFolder
from gan_core.components import DataRequest
from gan_core.data.idx import read_idx
from gan_core.data.locate import find_files
from gan_core.errors import GanError

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_pair(folder: Path, n: int = 5, gz: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    images = np.arange(n * 28 * 28, dtype=np.uint8).reshape(n, 28, 28)
    labels = np.arange(n, dtype=np.uint8) % 10
    for name, array in zip(NAMES, (images, labels)):
        data = idx_bytes(array)
        (folder / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(data) if gz else data)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    array = np.random.default_rng(0).integers(0, 255, (4, 3, 2), dtype=np.uint8)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    path.write_bytes(gzip.compress(idx_bytes(array)) if gz else idx_bytes(array))
    assert torch.equal(read_idx(path), torch.from_numpy(array))


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x02ab", "two zero bytes"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x02ab", "type code"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated dimensions"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05ab", "promises 5 values"),
    ],
)
def test_corrupt_idx_is_refused_naming_the_file(tmp_path, data, reason):
    path = tmp_path / "bad-idx"
    path.write_bytes(data)
    with pytest.raises(GanError, match=reason) as info:
        read_idx(path)
    assert str(path) in info.value.message and "delete it" in info.value.message


def test_int8_idx(tmp_path):
    path = tmp_path / "signed.idx"
    path.write_bytes(b"\x00\x00\x09\x01\x00\x00\x00\x02\xff\x01")
    assert read_idx(path).tolist() == [-1, 1]


def test_damaged_gzip_is_refused(tmp_path):
    payload = idx_bytes(np.random.default_rng(1).integers(0, 255, (50, 50), dtype=np.uint8))
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gzip.compress(payload)[:-6])
    corrupt = tmp_path / "corrupt.gz"
    data = bytearray(gzip.compress(payload))
    data[20:40] = bytes(20)  # a broken deflate stream raises zlib.error, not OSError
    corrupt.write_bytes(bytes(data))
    for path in (truncated, corrupt):
        with pytest.raises(GanError, match="cannot be read") as info:
            read_idx(path)
        assert str(path) in info.value.message


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    for name in ("explicit", "env/mnist", "cache/gan/datasets/mnist"):
        write_idx_pair(tmp_path / name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "env"))
    found = find_files("mnist", NAMES, DataRequest(data_dir=tmp_path / "explicit", allow_download=False))
    assert found[NAMES[0]].parent == tmp_path / "explicit"
    found = find_files("mnist", NAMES, DataRequest(allow_download=False))
    assert found[NAMES[0]].parent == tmp_path / "env" / "mnist"
    monkeypatch.delenv("GAN_DATA_DIR")
    found = find_files("mnist", NAMES, DataRequest(allow_download=False))
    assert found[NAMES[0]].parent == tmp_path / "cache" / "gan" / "datasets" / "mnist"


def test_torchvision_layout_and_uncompressed_files(tmp_path, monkeypatch):
    write_idx_pair(tmp_path / "root" / "MNIST" / "raw", gz=False)
    data = MNIST(IDXOptions()).load(DataRequest(data_dir=tmp_path / "root", allow_download=False))
    assert data.images.shape == (5, 1, 28, 28) and data.labels.tolist() == [0, 1, 2, 3, 4]


def test_a_folder_counts_only_with_every_file(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_NO_DOWNLOAD", raising=False)  # allow_download=False alone must stop it
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / f"{NAMES[0]}.gz").write_bytes(b"")
    with pytest.raises(GanError) as info:
        find_files("mnist", NAMES, DataRequest(data_dir=tmp_path / "half", allow_download=False))
    message = info.value.message
    assert NAMES[1] in message and "--data-dir" in message and "GAN_DATA_DIR" in message
    for searched in ("half", "half/mnist", "env/mnist", "cache/gan/datasets/mnist"):
        assert str(tmp_path / searched) in message
    assert "/usr/share/datasets/mnist" in message and "not allowed" in message


def test_no_download_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_NO_DOWNLOAD", "1")
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(GanError, match="GAN_NO_DOWNLOAD"):
        find_files("mnist", NAMES, DataRequest(data_dir=tmp_path), mirrors=[(tmp_path / "m").as_uri() + "/"])


def test_download_into_the_cache_from_a_local_mirror(tmp_path, monkeypatch):
    # A file:// mirror exercises the whole download path without any network.
    monkeypatch.delenv("GAN_NO_DOWNLOAD", raising=False)
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_idx_pair(tmp_path / "mirror")
    mirrors = ["file:///nonexistent-mirror/", (tmp_path / "mirror").as_uri() + "/"]
    found = find_files("mnist", NAMES, DataRequest(data_dir=tmp_path / "empty"), mirrors=mirrors)
    cache = tmp_path / "cache" / "gan" / "datasets" / "mnist"
    assert found == {name: cache / f"{name}.gz" for name in NAMES}
    assert read_idx(found[NAMES[0]]).shape == (5, 28, 28)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{name}.gz" for name in NAMES)
    # Found in the cache from now on, with downloads off.
    assert find_files("mnist", NAMES, DataRequest(allow_download=False)) == found


def test_a_bad_download_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_NO_DOWNLOAD", raising=False)
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "mirror").mkdir()
    for name in NAMES:
        (tmp_path / "mirror" / f"{name}.gz").write_bytes(gzip.compress(b"<html>not found</html>"))
    with pytest.raises(GanError, match="downloading them failed.*not a valid gzipped IDX file"):
        find_files("mnist", NAMES, DataRequest(), mirrors=[(tmp_path / "mirror").as_uri() + "/"])
    assert list((tmp_path / "cache" / "gan" / "datasets" / "mnist").iterdir()) == []


def test_images_and_labels_must_match(tmp_path):
    write_idx_pair(tmp_path)
    (tmp_path / f"{NAMES[1]}.gz").write_bytes(gzip.compress(idx_bytes(np.arange(4, dtype=np.uint8))))
    with pytest.raises(GanError, match="do not match"):
        MNIST(IDXOptions()).load(DataRequest(data_dir=tmp_path, allow_download=False))
    (tmp_path / f"{NAMES[1]}.gz").write_bytes(gzip.compress(idx_bytes(np.full(5, 12, dtype=np.uint8))))
    with pytest.raises(GanError, match="labels outside 0..9"):
        MNIST(IDXOptions()).load(DataRequest(data_dir=tmp_path, allow_download=False))


def test_real_mnist(mnist_dir):
    data = MNIST(IDXOptions()).load(DataRequest(data_dir=mnist_dir, allow_download=False))
    assert data.images.shape == (60000, 1, 28, 28) and data.images.dtype == torch.uint8
    counts = torch.bincount(data.labels).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(data.images.float().div(255).mean().item() - 0.13066) < 1e-4
    assert data.num_classes == 10 and data.labels.dtype == torch.int64 and data.source == str(mnist_dir)
    test = MNIST(IDXOptions()).load(DataRequest(split="test", data_dir=mnist_dir, allow_download=False))
    assert test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    few = MNIST(IDXOptions(limit=100)).load(DataRequest(data_dir=mnist_dir, allow_download=False))
    assert few.images.shape == (100, 1, 28, 28) and torch.equal(few.labels, data.labels[:100])


def test_real_fashion_mnist_when_installed():
    folder = Path("/usr/share/datasets/fashion-mnist")
    if not folder.is_dir():
        pytest.skip("apt-get install dataset-fashion-mnist puts Fashion-MNIST there")
    data = FashionMNIST(IDXOptions()).load(DataRequest(split="test", allow_download=False))
    assert data.images.shape == (10000, 1, 28, 28) and torch.bincount(data.labels).tolist() == [1000] * 10


def save_png(path: Path, size: int = 8, value: int = 128) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (size, size), value).save(path)


def test_flat_folder_has_no_labels(tmp_path):
    for i in range(3):
        save_png(tmp_path / f"{i}.png", value=i)
    data = ImageFolder(FolderOptions(path=str(tmp_path))).load(DataRequest())
    assert data.images.shape == (3, 1, 8, 8) and data.labels is None and data.images[2, 0, 0, 0] == 2


def test_class_subfolders_give_labels_and_rgb_works(tmp_path):
    for cls, n in (("cat", 2), ("dog", 1)):
        for i in range(n):
            save_png(tmp_path / cls / f"{i}.png")
    data = ImageFolder(FolderOptions(path=str(tmp_path), channels=3)).load(DataRequest())
    assert data.images.shape == (3, 3, 8, 8) and data.labels.tolist() == [0, 0, 1] and data.num_classes == 2


def test_limit_keeps_every_class_and_hidden_files_are_skipped(tmp_path):
    for cls in ("a", "b", "c"):
        for i in range(2):
            save_png(tmp_path / cls / f"{i}.png")
    (tmp_path / "b" / "._0.png").write_bytes(b"macOS metadata")
    save_png(tmp_path / ".ipynb_checkpoints" / "x.png")
    data = ImageFolder(FolderOptions(path=str(tmp_path), limit=3)).load(DataRequest())
    assert data.labels.tolist() == [0, 0, 1] and data.num_classes == 3


def test_mixed_sizes_need_a_size(tmp_path):
    save_png(tmp_path / "a.png", 8)
    save_png(tmp_path / "b.png", 12)
    with pytest.raises(GanError, match=r"a.png is 8x8, b.png is 12x12.*dataset.size"):
        ImageFolder(FolderOptions(path=str(tmp_path))).load(DataRequest())
    data = ImageFolder(FolderOptions(path=str(tmp_path), size=28)).load(DataRequest())
    assert data.images.shape == (2, 1, 28, 28)


def test_folder_errors(tmp_path):
    with pytest.raises(GanError, match="needs a path"):
        ImageFolder(FolderOptions()).load(DataRequest())
    with pytest.raises(GanError, match="is not a folder"):
        ImageFolder(FolderOptions(path=str(tmp_path / "nope"))).load(DataRequest())
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(GanError, match="holds no images"):
        ImageFolder(FolderOptions(path=str(tmp_path))).load(DataRequest())
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(GanError, match="junk.png is not a readable image"):
        ImageFolder(FolderOptions(path=str(tmp_path))).load(DataRequest())
