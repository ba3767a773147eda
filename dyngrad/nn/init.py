"""`torch.nn.init`: PyTorch's initialisers, drawing from dyngrad's random generator.

Each makes the same draws, in the same order and with the same arithmetic, as torch/nn/init.py,
so after the same `manual_seed` (or generator seed) the values are PyTorch's bit for bit; only
orthogonal_ differs, in the last bits, since its QR decomposition is NumPy's LAPACK in double
precision rather than PyTorch's. Every initialiser fills the tensor in place without recording
a graph and returns it.
"""

from __future__ import annotations

import math
import warnings

from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.grad_mode import no_grad
from dyngrad.ops.comparison import where
from dyngrad.ops.inplace import bump_version
from dyngrad.ops.random import randperm

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_",
]


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended scale of weights feeding into `nonlinearity`."""
    linear = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d"]
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int | float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b], as PyTorch samples it: when [a, b] holds
    more than 30% of the mass, redraw the normals that fall outside it; otherwise rejection
    sampling from U(a, b)."""
    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
            "values may be incorrect.", stacklevel=2)
    with no_grad():
        if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
            _redraw_outside(tensor, mean, std, a, b, generator)
        else:
            _rejection_sample(tensor, mean, std, a, b, generator)
        return tensor


def _empty_like(tensor: Tensor) -> Tensor:
    """A buffer laid out in memory as `tensor` is (PyTorch's empty_like), so that random fills
    walk it in the same order."""
    return Tensor._make(xp.empty_like(tensor._data))


def _redraw_outside(tensor: Tensor, mean: float, std: float, a: float, b: float,
                    generator) -> None:
    """Normal samples; every round redraws a whole tensor of them and takes the new value
    wherever the current one lies outside [a, b] (the bounds as the dtype holds them)."""
    lo, hi = tensor.new_tensor(a).item(), tensor.new_tensor(b).item()
    result = tensor.normal_(mean, std, generator=generator)
    while (mask := (result < lo) | (result > hi)).any():
        result = where(mask, _empty_like(tensor).normal_(mean, std, generator=generator), result)
    if result is not tensor:
        tensor.copy_(result)


def _rejection_sample(tensor: Tensor, mean: float, std: float, a: float, b: float,
                      generator) -> None:
    """Candidates from U(a, b), each accepted when log(u) <= its log density relative to the
    peak, u from U(0, 1); every round draws a whole tensor of candidates and of u."""
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def log_density(c):  # in the tensor's dtype, operation by operation as PyTorch rounds it
        return c.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)

    def rejected(c):
        return accept_buf.uniform_(generator=generator).log_().gt(c)

    candidates, accept_buf = _empty_like(tensor), _empty_like(tensor)
    tensor.uniform_(a, b, generator=generator)
    candidates.copy_(tensor)
    pending = rejected(log_density(candidates))
    result = tensor
    while pending.any():
        candidates.uniform_(a, b, generator=generator)
        result = where(pending, candidates, result)
        pending = where(pending, rejected(log_density(candidates)), pending)
    if result is not tensor:
        tensor.copy_(result)


def _fill(tensor: Tensor, values) -> Tensor:
    """Write `values` into the tensor's memory (an initialiser is not part of any graph)."""
    xp.copyto(tensor._data, values, casting="unsafe")
    bump_version(tensor, "init")
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (2-d tensors only)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, xp.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Convolution weights that pass each input channel through unchanged."""
    d = tensor.ndim
    if d not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    vals = xp.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for i in range(min(out_per_group, sizes[1])):
            vals[(g * out_per_group + i, i, *centre)] = 1
    return _fill(tensor, vals)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(-a, a) with a = sqrt(3) * gain * sqrt(2 / (fan_in + fan_out)) (rounded as PyTorch
    rounds it: the bound's last bit shows in float64 tensors)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """U(-b, b) with b = sqrt(3) * gain / sqrt(fan) (He et al.; rounded as PyTorch rounds it)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan) (He et al.)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (trailing
    dimensions flattened), with the signs that make it uniformly distributed. The Gaussian
    draws are PyTorch's; the QR is NumPy's in double precision, so a result differs from
    PyTorch's by the rounding error of PyTorch's LAPACK (float32: around 1e-7, up to 1e-5 for
    large square matrices)."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)._data
    q, r = xp.linalg.qr(flat.T if rows < cols else flat)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    _fill(tensor, q.reshape(tensor.shape))
    with no_grad():
        return tensor.mul_(gain)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """N(0, std^2) with a fraction `sparsity` of each column set to zero. As in PyTorch, the
    zeroed rows come from the global generator (randperm per column), not from `generator`."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for c in range(cols):
            tensor[randperm(rows)[:num_zeros], c] = 0
    return tensor
