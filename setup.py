"""Package discovery that pyproject.toml cannot express.

The emulator lives in the folder ``hw-emulator/`` (a dash, so it is not importable
as a folder name) and is installed as the import package ``hw_emulator``; its
sub-packages have to be listed under the mapped name, which ``find_packages``
cannot do on its own.
"""

from setuptools import find_packages, setup

EMULATOR_DIR = "hw-emulator"

packages = find_packages(include=["kiosk", "kiosk.*", "drivers", "drivers.*"])
packages += ["hw_emulator"] + [f"hw_emulator.{p}" for p in find_packages(EMULATOR_DIR)]

setup(packages=packages, package_dir={"hw_emulator": EMULATOR_DIR})
