"""dyngrad: a define-by-run autograd library on NumPy whose API is PyTorch's.

`import dyngrad as torch` and write PyTorch autograd code.
"""

import math as _math

from dyngrad import _dtype
from dyngrad._device import device
from dyngrad._dtype import (
    bool_ as bool,  # noqa: A004 - torch.bool
    complex64,
    complex128,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from dyngrad._size import Size
from dyngrad._tensor import Tensor
from dyngrad._tensor_str import get_printoptions, printoptions, set_printoptions
from dyngrad import ops as _ops  # noqa: F401 - attaches Tensor methods
from dyngrad.ops.arithmetic import (
    add, div, divide, float_power, floor_divide, mul, multiply, neg, negative, positive, pow,
    reciprocal, remainder, rsub, sub, subtract, true_divide,
)
from dyngrad.ops.creation import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
    LongTensor, ShortTensor, arange, as_tensor, asarray, clone, empty, empty_like, eye,
    from_numpy, full, full_like, linspace, logspace, ones, ones_like, tensor, zeros, zeros_like,
    empty_strided, frombuffer, scalar_tensor,
)
from dyngrad.ops.creation import torch_range as range  # noqa: A004 - torch.range
from dyngrad.ops._core import can_cast, promote_types, result_type
from dyngrad.ops.comparison import *  # noqa: F403
from dyngrad.ops.decompositions import *  # noqa: F403
from dyngrad.ops.indexing import *  # noqa: F403
from dyngrad.ops.gather_scatter import *  # noqa: F403
from dyngrad.ops.repeat import *  # noqa: F403
from dyngrad.ops.linalg import *  # noqa: F403
from dyngrad.ops.misc import *  # noqa: F403
from dyngrad.ops.native import *  # noqa: F403
from dyngrad.ops.random import *  # noqa: F403
from dyngrad.ops.reduction import *  # noqa: F403
from dyngrad.ops.shape import *  # noqa: F403
from dyngrad.ops.sorting import *  # noqa: F403
from dyngrad.ops.unary import *  # noqa: F403
from dyngrad.ops.complex import *  # noqa: F403
from dyngrad.ops.queries import *  # noqa: F403
from dyngrad.ops.integer import *  # noqa: F403
from dyngrad.ops.igamma import *  # noqa: F403
from dyngrad.ops.windows import *  # noqa: F403
from dyngrad.ops.removed import *  # noqa: F403
from dyngrad.ops.inplace_aliases import *  # noqa: F403
from dyngrad.ops.type_info import finfo, iinfo
from dyngrad.ops.settings import *  # noqa: F403
from dyngrad.ops.inplace_views import as_strided_fn as as_strided_
from dyngrad.ops.inplace_views import resize_as_fn as resize_as_
from dyngrad.autograd import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from dyngrad import autograd

autograd._import_submodules()  # Function, gradcheck, functional, forward_ad, graph: need Tensor
from dyngrad import fft, linalg, masked, nn, optim, special
from dyngrad.ops.nn_aliases import *  # noqa: F403, E402 - needs dyngrad.nn
from dyngrad.ops import aten as _aten  # noqa: F401 - torch.ops.aten, by name
from dyngrad.nn.functional.activation import tensor_log_softmax as log_softmax
from dyngrad.nn.functional.activation import tensor_softmax as softmax
from dyngrad import random  # torch.random: manual_seed, fork_rng, get_rng_state, ...
from dyngrad.special import i0, mvlgamma  # torch.i0, torch.mvlgamma
from dyngrad.serialization import load, save
from dyngrad import func  # torch.func: vmap, grad, jacrev, ...
from dyngrad import distributions  # torch.distributions (needs nn, special, autograd)
from dyngrad.func import vmap  # torch.vmap is torch.func.vmap
import dyngrad.utils.data  # noqa: E402 - torch.utils.data
from dyngrad import amp, backends, cuda, jit, profiler, quasirandom, testing, types  # (jit: nn)
from dyngrad.amp import autocast
from dyngrad.amp.autocast_mode import (
    clear_autocast_cache,
    get_autocast_dtype,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from dyngrad.cuda import OutOfMemoryError
import dyngrad.autograd.profiler  # noqa: E402 - torch.autograd.profiler
import dyngrad.nn.utils.prune  # noqa: E402 - torch.nn.utils.prune
import dyngrad.nn.utils.stateless  # noqa: E402 - torch.nn.utils.stateless

half, float, double = float16, float32, float64  # noqa: A001 - torch's aliases
cfloat, cdouble = complex64, complex128
short, int, long = int16, int32, int64  # noqa: A001
preserve_format = "torch.preserve_format"  # memory formats are accepted and have no effect
contiguous_format = "torch.contiguous_format"
channels_last = "torch.channels_last"
strided = "torch.strided"  # the one layout (Tensor.layout)
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None
__version__ = "0.1.0"
