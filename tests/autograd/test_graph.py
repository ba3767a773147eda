"""torch.autograd.graph's hooks against PyTorch: saved_tensors_hooks (what is packed, when it is
unpacked, errors), save_on_cpu, disable_saved_tensors_hooks, register_multi_grad_hook and
allow_mutation_on_saved_tensors."""

from tests.autograd.common import both, name, outcome


def _log_hooks(log):
    def pack(t):
        log.append(("pack", tuple(t.shape), t.requires_grad, name(t.grad_fn)))
        return t

    def unpack(t):
        log.append(("unpack", tuple(t.shape)))
        return t

    return pack, unpack


def test_pack_and_unpack_every_saved_tensor():
    def prog(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(*_log_hooks(log)):
            y = x * w
            z = y.exp()
            p = x.pow(2)
        packed = list(log)
        log.clear()
        (z.sum() + p.sum()).backward()
        return [packed, log, x.grad, w.grad]

    both(prog)


def test_custom_function_saves_go_through_hooks():
    def prog(lib):
        log = []

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * x
                ctx.save_for_backward(x, y)
                return y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return 2 * x * g

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(*_log_hooks(log)):
            y = Square.apply(x)
        y.sum().backward()
        return [log, x.grad]

    both(prog)


def test_unpacked_values_replace_saved_ones():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 2, lambda t: t):
            y = x * w
        saved = y.grad_fn._saved_self
        y.sum().backward()
        return [saved, x.grad, w.grad]

    both(prog)


def test_hooks_skip_the_version_check():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        a = x.clone()
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = a * w
        a.add_(1)
        y.sum().backward()
        return [x.grad, w.grad]

    both(prog)


def test_hook_errors():
    def prog(lib):
        graph = lib.autograd.graph
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        with graph.saved_tensors_hooks(lambda t: 5, lambda t: "s"):
            y = x * w
        res = [outcome(y.sum().backward)]
        with graph.saved_tensors_hooks(lambda t: t.mul_(2), lambda t: t):
            res.append(outcome(lambda: x.detach() * w))
        with graph.disable_saved_tensors_hooks("hooks are off"):
            res.append(outcome(graph.saved_tensors_hooks(lambda t: t, lambda t: t).__enter__))
            res.append(x * w)
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            res.append(outcome(graph.disable_saved_tensors_hooks("no").__enter__))
        return res

    both(prog)


def test_innermost_hooks_apply():
    def prog(lib):
        outer, inner = [], []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(*_log_hooks(outer)):
            with lib.autograd.graph.saved_tensors_hooks(*_log_hooks(inner)):
                y = x * x
            z = y * y
        (y.sum() + z.sum()).backward()
        return [outer, inner, x.grad]

    both(prog)


def test_save_on_cpu():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=False):
            y = (x * x * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
        return [g, x.grad]

    both(prog)


def test_multi_grad_hook():
    def prog(lib):
        graph = lib.autograd.graph
        log = []
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0], requires_grad=True)
        c, d = a * 2, b * 3
        handle = graph.register_multi_grad_hook((c, d), lambda gs: log.append(("all", gs)))
        (c + d).sum().backward(retain_graph=True)
        c.sum().backward(retain_graph=True)
        handle.remove()
        (c + d).sum().backward(retain_graph=True)
        graph.register_multi_grad_hook((c, d), lambda g: log.append(("any", g)), mode="any")
        (c + d).sum().backward(retain_graph=True)
        d.sum().backward(retain_graph=True)
        graph.register_multi_grad_hook((a, b), lambda gs: log.append(("leaves", gs)))
        leaves = outcome(lib.autograd.grad, (c + d).sum(), [a, b])
        return [log, leaves, type(handle).__name__,
                outcome(graph.register_multi_grad_hook, (c, d), print, mode="bad")]

    both(prog)


def test_allow_mutation_on_saved_tensors():
    def prog(lib):
        graph = lib.autograd.graph
        with graph.allow_mutation_on_saved_tensors() as ctx:
            a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
            b = a.clone()
            out = (b ** 2).sum()
            b.mul_(10)
            out.backward()
            c = a * 1
            out2 = (c * c).sum()
            nested = outcome(graph.allow_mutation_on_saved_tensors().__enter__)
        return [a.grad, b, type(ctx).__name__, nested, outcome(out2.backward)]

    both(prog)


def test_inplace_op_under_hooks_keeps_the_old_value():
    def prog(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
            a = x * 1
            a.mul_(w)
            a.mul_(a)
        a.sum().backward()
        return [a, x.grad, w.grad]

    both(prog)
