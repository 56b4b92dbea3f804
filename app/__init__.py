"""hwplan's presentation layer: the `hwplan` command, the Streamlit dashboard, reports. Never imports torch."""
