import os

import pytest

from numerics.files import write_atomic


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "a.bin"
    write_atomic(target, lambda fh: fh.write(b"old"))

    def broken(fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["a.bin"]
