"""`LazyModuleMixin`: layers whose input size is read from their first input.

A lazy layer holds `UninitializedParameter`/`UninitializedBuffer` placeholders. A forward
pre-hook calls its `initialize_parameters(*inputs)` on the first call, which materializes them
(and runs `reset_parameters`); the hook then removes itself and the module becomes its
`cls_to_become` (LazyLinear becomes a Linear), as in PyTorch. `load_state_dict` also gives the
placeholders the checkpoint's shapes.
"""

from __future__ import annotations

from dyngrad.nn.parameter import is_lazy

__all__ = ["LazyModuleMixin"]


class LazyModuleMixin:
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer still waits for its shape."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {type(self).__name__}")

    def _infer_parameters(self, module, args, kwargs=None) -> None:
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """As Module's, but placeholders are saved as they are (they have no data to detach)."""
        for table, skip in ((self._parameters, set()),
                            (self._buffers, self._non_persistent_buffers_set)):
            for name, t in table.items():
                if t is not None and name not in skip:
                    destination[prefix + name] = t if keep_vars or is_lazy(t) else t.detach()
