"""`torch.backends.mha`: the switch for nn.MultiheadAttention's fused inference path. dyngrad has
one path; the switch is kept so that scripts which set it run."""

__all__ = ["get_fastpath_enabled", "set_fastpath_enabled"]

_fastpath = [True]


def get_fastpath_enabled():
    return _fastpath[0]


def set_fastpath_enabled(value) -> None:
    _fastpath[0] = value
