# Section 3a's `out.backward(gradient=torch.Tensor([1.0])` with its `)` restored: a 1-element
# gradient for a 0-dim output is rejected by current PyTorch (seed README, behaviour 10).
import torch
from torch.autograd import Variable as v

a = v(torch.FloatTensor([2, 3]), requires_grad=True)
out = ((a + 3) * (a + 3) * 3).mean()
out.backward(gradient=torch.Tensor([1.0]))
