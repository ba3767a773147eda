# The article's figure: leaves x=1, y=2, z=3 and results a, b, with each node's attributes
# (data, requires_grad, grad, grad_fn, is_leaf) before and after backward (behaviours 5 to 8).
import torch

x = torch.tensor(1.0, requires_grad=True)
y = torch.tensor(2.0, requires_grad=True)
z = torch.tensor(3.0)
a = x * y
b = a + z


def show(name, t):
    fn = None if t.grad_fn is None else type(t.grad_fn).__name__
    print(name, t.data, t.requires_grad, t.grad, fn, t.is_leaf)


for name, t in zip("xyzab", (x, y, z, a, b)):
    show(name, t)
b.backward()
for name, t in zip("xyzab", (x, y, z, a, b)):
    show(name, t)
print([type(f).__name__ for f, _ in b.grad_fn.next_functions])
print(a.grad_fn.next_functions[0][0].variable is x)
