"""Operators, one module per family; importing this package attaches Tensor methods."""

from dyngrad.ops import (  # noqa: F401 - imported for their Tensor methods
    arithmetic,
    comparison,
    complex,
    creation,
    gather_scatter,
    indexing,
    inplace,
    linalg,
    misc,
    native,
    random,
    reduction,
    repeat,
    shape,
    sorting,
    unary,
)
