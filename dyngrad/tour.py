"""A guided tour of dyngrad: `python -m dyngrad.tour` (or `make demo`).

It walks through the examples of the article dyngrad grew from ("PyTorch's gradient computation",
shared/seed/), printing each piece of code and then running it for real, and ends with a small
model fitted by gradient descent. Every section is a function taking no argument; `SECTIONS`
lists them in order, so a new demo is one more function appended there.
"""

from __future__ import annotations

import textwrap
import traceback

RULE = "-" * 78


def show(title: str, code: str, namespace: dict) -> None:
    """Print `code`, then run it in `namespace` and let its output follow; an exception is shown
    as Python's REPL shows it (its last line), since some examples fail on purpose."""
    code = textwrap.dedent(code).strip("\n")
    print(f"\n{RULE}\n{title}\n{RULE}")
    print(textwrap.indent(code, "    "))
    print("  output:")
    try:
        exec(compile(code, title, "exec"), namespace)
    except Exception as e:  # noqa: BLE001 - the error is what the example shows
        print("".join(traceback.format_exception_only(type(e), e)).rstrip())


def tour_seed() -> None:
    """The article's examples, in its order (its two typos corrected and pointed out)."""
    ns: dict = {}
    show("1. Four ways to make a tensor that requires grad", """
        import dyngrad as torch
        import numpy as np

        x = torch.randn(2, 2, requires_grad=True)
        x = torch.autograd.Variable(torch.Tensor([2, 3]), requires_grad=True)
        x = torch.tensor([2, 3], requires_grad=True, dtype=torch.float64)
        x = torch.from_numpy(np.array([1, 2, 3], dtype=np.float64))
        x.requires_grad = True  # or x.requires_grad_(True)
        print(x)
        """, ns)
    show("2. Only floating point tensors have gradients: torch.Tensor vs torch.tensor", """
        print(torch.Tensor([2, 3]).dtype)   # the class: always the default float dtype
        print(torch.tensor([2, 3]).dtype)   # the function: infers int64 from the data
        print(np.array([2, 3]).dtype)       # (the article's np.array(2,3) is a typo NumPy rejects)
        torch.tensor([2, 3], requires_grad=True)
        """, ns)
    show("3. A result requires grad when one of its inputs does (example i)", """
        from dyngrad.autograd import Variable

        x = Variable(torch.randn(2, 2))
        y = Variable(torch.randn(2, 2))
        z = Variable(torch.randn(2, 2), requires_grad=True)
        a = x + y
        b = a + z
        print(x.requires_grad, y.requires_grad, z.requires_grad)
        print(a.requires_grad, b.requires_grad)
        print(b.grad_fn, b.is_leaf, z.is_leaf)
        """, ns)
    show("4. ... and so does everything computed from it (example ii, its `)` restored)", """
        x = Variable(torch.randn(2, 2))
        y = Variable(torch.randn(2, 2), requires_grad=True)
        z = Variable(torch.randn(2, 2))
        a = x + y
        b = a + z
        print(x.requires_grad, y.requires_grad, z.requires_grad)
        print(a.requires_grad, b.requires_grad)
        """, ns)
    show("5. backward() fills .grad of the leaves: out = mean(3 (a + 3)^2)", """
        a = Variable(torch.FloatTensor([2, 3]), requires_grad=True)
        b = a + 3
        c = b * b * 3
        out = c.mean()
        out.backward(retain_graph=True)  # keep the graph: we differentiate it again below
        print(a.grad)  # d out / d a = 3 (a + 3): tensor([15., 18.])
        """, ns)
    show("6. A scalar output needs no `gradient` (it is 1); gradients accumulate", """
        out.backward(gradient=None, retain_graph=True)
        print(a.grad)
        out.backward(gradient=torch.tensor(1.0))
        print(a.grad)
        out.backward(gradient=torch.Tensor([1.0]))  # a 1-element tensor no longer fits a 0-dim one
        """, ns)
    show("7. A vector output needs `gradient`; writes by index are recorded too", """
        m = Variable(torch.FloatTensor([2, 3]), requires_grad=True)
        n = Variable(torch.zeros(2))
        n[0] = m[0] ** 2
        n[1] = m[1] ** 3
        n.backward(gradient=torch.Tensor([1, 1]), retain_graph=True)
        print(m.grad)  # (2 m0, 3 m1^2) = tensor([ 4., 27.])
        n.backward()
        """, ns)
    show("8. n.backward(g) is the gradient of L = sum(n * g)", """
        g = torch.tensor([0.5, 2.0])
        m.grad = None
        n.backward(gradient=g, retain_graph=True)
        print(m.grad)
        m.grad = None
        torch.sum(n * g).backward()
        print(m.grad)
        """, ns)


def tour_fit() -> None:
    """Fit y = 3x + 2 by gradient descent: the idea behind every training loop."""
    show("9. Fitting y = 3x + 2 by gradient descent", """
        import dyngrad as torch

        torch.manual_seed(0)
        x = torch.linspace(-1, 1, 100)
        y = 3 * x + 2 + 0.1 * torch.randn(100)      # noisy data from the line
        w = torch.zeros(1, requires_grad=True)      # the parameters to learn
        b = torch.zeros(1, requires_grad=True)
        for step in range(101):
            loss = ((w * x + b - y) ** 2).mean()    # forward: records the graph
            loss.backward()                         # backward: d loss / d w, d loss / d b
            with torch.no_grad():                   # the update itself is not recorded
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
            w.grad = None
            b.grad = None
            if step % 20 == 0:
                print(f"step {step:3d}  loss {loss.item():.4f}  w {w.item():.3f}  b {b.item():.3f}")
        """, {})


def tour_train() -> None:
    """A real training run: a small CNN on scikit-learn's digits (dyngrad/demo_digits.py)."""
    print("\n=== 10. Training a CNN on handwritten digits (nn, optim, DataLoader, save/load) ===")
    print("    source: dyngrad/demo_digits.py")
    from dyngrad import demo_digits

    result = demo_digits.main()
    if result["test_accuracy"] < 0.97:
        raise SystemExit(f"the digits CNN reached only {result['test_accuracy']:.1%}")


SECTIONS = [tour_seed, tour_fit, tour_train]


def main() -> None:
    print("dyngrad tour: PyTorch's autograd, in pure Python on NumPy (`import dyngrad as torch`)")
    for section in SECTIONS:
        section()


if __name__ == "__main__":
    main()
