"""Sliding blocks and sampling: `unfold` / `fold` (im2col / col2im), `grid_sample` and the
grids of `affine_grid`.

unfold and fold are linear maps and each other's adjoint, so each is a `linear_op` whose
gradient is the other; so is affine_grid (linear in theta). grid_sample is composed of gathers
and arithmetic (`composite`), so its gradients with respect to the input and to the grid come
out of autograd.
"""

from __future__ import annotations

import itertools
import warnings

import dyngrad
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.nn.functional._composite import composite
from dyngrad.nn.functional._linear_op import linear_op

__all__ = ["unfold", "fold", "grid_sample", "affine_grid"]


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, tuple | list) else (v, v)


def _blocks(size, kernel, dilation, padding, stride) -> tuple:
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride, strict=True))


def _im2col(a, kernel, dilation, padding, stride, blocks):
    """(..., C, H, W) -> (..., C * kh * kw, L): one column per block, as PyTorch lays them out."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw), (oh, ow) = kernel, dilation, padding, stride, blocks
    lead = a.shape[:-2]
    ap = xp.zeros(lead + (a.shape[-2] + 2 * ph, a.shape[-1] + 2 * pw), a.dtype)
    ap[..., ph:ph + a.shape[-2], pw:pw + a.shape[-1]] = a
    out = xp.empty(lead + (kh, kw, oh, ow), a.dtype)
    for i in range(kh):
        for j in range(kw):
            out[..., i, j, :, :] = ap[..., i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                      j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return out.reshape(lead[:-1] + (lead[-1] * kh * kw, oh * ow))


def _col2im(g, size, kernel, dilation, padding, stride, blocks):
    """The adjoint of _im2col: sum each column back into its block of an (..., C, H, W) image."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw), (oh, ow) = kernel, dilation, padding, stride, blocks
    lead = g.shape[:-2]
    c = g.shape[-2] // (kh * kw)
    g = g.reshape(lead + (c, kh, kw, oh, ow))
    out = xp.zeros(lead + (c, size[0] + 2 * ph, size[1] + 2 * pw), g.dtype)
    for i in range(kh):
        for j in range(kw):
            out[..., i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw] += g[..., i, j, :, :]
    return xp.ascontiguousarray(out[..., ph:ph + size[0], pw:pw + size[1]])


def _check_args(kernel, dilation, padding, stride) -> None:
    for name, v, low in (("kernel", kernel, 1), ("dilation", dilation, 1),
                         ("padding", padding, 0), ("stride", stride, 1)):
        if v[0] < low or v[1] < low:
            what = "non-negative" if low == 0 else "greater than zero"
            raise RuntimeError(f"{name} should be {what}, but got {name}_height: {v[0]} "
                               f"{name}_width: {v[1]}")


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L)."""
    kernel, dilation, padding, stride = map(_pair, (kernel_size, dilation, padding, stride))
    _check_args(kernel, dilation, padding, stride)
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           "other non-zero dimensions for input, but got: "
                           f"[{', '.join(map(str, input.shape))}]")
    size = input.shape[-2:]
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"Given input with spatial size {tuple(size)}, kernel_size={kernel}, "
            f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding "
            f"blocks as {blocks}, but its components must be at least one.")
    args = (kernel, dilation, padding, stride, blocks)
    return linear_op(input, lambda a: _im2col(a, *args), lambda g: _col2im(g, size, *args),
                     "Im2ColBackward0", "Col2ImBackward0")


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding local blocks into an image: (N, C * prod(kernel_size), L) -> (N, C, H, W)."""
    size, kernel, dilation, padding, stride = map(
        _pair, (output_size, kernel_size, dilation, padding, stride))
    _check_args(kernel, dilation, padding, stride)
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch "
                           "size and non-zero dimensions for input, but got: "
                           f"[{', '.join(map(str, input.shape))}]")
    cols, length = input.shape[-2:]
    if cols % (kernel[0] * kernel[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={cols} and "
                           f"kernel_size={kernel}.")
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if blocks[0] * blocks[1] != length:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    args = (kernel, dilation, padding, stride, blocks)
    return linear_op(input, lambda g: _col2im(g, size, *args), lambda a: _im2col(a, *args),
                     "Col2ImBackward0", "Im2ColBackward0")


# --- grid_sample ---------------------------------------------------------------------------------
def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    """[-1, 1] -> pixel index: the corner pixels' centres (align_corners) or outer edges."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(x: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflect x into [twice_low / 2, twice_high / 2] as often as needed."""
    if twice_low == twice_high:
        return x * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    d = (x - low).abs()
    flips = xp.floor(d._data / span)
    extra = d - Tensor._make(flips * span)
    even = Tensor._make(flips % 2 == 0)
    return dyngrad.where(even, extra + low, span - extra + low)


def _source_index(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    x = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        return x.clamp(0, size - 1)
    if padding_mode == "reflection":
        x = (_reflect(x, 0, 2 * (size - 1)) if align_corners
             else _reflect(x, -1, 2 * size - 1))
        return x.clamp(0, size - 1)
    return x


def _gather(input: Tensor, n_idx, idx: list):
    """input[n, :, *idx] for integer arrays (N, *out) per spatial dim, zero where the point is
    off the input: (N, *out, C)."""
    inside = True
    for c, s in zip(idx, input.shape[2:], strict=True):
        inside = inside & (c >= 0) & (c < s)
    vals = input[(Tensor._make(n_idx), slice(None),
                  *(Tensor._make(xp.clip(c, 0, s - 1))
                    for c, s in zip(idx, input.shape[2:], strict=True)))]
    return vals * Tensor._make(inside[..., None].astype(input._data.dtype))


def _grid_sample(input, grid, mode, padding_mode, align_corners):
    sizes = input.shape[2:]
    n = len(sizes)
    # grid[..., 0] indexes the last dim (x), grid[..., 1] the one before (y), ...
    pos = [_source_index(grid[..., n - 1 - d], s, padding_mode, align_corners)
           for d, s in enumerate(sizes)]
    n_idx = xp.arange(input.shape[0]).reshape((-1,) + (1,) * n)
    back = (0, n + 1, *range(1, n + 1))
    if mode == "nearest":
        return _gather(input, n_idx, [xp.rint(p._data).astype(xp.int64) for p in pos]).permute(
            *back)
    lo = [xp.floor(p._data).astype(xp.int64) for p in pos]
    w1 = [(p - Tensor._make(f.astype(p._data.dtype))).unsqueeze(-1) for p, f in zip(
        pos, lo, strict=True)]
    out = None
    for corner in itertools.product((0, 1), repeat=n):
        weight = None
        for d, c in enumerate(corner):
            wd = w1[d] if c else 1 - w1[d]
            weight = wd if weight is None else weight * wd
        term = _gather(input, n_idx, [f + c for f, c in zip(lo, corner, strict=True)]) * weight
        out = term if out is None else out + term
    return out.permute(*back)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample (N, C, H, W) input at the (x, y) points of an (N, Ho, Wo, 2) grid in [-1, 1]
    (or (N, C, D, H, W) input at the (x, y, z) points of an (N, Do, Ho, Wo, 3) grid)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                         f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported by dyngrad")
    if align_corners is None:
        warnings.warn(
            "Default grid_sample and affine_grid behavior has changed to align_corners=False "
            "since 1.3.0. Please specify align_corners=True if the old behavior is desired. See "
            "the documentation of grid_sample for details.", stacklevel=2)
        align_corners = False
    if input.ndim not in (4, 5):
        raise NotImplementedError("grid_sample: dyngrad supports 4-D (N, C, H, W) and 5-D "
                                  "(N, C, D, H, W) input only")
    n = input.ndim - 2
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected {input.ndim}D input and grid with same "
                           f"number of dimensions, but got {sizes}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if grid.shape[-1] != n:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {n} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    return composite(f"GridSampler{n}DBackward0",
                     lambda x, g: _grid_sample(x, g, mode, padding_mode, align_corners),
                     input, grid, kernel_takes_input=True)


# --- affine grids --------------------------------------------------------------------------------
def _steps(size: int, align_corners: bool):
    """Normalised pixel-centre coordinates along one dim, in [-1, 1] (0 for a single pixel)."""
    if size <= 1:
        return xp.zeros(size)
    ends = 1.0 if align_corners else (size - 1) / size
    return xp.linspace(-ends, ends, size)


def _base_grid(spatial, align_corners: bool, dtype):
    """(prod(spatial), n + 1): the homogeneous coordinates (x, y[, z], 1) of every output pixel,
    x running along the last spatial dim."""
    mesh = xp.meshgrid(*(_steps(s, align_corners) for s in spatial), indexing="ij")
    coords = [m.reshape(-1) for m in reversed(mesh)]
    return xp.stack(coords + [xp.ones_like(coords[0])], axis=-1).astype(dtype)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The (N, H, W, 2) (or (N, D, H, W, 3)) sampling grid of `grid_sample` that the affine maps
    theta (N, 2, 3) (or (N, 3, 4)) give: theta applied to each output pixel's coordinates."""
    if align_corners is None:
        warnings.warn(
            "Default grid_sample and affine_grid behavior has changed to align_corners=False "
            "since 1.3.0. Please specify align_corners=True if the old behavior is desired. See "
            "the documentation of grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) not in (4, 5):
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    n = len(size) - 2
    if theta.dim() != 3 or tuple(theta.shape[-2:]) != (n, n + 1):
        raise ValueError(f"Expected a batch of {n}D affine matrices of shape Nx{n}x{n + 1} for "
                         f"size {size}. Got {theta.shape}.")
    spatial = tuple(size[2:])
    if align_corners and min(spatial) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {n + 1}] but got: [{theta.shape[0]}, {n + 1}].")
    base = _base_grid(spatial, align_corners, theta._data.dtype)
    shape = (size[0], *spatial, n)

    def apply(t):  # grid[b, p, i] = sum_k base[p, k] * theta[b, i, k]
        return xp.einsum("pk,bik->bpi", base.astype(t.dtype, copy=False), t).reshape(shape)

    def adjoint(g):
        return xp.einsum("bpi,pk->bik", g.reshape(size[0], -1, n), base.astype(g.dtype,
                                                                                copy=False))

    return linear_op(theta, apply, adjoint, "AffineGridGeneratorBackward0")
