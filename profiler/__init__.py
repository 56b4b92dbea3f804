"""hwplan's measurement layer: devices, reference workloads, timing, energy. The only package that imports torch."""
