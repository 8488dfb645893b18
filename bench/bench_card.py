"""Card benchmark: APDUs and wall time of one JPKI authentication.

One authentication = ``read_card`` (connect, token, certificate, tries) +
``verify_pin`` + ``sign`` + ``release``, through the in-process virtual card and
through a real pcscd with the vpcd reader and the card process (started here
like the tests do, and stopped again). Wall times are medians over several runs.
"""

from __future__ import annotations

import queue
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

RUNS = 15


def _authenticate(reader: Any) -> tuple[int, float]:
    started = time.perf_counter()
    reader.read_card()
    if not reader.verify_pin("1234").verified:
        raise RuntimeError("benchmark card refused its PIN")
    reader.sign(b"benchmark challenge")
    count = int(reader.apdu_count)
    reader.release()
    return count, (time.perf_counter() - started) * 1000.0


def _figures(prefix: str, reader: Any) -> list[dict]:
    _authenticate(reader)  # warm up (imports, first connect)
    results = [_authenticate(reader) for _ in range(RUNS)]
    return [
        {"name": f"card.{prefix}.auth_apdus", "value": results[-1][0], "unit": "APDUs",
         "lower_is_better": True},
        {"name": f"card.{prefix}.auth_wall_time", "value": round(statistics.median(
            r[1] for r in results), 3), "unit": "ms", "lower_is_better": True},
    ]


def run() -> list[dict]:
    from hw_emulator.card.inprocess import InProcessCardReader
    from hw_emulator.card.stack import VPCD_DRIVER, CardStack
    from hw_emulator.card.state import load_card, make_card

    figures: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-card-") as tmp:
        state = Path(tmp) / "state"
        paths = make_card(state, "default", name="bench")
        for sfi in (False, True):
            reader = InProcessCardReader(load_card(paths), use_sfi=sfi)
            reader.start(lambda _event: None)
            figures += _figures("inprocess" + (".sfi" if sfi else ""), reader)
            reader.stop()

        if shutil.which("pcscd") is None or not VPCD_DRIVER.exists():
            return figures
        from drivers.card.pcsc import PcscCardReader

        with CardStack(Path(tmp) / "pcscd", state, "bench") as stack:
            for sfi in (False, True):
                events: queue.Queue[Any] = queue.Queue()
                pcsc = PcscCardReader(stack.reader_pattern, use_sfi=sfi)
                pcsc.start(events.put)
                try:
                    figures += _figures("pcscd" + (".sfi" if sfi else ""), pcsc)
                finally:
                    pcsc.stop()
    return figures


if __name__ == "__main__":
    for figure in run():
        print(figure)
