"""Benchmarks and fault scenarios; `python -m bench` runs them all (bench/run_all.py)."""
