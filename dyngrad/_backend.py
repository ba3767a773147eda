"""The one array namespace every op computes with.

Op code writes `xp.exp(a)`, never `numpy.exp(a)`, so a CuPy device can later swap this module's
`xp` (CuPy mirrors NumPy's API) without touching any op definition.
"""

import numpy as xp

ndarray = xp.ndarray

__all__ = ["xp", "ndarray"]
