"""The IDX reader on small crafted files, the download path against a loopback server, and real MNIST."""

import gzip
import hashlib
import http.server
import struct
import threading
from functools import partial

import numpy as np
import pytest

from backend.nn import mnist
from backend.nn.mnist import MnistError, download, parse_idx, read_idx, resolve_data_dir


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def images():
    return np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)


def test_reads_raw_and_gzip_files_alike(tmp_path, images):
    raw = tmp_path / "x-idx3-ubyte"
    raw.write_bytes(idx_bytes(images))
    packed = tmp_path / "x-idx3-ubyte.gz"
    packed.write_bytes(gzip.compress(idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(raw), images)
    np.testing.assert_array_equal(read_idx(packed), images)


def test_hash_is_checked_on_decompressed_bytes(tmp_path, images):
    data = idx_bytes(images)
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(data, mtime=0))
    np.testing.assert_array_equal(read_idx(path, hashlib.sha256(data).hexdigest()), images)
    with pytest.raises(MnistError, match="SHA-256 of the decompressed bytes"):
        read_idx(path, "0" * 64)


def test_wrong_magic_number_is_refused(images):
    data = bytearray(idx_bytes(images))
    data[2] = 0x0D  # float data, not unsigned bytes
    with pytest.raises(MnistError, match="bad IDX magic number"):
        parse_idx(bytes(data))


def test_truncated_data_is_refused(images):
    with pytest.raises(MnistError, match=r"declares shape \(2, 3, 4\)"):
        parse_idx(idx_bytes(images)[:-1])
    with pytest.raises(MnistError, match="too short"):
        parse_idx(b"\x00\x00")
    with pytest.raises(MnistError, match="truncated IDX header"):
        parse_idx(idx_bytes(images)[:9])


def test_truncated_gzip_is_refused(tmp_path, images):
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(idx_bytes(images))[:-10])
    with pytest.raises(MnistError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_data_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("MNIST_DIR")
    assert resolve_data_dir(None) == mnist.DEFAULT_CACHE_DIR


@pytest.fixture
def mirror(tmp_path):
    """A loopback HTTP server serving files from a folder, like a public mirror."""
    root = tmp_path / "mirror"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_tries_mirrors_in_turn_and_verifies(tmp_path, mirror, monkeypatch, images):
    root, url = mirror
    data = idx_bytes(images)
    monkeypatch.setitem(mnist.SHA256, "tiny-idx3-ubyte", hashlib.sha256(data).hexdigest())
    (root / "good").mkdir()
    (root / "good" / "tiny-idx3-ubyte.gz").write_bytes(gzip.compress(data))
    (root / "bad").mkdir()
    (root / "bad" / "tiny-idx3-ubyte.gz").write_bytes(gzip.compress(data[:-1] + b"\x01"))
    seen = []
    target = tmp_path / "cache"
    path = download(
        "tiny-idx3-ubyte",
        target,
        mirrors=(url + "missing/", url + "bad/", url + "good/"),
        progress=lambda name, done, total: seen.append((done, total)),
    )
    np.testing.assert_array_equal(read_idx(path), images)
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert sorted(p.name for p in target.iterdir()) == ["tiny-idx3-ubyte.gz"]  # no partial files left


def test_download_failure_names_every_mirror(tmp_path, mirror):
    _, url = mirror
    with pytest.raises(MnistError, match="could not download train-labels-idx1-ubyte.*404"):
        download("train-labels-idx1-ubyte", tmp_path / "cache", mirrors=(url,))
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_files_without_download_are_reported(tmp_path):
    with pytest.raises(MnistError, match="not found and downloading is off"):
        mnist.load_mnist(tmp_path, allow_download=False)


def test_real_mnist_matches_its_published_facts(mnist_data):
    assert mnist_data.train.images.shape == (55000, 784) and mnist_data.train.images.dtype == np.float32
    assert len(mnist_data.validation) == 5000 and len(mnist_data.test) == 10000
    assert 0.0 == mnist_data.test.images.min() and mnist_data.test.images.max() == 1.0
    all_train = np.concatenate([mnist_data.train.labels, mnist_data.validation.labels])
    assert np.bincount(all_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist_data.test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist_data.train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist_data.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_a_validation_split_must_leave_both_sides_non_empty(monkeypatch):
    for size in (0, 60000):
        with pytest.raises(ValueError, match="validation_size must be between 1 and 59999"):
            mnist.load_mnist(validation_size=size)
