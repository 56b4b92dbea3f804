"""The Streamlit dashboard: `main.py` is the entry file (a router), `views/` one module per page, `data.py`
the loading boundary (the only place that caches)."""
