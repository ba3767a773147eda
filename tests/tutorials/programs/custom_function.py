# "Learning PyTorch with Examples": a custom autograd Function (Legendre polynomial P3).
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.float64
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
for t in range(400):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, f"{loss.item():.6f}", [type(f).__name__ for f, _ in y_pred.grad_fn.next_functions])
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
# round(..) + 0.0: a coefficient that converges to 0 may end at -1e-18 in one library, +1e-18
# in the other (summation order), which would print as -0.000000 vs 0.000000
a, b, c, d = (round(p.item(), 6) + 0.0 for p in (a, b, c, d))
print(f"Result: y = {a:.6f} + {b:.6f} * P3({c:.6f} + {d:.6f} x)")
