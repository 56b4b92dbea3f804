"""One error root for everything a user can get wrong; each message says what to do next."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

MAX_ID_CHARS = 100  # longer than any id: no similarity search (its cost grows with the input's length)


def short(value: object, limit: int = 60) -> str:
    """A value as echoed back in a message: one line, at most `limit` characters."""
    s = str(value).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[: limit - 3] + "..."


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
        """FILE:ROW: column: what is wrong (expected ...); a problem of the whole file says `file` for its row."""
        tail = f" (expected {self.expected})" if self.expected else ""
        if self.row:
            return f"{self.file}:{self.row}: {self.column}: {self.message}{tail}"
        column = "" if self.column == "file" else f"{self.column}: "
        return f"{self.file}:file: {column}{self.message}{tail}"


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
    """An id that is not known; names the closest known ones, and every known one where they are few (kinds,
    precisions). `why` replaces "is not known" where more is known: an id of another sort (a micro-benchmark
    given as a model workload)."""

    LIST_AT_MOST = 12  # a set this small is listed whole

    def __init__(self, what: str, given: str, known: Iterable[str], why: str = ""):
        known = list(dict.fromkeys(known))
        self.what, self.given = what, given
        self.suggestions = closest(given, known)
        hint = (
            "; did you mean " + " or ".join(f"'{s}'" for s in self.suggestions) + "?"
            if self.suggestions
            else ""
        )
        every = f" (known: {', '.join(known)})" if 0 < len(known) <= self.LIST_AT_MOST else ""
        too_long = f" (it is {len(given):,} characters long)" if len(given) > MAX_ID_CHARS else ""
        super().__init__(f"{what} '{short(given)}'{too_long} {why or 'is not known'}{hint}{every}")


class StoreError(HwplanError):
    """The results store could not be reached or written."""


def closest(given: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known ids nearest to `given`: the id itself written another way ('NVIDIA L4' for nvidia-l4), ids whose
    model part it is ('l4' for nvidia-l4), substring matches, then by similarity.

    Similarity weighs the part after the vendor prefix (`nvidia-h1OO` is near `nvidia-h100-sxm`,
    not `nvidia-a10`) and reads the usual typos of digits (O for 0, l or I for 1).
    """
    known = sorted(set(known))
    if len(str(given)) > MAX_ID_CHARS:  # no id is this long; the search would cost seconds per megabyte
        return []
    g = "-".join(str(given).lower().replace("_", " ").split())
    if not g:
        return []
    same = [k for k in known if k.lower() == g]
    # the model part alone: what follows the vendor (l4 -> nvidia-l4), or its first words (h100 -> nvidia-h100-sxm)
    model_part = [k for k in known if "-" in k and (k.partition("-")[2] == g or k.partition("-")[2].startswith(g + "-"))]
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
    by_length = lambda ks: sorted(ks, key=lambda k: (abs(len(k) - len(g)), k))
    for k in same + by_length(model_part) + by_length(contains) + fuzzy:
        if k not in out:
            out.append(k)
    return out[:n]
