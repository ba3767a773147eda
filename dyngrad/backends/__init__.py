"""`torch.backends`: switches for the libraries PyTorch can dispatch to.

dyngrad computes everything with NumPy, so these switches change nothing; they exist, with
PyTorch's defaults and checks, because training scripts set them (`cudnn.benchmark = True`) and
probe them (`mps.is_available()`). The availability checks answer for dyngrad: no cuDNN, MPS,
oneDNN, MKL or OpenMP.
"""

from dyngrad.backends import cuda, cudnn, mha, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ["cuda", "cudnn", "mha", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
