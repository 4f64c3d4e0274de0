"""Regenerate every file of ``numerics/_generated/`` from the theory: ``python -m numerics.codegen [--check]``.

One entry point for the generators (each a module with ``OUTPUT``, the
file it owns, and ``generate()``, that file's source); ``--check`` only
reports the files that differ from a fresh generation (exit status 1), which
is what the test suite asserts never happens on a committed tree.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from numerics.files import write_atomic

GENERATORS = ("numerics.codegen.activations", "numerics.codegen.storage", "numerics.codegen.function_space",
              "numerics.codegen.output")


def stale_files() -> list[Path]:
    """The generated files that differ from what their generator writes now."""
    stale = []
    for name in GENERATORS:
        gen = importlib.import_module(name)
        if not gen.OUTPUT.is_file() or gen.OUTPUT.read_text() != gen.generate():
            stale.append(gen.OUTPUT)
    return stale


def write_all() -> list[Path]:
    """Write every generated file (atomically: a reader never sees half a module); returns the files written."""
    written = []
    for name in GENERATORS:
        gen = importlib.import_module(name)
        gen.OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        source = gen.generate().encode("utf-8")
        write_atomic(gen.OUTPUT, lambda fh, source=source: fh.write(source))
        written.append(gen.OUTPUT)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m numerics.codegen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale generated files instead of writing them")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    for path in write_all():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
