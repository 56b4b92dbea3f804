"""Planning reports: frozen snapshots of a plan or a comparison, and their exports (HTML, PDF,
Markdown, CSV). `snapshot` saves and loads; `summary` and `detail` decide what is shown; one
module per format renders it."""

FORMATS = ("html", "pdf", "md", "csv")  # the export formats (renderers in export.py)
