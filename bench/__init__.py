"""Benchmarks that print one figure a line; run each from the checkout as `python -m bench.NAME`."""
