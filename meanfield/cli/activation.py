"""`meanfield activation add NAME EXPR | list | remove NAME | show NAME [--latex]`: user activations.

``add`` registers phi(h, beta) = EXPR for this and every later process (the
kernels are generated into the per-user cache) and prints the measured worst
relative error of its kernels against mpmath on the standard point set.
"""

from __future__ import annotations

import time


def _add(args) -> int:
    import numerics

    t0 = time.perf_counter()
    act = numerics.register_activation(args.name, args.expr, persist=True)
    print(f"registered {act.name}: phi(h, beta) = {act.expression}  ({time.perf_counter() - t0:.1f} s)")
    if not args.no_check:
        from verify.gate import kernel_error_table

        print("worst relative error vs mpmath on the standard point set (|h| to 1e300, beta 1e-6..1e3, both signs):")
        for key, err in kernel_error_table(act.name).items():
            print(f"  {key:<11} {err:.2e}")
    return 0


def _list(args) -> int:
    from numerics.kernels.activations import BUILTIN, activation, registered

    for name in BUILTIN:
        print(f"{name:<12} built-in    {activation(name).expression}")
    for name, expr in registered().items():
        print(f"{name:<12} registered  {expr}")
    return 0


def _remove(args) -> int:
    from numerics.kernels.activations import unregister_activation

    if not unregister_activation(args.name):
        raise ValueError(f"activation {args.name!r} is not registered")
    print(f"removed {args.name}")
    return 0


def _show(args) -> int:
    import sympy as sp

    from numerics.kernels.activations import activation
    from theory import activations as ta

    expr = ta.parse(activation(args.name).expression)
    for key, d in ta.user_derivatives(expr, stable=True).items():
        print(f"{key}: {sp.latex(d) if args.latex else sp.sstr(d)}")
    return 0


def register(commands) -> None:
    p = commands.group("activation", "add", "register phi(h, beta) = EXPR under NAME (kept for later runs)")
    p.add_argument("name", metavar="NAME", help="lower case letters, digits, _ (not a built-in name)")
    p.add_argument("expr", metavar="EXPR", help="expression in h and beta, e.g. 'h*Phi(beta*h)'")
    p.add_argument("--no-check", action="store_true", help="skip the accuracy measurement against mpmath")
    p.set_defaults(func=_add)
    p = commands.group("activation", "list", "list the built-in and registered activations")
    p.set_defaults(func=_list)
    p = commands.group("activation", "remove", "remove a registered activation")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=_remove)
    p = commands.group("activation", "show", "the value and derivatives of an activation")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--latex", action="store_true", help="print LaTeX")
    p.set_defaults(func=_show)
