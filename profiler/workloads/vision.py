"""ResNet-50 v1.5 and RetinaNet (ResNeXt50-32x4d + FPN, MLPerf's 264 OpenImages classes) in plain torch.nn."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride here: v1.5) -> 1x1, with `groups` for ResNeXt."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, groups: int = 1, base_width: int = 64):
        super().__init__()
        width = int(planes * base_width / 64) * groups
        cout = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + idt)


class ResNet(nn.Module):
    """ResNet/ResNeXt trunk; `features=True` returns C3, C4, C5 for an FPN instead of logits."""

    def __init__(self, layers=(3, 4, 6, 3), num_classes: int = 1000, groups: int = 1, width_per_group: int = 64,
                 features: bool = False):
        super().__init__()
        self.features = features
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        stages, cin = [], 64
        for i, (n, planes) in enumerate(zip(layers, (64, 128, 256, 512))):
            blocks = []
            for j in range(n):
                blocks.append(Bottleneck(cin, planes, 2 if (j == 0 and i > 0) else 1, groups, width_per_group))
                cin = planes * 4
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = None if features else nn.Linear(2048, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        if self.features:
            return c3, c4, c5
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(c5, 1), 1))


def resnet50() -> nn.Module:
    return ResNet((3, 4, 6, 3))


class RetinaNet(nn.Module):
    """Network only (backbone, FPN P3-P7, shared class and box heads); anchor decoding and NMS excluded."""

    def __init__(self, num_classes: int = 264, anchors: int = 9, ch: int = 256):
        super().__init__()
        self.backbone = ResNet((3, 4, 6, 3), groups=32, width_per_group=4, features=True)
        self.lateral = nn.ModuleList(nn.Conv2d(c, ch, 1) for c in (512, 1024, 2048))
        self.output = nn.ModuleList(nn.Conv2d(ch, ch, 3, padding=1) for _ in range(3))
        self.p6 = nn.Conv2d(ch, ch, 3, 2, 1)
        self.p7 = nn.Conv2d(ch, ch, 3, 2, 1)

        def tower():
            return nn.Sequential(*[m for _ in range(4) for m in (nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())])
        self.cls_tower, self.box_tower = tower(), tower()
        self.cls_out = nn.Conv2d(ch, anchors * num_classes, 3, padding=1)
        self.box_out = nn.Conv2d(ch, anchors * 4, 3, padding=1)

    def forward(self, x):
        c3, c4, c5 = self.backbone(x)
        l3, l4, l5 = (lat(c) for lat, c in zip(self.lateral, (c3, c4, c5)))
        l4 = l4 + F.interpolate(l5, size=l4.shape[-2:], mode="nearest")
        l3 = l3 + F.interpolate(l4, size=l3.shape[-2:], mode="nearest")
        p3, p4, p5 = (conv(level) for conv, level in zip(self.output, (l3, l4, l5)))
        p6 = self.p6(p5)
        p7 = self.p7(F.relu(p6))
        cls = [self.cls_out(self.cls_tower(p)).flatten(2) for p in (p3, p4, p5, p6, p7)]
        box = [self.box_out(self.box_tower(p)).flatten(2) for p in (p3, p4, p5, p6, p7)]
        return torch.cat(cls, 2), torch.cat(box, 2)
