"""Handles returned by every `register_*hook` call."""

import itertools

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for; also a context manager that removes on exit."""

    def __init__(self, hooks: dict):
        self.hooks_dict_ref = hooks
        self.id = next(_ids)

    def remove(self) -> None:
        self.hooks_dict_ref.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks: dict, fn) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle
