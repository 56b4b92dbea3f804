"""A small progress bar with an ETA on stderr (no tqdm needed); one line per update when not a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, stream=None, clock=time.monotonic, width: int = 24, enabled: bool = True):
        self.total, self.done = max(0, total), 0
        self.stream = stream if stream is not None else sys.stderr
        self.clock, self.width, self.enabled = clock, width, enabled
        self.t0 = clock()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def eta_s(self) -> float | None:
        if self.done == 0:
            return None
        return (self.clock() - self.t0) / self.done * (self.total - self.done)

    def line(self, label: str = "") -> str:
        frac = self.done / self.total if self.total else 1.0
        filled = round(frac * self.width)
        eta = self.eta_s()
        eta_text = "--:--" if eta is None else f"{int(eta // 60):02d}:{int(eta % 60):02d}"
        elapsed = self.clock() - self.t0
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
                f"{int(elapsed // 60):02d}:{int(elapsed % 60):02d} elapsed, ETA {eta_text}  {label}")

    def update(self, n: int = 1, label: str = "") -> None:
        self.done = min(self.total, self.done + n)
        self.show(label)

    def show(self, label: str = "") -> None:
        if not self.enabled:
            return
        text = self.line(label)
        if self.tty:
            self.stream.write("\r" + text[:160].ljust(160))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
