"""`meanfield derive [TOPIC ...] [--latex] [--json]`: print derivation steps."""

from __future__ import annotations

import importlib
import json

# topic -> "module:function" returning a theory.derivation.Derivation
TOPICS = {
    "gate": "theory.gate:derivation",
    "activations": "theory.activations:derivation",
    "noise": "theory.noise:derivation",
    "cross-entropy": "theory.cross_entropy:derivation",
    "storage": "theory.storage:derivation",
    "overlap": "theory.function_space:derivation",
    "majority": "theory.majority:derivation",
    "propagation": "theory.propagation:derivation",
}
DEFAULT_TOPICS = ("gate", "activations", "noise", "cross-entropy")


def load(topic: str):
    if topic not in TOPICS:
        raise ValueError(f"topic {topic!r} is not known; choose from {', '.join(TOPICS)}")
    module, func = TOPICS[topic].split(":")
    return getattr(importlib.import_module(module), func)()


def run(args) -> int:
    topics = args.topics or list(DEFAULT_TOPICS)
    derivations = [load(t) for t in topics]  # validate all before printing any
    if args.json:
        out = derivations[0].as_json() if len(topics) == 1 else {t: d.as_json() for t, d in zip(topics, derivations)}
        print(json.dumps(out, indent=2))
    else:
        print("\n\n".join(d.as_text(latex=args.latex) for d in derivations))
    return 0


def register(commands) -> None:
    p = commands.top("derive", "print the derivation steps of the theory results")
    p.add_argument("topics", nargs="*", metavar="TOPIC", help=f"one or more of: {', '.join(TOPICS)}")
    p.add_argument("--latex", action="store_true", help="print expressions as LaTeX")
    p.add_argument("--json", action="store_true", help="print {key: sympy expression string}")
    p.set_defaults(func=run)
