"""One error root for everything a user can get wrong; each message says what to do next."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


class HwplanError(Exception):
    """Root of every error hwplan raises on purpose. The CLI prints it and exits 2."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One bad cell or row: where it is, which column, what is wrong, what was expected."""

    file: str
    row: int  # 1-based line in a CSV (header is line 1), 1-based record in JSON/Parquet; 0 = whole file
    column: str
    message: str
    expected: str = ""

    def __str__(self) -> str:
        tail = f" (expected {self.expected})" if self.expected else ""
        return f"{self.file}:{self.row}: {self.column}: {self.message}{tail}"


class ValidationError(HwplanError):
    """A table failed validation; carries every problem at once."""

    def __init__(self, problems: Iterable[Problem], summary: str | None = None):
        self.problems = list(problems)
        n = len(self.problems)
        head = summary or f"{n} problem{'s' if n != 1 else ''} found; nothing was stored"
        shown = "\n".join(str(p) for p in self.problems[:200])
        more = f"\n... and {n - 200} more" if n > 200 else ""
        super().__init__(f"{head}\n{shown}{more}")


class UnknownIdError(HwplanError):
    """An id that is not known; names the closest known ones."""

    def __init__(self, what: str, given: str, known: Iterable[str]):
        self.what, self.given = what, given
        self.suggestions = closest(given, known)
        hint = (
            "; did you mean " + " or ".join(f"'{s}'" for s in self.suggestions) + "?"
            if self.suggestions
            else ""
        )
        super().__init__(f"{what} '{given}' is not known{hint}")


class StoreError(HwplanError):
    """The results store could not be reached or written."""


def closest(given: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known ids nearest to `given`: substring matches first, then by similarity.

    Similarity weighs the part after the vendor prefix (`nvidia-h1OO` is near `nvidia-h100-sxm`,
    not `nvidia-a10`) and reads the usual typos of digits (O for 0, l or I for 1).
    """
    known = sorted(set(known))
    g = str(given).lower().strip()
    if not g:
        return []
    contains = [k for k in known if len(g) >= 3 and (g in k or (len(k) > 3 and k in g))]
    norm = g.replace("o", "0").replace("l", "1").replace("i", "1")

    def score(k: str) -> float:
        k_norm = k.replace("o", "0").replace("l", "1").replace("i", "1")
        whole = difflib.SequenceMatcher(None, norm.replace("-", ""), k_norm.replace("-", "")).ratio()
        vendor_g, _, tail_g = norm.partition("-")
        vendor_k, _, tail_k = k_norm.partition("-")
        if not tail_g or vendor_g != vendor_k:
            return whole
        tail = difflib.SequenceMatcher(None, tail_g, tail_k[: len(tail_g) + 2]).ratio()
        return 0.4 * whole + 0.6 * tail

    ranked = sorted(known, key=lambda k: (-score(k), k))
    fuzzy = [k for k in ranked if score(k) >= 0.55]
    out: list[str] = []
    for k in sorted(contains, key=lambda k: (abs(len(k) - len(g)), k)) + fuzzy:
        if k not in out:
            out.append(k)
    return out[:n]
