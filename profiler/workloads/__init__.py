"""The reference workloads in plain torch.nn (no torchvision), and the micro-benchmarks."""
