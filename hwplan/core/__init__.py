"""The bottom layer: the Measurement contract, vocabulary, hardware catalog, results store and settings.

Everything above (profiler, cost model, reports, CLI, dashboard) meets through what this package defines.
"""
