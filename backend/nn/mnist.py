"""MNIST: reading and verifying the IDX files, finding or downloading them, and the train/validation split.

IDX is big-endian: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, one
uint32 per dimension, then the data. Files may be gzip-compressed or raw. Each file's SHA-256 is taken
over its *decompressed* bytes, because the same content is published with different gzip framing.

The data directory is, in order: an explicit path, the MNIST_DIR environment variable, or the cache
folder `.data/mnist` at the repository root (git-ignored). Missing files are downloaded from public
mirrors tried in turn, verified, and only then moved into place.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.paths import DATA_CACHE_DIR

DEFAULT_CACHE_DIR = DATA_CACHE_DIR / "mnist"
VALIDATION_SIZE = 5000

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
EXPECTED_SHAPES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_UBYTE = 0x08

ProgressHook = Callable[[str, int, int], None]  # (file name, bytes so far, total bytes or 0)


class MnistError(ValueError):
    """A data file that is missing, truncated, corrupt or not the file it claims to be."""


@dataclass(frozen=True)
class Split:
    """Images as float32 rows (N, 784) in [0, 1] (0 = background, 1 = ink) and int64 labels (N,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Mnist:
    train: Split  # the first 55,000 training images: what the network learns from
    validation: Split  # the last 5,000 training images: model selection and early stopping
    test: Split  # the 10,000 test images: reporting only
    hashes: dict[str, str]  # file name -> SHA-256 of its decompressed bytes


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed if it is gzip (detected by its magic bytes, not its name)."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise MnistError(f"{path}: corrupt or truncated gzip data ({err})") from None
    return raw


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes of unsigned bytes into an array of the shape its header declares."""
    if len(data) < 4:
        raise MnistError(f"{source}: too short to be an IDX file ({len(data)} bytes)")
    zero1, zero2, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero1 or zero2 or type_code != _UBYTE or not 1 <= ndim <= 3:
        raise MnistError(f"{source}: bad IDX magic number {data[:4].hex()} (expected 000008 then 01-03)")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise MnistError(f"{source}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    actual = len(data) - header_size
    if actual != expected:
        raise MnistError(f"{source}: header declares shape {shape} ({expected} bytes of data) but the file has {actual}")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """Read one IDX file (gzip or raw), checking the SHA-256 of its decompressed bytes if given."""
    data = read_bytes(path)
    if expected_sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected_sha256:
            raise MnistError(f"{path}: SHA-256 of the decompressed bytes is {digest}, expected {expected_sha256}")
    return parse_idx(data, str(path))


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    if data_dir:
        return Path(data_dir)
    if os.environ.get("MNIST_DIR"):
        return Path(os.environ["MNIST_DIR"])
    return DEFAULT_CACHE_DIR


def find_file(data_dir: Path, name: str) -> Path | None:
    for candidate in (data_dir / f"{name}.gz", data_dir / name):
        if candidate.is_file():
            return candidate
    return None


def download(name: str, data_dir: Path, mirrors=MIRRORS, progress: ProgressHook | None = None) -> Path:
    """Fetch `name`.gz from the first mirror that serves it with the right hash; return its path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        try:
            tmp = _fetch(url, data_dir, name, progress)
        except OSError as err:
            failures.append(f"{url}: {err}")
            continue
        try:
            read_idx(tmp, SHA256.get(name))
        except MnistError as err:
            tmp.unlink(missing_ok=True)
            failures.append(f"{url}: {err}")
            continue
        target = data_dir / f"{name}.gz"
        os.replace(tmp, target)
        return target
    raise MnistError(f"could not download {name}: " + "; ".join(failures))


def _fetch(url: str, data_dir: Path, name: str, progress: ProgressHook | None) -> Path:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=data_dir)
    try:
        # the file first: it is closed even when the connection fails
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(name, done, total)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return Path(tmp_name)


def load_file(data_dir: Path, name: str, allow_download: bool = True, progress: ProgressHook | None = None) -> np.ndarray:
    path = find_file(data_dir, name)
    if path is None:
        if not allow_download:
            raise MnistError(f"{data_dir / name}(.gz) not found and downloading is off")
        path = download(name, data_dir, progress=progress)
    array = read_idx(path, SHA256[name])
    if array.shape != EXPECTED_SHAPES[name]:
        raise MnistError(f"{path}: shape {array.shape}, expected {EXPECTED_SHAPES[name]}")
    return array


def to_rows(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 784) float32 in [0, 1], flattened row by row."""
    return (images.reshape(len(images), -1).astype(np.float32)) / np.float32(255.0)


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    validation_size: int = VALIDATION_SIZE,
    allow_download: bool = True,
    progress: ProgressHook | None = None,
) -> Mnist:
    """All of MNIST, verified, with the last `validation_size` training images held out."""
    directory = resolve_data_dir(data_dir)
    arrays = {key: load_file(directory, name, allow_download, progress) for key, name in FILES.items()}
    train_x, train_y = to_rows(arrays["train_images"]), arrays["train_labels"].astype(np.int64)
    cut = len(train_y) - validation_size
    if not 0 < cut < len(train_y):
        raise ValueError(f"validation_size must be between 1 and {len(train_y) - 1}, got {validation_size}")
    return Mnist(
        train=Split(train_x[:cut], train_y[:cut]),
        validation=Split(train_x[cut:], train_y[cut:]),
        test=Split(to_rows(arrays["test_images"]), arrays["test_labels"].astype(np.int64)),
        hashes={name: SHA256[name] for name in FILES.values()},
    )
