"""Which system components a run used, so a vendor's bench report can be compared.

``hw-emu run`` puts this into ``result.json`` and ``python -m bench`` into
``out/bench.json``: the Debian packages of the daemons and libraries behind the
seams (cupsd, pcscd, vpcd, libpcsclite, libcups), the Python packages that bind
them, and the interpreter. A cupsd security update changed the kiosk's behaviour
once (2.4.2-3+deb12u10 crashes on a subscription of an unknown user); a report
without these versions could not have told which machine saw what.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import shutil
import subprocess

DEBIAN_PACKAGES = ("cups-daemon", "libcups2", "pcscd", "libpcsclite1", "vsmartcard-vpcd")
PYTHON_PACKAGES = ("pycups", "pyscard", "pygame-ce", "pyserial", "cryptography")
MISSING = "not installed"


def _debian(packages: tuple[str, ...]) -> dict[str, str]:
    found = dict.fromkeys(packages, MISSING)
    if shutil.which("dpkg-query") is None:
        return dict.fromkeys(packages, "no dpkg")
    done = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *packages],
        capture_output=True, text=True, check=False, timeout=30)
    for line in done.stdout.splitlines():
        name, _, rest = line.partition("\t")
        version, _, status = rest.partition("\t")
        name = name.split(":", 1)[0]  # libpcsclite1:amd64
        if name in found and status.startswith("ii") and version:
            found[name] = version
    return found


def _python(dists: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for dist in dists:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = MISSING
    return found


@functools.cache
def system_versions() -> dict[str, dict[str, str]]:
    """``{"debian": {package: version}, "python": {dist: version}, "python3": …}``;
    a component that is not there says ``not installed``."""
    return {
        "debian": _debian(DEBIAN_PACKAGES),
        "python": _python(PYTHON_PACKAGES),
        "interpreter": {"python": platform.python_version(),
                        "implementation": platform.python_implementation()},
    }
