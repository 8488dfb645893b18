"""Benchmarks. ``python -m bench --out FILE`` runs every ``bench/bench_*.py``.

Each module has ``run() -> list[dict]`` returning figures of the form
``{"name": str, "value": float, "unit": str, "lower_is_better": bool}``.
The file written is ``{"system": {...}, "figures": [...]}``: the figures, and the
versions of the system components they were measured with
(:func:`hw_emulator.versions.system_versions`: cups-daemon, pcscd, vpcd,
libpcsclite, pycups, pyscard, pygame-ce, Python).
Benchmarks never decide whether the tests pass; they only write numbers.
"""
