"""The presentation layer: `cli` (the `hwplan` command), `dashboard` (Streamlit) and `reports` (frozen plans and
their exports). Never imports torch."""
