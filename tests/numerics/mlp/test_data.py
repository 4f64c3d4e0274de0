import gzip

import numpy as np
import pytest

from numerics.mlp import data

PAPER = data.paper_data_dir()
needs_paper = pytest.mark.skipif(not (PAPER / "NLdata.mat").is_file(),
                                 reason=f"the paper's data sets are not in {PAPER} (set {data.PAPER_DATA_ENV})")


@needs_paper
@pytest.mark.parametrize("name, m, test_size, sizes", [("Lindata", 51, 0.25, (38, 13)), ("NLdata", 863, 0.2, (690, 173))])
def test_paper_files_and_the_papers_splits(name, m, test_size, sizes):
    X, y = data.load(PAPER / f"{name}.mat")
    assert X.shape == (m, 2) and y.shape == (m,) and X.dtype == y.dtype == np.float64
    assert set(np.unique(y)) == {0.0, 1.0}
    X_tr, X_te, y_tr, y_te = data.split(X, y, test_size, 1)
    assert (len(X_tr), len(X_te)) == sizes == (len(y_tr), len(y_te))
    # a partition of the samples
    rows = np.concatenate([X_tr, X_te])
    assert np.array_equal(np.sort(rows.view("f8,f8").ravel()), np.sort(X.view("f8,f8").ravel()))


@needs_paper
def test_paper_data_summary():
    # class counts of the paper's sets: 21 of 51 and 480 of 863 points in class 1
    assert data.load(PAPER / "Lindata.mat")[1].sum() == 21
    assert data.load(PAPER / "NLdata.mat")[1].sum() == 480


@pytest.mark.parametrize("m, test_size, seed", [(51, 0.25, 1), (863, 0.2, 1), (10, 3, 0), (7, 0.5, 123), (100, 0.01, 2**32 - 1)])
def test_split_matches_scikit_learn(m, test_size, seed):
    sk = pytest.importorskip("sklearn.model_selection")
    X = np.arange(3 * m, dtype=float).reshape(m, 3)
    y = np.arange(m) % 2
    ours = data.split(X, y, test_size, seed)
    theirs = sk.train_test_split(X, y, test_size=test_size, random_state=seed)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a, b)


def test_split_bad_input():
    X, y = np.zeros((10, 2)), np.zeros(10)
    for bad in (0.0, 1.0, -0.1, 0, 10):
        with pytest.raises(ValueError, match="test_size"):
            data.split(X, y, bad, 0)
    with pytest.raises(ValueError, match="random_state"):
        data.split(X, y, 0.2, -1)
    with pytest.raises(ValueError, match="same number"):
        data.split(X, y[:5], 0.2, 0)


@pytest.mark.parametrize("name, m", [("linear", 51), ("nonlinear", 863)])
def test_synthetic_tasks(name, m):
    X, y = data.synthetic(name)
    assert X.shape == (m, 2) and set(np.unique(y)) == {0.0, 1.0}
    X2, y2 = data.synthetic(name, seed=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = data.synthetic(name, seed=1)
    assert not np.array_equal(X, X3)
    assert 0.25 < y.mean() < 0.75


def test_linear_task_is_separable_but_for_one_outlier():
    X, y = data.synthetic("linear", n=200, seed=3)
    by_line = (X[:, 0] + X[:, 1] > 5.6).astype(float)
    assert np.sum(by_line != y) == 1


def test_digits_match_scikit_learn_and_are_one_hot():
    X, Y = data.digits()
    assert X.shape == (1797, 64) and Y.shape == (1797, 10)
    assert np.all(Y.sum(axis=1) == 1) and set(np.unique(Y)) == {0.0, 1.0}
    assert X.min() == 0.0 and X.max() == 1.0
    skd = pytest.importorskip("sklearn.datasets")
    ref = skd.load_digits()
    assert np.array_equal(X * 16, ref.data)
    assert np.array_equal(Y.argmax(axis=1), ref.target)


def _write_idx(path, arr, code):
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(header + arr.astype(arr.dtype.newbyteorder(">")).tobytes())


def test_idx_reader_and_mnist_directory(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 0, 9, 1, 3], dtype=np.uint8)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, 0x08)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", labels, 0x08)
    assert np.array_equal(data.read_idx(tmp_path / "train-images-idx3-ubyte.gz"), images)
    X, Y = data.dataset(str(tmp_path))
    assert X.shape == (5, 784) and np.allclose(X * 255, images.reshape(5, -1))
    assert np.array_equal(Y.argmax(axis=1), labels) and Y.shape == (5, 10)
    floats = rng.standard_normal((2, 3))
    _write_idx(tmp_path / "f.idx", floats, 0x0E)
    assert np.array_equal(data.read_idx(tmp_path / "f.idx"), floats)
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="magic"):
        data.read_idx(tmp_path / "bad.idx")
    with pytest.raises(FileNotFoundError, match="t10k"):
        data.mnist(tmp_path, "test")


def test_csv_and_npz_files(tmp_path):
    X = np.array([[0.5, 1.0], [2.0, -1.0], [3.0, 4.0]])
    y = np.array([1.0, 0.0, 1.0])
    csv = tmp_path / "d.csv"
    csv.write_text("x1,x2,label\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y)) + "\n")
    Xc, yc = data.load(csv)
    assert np.array_equal(Xc, X) and np.array_equal(yc, y)
    csv.write_text("\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y)) + "\n")  # no header
    assert np.array_equal(data.load(csv)[0], X)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    Xn, yn = data.load(tmp_path / "d.npz")
    assert np.array_equal(Xn, X) and np.array_equal(yn, y)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        data.dataset(str(tmp_path / "nope.mat"))
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(ValueError, match="cannot be read"):
        data.load(tmp_path / "junk.mat")
    (tmp_path / "x.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match="unknown format"):
        data.load(tmp_path / "x.txt")
    np.savez(tmp_path / "nox.npz", y=np.zeros(3))
    with pytest.raises(ValueError, match="lacks"):
        data.load(tmp_path / "nox.npz")
    np.savez(tmp_path / "nan.npz", X=np.array([[1.0, np.nan]]), y=np.zeros(1))
    with pytest.raises(ValueError, match="finite"):
        data.load(tmp_path / "nan.npz")
    np.savez(tmp_path / "inf.npz", X=np.ones((2, 2)), y=np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="finite"):
        data.load(tmp_path / "inf.npz")
    np.savez(tmp_path / "short.npz", X=np.ones((3, 2)), y=np.zeros(2))
    with pytest.raises(ValueError, match="one entry or row per sample"):
        data.load(tmp_path / "short.npz")


def test_one_hot():
    assert np.array_equal(data.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="0..2"):
        data.one_hot([3], 3)
    with pytest.raises(ValueError, match="non-negative integers"):
        data.one_hot([0.5])


def test_csv_with_a_byte_order_mark_keeps_its_first_sample(tmp_path):
    X = np.array([[0.5, 1.0], [2.0, -1.0]])
    body = "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, [1.0, 0.0])) + "\n"
    for name, text in (("plain.csv", body), ("header.csv", "x1,x2,label\n" + body)):
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + text.encode())
        Xc, yc = data.load(tmp_path / name)
        assert np.array_equal(Xc, X) and np.array_equal(yc, [1.0, 0.0])


def test_empty_and_blank_csv_are_refused(tmp_path):
    for text in ("", "\n\n", "x1,x2,label\n"):
        (tmp_path / "e.csv").write_text(text)
        with pytest.raises(ValueError, match=r"e\.csv.*at least one sample"):
            data.load(tmp_path / "e.csv")


def test_truncated_or_corrupted_gzip_idx_is_named_as_damaged(tmp_path):
    import gzip

    labels = np.arange(10, dtype=np.uint8)
    _write_idx(tmp_path / "l.idx", labels, 0x08)
    packed = gzip.compress((tmp_path / "l.idx").read_bytes())
    for name, raw in (("cut.idx.gz", packed[: len(packed) // 2]), ("junk.idx.gz", b"\x1f\x8b" + b"\x00" * 20)):
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(ValueError, match=rf"{name}' is damaged"):
            data.read_idx(tmp_path / name)
    (tmp_path / "short.idx").write_bytes((tmp_path / "l.idx").read_bytes()[:-3])
    with pytest.raises(ValueError, match="short.idx' is damaged.*truncated"):
        data.read_idx(tmp_path / "short.idx")
