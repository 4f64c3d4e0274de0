"""Data sets for the MLP experiments: files, the paper's split, synthetic tasks, digits, MNIST.

Every loader returns ``(X, y)`` with ``X`` a float64 array (m, d) and ``y``
float64: class labels 0..k-1 of shape (m,), one-hot rows (m, k), or real
targets. Inputs are checked at the boundary (shape, finiteness).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from numerics import validate

SYNTHETIC = ("linear", "nonlinear")
BUILTIN = SYNTHETIC + ("digits",)
PAPER_DATA_ENV = "MEANFIELD_PAPER_DATA"
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def paper_data_dir() -> Path:
    """Directory of the paper's MATLAB files: ``$MEANFIELD_PAPER_DATA``, else ``shared/data/paper`` beside the source tree."""
    env = os.environ.get(PAPER_DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "paper"


def check_xy(X, y, name: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """``X`` as float64 (m, d) and ``y`` as float64 (m,) or (m, k); ValueError on bad shapes or non-finite values."""
    X = np.asarray(X)
    y = np.asarray(y)
    for arr, label in ((X, "X"), (y, "y")):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name}: {label} must be numeric, got dtype {arr.dtype}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name}: X must be a 2-D array (samples, features) with at least one of each, got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"{name}: y must have one entry or row per sample ({X.shape[0]}), got shape {y.shape}")
    for arr, label in ((X, "X"), (y, "y")):
        if not np.isfinite(arr).all():
            bad = ~np.isfinite(arr)
            row = int(np.argwhere(bad)[0][0])
            raise ValueError(f"{name}: {label} must be finite, found {arr[bad][0]} in sample {row}")
    return X, y


def one_hot(labels, n_classes: int | None = None) -> np.ndarray:
    """Rows e_k (float64) for integer class labels 0..n_classes-1."""
    lab = np.asarray(labels, dtype=np.float64).ravel()
    if lab.size and (np.any(lab != np.round(lab)) or lab.min() < 0):
        raise ValueError("labels must be non-negative integers for one-hot encoding")
    k = int(lab.max()) + 1 if n_classes is None else n_classes
    if lab.size and lab.max() >= k:
        raise ValueError(f"labels must lie in 0..{k - 1} for {k} classes, got {int(lab.max())}")
    out = np.zeros((lab.size, k))
    out[np.arange(lab.size), lab.astype(np.int64)] = 1.0
    return out


# -- files -------------------------------------------------------------------------------------


def load(path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``(X, y)`` from a MATLAB ``.mat`` or ``.npz`` file (arrays ``X`` and ``y``) or a ``.csv``.

    A CSV holds one sample per line, the features followed by the label in the
    last column; a first line that is not numeric is taken as a header.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist or is not a file")
    suffix = path.suffix.lower()
    readers = {".mat": _read_mat, ".npz": _read_npz, ".csv": _read_csv}
    if suffix not in readers:
        raise ValueError(f"data file {str(path)!r}: unknown format {suffix!r}; allowed: .mat, .npz, .csv, or a directory of MNIST IDX files")
    try:
        arrays = readers[suffix](path)
    except Exception as exc:  # any reader failure (format, encoding, truncation) means an unreadable file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"data file {str(path)!r} cannot be read (damaged or not a {suffix} file: {reason})") from None
    missing = [k for k in ("X", "y") if k not in arrays]
    if missing:
        raise ValueError(f"data file {str(path)!r} lacks array(s) {', '.join(missing)}; it needs 'X' (samples x features) and 'y'")
    return check_xy(arrays["X"], arrays["y"], name=f"data file {str(path)!r}")


def _read_mat(path: Path) -> dict:
    from scipy.io import loadmat

    return loadmat(path)


def _read_npz(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _read_csv(path: Path) -> dict:
    """Lines of comma-separated numbers; a byte-order mark and a non-numeric first line (a header) are skipped."""
    with open(path, encoding="utf-8-sig") as fh:  # utf-8-sig: a BOM is not part of the first value
        lines = [line for line in fh.read().splitlines() if line.strip()]
    if lines:
        try:
            [float(v) for v in lines[0].split(",")]
        except ValueError:
            lines = lines[1:]
    if not lines:
        raise ValueError("a CSV needs at least one sample, found none")
    table = np.loadtxt(lines, delimiter=",", ndmin=2)
    if table.shape[0] < 1 or table.shape[1] < 2:
        raise ValueError(f"a CSV needs at least one sample and two columns (features, then the label), got shape {table.shape}")
    return {"X": table[:, :-1], "y": table[:, -1]}


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (the MNIST format; ``.gz`` compressed or not)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:  # gzip: BadGzipFile (an OSError), EOFError when truncated
        raise ValueError(f"IDX file {str(path)!r} is damaged or unreadable ({exc or type(exc).__name__}); "
                         f"download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in dtypes:
        raise ValueError(f"IDX file {str(path)!r}: bad magic number (expected 0x00 0x00, a type code in {sorted(dtypes)}, ndim)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(dtypes[raw[2]])
    if len(raw) != header + dtype.itemsize * math.prod(shape):
        raise ValueError(f"IDX file {str(path)!r} is damaged: its size does not match its header shape {shape} "
                         f"(truncated?); download it again")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def mnist(directory, part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST from a directory holding the IDX files: pixels scaled to [0, 1] (m, 784), one-hot labels (m, 10)."""
    validate.choice("part", part, tuple(MNIST_FILES))
    directory = Path(directory)
    paths = [_idx_path(directory, name) for name in MNIST_FILES[part]]
    images, labels = (read_idx(p) for p in paths)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST files in {str(directory)!r}: images {images.shape} and labels {labels.shape} do not match")
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    return X, one_hot(labels, 10)


def _idx_path(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"MNIST directory {str(directory)!r} lacks {name} (or {name}.gz)")


def has_mnist(directory, part: str = "train") -> bool:
    directory = Path(directory)
    return all(any((directory / f).is_file() for f in (n, f"{n}.gz")) for n in MNIST_FILES[part])


# -- bundled and synthetic sets ----------------------------------------------------------------


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits (1797 images): pixels scaled from 0..16 to [0, 1] (m, 64), one-hot labels (m, 10).

    Bundled copy of the set scikit-learn ships as ``load_digits`` (see numerics/datasets/README.md).
    """
    with resources.files("numerics.mlp").joinpath("datasets/digits.csv.gz").open("rb") as fh:
        table = np.loadtxt(gzip.open(fh), delimiter=",")
    return table[:, :-1] / 16.0, one_hot(table[:, -1], 10)


def synthetic(name: str, n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded 2-D binary task resembling the paper's sets, labels 0/1.

    ``linear``: points in [0, 4.2] x [1.5, 4.7] labelled by the line
    x1 + x2 = 5.6 (a margin of 0.15 left empty) with one mislabelled outlier,
    like the paper's 51-point set. ``nonlinear``: points in [0.04, 1] x [0.4, 1]
    labelled 0 inside a wavy two-lobed region and 1 outside (a margin kept
    empty), like the paper's 863-point set. Default sizes are the paper's.
    """
    validate.choice("synthetic task", name, SYNTHETIC)
    n = (51 if name == "linear" else 863) if n is None else validate.integer("n (number of samples)", n, low=2)
    rng = np.random.default_rng(seed)
    if name == "linear":
        lo, hi = np.array([0.0, 1.5]), np.array([4.2, 4.7])
        score = lambda x: x[:, 0] + x[:, 1] - 5.6
        margin = 0.15
    else:
        lo, hi = np.array([0.04, 0.4]), np.array([1.0, 1.0])
        score = _nonlinear_score
        margin = 0.1
    X = np.empty((0, 2))
    while len(X) < n:
        draw = rng.uniform(lo, hi, size=(4 * n, 2))
        X = np.concatenate([X, draw[np.abs(score(draw)) > margin]])
    X = X[:n]
    y = (score(X) > 0).astype(np.float64)
    if name == "linear":
        y[np.argmin(X[:, 0])] = 1.0  # the outlier: a far-left point of class 1
    return X, y


def _nonlinear_score(x: np.ndarray) -> np.ndarray:
    d1 = ((x[:, 0] - 0.33) / 0.17) ** 2 + ((x[:, 1] - 0.68) / 0.22) ** 2
    d2 = ((x[:, 0] - 0.68) / 0.19) ** 2 + ((x[:, 1] - 0.68) / 0.19) ** 2
    return np.minimum(d1, d2) - 1.0 - 0.25 * np.sin(14 * x[:, 0]) * np.sin(11 * x[:, 1])


def dataset(spec: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` for a built-in name (linear, nonlinear, digits), a data file, or a directory of MNIST IDX files."""
    if spec in SYNTHETIC:
        return synthetic(spec, seed=seed)
    if spec == "digits":
        return digits()
    path = Path(spec)
    if path.is_dir():
        return mnist(path, "train")
    if not path.exists():
        raise FileNotFoundError(f"data {spec!r} is neither a built-in set ({', '.join(BUILTIN)}) nor an existing file or directory")
    return load(path)


# -- train/test split --------------------------------------------------------------------------


def split(X, y, test_size: float | int, random_state: int):
    """``(X_train, X_test, y_train, y_test)`` exactly as scikit-learn's ``train_test_split``.

    Same permutation (``numpy.random.RandomState(random_state).permutation(m)``),
    test indices first: ``n_test = ceil(test_size * m)`` for a fraction, or
    ``test_size`` samples for an integer; the train set is the next m - n_test.
    The paper's splits (random_state=1): 38/13 of 51 points with test_size=0.25,
    690/173 of 863 with test_size=0.2.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    m = X.shape[0]
    if y.shape[0] != m:
        raise ValueError(f"X and y must have the same number of samples, got {m} and {y.shape[0]}")
    if isinstance(test_size, (int, np.integer)):
        n_test = validate.integer("test_size", test_size, low=1, high=m - 1, expected=f"a count in [1, {m - 1}] for {m} samples")
    else:
        test_size = validate.real("test_size", test_size, low=0.0, high=1.0, open_low=True, open_high=True,
                                  expected="a fraction in (0, 1)")
        n_test = math.ceil(test_size * m)
        if n_test >= m:
            raise ValueError(f"test_size={test_size} leaves no training sample of {m}")
    random_state = validate.seed("random_state", random_state)
    perm = np.random.RandomState(random_state).permutation(m)
    test, train = perm[:n_test], perm[n_test:]
    return X[train], X[test], y[train], y[test]
