"""Work the first page needs, done once per server process while the server starts.

`warm(url)` imports the views, opens and seeds the store and loads the fitted model into the cost model's
memory cache. The dashboard's own loaders take `data.WARM_LOCK` too, so a browser that connects early waits for the
warm-up instead of doing the same work a second time beside it.
"""

from __future__ import annotations

import logging
import threading
import time

DONE = threading.Event()
_LOG = logging.getLogger("hwplan.warmup")
TIMINGS: dict[str, float] = {}


def warm(url: str) -> None:
    """Never raises: a failure here is met again, and reported, by the page that needs the same thing."""
    try:
        t0 = time.perf_counter()
        from hwplan.app.dashboard import data

        with data.WARM_LOCK:
            from hwplan.app.dashboard import views  # noqa: F401  (the views' imports: pandas, plotly, cost model)
            from hwplan.app.dashboard.views import catalog, compare, plan, profiles, reports  # noqa: F401
            from hwplan.core.ingest import seed_store
            from hwplan.core.store import Store
            from hwplan.costmodel.cache import DEFAULT

            TIMINGS["imports_s"] = time.perf_counter() - t0
            store = Store.open(url)
            try:
                seed_store(store)
                TIMINGS["seed_s"] = time.perf_counter() - t0
                DEFAULT.get(store, seed=False)
                TIMINGS["model_s"] = time.perf_counter() - t0
            finally:
                store.close()
    except Exception:
        _LOG.exception("warm-up failed (the first page will retry and report it)")
    finally:
        DONE.set()
