# For a scalar output, backward(), backward(gradient=None) and backward(torch.tensor(1.0)) agree;
# gradients of repeated backward calls add up in .grad (behaviours 9 and 10).
import torch

a = torch.tensor([2.0, 3.0], requires_grad=True)
out = ((a + 3) * (a + 3) * 3).mean()
out.backward(retain_graph=True)
print(a.grad)
out.backward(gradient=None, retain_graph=True)
print(a.grad)
out.backward(gradient=torch.tensor(1.0))
print(a.grad)
