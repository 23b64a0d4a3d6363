"""Diagnostics: ``compute_*``-style functions return arrays; ``plots`` draws them (matplotlib, Agg)."""
