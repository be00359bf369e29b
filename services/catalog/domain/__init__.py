"""Plain-Python domain of the catalog service (no framework imports)."""
