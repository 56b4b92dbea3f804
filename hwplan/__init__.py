"""hwplan core: the Measurement contract, the hardware catalog and the results store.

`profiler/`, `costmodel/` and `app/` meet only through what this package defines.
"""

__version__ = "0.1.0"
