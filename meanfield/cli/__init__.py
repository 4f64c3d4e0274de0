"""The `meanfield` command line.

Each command lives in its own module of this package and exposes
``register(commands)``; see :class:`Commands`. Errors raised as ValueError,
TypeError, OSError, KeyError, ArithmeticError or MemoryError become one line
on stderr and exit status 2; Ctrl-C exits with status 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules of this package that register commands, in the order shown by --help.
COMMAND_MODULES = ("derive", "verify", "reproduce", "sweep", "storage", "train", "function_space", "hessian")
COMMAND_MODULES += ("spectrum", "kernel", "activation")


def plain(value):
    """JSON-ready: arrays and tuples to lists, non-finite floats to None (printed as null), recursively."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def floats(text: str, option: str) -> list[float]:
    """The comma-separated numbers given to ``option`` (ValueError naming the option otherwise)."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{option} must be a comma-separated list of numbers, got {text!r}") from None


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        if message.endswith("expected one argument"):  # e.g. --lr -1e-3, taken for an option
            message += " (a value starting with '-' is written --option=VALUE)"
        raise UsageError(f"{self.prog}: {message}")


class Commands:
    """Where command modules add their parsers.

    ``top(name)`` adds ``meanfield NAME``; ``group(group, name)`` adds
    ``meanfield GROUP NAME`` (for example ``solve capacity``), creating the
    group on first use. Each returned parser must ``set_defaults(func=...)``,
    with ``func(args) -> int`` the exit status.
    """

    def __init__(self, root: argparse.ArgumentParser):
        self._top = root.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
        self._top.required = True
        self._groups: dict[str, argparse._SubParsersAction] = {}

    def top(self, name: str, help: str, **kwargs) -> argparse.ArgumentParser:
        return self._top.add_parser(name, help=help, description=help, **kwargs)

    def group(self, group: str, name: str, help: str, **kwargs) -> argparse.ArgumentParser:
        if group not in self._groups:
            parent = self._top.add_parser(group, help=f"{group} commands")
            sub = parent.add_subparsers(dest=f"{group}_command", metavar="WHAT", parser_class=_Parser)
            sub.required = True
            self._groups[group] = sub
        return self._groups[group].add_parser(name, help=help, description=help, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    from meanfield import __version__

    root = _Parser(prog="meanfield", description="Statistical mechanics of neural networks.")
    root.add_argument("--version", action="version", version=f"meanfield {__version__}")
    commands = Commands(root)
    for name in COMMAND_MODULES:
        importlib.import_module(f"meanfield.cli.{name}").register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, KeyError, ArithmeticError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"meanfield: error: {message}", file=sys.stderr)
        return 2
    except MemoryError:
        print("meanfield: error: out of memory; choose smaller sizes", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("meanfield: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
