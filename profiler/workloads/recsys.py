"""DLRM-v2 (DCNv2 cross network, multi-hot embedding bags, as in MLPerf's Criteo 1TB benchmark) and the
fraud-scoring tabular MLP, in plain torch.nn."""

from __future__ import annotations

import itertools

import torch
from torch import nn

# MLPerf DLRM-v2: rows per table (Criteo 1TB, capped at 40M) and multi-hot pooling factor per feature.
CRITEO_ROWS = (40000000, 39060, 17295, 7424, 20265, 3, 7122, 1543, 63, 40000000, 3067956, 405282, 10, 2209, 11938,
               155, 4, 976, 14, 40000000, 40000000, 40000000, 590152, 12973, 108, 36)
POOLING = (3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3, 1, 1)


def _mlp(sizes, last_relu: bool = True) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if last_relu or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class CrossNet(nn.Module):
    """DCNv2 low-rank cross layers: x_{l+1} = x0 * (U (V x_l) + b) + x_l."""

    def __init__(self, d: int, layers: int = 3, rank: int = 512):
        super().__init__()
        self.v = nn.ModuleList(nn.Linear(d, rank, bias=False) for _ in range(layers))
        self.u = nn.ModuleList(nn.Linear(rank, d) for _ in range(layers))

    def forward(self, x0):
        x = x0
        for v, u in zip(self.v, self.u):
            x = x0 * u(v(x)) + x
        return x


class DLRMv2(nn.Module):
    """Bottom MLP 13-512-256-128, 26 embedding bags of dim 128 (rows capped at `max_rows`), DCNv2, top MLP
    3456-1024-1024-512-256-1."""

    def __init__(self, max_rows: int = 40_000_000, dim: int = 128, sparse: bool = False):
        super().__init__()
        self.rows = tuple(min(r, max_rows) for r in CRITEO_ROWS)
        self.bottom = _mlp((13, 512, 256, dim))
        # sparse=True for training: gradients touch only the looked-up rows, as DLRM training does
        self.tables = nn.ModuleList(nn.EmbeddingBag(r, dim, mode="sum", sparse=sparse) for r in self.rows)
        d = dim * (len(self.rows) + 1)
        self.cross = CrossNet(d)
        self.top = _mlp((d, 1024, 1024, 512, 256, 1), last_relu=False)

    def forward(self, dense, indices, offsets):
        parts = [self.bottom(dense)]
        for t, idx, off in zip(self.tables, indices, offsets):
            parts.append(t(idx, off))
        return self.top(self.cross(torch.cat(parts, 1)))

    def example(self, batch: int, device) -> tuple:
        g = torch.Generator().manual_seed(7)
        dense = torch.rand(batch, 13, generator=g).to(device)
        idx, off = [], []
        for rows, pool in zip(self.rows, POOLING):
            idx.append(torch.randint(0, rows, (batch * pool,), generator=g).to(device))
            off.append((torch.arange(batch) * pool).to(device))
        return dense, idx, off


class FraudMLP(nn.Module):
    """Tabular fraud scorer: ~100 features, 4 Linear layers (100-512-256-128-1)."""

    def __init__(self, features: int = 100):
        super().__init__()
        self.net = _mlp((features, 512, 256, 128, 1), last_relu=False)

    def forward(self, x):
        return self.net(x)
