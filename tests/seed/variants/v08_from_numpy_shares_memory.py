# from_numpy shares memory with the array and keeps its dtype; the leaf can then require grad
# (behaviour 2, way four), and Variable returns a plain Tensor.
import numpy as np
import torch

arr = np.array([1, 2, 3], dtype=np.float64)
x = torch.from_numpy(arr)
arr[0] = 10
print(x, x.dtype, x.requires_grad, x.is_leaf)
x.requires_grad_(True)
print(x)
v = torch.autograd.Variable(torch.Tensor([2, 3]), requires_grad=True)
print(type(v).__name__, isinstance(v, torch.Tensor), isinstance(v, torch.autograd.Variable), v)
print(torch.randn(2, 2, requires_grad=True).requires_grad)
