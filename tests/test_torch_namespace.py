"""The `dyngrad` namespace against `torch`'s: the commonly used names exist on both sides (top
level and Tensor methods), torch.vmap is torch.func.vmap, and the functions this project adds
behave as PyTorch's (detailed tests live next to each op family under tests/ops/)."""

import pytest
import torch

import dyngrad

TOP_LEVEL = """
is_tensor is_storage numel is_floating_point is_signed is_nonzero is_same_size is_inference
detach detach_ get_num_threads set_num_threads get_num_interop_threads set_num_interop_threads
use_deterministic_algorithms are_deterministic_algorithms_enabled
is_deterministic_algorithms_warn_only_enabled get_deterministic_debug_mode
set_deterministic_debug_mode set_float32_matmul_precision get_float32_matmul_precision
set_default_device get_default_device set_warn_always is_warn_always_enabled typename
is_anomaly_enabled set_anomaly_enabled is_anomaly_check_nan_enabled vmap compile isin
unravel_index vander range row_stack scalar_tensor empty_strided frombuffer hann_window
hamming_window blackman_window bartlett_window kaiser_window gcd gcd_ lcm lcm_
bitwise_left_shift bitwise_right_shift igamma igammac poisson binomial histogramdd fill_ neg_
negative_ reciprocal_ index_put_ i0_ addmv_ conv1d conv2d conv3d conv_transpose1d
conv_transpose2d conv_transpose3d conv_tbc convolution max_pool1d max_pool2d max_pool3d
max_pool1d_with_indices avg_pool1d adaptive_avg_pool1d adaptive_max_pool1d dropout dropout_
alpha_dropout alpha_dropout_ feature_dropout feature_dropout_ feature_alpha_dropout
feature_alpha_dropout_ batch_norm layer_norm group_norm instance_norm rms_norm embedding
embedding_bag bilinear pdist pixel_shuffle pixel_unshuffle channel_shuffle
native_channel_shuffle cosine_similarity pairwise_distance kl_div selu selu_ celu celu_ rrelu
rrelu_ threshold threshold_ hardshrink prelu margin_ranking_loss triplet_margin_loss
hinge_embedding_loss cosine_embedding_loss poisson_nll_loss binary_cross_entropy_with_logits
ctc_loss grid_sampler affine_grid_generator native_dropout native_norm frobenius_norm
nuclear_norm norm_except_dim lstm gru rnn_tanh rnn_relu lstm_cell gru_cell rnn_tanh_cell
rnn_relu_cell eig lstsq solve symeig matrix_rank as_strided_ resize_as_ nonzero_static isreal
get_device adjoint
""".split()

TENSOR = """
type_as is_cpu get_device is_signed is_same_size is_nonzero isreal squeeze_ unsqueeze_ t_
transpose_ swapaxes_ swapdims_ as_strided_ fill_diagonal_ gcd gcd_ lcm lcm_ bitwise_left_shift
bitwise_left_shift_ bitwise_right_shift bitwise_right_shift_ igamma igamma_ igammac igammac_
hardshrink prelu adjoint new resize_ resize_as_ resize resize_as apply_ map_ map2_ stft istft
to_dense dim_order nonzero_static is_sparse is_sparse_csr is_quantized is_meta is_mkldnn
is_nested is_xla is_mps is_ipu is_maia is_vulkan is_xpu is_mtia is_distributed is_set_to eig
lstsq solve symeig __lshift__ __rshift__ __rlshift__ __rrshift__ __ilshift__ __irshift__
""".split()


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_name(name):
    assert hasattr(torch, name), f"torch.{name} is not PyTorch's"
    assert hasattr(dyngrad, name), f"dyngrad.{name} is missing"


@pytest.mark.parametrize("name", TENSOR)
def test_tensor_attribute(name):
    assert hasattr(torch.Tensor, name), f"torch.Tensor.{name} is not PyTorch's"
    assert hasattr(dyngrad.Tensor, name), f"dyngrad.Tensor.{name} is missing"


def test_vmap_is_func_vmap():
    assert dyngrad.vmap is dyngrad.func.vmap
    assert torch.vmap is torch.func.vmap
    x = dyngrad.arange(6.0).reshape(2, 3)
    out = dyngrad.vmap(lambda r: (r * r).sum())(x)
    assert out.tolist() == [5.0, 50.0]


def test_special_gammainc_aliases():
    assert dyngrad.special.gammainc is dyngrad.igamma
    assert dyngrad.special.gammaincc is dyngrad.igammac


def test_builtins_of_the_package_namespace_untouched():
    """dyngrad.range / dyngrad.compile are torch's; Python's builtins stay what they are."""
    assert dyngrad.range is not range and dyngrad.compile is not compile
    assert list(range(3)) == [0, 1, 2]
