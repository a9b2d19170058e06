"""Demo makers and test-clip generators; run each from the checkout as `python -m tools.NAME`."""
