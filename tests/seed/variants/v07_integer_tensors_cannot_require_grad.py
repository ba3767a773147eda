# Only floating point (and complex) tensors can require gradients (behaviour 3); the class
# constructor makes float32, the function infers int64 (behaviour 4).
import torch

print(torch.Tensor([2, 3]).dtype, torch.tensor([2, 3]).dtype, torch.tensor([2.0, 3]).dtype)
print(isinstance(torch.tensor([2, 3]), torch.Tensor), torch.Tensor([2, 3]).type())
print(torch.tensor([2, 3], requires_grad=True, dtype=torch.float64))
torch.tensor([2, 3], requires_grad=True)
