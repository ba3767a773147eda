# z.backward(g) gives the gradient of L = sum(z * g); g must have z's shape (behaviour 13).
import torch

m = torch.tensor([2.0, 3.0], requires_grad=True)
g = torch.tensor([0.5, 2.0])
n = torch.zeros(2)
n[0] = m[0] ** 2
n[1] = m[1] ** 3
n.backward(gradient=g, retain_graph=True)
print(m.grad)
m.grad = None
torch.sum(n * g).backward(retain_graph=True)
print(m.grad)
print(n.grad_fn.name(), n.is_leaf, n.requires_grad)
n.backward(gradient=torch.ones(3))
