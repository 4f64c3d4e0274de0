"""Theory derives, the generator emits, the solvers call: no numerics module re-types a theory result.

TABLE lists every theory result a solver computes, the generated function that carries it and the
solver modules that must call that function. The AST of each solver module is read: it must call the
generated function (call it or pick it as the kernel to call), and must not contain the generated expression typed out again (nor the
hand-typed forms listed in RETYPED). Each generated function is compared with the sympy expression it
was printed from, at random points (sympy lambdified with mpmath, independent of the printer and of
the solvers).
"""

import ast
import copy
import importlib
import inspect
import random
import re
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from numerics._generated import function_space as gfs
from numerics._generated import output as gout
from numerics._generated import storage as gst
from numerics.codegen import function_space as cfs
from numerics.codegen import output as cout
from numerics.codegen import storage as cst
from theory import function_space as fs
from theory import majority as mj
from theory import propagation as tp
from theory import storage as ts

STORAGE = ("numerics._generated.storage", ("numerics.solvers.storage",))
FUNCTION_SPACE = ("numerics._generated.function_space", ("numerics.solvers.function_space",))
PROPAGATION = ("numerics._generated.function_space", ("numerics.solvers.propagation",))
MAJORITY = ("numerics._generated.function_space", ("numerics.solvers.majority",))
OUTPUT = ("numerics._generated.output", ("numerics.mlp.engine",))

# (theory module, derivation key): (generated module, function, solver modules that must call it)
TABLE = {
    ("theory.storage", "alpha_of_q"): (*STORAGE[:1], "gardner_log_alpha_of_q", STORAGE[1]),
    ("theory.storage", "spinodal_gap"): (*STORAGE[:1], "gardner_spinodal_gap", STORAGE[1]),
    ("theory.storage", "entropy"): (*STORAGE[:1], "gardner_entropy", STORAGE[1]),
    ("theory.storage", "replicon"): (*STORAGE[:1], "gardner_replicon", STORAGE[1]),
    ("theory.storage", "capacity"): (*STORAGE[:1], "gardner_capacity", STORAGE[1]),
    ("theory.storage", "log_capacity_negative"): (*STORAGE[:1], "gardner_log_capacity_negative", STORAGE[1]),
    ("theory.storage", "replicon_at_capacity"): (*STORAGE[:1], "gardner_replicon_at_capacity", STORAGE[1]),
    ("theory.storage", "ising_conjugate"): (*STORAGE[:1], "ising_conjugate", STORAGE[1]),
    ("theory.storage", "ising_overlap"): (*STORAGE[:1], "ising_overlap_residual", STORAGE[1]),
    ("theory.storage", "ising_entropy"): (*STORAGE[:1], "ising_entropy", STORAGE[1]),
    ("theory.storage", "ising_replicon"): (*STORAGE[:1], "ising_replicon", STORAGE[1]),
    ("theory.storage", "ising_rs_capacity"): (*STORAGE[:1], "ising_rs_capacity", STORAGE[1]),
    ("theory.storage", "ts_saddle"): (*STORAGE[:1], "teacher_saddle_residual", STORAGE[1]),
    ("theory.storage", "ts_error_stable"): (*STORAGE[:1], "teacher_error", STORAGE[1]),
    ("theory.propagation", "variance_map.esp"): (*PROPAGATION[:1], "propagation_variance_map", PROPAGATION[1]),
    ("theory.propagation", "chi1.esp"): (*PROPAGATION[:1], "propagation_chi1", PROPAGATION[1]),
    ("theory.function_space", "tanh_pair_scaled"): (*FUNCTION_SPACE[:1], "tanh_pair_sum", FUNCTION_SPACE[1]),
    ("theory.function_space", "K"): (*FUNCTION_SPACE[:1], "entropy_growth_exponent", FUNCTION_SPACE[1]),
    ("theory.function_space", "annealed_objective"): (*FUNCTION_SPACE[:1], "annealed_objective", FUNCTION_SPACE[1]),
    ("theory.function_space", "annealed_objective in log r_L"): (*FUNCTION_SPACE[:1], "annealed_objective_of_log_error",
                                                                  FUNCTION_SPACE[1]),
    ("theory.function_space", "error_step"): (*FUNCTION_SPACE[:1], "error_step", FUNCTION_SPACE[1]),
    ("theory.function_space", "error_step_inverse"): (*FUNCTION_SPACE[:1], "error_step_inverse", FUNCTION_SPACE[1]),
    ("theory.function_space", "budget"): (*FUNCTION_SPACE[:1], "log_budget_x", FUNCTION_SPACE[1]),
    ("theory.function_space", "x.continuous"): (*FUNCTION_SPACE[:1], "x_of_eta", FUNCTION_SPACE[1]),
    ("theory.function_space", "x.binary"): (*FUNCTION_SPACE[:1], "x_of_p", FUNCTION_SPACE[1]),
    ("theory.function_space", "layer_entropy.continuous"): (*FUNCTION_SPACE[:1], "layer_entropy_continuous",
                                                            FUNCTION_SPACE[1]),
    ("theory.function_space", "layer_entropy.binary"): (*FUNCTION_SPACE[:1], "layer_entropy_binary", FUNCTION_SPACE[1]),
    ("theory.majority", None): (*MAJORITY[:1], "majority_pair_probabilities", MAJORITY[1]),
    ("theory.majority", "deficit_integrand"): (*MAJORITY[:1], "majority_deficit_integrand", MAJORITY[1]),
    ("theory.majority", "small_m_equation"): (*MAJORITY[:1], "majority_small_m_residual", MAJORITY[1]),
    ("theory.majority", "complement_integrand"): (*MAJORITY[:1], "majority_complement_integrand", MAJORITY[1]),
    ("theory.majority", "complement_limit"): (*MAJORITY[:1], "majority_complement_limit", MAJORITY[1]),
    ("theory.majority", "complement_equation"): (*MAJORITY[:1], "majority_complement_residual", MAJORITY[1]),
    ("theory.cross_entropy", "sigmoid.loss.stable"): (*OUTPUT[:1], "sigmoid_output_loss", OUTPUT[1]),
    ("theory.cross_entropy", "sigmoid.dl_dz.stable"): (*OUTPUT[:1], "sigmoid_output_gradient", OUTPUT[1]),
    ("theory.cross_entropy", "sigmoid.d2l_dz2.stable"): (*OUTPUT[:1], "sigmoid_output_curvature", OUTPUT[1]),
    ("theory.cross_entropy", "softmax.loss_term.stable"): (*OUTPUT[:1], "softmax_output_loss_term", OUTPUT[1]),
    ("theory.cross_entropy", "softmax.dl_dz.stable"): (*OUTPUT[:1], "softmax_output_gradient", OUTPUT[1]),
    ("theory.cross_entropy", "softmax.d2l_dz2.stable"): (*OUTPUT[:1], "softmax_output_curvature", OUTPUT[1]),
    ("theory.cross_entropy", "softmax.d2l_dz2.pair.stable"): (*OUTPUT[:1], "softmax_output_curvature_pair", OUTPUT[1]),
    ("theory.cross_entropy", "linear.loss"): (*OUTPUT[:1], "linear_output_loss", OUTPUT[1]),
    ("theory.cross_entropy", "linear.dl_dz"): (*OUTPUT[:1], "linear_output_gradient", OUTPUT[1]),
}

# hand-typed forms of the results above, as they once stood in the solvers (none may come back)
RETYPED = {
    "numerics.solvers.storage": ("math.log(q) - math.log(I)", "alpha * I / (1.0 - q) ** 2", "(1.0 - q) - m",
                         "alpha * R * S / (1.0 - q) ** 2", "alpha * m - r / math.sqrt(1.0 - r)",
                         "1.0 - q * s / I"),
    "numerics.solvers.propagation": ("sigma_w**2 * m + sigma_b**2",),
    "numerics.solvers.function_space": ("(2.0**layers - 1.0) / layers", "value + alpha * math.log1p(-e)",
                                "alpha * math.log1p(-0.5 * math.exp(l))", "s + alpha * math.log(0.5)",
                                "-2.0 * math.exp(X - M) * math.expm1(-2.0 * X)"),
    "numerics.solvers.majority": ("-np.expm1(n * np.log1p(-tt * tt))", "2.0 * slope * (p_c - p) / (a * slope)",
                                  "2.0 * p + u - 2.0 * p * u"),
    "numerics.mlp.engine": ("-tz if y[s] == 1.0 else sz", "max(-z if y[s] == 1.0 else z, 0.0) + log1p_unit(e)",
                            "T[j, s] * (zmax[s] - bj * H[uo + j, s] + excess[s])",
                            "-other if T[j, s] == 1.0 else p - T[j, s]", "0.5 * D[u, s] * D[u, s]",
                            "(1.0 - 2.0 * y[s]) * beta * h[s]"),
}
MIN_NODES = 6  # generated expressions at least this large must not appear typed out in a solver


def _module_tree(name: str) -> ast.Module:
    return ast.parse(Path(importlib.import_module(name).__file__).read_text())


MODULES = ("math", "np", "numpy")  # a call math.f(...), np.f(...) or a bare f(...) below is arithmetic
FUNCTIONS = {"sqrt", "log", "exp", "log1p", "expm1", "asin", "arcsin", "sin", "cos", "tanh", "abs", "max", "min",
             "copysign", "factorial"}


def _math_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in MODULES:
        name = func.attr
    elif isinstance(func, ast.Name):
        name = func.id
    else:
        return None
    name = {"arcsin": "asin"}.get(name, name)
    return name if name in FUNCTIONS else None


class _Canonical(ast.NodeTransformer):
    """Operands (names, attributes, subscripts, calls other than math functions) become 'v' and numbers
    floats: two expressions that differ only in what they combine compare equal."""

    def _operand(self, node):
        return ast.Name(id="v", ctx=ast.Load())

    visit_Name = visit_Attribute = visit_Subscript = _operand

    def visit_Call(self, node):
        name = _math_name(node.func)
        if name is None:
            return self._operand(node)
        return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[self.visit(a) for a in node.args], keywords=[])

    def visit_Constant(self, node):
        value = float(node.value) if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) else node.value
        return ast.Constant(value=value)


def _canonical(node: ast.AST) -> tuple[str, int]:
    """(shape, number of operations) of an expression."""
    tree = _Canonical().visit(copy.deepcopy(node))
    return ast.dump(tree), sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call)) for n in ast.walk(tree))


def _generated_shapes(module: str, function: str) -> set[str]:
    """Shapes of the return expression of a generated function and of its parts with >= MIN_NODES operations."""
    fn = getattr(importlib.import_module(module), function)
    tree = ast.parse(inspect.getsource(getattr(fn, "py_func", fn)))
    returned = [n.value for n in ast.walk(tree) if isinstance(n, ast.Return)]
    shapes = (_canonical(n) for r in returned for n in ast.walk(r) if isinstance(n, ast.expr))
    return {shape for shape, size in shapes if size >= MIN_NODES}


@pytest.mark.parametrize("source", sorted(TABLE, key=str), ids=lambda s: f"{s[0]}:{s[1]}")
def test_solver_calls_the_generated_function(source):
    theory_module, key = source
    module, function, solvers = TABLE[source]
    if key is not None:
        importlib.import_module(theory_module).derivation()[key.split(" in ")[0]]  # the theory derives it
    assert callable(getattr(importlib.import_module(module), function))
    alias = module.rsplit(".", 1)[1]
    for solver in solvers:
        tree = _module_tree(solver)
        aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                   and n.module == module.rsplit(".", 1)[0] for a in n.names if a.name == alias}
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)  # called, or picked and called
                and isinstance(n.value, ast.Name) and n.value.id in aliases}
        assert function in used, f"{solver} computes {theory_module}:{key} without calling {module}.{function}"


@pytest.mark.parametrize("solver", sorted({s for *_, solvers in TABLE.values() for s in solvers}))
def test_solver_does_not_retype_a_generated_expression(solver):
    shapes = {}
    for module, function, _ in TABLE.values():
        shapes |= dict.fromkeys(_generated_shapes(module, function), f"{module}.{function}")
    for text in RETYPED.get(solver, ()):
        shapes[_canonical(ast.parse(text, mode="eval").body)[0]] = f"the hand-typed form {text!r}"
    for node in ast.walk(_module_tree(solver)):
        if isinstance(node, ast.expr):
            found = shapes.get(_canonical(node)[0])
            assert found is None, f"{solver} line {node.lineno} re-types {found}: {ast.unparse(node)}"


def test_every_generated_equation_has_a_row():
    """A new generated equation must name the solver that calls it."""
    rows = {function for _, function, _ in TABLE.values()}
    emitted = set(cst.EQUATIONS) | set(re.findall(r"^def (\w+)\(", "\n".join(cfs.equations()), re.M)) | set(cout.FUNCTIONS)
    assert emitted <= rows, f"generated without a TABLE row: {sorted(emitted - rows)}"


def test_the_retyped_check_can_fail():
    """A hand-typed form is found whatever its operands are called (guards against a check that cannot fail)."""
    typed = ast.parse("alpha * _field_average(kernel, q, kappa) / (1.0 - q) ** 2", mode="eval").body
    assert _canonical(typed)[0] == _canonical(ast.parse("alpha * I / (1.0 - q) ** 2", mode="eval").body)[0]
    assert _canonical(typed)[0] in {_canonical(n)[0] for n in ast.walk(ast.parse(
        "def f(q):\n    return 2.0 * (a * g(q) / (1.0 - q) ** 2)"))if isinstance(n, ast.expr)}


# ---- each generated function equals the sympy expression it came from ---------------------------

def _points(symbols, n=5, seed=0):
    """Random points inside every domain: overlaps and R in (0, 1), everything else in (0.05, 3)."""
    rng = random.Random(seed)
    for _ in range(n):
        yield {s: rng.uniform(0.05, 0.95) if str(s) in ("q", "R", "epsilon") else rng.uniform(0.05, 3.0)
               for s in symbols}


def _mp_value(expr, point):
    if isinstance(expr, sp.Eq):
        expr = expr.lhs - expr.rhs
    f = sp.lambdify(list(point), expr, modules="mpmath")
    with mp.workdps(30):
        return float(f(*(mp.mpf(v) for v in point.values())))


@pytest.mark.parametrize("name", list(cst.EQUATIONS))
def test_storage_equation_matches_its_sympy_expression(name):
    expr = cst.equation(name)
    args = cst.EQUATIONS[name][1]
    symbols = [next(s for s in (expr.lhs - expr.rhs if isinstance(expr, sp.Eq) else expr).free_symbols
                    if s.name == a) for a in args]
    for point in _points(symbols):
        assert getattr(gst, name)(*point.values()) == pytest.approx(_mp_value(expr, point), rel=1e-14)


def test_storage_equations_take_the_averages_of_their_kernels():
    """The mean_* argument of each equation is the average of the kernel the table names (checked in theory)."""
    d = ts.derivation()
    t, q, kappa = ts.t, ts.q, ts.kappa
    mean = ts.gaussian_average(d["saddle_integrand"], t)
    replaced = cst.equation("gardner_log_alpha_of_q")
    assert sp.Symbol("mean_saddle", positive=True) in replaced.free_symbols
    assert sp.simplify(sp.exp(replaced).subs(sp.Symbol("mean_saddle", positive=True), mean) - q / mean) == 0
    assert not cst.same_integrand(d["saddle_integrand"], d["replicon_integrand"])  # the matcher can tell them apart
    assert {kappa, q, t} <= d["saddle_integrand"].free_symbols


def test_function_space_equations_match_their_sympy_expressions():
    S, alpha, eps, L = sp.Symbol("S", real=True), fs.alpha, fs.epsilon, sp.Symbol("L", positive=True, integer=True)
    objective = fs.annealed_objective()
    for point in _points([S, alpha, eps]):
        assert gfs.annealed_objective(*point.values()) == pytest.approx(_mp_value(objective, point), rel=1e-14)
        s_val, a_val, e_val = point.values()
        log_form = gfs.annealed_objective_of_log_error(s_val, a_val, float(mp.log(2 * mp.mpf(e_val))))
        assert log_form == pytest.approx(_mp_value(objective, point), rel=1e-13)
    for layers in range(1, 17):
        assert gfs.entropy_growth_exponent(layers) == float(fs.entropy_growth_exponent().subs(L, layers))
    A, D = sp.symbols("A D", real=True)
    lhs, _ = fs.tanh_pair_identity()
    rng = random.Random(1)
    for _ in range(20):
        a, d = rng.uniform(-30, 30), rng.uniform(-30, 30)
        assert gfs.tanh_pair_sum(a, d) == pytest.approx(_mp_value(lhs, {A: a, D: d}), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("name", sorted(tp.REGISTRY))
def test_propagation_maps_match_theory(name):
    mean = sp.Symbol("m", positive=True)
    vmap = tp.variance_map(name)
    chi = tp.chi1(name)
    for point in _points([tp.sigma_w, tp.sigma_b, mean]):
        sw, sb, m = point.values()
        assert gfs.propagation_variance_map(sw, sb, m) == pytest.approx(
            _mp_value(vmap.xreplace({next(iter(vmap.atoms(sp.Integral))): mean}), point), rel=1e-14)
        assert gfs.propagation_chi1(sw, m) == pytest.approx(
            _mp_value(chi.xreplace({next(iter(chi.atoms(sp.Integral))): mean}), {tp.sigma_w: sw, mean: m}), rel=1e-14)


def test_majority_pair_probabilities_match_theory():
    P = mj.pair_probability()
    for point in _points([mj.m_hat, mj.m_eff, mj.q_eff]):
        point = {k: v / 3.0 for k, v in point.items()}  # magnetizations and overlaps in (0, 1)
        got = gfs.majority_pair_probabilities(*point.values())
        for value, (a, b) in zip(got, mj.PAIR_TYPES):
            assert value == pytest.approx(_mp_value(P.subs({mj.s_hat: a, mj.s: b}), point), rel=1e-14)


def test_generators_share_one_emitter():
    for gen in (cst, cfs, cout):
        assert "function_source" in vars(gen) and "banner" in vars(gen)


def test_majority_integrands_match_theory():
    """Elementwise on arrays, to 1e-13 against 40 digits, also at t -> 0 where 1 - (1 - t^2)^n cancels."""
    t = np.array([1e-9, 1e-4, 0.1, 0.5, 0.9, 0.999])
    for integrand, generated, var in ((mj.deficit_integrand(), gfs.majority_deficit_integrand, mj.t),
                                      (mj.complement_integrand(), gfs.majority_complement_integrand, mj.v)):
        for n in (1, 2, 5, 20):
            got = generated(t, n)
            assert got.shape == t.shape
            for x, value in zip(t, got):
                assert value == pytest.approx(_mp_value(integrand.subs(mj.n, n), {var: x}), rel=1e-13)


def test_majority_equations_match_theory():
    mean, integral = sp.symbols("mean integral", positive=True)
    small = mj.small_m_equation()
    small = small.xreplace({small.lhs: mean})
    comp = mj.complement_equation()
    comp = comp.xreplace({next(iter(comp.lhs.atoms(sp.Integral))): integral})
    rng = random.Random(2)
    for _ in range(5):
        m_val, p_val, pc_val = rng.uniform(0, 1), rng.uniform(0, 0.45), rng.uniform(0, 0.5)
        assert gfs.majority_small_m_residual(m_val, p_val, pc_val) == pytest.approx(
            _mp_value(small, {mean: m_val, mj.p: p_val, mj.p_c: pc_val}), rel=1e-14, abs=1e-15)
        i_val, u_val, slope_val = rng.uniform(0, 1), rng.uniform(0, 0.5), rng.uniform(1, 30)
        assert gfs.majority_complement_residual(i_val, u_val, slope_val) == pytest.approx(
            _mp_value(comp, {integral: i_val, mj.u: u_val, mj.slope: slope_val}), rel=1e-14, abs=1e-15)
        assert gfs.majority_complement_limit(u_val, p_val) == pytest.approx(
            _mp_value(mj.complement_limit(), {mj.u: u_val, mj.p: p_val}), rel=1e-15)


def test_output_forms_match_theory():
    """Each generated output-layer function equals its theory step at random points (labels 0, 1 and between)."""
    from theory import cross_entropy as ce

    d = ce.derivation()
    rng = random.Random(3)
    for name, (key, args) in cout.FUNCTIONS.items():
        for label in (0.0, 1.0, 0.3):
            point = {a: (label if a == ce.y else rng.uniform(-3.0, 3.0) if a == ce.z else rng.uniform(0.05, 3.0))
                     for a in args}
            assert getattr(gout, name)(*point.values()) == pytest.approx(_mp_value(d[key], point), rel=1e-15, abs=1e-300)
