"""torch's top-level ops that belong to no op family of their own.

The legacy linear-algebra spellings (torch.qr, svd, cholesky, lu, lu_solve: torch.linalg's work
under torch's older names and return types), the `native_*` / `_native_*` normalizations that also
return their statistics, the grid samplers with enum-coded modes, stft / istft, the randomized
svd_lowrank / pca_lowrank, segment_reduce, antialiased bilinear resampling, masked indexing and
dropout's backward as ops, and the clear errors of the dtypes NumPy lacks (bfloat16, complex32).
"""

from __future__ import annotations

from dyngrad import fft as _fft
from dyngrad._backend import xp
from dyngrad._tensor import Tensor
from dyngrad.autograd.node import Node
from dyngrad.nn.functional import normalization as _norm
from dyngrad.nn.functional._linear_op import linear_op, separable
from dyngrad.nn.functional.misc import antialias_matrix
from dyngrad.nn.functional.misc import pad as _fpad
from dyngrad.nn.functional.vision import fold, grid_sample
from dyngrad.ops import _poly as P
from dyngrad.ops._core import OUT, check_tensor, method, record
from dyngrad.ops.complex import view_as_real
from dyngrad.ops.creation import ones
from dyngrad.ops.decompositions import legacy_cholesky as cholesky
from dyngrad.ops.decompositions import legacy_lu as lu
from dyngrad.ops.decompositions import legacy_lu_solve as lu_solve
from dyngrad.ops.decompositions import legacy_qr as qr
from dyngrad.ops.decompositions import legacy_svd as svd
from dyngrad.ops.decompositions import qr as linalg_qr
from dyngrad.ops.decompositions import svd as linalg_svd
from dyngrad.ops.gather_scatter import either
from dyngrad.ops.random import randn

__all__ = ["cholesky", "lu", "lu_solve", "qr", "svd", "native_layer_norm", "native_group_norm",
           "native_batch_norm", "_native_batch_norm_legit", "_batch_norm_with_update"]

_make = Tensor._make


def _no_dtype(name: str, dtype: str):
    """Attach Tensor.<name>() raising a TypeError that says why (no faked dtype)."""

    def cast(self, memory_format=None):
        raise TypeError(f"dyngrad has no {dtype}: NumPy has no such dtype, so Tensor.{name}() "
                        "is not supported (see docs/differences.md)")

    cast.__name__ = name
    cast.__doc__ = f"Tensor.{name}(): not supported, NumPy has no {dtype}."
    return method(name)(cast)


_no_dtype("bfloat16", "bfloat16")
_no_dtype("chalf", "complex32 (ComplexHalf)")


# --- native normalization ops: (output, saved statistics) -------------------------------------
class NativeBatchNormLegitBackward0(_norm.NativeBatchNormBackward0):
    """_native_batch_norm_legit's node (with running statistics): batch_norm's formula."""


class NativeBatchNormLegitBackward1(_norm.NativeBatchNormBackward0):
    """_native_batch_norm_legit's node without running statistics."""


class BatchNormWithUpdateBackward0(_norm.NativeBatchNormBackward0):
    """_batch_norm_with_update's node: training batch_norm's formula."""


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(output, mean, rstd) of layer_norm; the statistics keep the normalized dims as 1s."""
    out = _norm.layer_norm(input, normalized_shape, weight, bias, eps)
    _, mean, rstd = _norm._layer_norm(input.detach(), len(tuple(normalized_shape)), None, None,
                                      eps)
    return out, _make(mean), _make(rstd)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(output, mean, rstd) of group_norm; the statistics, of shape (N, group), are
    differentiable too."""
    check_tensor(input, "native_group_norm")
    if input._data.size != N * C * HxW:
        raise RuntimeError(f"Expected input to have {N * C * HxW} elements, got "
                           f"{input._data.size}")
    return _norm._group_norm(input, group, weight, bias, eps, stats=True)


def _bn(cls, input, weight, bias, running_mean, running_var, training, momentum, eps):
    check_tensor(input, "native_batch_norm")
    out, mean, invstd = _norm._batch_norm(input, running_mean, running_var, weight, bias,
                                          training, momentum, eps, cls)
    if not training or mean is None:
        mean = invstd = xp.zeros((0,), input._data.dtype)
    return out, _make(mean), _make(invstd)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd) of batch_norm: the batch statistics when training
    (empty otherwise); running statistics are updated in place."""
    return _bn(_norm.NativeBatchNormBackward0, input, weight, bias, running_mean, running_var,
               training, momentum, eps)


def _native_batch_norm_legit(input, weight, bias, *args):
    """native_batch_norm under its own node name, with running statistics
    (running_mean, running_var, training, momentum, eps) or without (training, momentum, eps)."""
    if len(args) == 3:
        return _bn(NativeBatchNormLegitBackward1, input, weight, bias, None, None, *args)
    return _bn(NativeBatchNormLegitBackward0, input, weight, bias, *args)


def _batch_norm_with_update(input, weight, bias, running_mean, running_var, momentum, eps):
    """Training batch_norm updating the running statistics: (output, save_mean, save_invstd,
    reserve), the reserve an empty uint8 tensor (a cuDNN workspace in torch)."""
    outs = _bn(BatchNormWithUpdateBackward0, input, weight, bias, running_mean, running_var,
               True, momentum, eps)
    return (*outs, _make(xp.zeros((0,), xp.uint8)))


# --- grid samplers -----------------------------------------------------------------------------
_INTERP = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """F.grid_sample on 4-D input with the modes given as torch's enum numbers
    (interpolation: 0 bilinear, 1 nearest, 2 bicubic; padding: 0 zeros, 1 border,
    2 reflection)."""
    return grid_sample(input, grid, _INTERP[interpolation_mode], _PADDING[padding_mode],
                       bool(align_corners))


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """grid_sampler_2d's 5-D counterpart."""
    return grid_sample(input, grid, _INTERP[interpolation_mode], _PADDING[padding_mode],
                       bool(align_corners))


__all__ += ["grid_sampler_2d", "grid_sampler_3d"]


# --- short-time Fourier transforms --------------------------------------------------------------
class TransposeBackward1(Node):
    """transpose_'s node (stft transposes its result in place)."""

    def backward(self, grad):
        return P.transpose(grad, self.d0, self.d1)


class SqueezeBackward4(Node):
    """squeeze_(dim)'s node (stft squeezes a 1-D signal's batch dim in place)."""

    def backward(self, grad):
        return P.unsqueeze(grad, self.dim)


def _pad_window(window, win_length: int, n_fft: int, dtype):
    """The window (ones of `dtype` when None) centred in n_fft samples (zeros around it), as
    stft and istft use it."""
    if window is None:
        window = ones(win_length, dtype=dtype)
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = _fpad(window, (left, n_fft - win_length - left))
    return window


def _stft_args(input, n_fft, hop_length, win_length, window, name: str):
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if n_fft <= 0:
        raise RuntimeError(f"{name}: expected 0 < n_fft, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    return hop, win


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    """Fourier transforms of overlapping windowed frames: (*, n_fft // 2 + 1 or n_fft, frames)
    complex (or its view_as_real when return_complex=False), torch.stft's nodes."""
    check_tensor(input, "stft")
    if return_complex is None and not (input.is_complex() or
                                       window is not None and window.is_complex()):
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, "
                           "and will further require that return_complex=True in a future "
                           "PyTorch release.")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D tensor")
    hop, win = _stft_args(input, n_fft, hop_length, win_length, window, "stft")
    x = input
    if center:
        shape = x.shape
        x = _fpad(x.view([1] * (3 - x.ndim) + list(shape)), (n_fft // 2, n_fft // 2), pad_mode)
        x = x.view(x.shape[-len(shape):])
    batched = x.ndim == 2
    if not batched:
        x = x.unsqueeze(0)
    if x.shape[-1] < n_fft:
        raise RuntimeError(f"stft: expected 0 < n_fft < {x.shape[-1]}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop)
    if window is not None or win < n_fft:
        frames = frames * _pad_window(window, win, n_fft, frames.dtype)
    norm = "ortho" if normalized else "backward"
    complex_in = frames.is_complex()
    if onesided is None:
        onesided = not complex_in
    if onesided and not complex_in:
        out = _fft.rfft(frames, dim=-1, norm=norm)
    else:
        out = _fft.fft(frames, dim=-1, norm=norm)
    out = record(TransposeBackward1, xp.swapaxes(out._data, 1, 2), (out,), d0=1, d1=2)
    if not batched:
        out = record(SqueezeBackward4, out._data[0], (out,), dim=0)
    return out if return_complex or return_complex is None else view_as_real(out)


__all__ += ["stft"]


def _overlap_add(frames, hop: int, length: int):
    """Sum (B, n_frames, n_fft) frames into (B, length) signals, frame i starting at i * hop."""
    n_fft = frames.shape[-1]
    folded = fold(frames.transpose(1, 2), (1, length), (1, n_fft), stride=(1, hop))
    return folded.reshape(frames.shape[0], length)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """Inverse of stft: inverse transforms of the frames, windowed, overlap-added and divided
    by the summed squared window (torch.istft's composition, so its nodes)."""
    check_tensor(input, "istft")
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex, but got "
                           f"{input.ndim}D tensor")
    hop, win = _stft_args(input, n_fft, hop_length, win_length, window, "istft")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    fft_size, n_frames = x.shape[-2:]
    if onesided is None:
        onesided = fft_size != n_fft
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    window = _pad_window(window, win, n_fft, x.real.dtype)
    norm = "ortho" if normalized else "backward"
    x = x.transpose(1, 2)
    if return_complex:
        x = _fft.ifft(x, dim=-1, norm=norm)
    else:
        if not onesided:
            x = x.narrow(-1, 0, n_fft // 2 + 1)
        x = _fft.irfft(x, n=n_fft, dim=-1, norm=norm)
    expected = n_fft + hop * (n_frames - 1)
    y = _overlap_add(x * window.view(1, 1, n_fft), hop, expected)
    envelope = _overlap_add((window * window).view(1, 1, n_fft).expand(1, n_frames, n_fft), hop,
                            expected)
    start = n_fft // 2 if center else 0
    end = expected - n_fft // 2 if center else expected
    if length is not None:
        end = start + length
    stop = min(end, expected)
    y, envelope = y[:, start:stop], envelope[:, start:stop]
    lowest = xp.abs(envelope._data).min() if envelope._data.size else 1.0
    if lowest < 1e-11:
        raise RuntimeError(f"istft(...): window overlap add min: {lowest:g}")
    y = y / envelope
    if input.ndim == 2:
        y = y.squeeze(0)
    if end > expected:
        y = _fpad(y, (0, end - expected))
    return y


__all__ += ["istft"]
Tensor.stft, Tensor.istft = stft, istft


# --- randomized low-rank SVD and PCA (torch._lowrank's compositions) ----------------------------
def _approximate_basis(A, q: int, niter: int, M=None):
    """Orthonormal Q (m, q) whose range approximates A's (minus M's), by a randomized range
    finder with `niter` subspace iterations."""
    dt = A.dtype
    R = randn(A.shape[-1], q, dtype=dt)
    X = A @ R if M is None else A @ R - M @ R
    Q = linalg_qr(X).Q
    for _ in range(niter):
        X = A.mH @ Q if M is None else A.mH @ Q - M.mH @ Q
        Q = linalg_qr(X).Q
        X = A @ Q if M is None else A @ Q - M @ Q
        Q = linalg_qr(X).Q
    return Q


def _svd_lowrank(A, q, niter, M):
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = linalg_svd(B, full_matrices=False)
    V, U = Vh.mH, Q @ U
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) of a rank-q approximate SVD of A - M by randomized subspace iteration (random:
    torch and dyngrad draw different test matrices, so agree where the rank is at most q)."""
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A, q=None, center=True, niter=2):
    """svd_lowrank of A with its column means removed (`center`): principal components."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)


__all__ += ["svd_lowrank", "pca_lowrank"]


# --- segment_reduce ---------------------------------------------------------------------------
_SEGMENT_INIT = {"max": -xp.inf, "min": xp.inf, "sum": 0.0, "mean": 0.0, "prod": 1.0}


class SegmentReduceBackward0(Node):
    _saved_names = ("data", "result")

    def backward(self, grad):
        if self.reduce == "prod":  # out / x, or the product of the others where x is 0 or nan
            x, out = self.saved_tensors
            zero = P.data(self.zero)
            g = either.index_select(grad * out, self.axis, self.segment_ids)
            others = either.index_select(grad, self.axis, self.segment_ids) * P.const(
                self.others, grad)
            return P.where(zero, others, g / P.where(zero, 1.0, x))
        g = grad if self.scale is None else grad * P.const(self.scale, grad)
        gx = either.index_select(g, self.axis, self.segment_ids)
        return gx if self.mask is None else gx * P.const(self.mask, grad)


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """Reduce (max, min, mean, sum, prod) consecutive segments of `data` along `axis`, their
    sizes given by `lengths` (or by `offsets`' differences); an empty segment gives `initial`
    (or the reduction's identity; nan for mean)."""
    check_tensor(data, "segment_reduce")
    if reduce not in _SEGMENT_INIT:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined")
    a = data._data
    axis = axis % a.ndim
    n = (lengths._data if lengths is not None else xp.diff(offsets._data)).astype(xp.int64)
    if axis != n.ndim - 1:
        raise RuntimeError("segment_reduce(): Expected axis to be the last dimension of lengths "
                           f"but got {axis}.")
    if n.ndim != 1:
        raise NotImplementedError("segment_reduce: dyngrad supports 1-D lengths/offsets only")
    if not unsafe and n.sum() != a.shape[axis]:
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                           "data.size(lengths.dim()-1) when !unsafe.")
    init = _SEGMENT_INIT[reduce] if initial is None else float(initial)
    seg = xp.repeat(xp.arange(n.size), n)
    moved = xp.moveaxis(a, axis, 0)
    out = xp.empty((n.size,) + moved.shape[1:], a.dtype)
    starts = xp.concatenate([[0], xp.cumsum(n)[:-1]]).astype(xp.int64)
    fn = {"max": xp.max, "min": xp.min, "sum": xp.sum, "mean": xp.sum, "prod": xp.prod}[reduce]
    for i, (s, k) in enumerate(zip(starts, n, strict=True)):
        part = moved[s:s + k]
        if not k:
            out[i] = xp.nan if reduce == "mean" and initial is None else init
            continue
        r = fn(part, axis=0)
        if reduce in ("max", "min"):
            r = (xp.maximum if reduce == "max" else xp.minimum)(r, init)
        elif reduce == "prod":
            r = r * init
        else:
            r = r + init
        out[i] = r / k if reduce == "mean" else r
    out = xp.moveaxis(out, 0, axis)
    scale = mask = None
    if reduce == "mean":  # d out_i / d x_j = 1 / length_i
        scale = (1 / xp.maximum(n, 1)).astype(a.dtype).reshape((-1,) + (1,) * (a.ndim - axis - 1))
    elif reduce in ("max", "min"):  # the elements equal to the result (or nan) share it evenly
        hit = (moved == xp.moveaxis(out, axis, 0)[seg]) | xp.isnan(moved)
        count = xp.zeros((n.size,) + moved.shape[1:], a.dtype)
        xp.add.at(count, seg, hit)
        mask = xp.moveaxis(hit / xp.maximum(count, 1)[seg], 0, axis)
    zero = others = None
    if reduce == "prod":
        zero = (a == 0) | xp.isnan(a)
        others = xp.ones_like(moved)
        for s, k in zip(starts, n, strict=True):
            for j in range(s, s + k):
                others[j] = init * xp.prod(xp.delete(moved[s:s + k], j - s, axis=0), axis=0)
        others = xp.moveaxis(others, 0, axis)
    return record(SegmentReduceBackward0, out, (data,), save=(data, OUT), axis=axis,
                  reduce=reduce, segment_ids=seg, scale=scale, mask=mask, zero=zero,
                  others=others)


__all__ += ["segment_reduce"]


# --- antialiased bilinear resampling ---------------------------------------------------------
def _upsample_bilinear2d_aa(input, output_size=None, align_corners=False, scales_h=None,
                            scales_w=None, *, scale_factors=None):
    """Bilinear resampling of (N, C, H, W) input with antialiasing (F.interpolate's
    antialias=True): each output averages the inputs under a filter as wide as the scale."""
    check_tensor(input, "_upsample_bilinear2d_aa")
    if scale_factors is not None:
        scales_h, scales_w = scale_factors
    if output_size is None:
        output_size = [int(input.shape[-2] * scales_h), int(input.shape[-1] * scales_w)]
    mats = [antialias_matrix(s, o, align_corners, sc) for s, o, sc in
            zip(input.shape[-2:], output_size, (scales_h, scales_w), strict=True)]
    return separable(input, mats, "UpsampleBilinear2DAaBackward0")


__all__ += ["_upsample_bilinear2d_aa"]


# --- masked indexing and dropout's backward as ops ---------------------------------------------
def _clamped(indices, shape):
    """Index arrays clamped into range (positions a mask hides may hold any index)."""
    return tuple(xp.clip(i._data, -s, s - 1) for i, s in zip(indices, shape, strict=False))


def _unsafe_masked_index(input, mask, indices, fill):
    """where(mask, input[indices], fill): an indexing whose masked-out indices go unchecked."""
    check_tensor(input, "_unsafe_masked_index")
    m, idx = mask._data, _clamped(indices, input.shape)
    fill = fill.item() if isinstance(fill, Tensor) else fill

    def gather(a):
        return xp.where(m, a[idx], xp.zeros((), a.dtype))

    def scatter(g):
        out = xp.zeros(input.shape, g.dtype)
        xp.add.at(out, idx, xp.broadcast_to(xp.where(m, g, 0), xp.broadcast_shapes(
            m.shape, *(i.shape for i in idx))))
        return out

    return linear_op(input, gather, scatter, "UnsafeMaskedIndexBackward0",
                     "UnsafeMaskedIndexPutAccumulateBackward0",
                     forward=lambda a: xp.where(m, a[idx], xp.asarray(fill, a.dtype)),
                     affine=True)


class UnsafeMaskedIndexPutAccumulateBackward0(Node):
    def backward(self, grad):
        m, idx = self.mask, self.indices
        g_values = P.where(m, grad[tuple(P.const(i, grad) for i in idx)], 0.0)
        return grad, g_values


def _unsafe_masked_index_put_accumulate(input, mask, indices, values):
    """input with where(mask, values, 0) added at `indices` (masked-out indices unchecked)."""
    check_tensor(input, "_unsafe_masked_index_put_accumulate")
    m, idx = mask._data, _clamped(indices, input.shape)
    out = xp.array(input._data)
    v = xp.where(m, values._data, 0).astype(out.dtype)
    xp.add.at(out, idx, xp.broadcast_to(v, xp.broadcast_shapes(v.shape,
                                                               *(i.shape for i in idx))))
    return record(UnsafeMaskedIndexPutAccumulateBackward0, out, (input, values), mask=m,
                  indices=idx)


def native_dropout_backward(grad_output, mask, scale):
    """grad_output * mask * scale: dropout's backward as an op (itself differentiable)."""
    check_tensor(grad_output, "native_dropout_backward")
    keep = mask._data * scale
    return linear_op(grad_output, lambda a: (a * keep).astype(a.dtype, copy=False),
                     lambda g: (g * keep).astype(g.dtype, copy=False),
                     "NativeDropoutBackwardBackward0", "NativeDropoutBackwardBackward0")


__all__ += ["_unsafe_masked_index", "_unsafe_masked_index_put_accumulate",
            "native_dropout_backward"]
