"""The emitter shared by the equation generators (numerics.codegen.storage, numerics.codegen.function_space).

A generated module is a banner naming its theory sources, its imports, and one
function per theory result. An equation's Gaussian averages become named
arguments (:func:`averages_as_arguments`), so the solver that calls it only
chooses the quadrature; an equation ``lhs = rhs`` is emitted as its value
(``rhs``, when ``lhs`` is the unknown it defines) or as the residual
``(lhs) - (rhs)``. Writing the files and checking their freshness is
numerics.codegen's job.
"""

from __future__ import annotations

import sympy as sp

GENERATED_BY = "`python -m numerics.codegen`"


def banner(summary: str, sources: tuple[str, ...], imports: tuple[str, ...]) -> str:
    """Module docstring (summary, theory sources, 'do not edit') followed by the imports."""
    origin = sources[-1] if len(sources) == 1 else ", ".join(sources[:-1]) + " and " + sources[-1]
    lines = [f'"""{summary}', "", f"Generated from {origin} by", f"{GENERATED_BY}; do not edit.", '"""', ""]
    return "\n".join(lines + list(imports)) + "\n"


def gaussian_integrand(integral: sp.Integral) -> tuple[sp.Expr, sp.Symbol]:
    """(f, v) for int Dv f(v) written as Integral(exp(-v^2/2)/sqrt(2 pi) f(v), (v, -oo, oo))."""
    (v, lo, hi), = integral.limits
    if (lo, hi) != (-sp.oo, sp.oo):
        raise ValueError(f"not a Gaussian average over the real line: {integral}")
    return integral.function * sp.sqrt(2 * sp.pi) * sp.exp(v**2 / 2), v


def averages_as_arguments(expr: sp.Basic, averages: dict[str, tuple[sp.Expr, sp.Symbol]],
                          check) -> sp.Basic:
    """``expr`` with every Gaussian average <f>_v replaced by the argument named for it.

    ``averages`` maps an argument name to (integrand, variable); an average matches when
    ``check(f, integrand)`` says the two integrands are equal (so the argument is the
    average of exactly the kernel the solver integrates). An average with no match raises.
    """
    def rule(integral):
        f, v = gaussian_integrand(integral)
        for name, (integrand, var) in averages.items():
            if var == v and check(f, integrand):
                return sp.Symbol(name, real=True)
        raise ValueError(f"no argument declared for the Gaussian average of {f} over {v}")

    return expr.replace(lambda e: isinstance(e, sp.Integral), rule)


def function_source(name: str, args: tuple, expr, doc: str, printer, *, cse: bool = False,
                    decorator: str | None = None, shown: sp.Basic | None = None) -> str:
    """``def name(args)`` returning ``expr`` (a tuple of expressions returns a tuple).

    An ``Eq`` is returned as the residual ``(lhs) - (rhs)``, each side printed as it stands.
    ``cse``: common subexpressions become local variables x0, x1, ...; ``shown``: an
    expression quoted in the docstring (the theory result as sympy writes it).
    """
    names = ", ".join(str(a) for a in args)
    lines = [decorator] if decorator else []
    lines.append(f"def {name}({names}):")
    if shown is None:
        lines.append(f'    """{doc}"""')
    else:
        lines += [f'    """{doc}', "", f"    {sp.sstr(shown)}", '    """']
    if isinstance(expr, sp.Eq):
        body = f"({printer.doprint(expr.lhs)}) - ({printer.doprint(expr.rhs)})"
    elif isinstance(expr, tuple):
        body = "(" + ", ".join(printer.doprint(e) for e in expr) + ")"
    elif cse:
        replacements, (reduced,) = sp.cse(expr, symbols=sp.numbered_symbols("x"))
        lines += [f"    {sym} = {printer.doprint(val)}" for sym, val in replacements]
        body = printer.doprint(reduced)
    else:
        body = printer.doprint(expr)
    lines.append(f"    return {body}")
    return "\n".join(lines) + "\n"


def check_arguments(name: str, expr, args: tuple) -> None:
    """Refuse an expression that depends on a symbol that is not one of the function's arguments."""
    exprs = expr if isinstance(expr, tuple) else (expr,)
    free = set().union(*(sp.sympify(e).free_symbols for e in exprs))
    extra = {str(s) for s in free} - {str(a) for a in args}
    if extra:
        raise ValueError(f"generated function {name} depends on {sorted(extra)} beyond its arguments")
