"""3D U-Net as in MLPerf's KiTS19 benchmark: 1 input channel, 3 classes, channels 32-64-128-256-320-320,
two 3x3x3 conv + instance norm + LeakyReLU per level, strided conv down, transposed conv up. A sample is one
128^3 sub-volume (MLPerf slides this window over each CT volume)."""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, stride, 1, bias=False), nn.InstanceNorm3d(cout, affine=True), nn.LeakyReLU(0.01),
        nn.Conv3d(cout, cout, 3, 1, 1, bias=False), nn.InstanceNorm3d(cout, affine=True), nn.LeakyReLU(0.01))


class UNet3D(nn.Module):
    def __init__(self, channels=(32, 64, 128, 256, 320, 320), in_ch: int = 1, classes: int = 3):
        super().__init__()
        self.down = nn.ModuleList()
        cin = in_ch
        for i, c in enumerate(channels):
            self.down.append(_block(cin, c, 1 if i == 0 else 2))
            cin = c
        self.up_t = nn.ModuleList()
        self.up_b = nn.ModuleList()
        for c_skip, c in zip(reversed(channels[:-1]), reversed(channels[1:])):
            self.up_t.append(nn.ConvTranspose3d(c, c_skip, 2, 2))
            self.up_b.append(_block(2 * c_skip, c_skip))
        self.head = nn.Conv3d(channels[0], classes, 1)

    def forward(self, x):
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
        skips.pop()
        for t, b in zip(self.up_t, self.up_b):
            x = b(torch.cat([t(x), skips.pop()], 1))
        return self.head(x)
