"""Transforms, constraints and the constraint registry against PyTorch: forward values, inverses,
log|det J| and their gradients; shapes, event dims, signs, reprs, caching; constraint checks;
biject_to / transform_to."""

import numpy as np
import pytest

from tests.distributions.common import both, positive, real
from tests.harness import array, assert_same_outputs, check_error, check_op, with_lib


def _affine(T, loc, scale):
    return T.AffineTransform(loc, scale)


# name -> (make(lib, *params) -> transform, params(), x()); x lies in the transform's domain
CASES = {
    "Exp": (lambda lib: lib.distributions.ExpTransform(), list, lambda: real(2, 3)),
    "Affine": (lambda lib, loc, scale: lib.distributions.AffineTransform(loc, scale),
               lambda: [real(3), real(3, away_from_zero=0.3)], lambda: real(2, 3)),
    "Affine_number": (lambda lib: lib.distributions.AffineTransform(1.5, -2.0), list,
                      lambda: real(2, 3)),
    "Affine_event": (lambda lib, loc, scale: lib.distributions.AffineTransform(loc, scale, 1),
                     lambda: [real(3), positive(3)], lambda: real(2, 3)),
    "Sigmoid": (lambda lib: lib.distributions.SigmoidTransform(), list, lambda: real(2, 3)),
    "Tanh": (lambda lib: lib.distributions.TanhTransform(), list, lambda: real(2, 3)),
    "Softplus": (lambda lib: lib.distributions.SoftplusTransform(), list, lambda: real(2, 3)),
    "Power": (lambda lib, p: lib.distributions.PowerTransform(p),
              lambda: [real(3, away_from_zero=0.4)], lambda: positive(2, 3)),
    "StickBreaking": (lambda lib: lib.distributions.StickBreakingTransform(), list,
                      lambda: real(2, 3)),
    "CorrCholesky": (lambda lib: lib.distributions.CorrCholeskyTransform(), list,
                     lambda: real(2, 6, low=-1, high=1)),
    "Compose": (lambda lib, scale: lib.distributions.ComposeTransform(
        [lib.distributions.ExpTransform(), lib.distributions.AffineTransform(1.0, scale)]),
        lambda: [positive(3)], lambda: real(2, 3)),
    "Compose_event_dims": (lambda lib, scale: lib.distributions.ComposeTransform(
        [lib.distributions.StickBreakingTransform(),
         lib.distributions.AffineTransform(0.0, scale, event_dim=1)]),
        lambda: [positive(4)], lambda: real(2, 3)),
    "Independent": (lambda lib: lib.distributions.IndependentTransform(
        lib.distributions.SigmoidTransform(), 2), list, lambda: real(2, 3, 2)),
    "Reshape": (lambda lib: lib.distributions.ReshapeTransform((2, 3), (6,)), list,
                lambda: real(4, 2, 3)),
    "Cat": (lambda lib, scale: lib.distributions.CatTransform(
        [lib.distributions.ExpTransform(), lib.distributions.AffineTransform(0.5, scale)],
        dim=1, lengths=[2, 3]), lambda: [positive(1)], lambda: real(2, 5)),
    "Stack": (lambda lib: lib.distributions.StackTransform(
        [lib.distributions.ExpTransform(), lib.distributions.TanhTransform()], dim=1), list,
        lambda: real(4, 2)),
    "CumulativeDistribution": (lambda lib, loc, scale: lib.distributions.transforms.
                               CumulativeDistributionTransform(
                                   lib.distributions.Normal(loc, scale)),
                               lambda: [real(3, low=-0.3, high=0.3), positive(3)],
                               lambda: real(2, 3, low=-0.5, high=0.5)),
    "Inverse_of_Exp": (lambda lib: lib.distributions.ExpTransform().inv, list,
                       lambda: positive(2, 3)),
    "Inverse_of_Sigmoid": (lambda lib: lib.distributions.SigmoidTransform().inv, list,
                           lambda: array(2, 3, low=0.05, high=0.95)),
}
WITHOUT_JACOBIAN = {"Softmax", "LowerCholesky", "PositiveDefinite", "Abs"}
NO_JACOBIAN_CASES = {
    "Softmax": (lambda lib: lib.distributions.transforms.SoftmaxTransform(), list,
                lambda: real(2, 3)),
    "LowerCholesky": (lambda lib: lib.distributions.transforms.LowerCholeskyTransform(), list,
                      lambda: real(2, 3, 3)),
    "PositiveDefinite": (lambda lib: lib.distributions.transforms.PositiveDefiniteTransform(),
                         list, lambda: real(2, 3, 3, low=-0.5, high=0.5)),
    "Abs": (lambda lib: lib.distributions.AbsTransform(), list,
            lambda: real(2, 3, away_from_zero=0.1)),
}
ALL = {**CASES, **NO_JACOBIAN_CASES}


def _run(name, what):
    make, params, x = ALL[name]
    n = len(params())

    def fn(lib, *ts):
        t, x = make(lib, *ts[:n]), ts[n]
        if what == "forward":
            return t(x)
        if what == "inverse":
            return t.inv(t(x))
        return t.log_abs_det_jacobian(x, t(x))

    return fn, params, x


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("what", ["forward", "inverse"])
def test_forward_and_inverse(name, what):
    fn, params, x = _run(name, what)
    check_op(with_lib(fn), *params(), x())


@pytest.mark.parametrize("name", list(CASES))
def test_log_abs_det_jacobian(name):
    fn, params, x = _run(name, "log_abs_det_jacobian")
    check_op(with_lib(fn), *params(), x())


@pytest.mark.parametrize("name", list(NO_JACOBIAN_CASES))
def test_transforms_without_jacobian_raise(name):
    make, _, x = NO_JACOBIAN_CASES[name]
    value = x()
    check_error(lambda lib: make(lib).log_abs_det_jacobian(lib.from_numpy(value),
                                                           lib.from_numpy(value)))


def test_jacobian_matches_finite_differences():
    """log|det J| of StickBreaking (the extra simplex coordinate dropped) and CorrCholesky (on
    the strictly lower triangle) agree with the determinant of a numerical Jacobian."""
    import dyngrad

    T = dyngrad.distributions.transforms
    cases = [(T.StickBreakingTransform(), lambda y: y[..., :-1], real(3)),
             (T.CorrCholeskyTransform(), lambda y: y[np.tril_indices(3, -1)], real(3))]
    for t, coords, x in cases:
        x_t = dyngrad.from_numpy(x)
        jac = np.stack([(coords(t(dyngrad.from_numpy(x + e)).numpy())
                         - coords(t(dyngrad.from_numpy(x - e)).numpy())) / 2e-6
                        for e in np.eye(len(x)) * 1e-6], axis=-1)
        expected = np.log(abs(np.linalg.det(jac)))
        np.testing.assert_allclose(t.log_abs_det_jacobian(x_t, t(x_t)).item(), expected,
                                   rtol=1e-6)


def _describe(t, shape):
    dom, cod = t.domain, t.codomain
    sign = None
    try:
        sign = t.sign
    except NotImplementedError:
        pass
    return (repr(t), dom.event_dim, cod.event_dim, repr(dom), repr(cod), t.bijective,
            sign if not hasattr(sign, "shape") else sign.tolist(),
            tuple(t.forward_shape(shape)), tuple(t.inverse_shape(t.forward_shape(shape))))


@pytest.mark.parametrize("name", list(ALL))
def test_metadata(name):
    """repr, domain/codomain, bijective, sign, forward_shape/inverse_shape as in PyTorch."""
    make, params, x = ALL[name]
    p, value = params(), x()

    def run(lib):
        t = make(lib, *(lib.from_numpy(a) for a in p))
        return _describe(t, value.shape), _describe(t.inv, tuple(t(lib.from_numpy(value)).shape))

    dg, th = both(run)
    assert dg == th


def test_cache_and_inverse_identity():
    def run(lib):
        D = lib.distributions
        t = D.ExpTransform(cache_size=1)
        x = lib.tensor([0.5, 1.0])
        y = t(x)
        compose = D.ComposeTransform([D.ExpTransform(), D.AffineTransform(1.0, 2.0)],
                                     cache_size=1)
        z = compose(x)
        return (t.inv(y) is x, t(x) is y, t.inv.inv is t, D.ExpTransform().inv.inv is not None,
                compose.inv(z) is x, D.ExpTransform() == D.ExpTransform(),
                D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0),
                D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 3.0),
                t.inv == D.ExpTransform().inv, compose.inv.inv is compose,
                D.PowerTransform(lib.tensor(2.0)) == D.PowerTransform(lib.tensor(2.0)),
                D.ExpTransform().with_cache(1)._cache_size)

    dg, th = both(run)
    assert dg == th
    assert dg[0] and dg[4]


def test_transform_errors():
    check_error(lambda lib: lib.distributions.ExpTransform(cache_size=2))
    check_error(lambda lib: lib.distributions.ReshapeTransform((2, 3), (5,)))
    check_error(lambda lib: lib.distributions.ReshapeTransform((2, 3), (6,)).forward_shape((3, 2)))
    check_error(lambda lib: lib.distributions.CorrCholeskyTransform().forward_shape((4,)))
    check_error(lambda lib: lib.distributions.CatTransform(
        [lib.distributions.ExpTransform()], dim=0, lengths=[2])(lib.zeros(3)))
    check_error(lambda lib: lib.distributions.StackTransform(
        [lib.distributions.ExpTransform()], dim=0)(lib.zeros(2, 3)))
    check_error(lambda lib: lib.distributions.IndependentTransform(
        lib.distributions.ExpTransform(), 2)(lib.zeros(3)))


# --- constraints ----------------------------------------------------------------------------------
def _constraints(lib):
    C = lib.distributions.constraints
    return {
        "real": C.real, "positive": C.positive, "nonnegative": C.nonnegative,
        "unit_interval": C.unit_interval, "greater_than": C.greater_than(-1.5),
        "greater_than_eq": C.greater_than_eq(0.5), "less_than": C.less_than(1.0),
        "interval": C.interval(-1.0, 2.0), "half_open_interval": C.half_open_interval(0.0, 1.0),
        "boolean": C.boolean, "nonnegative_integer": C.nonnegative_integer,
        "positive_integer": C.positive_integer, "integer_interval": C.integer_interval(0, 3),
        "real_vector": C.real_vector, "independent": C.independent(C.positive, 1),
        "simplex": C.simplex, "one_hot": C.one_hot, "multinomial": C.multinomial(3),
        "lower_triangular": C.lower_triangular, "lower_cholesky": C.lower_cholesky,
        "corr_cholesky": C.corr_cholesky, "square": C.square, "symmetric": C.symmetric,
        "positive_semidefinite": C.positive_semidefinite,
        "positive_definite": C.positive_definite,
        "cat": C.cat([C.positive, C.real], dim=-1, lengths=[1, 2]),
        "stack": C.stack([C.positive, C.real, C.unit_interval], dim=-1),
    }


CONSTRAINT_VALUES = [
    np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]),
    np.array([[-1.0, 2.0, 3.0], [1.0, np.nan, 0.5]]),
    np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]),
    np.array([[[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8]],
              [[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, -1.0]]]),
    np.array([[[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]],
              [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]),
]


@pytest.mark.parametrize("index", range(len(CONSTRAINT_VALUES)))
def test_constraint_checks(index):
    value = CONSTRAINT_VALUES[index]

    def run(lib):
        out = {}
        for name, c in _constraints(lib).items():
            if c.event_dim > value.ndim:
                continue
            out[name] = (repr(c), c.event_dim, c.is_discrete,
                         c.check(lib.from_numpy(value)).tolist())
        return out

    dg, th = both(run)
    assert dg == th


def test_dependent_constraints():
    def run(lib):
        C = lib.distributions.constraints
        D = lib.distributions
        dep = C.dependent(is_discrete=True, event_dim=1)
        return (C.is_dependent(C.dependent), C.is_dependent(C.real), dep.is_discrete,
                dep.event_dim, C.is_dependent(D.Uniform.support),
                D.Uniform.support.event_dim, D.Categorical.support.is_discrete,
                repr(D.Uniform(0.0, 2.0).support), repr(D.Binomial(4, lib.tensor([0.5])).support))

    dg, th = both(run)
    assert dg == th
    check_error(lambda lib: lib.distributions.constraints.dependent.check(lib.zeros(1)))
    check_error(lambda lib: lib.distributions.constraints.dependent.event_dim)


# --- biject_to / transform_to -------------------------------------------------------------------
REGISTRY_CASES = ["real", "positive", "nonnegative", "unit_interval", "greater_than",
                  "greater_than_eq", "less_than", "interval", "half_open_interval",
                  "real_vector", "independent", "simplex", "lower_cholesky",
                  "positive_definite", "positive_semidefinite", "corr_cholesky", "cat", "stack"]
SHAPES = {"lower_cholesky": (2, 3, 3), "positive_definite": (2, 3, 3),
          "positive_semidefinite": (2, 3, 3), "corr_cholesky": (2, 3), "simplex": (2, 2)}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", REGISTRY_CASES)
def test_constraint_registry(registry, name):
    """The registered transform maps unconstrained values into the constraint, like PyTorch's,
    with the same log|det J|; unregistered constraints raise."""
    def lookup(lib):
        return getattr(lib.distributions, registry)(_constraints(lib)[name])

    try:
        both(lookup)
    except NotImplementedError:
        check_error(lookup)
        return
    x = real(*SHAPES.get(name, (2, 3)), low=-1, high=1)

    def run(lib, x):
        t = lookup(lib)
        y = t(x)
        out = (y, _constraints(lib)[name].check(y), repr(t))
        return out + ((t.log_abs_det_jacobian(x, y),) if registry == "biject_to" else ())

    check_op(with_lib(run), x, gradgrad=name not in ("positive_definite",
                                                     "positive_semidefinite"))
    dg_check = run(__import__("dyngrad"), __import__("dyngrad").from_numpy(x))[1]
    assert bool(dg_check.all())


def test_registry_register_and_errors():
    def run(lib):
        D = lib.distributions
        registry = D.constraint_registry.ConstraintRegistry()
        registry.register(D.constraints.positive, lambda c: D.ExpTransform())

        @registry.register(D.constraints.interval)
        def _factory(c):
            return D.AffineTransform(c.lower_bound, c.upper_bound - c.lower_bound)

        return repr(registry(D.constraints.positive)), repr(registry(D.constraints.interval(1, 2)))

    dg, th = both(run)
    assert dg == th
    check_error(lambda lib: lib.distributions.biject_to(lib.distributions.constraints.boolean))
    check_error(lambda lib: lib.distributions.constraint_registry.ConstraintRegistry().register(
        int, lambda c: None))
    assert_same_outputs(*both(lambda lib: lib.distributions.biject_to(
        lib.distributions.constraints.positive)(lib.tensor([0.0, 1.0]))), "biject_to")


# --- utils --------------------------------------------------------------------------------------
@pytest.mark.parametrize("diag", [-1, 0, 1])
def test_tril_vector_round_trip(diag):
    def run(lib, m):
        U = lib.distributions.utils
        vec = U.tril_matrix_to_vec(m, diag=diag)
        return vec, U.vec_to_tril_matrix(vec, diag=diag)

    check_op(with_lib(run), real(2, 4, 4))


def test_utils_conversions():
    def run(lib, p, logits):
        U = lib.distributions.utils
        return (U.probs_to_logits(p), U.probs_to_logits(p, is_binary=True),
                U.logits_to_probs(logits), U.logits_to_probs(logits, is_binary=True),
                U.clamp_probs(p), U.broadcast_all(p, 2.0, logits[0]))

    p = np.array([[0.0, 0.3, 1.0], [0.5, 0.2, 0.9]])
    check_op(with_lib(run), p, real(2, 3), gradgrad=False)
    check_error(lambda lib: lib.distributions.utils.tril_matrix_to_vec(lib.ones(3, 3), diag=3))
    check_error(lambda lib: lib.distributions.utils.vec_to_tril_matrix(lib.ones(4)))
    check_error(lambda lib: lib.distributions.utils.broadcast_all(lib.ones(2), "x"))
