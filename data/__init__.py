"""Shipped tables (catalog, workloads, published and measured results), found with importlib.resources."""
