# torch.autograd tutorial / "Autograd mechanics": graphs, higher order, hooks, in-place checks.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor(2.0, requires_grad=True)
z = (x * w + x).sum()
print(z.grad_fn.name(), [type(f).__name__ for f, _ in z.grad_fn.next_functions])
z.backward()
print(x.grad, w.grad)

t = torch.tensor(3.0, requires_grad=True)
y = t ** 3
(g,) = torch.autograd.grad(y, t, create_graph=True)
(h,) = torch.autograd.grad(g, t, create_graph=True)
(k,) = torch.autograd.grad(h, t)
print(g, h, k)

v = torch.tensor([1.0, 2.0], requires_grad=True)
seen = []
v.register_hook(lambda grad: seen.append(grad.clone()))
u = (v * v).sum()
u.backward()
print(seen, v.grad)

a = torch.ones(3, requires_grad=True)
b = a * 2
c = b * b
b.add_(1)
try:
    c.sum().backward()
except RuntimeError as e:
    print(str(e).split(" Hint:")[0])

m = torch.tensor([2.0, 3.0], requires_grad=True)
n = torch.zeros(2)
n[0] = m[0] ** 2
n[1] = m[1] ** 3
n.backward(gradient=torch.tensor([1.0, 1.0]))
print(n, m.grad)
try:
    n.backward()
except RuntimeError as e:
    print(e)

with torch.no_grad():
    q = m * 2
print(q.requires_grad, q.is_leaf, q.grad_fn)
r = torch.ones(2, 2, requires_grad=True)
print(torch.autograd.grad((r @ r).trace(), r))
