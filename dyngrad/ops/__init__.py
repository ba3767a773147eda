"""Operators, one module per family; importing this package attaches Tensor methods. As
`torch.ops`, the package also holds `aten` (ATen's operators by name, ops/aten.py)."""

from dyngrad.ops import (  # noqa: F401 - imported for their Tensor methods
    arithmetic,
    callbacks,
    comparison,
    complex,
    creation,
    gather_scatter,
    igamma,
    indexing,
    inplace,
    inplace_views,
    integer,
    linalg,
    misc,
    native,
    queries,
    random,
    reduction,
    removed,
    repeat,
    settings,
    shape,
    sorting,
    unary,
    windows,
)
