"""Benchmarks. ``python -m bench --out FILE`` runs every ``bench/bench_*.py``.

Each module has ``run() -> list[dict]`` returning figures of the form
``{"name": str, "value": float, "unit": str, "lower_is_better": bool}``.
Benchmarks never decide whether the tests pass; they only write numbers.
"""
