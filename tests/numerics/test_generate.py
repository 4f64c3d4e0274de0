"""The committed files of numerics/_generated/ are what the theory generates now."""

import importlib

import pytest

from numerics import generate


@pytest.mark.parametrize("name", generate.GENERATORS)
def test_committed_file_is_a_fresh_generation(name):
    gen = importlib.import_module(name)
    assert gen.OUTPUT.read_text() == gen.generate(), f"run `python -m numerics.generate` and commit {gen.OUTPUT.name}"


def test_check_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    gen = importlib.import_module(generate.GENERATORS[1])
    stale = tmp_path / gen.OUTPUT.name
    stale.write_text(gen.OUTPUT.read_text() + "# edited by hand\n")
    monkeypatch.setattr(gen, "OUTPUT", stale)
    monkeypatch.setattr(generate, "GENERATORS", (generate.GENERATORS[1],))  # the others are checked above
    assert generate.main(["--check"]) == 1
    assert str(stale) in capsys.readouterr().out
