"""Fuzz figures for the parsers (issue 23, point 6): a seeded mutation loop around
real samples, one target per parser.

Each target is fed mutants of real inputs (the virtual card's certificate and
answers, an envelope and its pages rendered by the center emulator, a store's and
the emulated stack's config, the shipped scenarios, the automation port's request
lines). Byte mutations (set, flip, cut, insert, duplicate, truncate, splice two
samples) are mixed with the target's own tokens and with numbers that parsers get
wrong (long, negative, huge); the envelope also gets structural mutants (keys
reordered, re-spaced, escaped, duplicated; manifest fields changed without a new
signature; pages swapped, dropped, re-encoded). An input may be accepted or
refused with the layer's own error; anything else is an *unhandled exception*.
Every input runs under a wall-clock bound (SIGALRM, :data:`HANG_SECONDS`): one
that exceeds it is a *hang*. For the envelope, an accepted mutant whose signed
content — the manifest bytes and every page — is not byte-identical to the
sample's is a *wrong accept*. Goal for all three: 0.

The inputs behind any unhandled exception, hang or wrong accept are written to
``save_dir`` so that ``python -m tests.reliability.fuzz --replay FILE`` (or the
target's ``feed``) reproduces them.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import json
import random
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANG_SECONDS = 2.0
INTERESTING_NUMBERS = (b"0", b"-1", b"1", b"2", b"255", b"256", b"65535", b"4294967296",
                       b"9" * 40, b"9" * 5000, b"1e309", b"-0", b"nan", b"inf", b"0x10",
                       b"1.5", b"99999999999999999999")
_NUMBER = re.compile(rb"-?\d+")


class _Hang(BaseException):
    """Raised by the alarm in the middle of a target: not an ``Exception``, so no
    ``except Exception`` in a parser can swallow it."""


@dataclass
class Target:
    name: str
    what: str
    seeds: list[bytes]
    feed: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    tokens: tuple[bytes, ...] = ()
    #: extra mutators for this target (structure-aware), each (rng, seed) -> bytes
    mutators: tuple[Callable[[random.Random, bytes], bytes], ...] = ()
    #: for an accepted input: a problem with what was accepted, or None
    check: Callable[[bytes, object], str | None] | None = None


@dataclass
class Figures:
    target: str
    what: str
    inputs: int = 0
    accepted: int = 0
    refused: int = 0
    unhandled: int = 0
    hangs: int = 0
    wrong_accepts: int = 0
    max_input_ms: float = 0.0
    seconds: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------ mutation

def mutate(rng: random.Random, data: bytes, target: Target) -> bytes:
    """One to four stacked mutations of ``data`` (or a structural one)."""
    if target.mutators and rng.random() < 0.35:
        return rng.choice(target.mutators)(rng, data)
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        how = rng.randrange(10)
        n = len(buf)
        pos = rng.randrange(n + 1) if n else 0
        if how == 0 and n:  # set a byte
            buf[min(pos, n - 1)] = rng.randrange(256)
        elif how == 1 and n:  # flip a bit
            buf[min(pos, n - 1)] ^= 1 << rng.randrange(8)
        elif how == 2 and n:  # cut a run
            del buf[pos:pos + rng.choice((1, 2, 4, 8, 64, 1024))]
        elif how == 3:  # insert random bytes
            buf[pos:pos] = rng.randbytes(rng.choice((1, 2, 4, 16)))
        elif how == 4 and n:  # duplicate a run
            end = min(n, pos + rng.choice((1, 4, 16, 256)))
            buf[pos:pos] = buf[pos:end]
        elif how == 5 and target.tokens:  # a token of the target's language
            token = rng.choice(target.tokens)
            if rng.random() < 0.5 or not n:
                buf[pos:pos] = token
            else:
                buf[pos:pos + len(token)] = token
        elif how == 6:  # a number parsers get wrong, in place of one
            spans = [m.span() for m in _NUMBER.finditer(buf)]
            if spans:
                a, b = rng.choice(spans)
                buf[a:b] = rng.choice(INTERESTING_NUMBERS)
        elif how == 7 and n:  # truncate
            del buf[pos:]
        elif how == 8 and len(target.seeds) > 1:  # splice with another sample
            other = rng.choice(target.seeds)
            cut = rng.randrange(len(other) + 1)
            buf[pos:] = other[cut:]
        elif how == 9 and n:  # a byte that means something to many parsers
            buf[min(pos, n - 1)] = rng.choice(b"\x00\n\r\"'\\[]{}<>()/=#%:,. \xff\x80")
    return bytes(buf)


# ------------------------------------------------------------------ the loop

def _alarm(signum: int, frame: object) -> None:
    raise _Hang


def _finding(save_dir: Path | None, target: str, kind: str, data: bytes,
             detail: str) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()[:16]
    found: dict[str, Any] = {"kind": kind, "detail": detail[-2000:], "sha256": digest,
                             "bytes": len(data)}
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        path = save_dir / f"{target}-{kind}-{digest}.bin"
        path.write_bytes(data)
        found["input"] = str(path)
    return found


def run_target(target: Target, count: int, *, seed: int = 23,
               save_dir: Path | None = None, bound: float = HANG_SECONDS,
               keep: int = 5) -> Figures:
    """Feed ``count`` inputs (the seeds themselves first) and count what happened."""
    rng = random.Random(f"{seed}:{target.name}")
    figures = Figures(target.name, target.what)
    old = signal.signal(signal.SIGALRM, _alarm)
    started = time.perf_counter()
    try:
        for i in range(count):
            data = (target.seeds[i] if i < len(target.seeds)
                    else mutate(rng, rng.choice(target.seeds), target))
            t = time.perf_counter()
            outcome: object = None
            problem: tuple[str, str] | None = None
            try:
                signal.setitimer(signal.ITIMER_REAL, bound)
                try:
                    outcome = target.feed(data)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _Hang:
                figures.hangs += 1
                problem = ("hang", f"no answer within {bound:g} s")
            except target.allowed:
                figures.refused += 1
            except Exception as exc:  # noqa: BLE001 - what the figures count
                figures.unhandled += 1
                problem = ("unhandled", "".join(traceback.format_exception(exc)))
            else:
                figures.accepted += 1
                if target.check is not None:
                    why = target.check(data, outcome)
                    if why:
                        figures.wrong_accepts += 1
                        problem = ("wrong-accept", why)
            figures.max_input_ms = max(figures.max_input_ms, (time.perf_counter() - t) * 1000)
            figures.inputs += 1
            if problem is not None and len(figures.findings) < keep:
                figures.findings.append(_finding(save_dir, target.name, *problem[:1], data,
                                                 problem[1]))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    figures.seconds = round(time.perf_counter() - started, 2)
    figures.max_input_ms = round(figures.max_input_ms, 2)
    return figures


# ------------------------------------------------------------------ the targets

def _card_targets(work: Path) -> list[Target]:
    """The reader on the virtual card: the certificate it serves (read_card, the
    whole JPKI flow), and the card's answers one by one (the APDU parsers)."""
    from drivers.card import apdu
    from drivers.errors import CardError, CardProtocolError
    from hw_emulator.card.state import load_card, make_card
    from hw_emulator.pki import ensure_test_pki
    from tests.card.test_total_parsers import _DirectReader, serving

    ensure_test_pki(work / "pki")
    card = load_card(make_card(work / "state", "default", name="fuzz", pki_dir=work / "pki"))
    der = card.paths.cert.read_bytes()

    def read(data: bytes) -> object:
        reader = serving(card, data)
        try:
            return reader.read_card()
        finally:
            reader.release()

    # real answers: what the card said during one read_card, verify and sign
    answers: list[bytes] = []

    class Recording(_DirectReader):
        def _transmit(self, command: bytes, timeout: float) -> tuple[bytes, int, int]:
            data, sw1, sw2 = super()._transmit(command, timeout)
            answers.append(bytes(data) + bytes((sw1, sw2)))
            return data, sw1, sw2

    from hw_emulator.card.card import VirtualCard

    recorder = Recording(VirtualCard(card.spec))
    recorder.read_card()
    recorder.verify_pin("1234")
    recorder.sign(b"\x00" * 32)
    recorder.release()

    def answer(data: bytes) -> object:
        """One answer through every parser that reads card answers, each on its own
        (a refusal by one does not spare the others); returns how many accepted."""
        def parsers() -> list[Callable[[], object]]:
            return [
                lambda: apdu.parse_response(data),
                lambda: apdu.check_select(apdu.parse_response(data)),
                lambda: apdu.parse_pin_status(apdu.parse_response(data), 3),
                lambda: apdu.raw_ecdsa_to_der(apdu.parse_signature(apdu.parse_response(data),
                                                                   64)),
                lambda: apdu.parse_signature(apdu.parse_response(data), 256),
                lambda: apdu.der_total_length(data),
                lambda: apdu.parse_token_label(data, 32),
                lambda: apdu.Exchange(apdu.read_binary(0, 256)).feed(data),
                certificate_reader,
            ]

        def certificate_reader() -> object:
            reader = apdu.CertificateReader(256)
            reader.feed(apdu.parse_response(data))
            return reader.result() if reader.done else None

        accepted = 0
        for parse in parsers():
            try:
                parse()
                accepted += 1
            except CardProtocolError:
                pass
        if not accepted:
            raise CardProtocolError("every parser refused it")
        return accepted

    return [
        Target("card.reader", "read_card on the virtual card serving a mutated certificate",
               [der], read, (CardError,),
               tokens=(b"\x30\x82", b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01",
                       b"\xa0\x03\x02\x01\x02", b"\x05\x00", b"\x02\x01\x00", b"\xff" * 4)),
        Target("card.apdu", "the card's answers through the APDU parsers",
               [a for a in answers if a] or [b"\x90\x00"], answer, (CardProtocolError,),
               tokens=(b"\x90\x00", b"\x61\x10", b"\x6c\x08", b"\x63\xc2", b"\x69\x83",
                       b"\x6a\x82", b"\x30\x82\xff\xff")),
    ]


def _center_targets(work: Path) -> list[Target]:
    """The center client's envelope verification and the page parser."""
    from hw_emulator.center import CenterEmulator
    from kiosk.center import envelope as env
    from kiosk.center import pdfpages
    from kiosk.center.fake import tiny_pdf
    from kiosk.center.port import CenterError
    from tests.center.test_envelope import accept, make_sample
    from tests.center.test_total_parsers import build_pdf, good_objects

    center = CenterEmulator(work / "center")
    sample = make_sample(center, copies=1)
    original = env.parse_envelope(sample.raw)
    signed = (bytes(original.manifest_bytes), tuple(bytes(p) for p in original.pages))
    doc = json.loads(sample.raw)

    def feed(data: bytes) -> object:
        return accept(data, sample.expected, sample.ca)

    def check(data: bytes, outcome: object) -> str | None:
        got = env.parse_envelope(data)
        if bytes(got.manifest_bytes) != signed[0]:
            return "accepted with other manifest bytes"
        if tuple(bytes(p) for p in got.pages) != signed[1]:
            return "accepted with other page bytes"
        return None

    def dumps(obj: dict[str, Any], rng: random.Random) -> bytes:
        return json.dumps(obj, indent=rng.choice((None, 0, 1)),
                          separators=rng.choice(((",", ":"), (", ", ": "), (",", ": "))),
                          ensure_ascii=rng.random() < 0.5).encode()

    def reorder(rng: random.Random, _: bytes) -> bytes:
        items = list(doc.items())
        rng.shuffle(items)
        return dumps(dict(items), rng)

    def escaped(rng: random.Random, _: bytes) -> bytes:
        """A base64 string with one character written as a JSON escape: the same
        string once decoded, so the same signed bytes."""
        key = rng.choice(["manifest", "signature", "signer", "pages"])
        text = json.dumps(doc)
        value = doc[key][0] if key == "pages" else doc[key]
        i = rng.randrange(len(value))
        twin = value[:i] + f"\\u{ord(value[i]):04x}" + value[i + 1:]
        return text.replace(json.dumps(value)[1:-1], twin, 1).encode()

    def unknown_or_twice(rng: random.Random, _: bytes) -> bytes:
        text = json.dumps(doc)
        if rng.random() < 0.5:
            return (text[:-1] + ', "note": "x"}').encode()
        key = rng.choice(sorted(doc))
        return (text[:-1] + f", {json.dumps(key)}: {json.dumps(doc[key])}}}").encode()

    def manifest_field(rng: random.Random, _: bytes) -> bytes:
        """A field of the manifest changed, the signature left as it was."""
        body = json.loads(base64.b64decode(doc["manifest"]))
        key = rng.choice(sorted(body))
        body[key] = rng.choice([None, 0, 1, -1, "", "x" * 33, [], {}, True, 10**20,
                                body[key]])
        manifest = json.dumps(body, separators=(",", ":")).encode()
        return json.dumps(dict(doc, manifest=base64.b64encode(manifest).decode())).encode()

    def pages_changed(rng: random.Random, _: bytes) -> bytes:
        pages = list(doc["pages"])
        how = rng.randrange(4)
        if how == 0 and len(pages) > 1:
            pages.reverse()
        elif how == 1:
            pages = pages[:-1] or pages + pages
        elif how == 2:
            pages.append(pages[0])
        else:
            raw = bytearray(base64.b64decode(pages[0]))
            raw[rng.randrange(len(raw))] ^= 0x01
            pages[0] = base64.b64encode(bytes(raw)).decode()
        return json.dumps(dict(doc, pages=pages)).encode()

    def signature_changed(rng: random.Random, _: bytes) -> bytes:
        sig = bytearray(base64.b64decode(doc["signature"]))
        sig[rng.randrange(len(sig))] ^= 1 << rng.randrange(8)
        alg = rng.choice([doc["signature_alg"], "rsa-pkcs1v15-sha256", "none", "ECDSA-SHA256"])
        return json.dumps(dict(doc, signature=base64.b64encode(bytes(sig)).decode(),
                               signature_alg=alg)).encode()

    def pdf(data: bytes) -> object:
        return pdfpages.merge([pdfpages.parse(data)])

    pages = [bytes(p) for p in sample.doc.pages]
    return [
        Target("center.envelope", "the issued envelope: parse, signature, binding, pages, merge",
               [sample.raw], feed, (CenterError,),
               tokens=(b'"v":', b'"pages":', b'"manifest":', b'"signature_alg":', b"\\u0041",
                       b"==", b"null", b"[]", b"{}", b"1e400", b'"', b"\\"),
               mutators=(reorder, escaped, unknown_or_twice, manifest_field, pages_changed,
                         signature_changed),
               check=check),
        Target("center.pdf", "a certificate page through the page-profile parser and the merge",
               [*pages, tiny_pdf(2), build_pdf(good_objects())], pdf, (pdfpages.PdfProfileError,),
               tokens=(b" 0 R", b"/Kids", b"/Pages", b"/Page", b"/Type", b"/Length", b"obj",
                       b"endobj", b"stream", b"endstream", b"xref", b"trailer", b"startxref",
                       b"%%EOF", b"<<", b">>", b"[", b"]")),
    ]


def _config_target(work: Path) -> Target:
    """``kiosk check-config``'s parser: the text of a store's and of the emulated
    stack's config (what ``load`` does once the file is read)."""
    from hw_emulator.stack.stack import dump_toml
    from kiosk.runtime.config import ConfigError, parse, parse_toml

    base = work / "config"
    for name in ("ca.pem", "kiosk.pem", "kiosk.key"):
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text("x")
    store = {
        "kiosk": {"id": "KIOSK-0001", "store": "見本マート 架空店", "state_dir": str(base / "s"),
                  "development": False, "drain_timeout": 300.0},
        "devices": {"card": "pcsc", "coins": "cctalk", "printer": "cups", "audio": "none",
                    "tray": "emulator", "options": {
                        "card": {"reader": "Virtual PCD", "poll_interval": 0.1},
                        "coins": {"url": "/dev/ttyUSB0", "poll_interval": 0.05, "hoppers": [
                            {"address": 3, "coin_value": 100, "level": 100},
                            {"address": 4, "coin_value": 10, "level": 200}]},
                        "printer": {"queue": "kiosk", "poll_interval": 0.1},
                        "tray": {"tray": str(base / "tray"), "poll_interval": 0.1}}},
        "center": {"kind": "https", "url": "https://center.example:8443",
                   "ca": str(base / "ca.pem"), "cert": str(base / "kiosk.pem"),
                   "key": str(base / "kiosk.key")},
        "ui": {"kind": "null"},
        "service_hours": {"opens": "06:30", "closes": "23:00"},
        "timeouts": {"pay": 90, "more_time": 20},
        "alarms": {"tone_after": 10, "staff_after": 60, "tray_settle": 3},
        "logging": {"level": "INFO"},
    }
    emulated = json.loads(json.dumps(store))
    emulated["kiosk"]["development"] = True
    emulated["automation"] = {"enabled": True, "address": str(base / "a.sock"),
                              "screenshot_dir": str(base / "shots")}
    seeds = [dump_toml(store).encode(), dump_toml(emulated).encode()]

    def feed(data: bytes) -> object:
        try:
            document = parse_toml(data.decode("utf-8"))
        except ValueError as exc:  # as load(): UnicodeDecodeError, TOMLDecodeError
            raise ConfigError(f"<fuzz>: not valid TOML: {exc}") from None
        return parse(document, "<fuzz>", base)

    try:
        for s in seeds:
            feed(s)
    except ConfigError as exc:  # the seeds must be valid, or the loop only tests refusals
        raise RuntimeError(f"the config fuzz seed does not load: {exc}") from exc
    return Target("config", "the kiosk's config: TOML text to a checked Config", seeds, feed,
                  (ConfigError,),
                  tokens=(b"[", b"]", b"[[", b"]]", b"=", b'"', b"'''", b"inf", b"nan",
                          b"true", b"1e300", b"\n[kiosk]\n", b"\n[automation]\nenabled = true\n",
                          b"development = true", b"[devices.options.coins]", b"{}", b"[1,"))


def _scenario_target(root: Path) -> Target:
    from hw_emulator.stack.scenario import ScenarioError, loads

    seeds = [p.read_bytes() for p in sorted((root / "scenarios").glob("*.toml"))]

    def feed(data: bytes) -> object:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # as load(): "not UTF-8 text"
            raise ScenarioError("<fuzz>: not UTF-8 text") from None
        return loads(text, "<fuzz>")

    return Target("scenario", "a scenario file's text to a checked Scenario", seeds, feed,
                  (ScenarioError,),
                  tokens=(b"[[step]]\n", b"[expect]\n", b"[timeouts]\n", b"[alarms]\n",
                          b'touch = "start"\n', b"coins = [500]\n", b"sleep = inf\n",
                          b"end_timeout = nan\n", b'card = "present"\n', b"=", b'"', b"["))


def _automation_target() -> Target:
    from kiosk.runtime.automation import answer, parse_request

    class Recording:
        def elements(self) -> list[Any]:
            return []

        def screen_id(self) -> str:
            return "idle"

        def touch(self, element_id: str) -> bool:
            return False

        def touch_at(self, x: int, y: int) -> bool:
            return False

        def screenshot(self, path: object) -> None:
            raise OSError("no screenshots while fuzzing")

    ui = Recording()
    seeds = [json.dumps(r).encode() + b"\n" for r in (
        {"op": "screen"}, {"op": "touch", "id": "pin_1"}, {"op": "touch_at", "x": 600, "y": 140},
        {"op": "screenshot", "path": "s.png"}, {"op": "state"}, {"op": "threads"})]

    def feed(data: bytes) -> object:
        body = parse_request(data)
        reply = answer(ui, body, screenshot_dir=None,
                       status=lambda: {"state": "idle", "changes": 0})
        json.dumps(reply)  # every reply must go back as one JSON line
        if not isinstance(reply, dict) or "ok" not in reply:
            raise AssertionError(f"a reply without ok: {reply!r}")
        return reply

    return Target("automation", "the automation port's request line: parse and answer",
                  seeds, feed, (ValueError,),
                  tokens=(b"{", b"}", b"[", b"]", b'"op"', b":", b",", b"NaN", b"Infinity",
                          b"1" * 30, b"[" * 40, b'"\\ud800"', b"null"))


#: target name -> the group that builds it (some share a costly sample)
GROUPS = {"card.reader": "card", "card.apdu": "card", "center.envelope": "center",
          "center.pdf": "center", "config": "config", "scenario": "scenario",
          "automation": "automation"}
TARGETS = tuple(GROUPS)


def build_targets(work: Path, root: Path, only: Sequence[str] = ()) -> list[Target]:
    """The targets (``only`` these, if given), with their samples made in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    groups = {GROUPS[n] for n in (only or TARGETS)}
    targets: list[Target] = []
    if "card" in groups:
        targets += _card_targets(work / "card")
    if "center" in groups:
        targets += _center_targets(work / "center")
    if "config" in groups:
        targets.append(_config_target(work))
    if "scenario" in groups:
        targets.append(_scenario_target(root))
    if "automation" in groups:
        targets.append(_automation_target())
    return [t for t in targets if not only or t.name in only]


def run_all(work: Path, root: Path, count: int, *, seed: int = 23,
            only: Sequence[str] = (), save_dir: Path | None = None) -> list[dict[str, Any]]:
    return [run_target(t, count, seed=seed, save_dir=save_dir).as_dict()
            for t in build_targets(work, root, only)]


def merge(shards: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One target's figures from shards run with different seeds."""
    first = dict(shards[0])
    for key in ("inputs", "accepted", "refused", "unhandled", "hangs", "wrong_accepts"):
        first[key] = sum(s[key] for s in shards)
    first["seconds"] = round(sum(s["seconds"] for s in shards), 2)
    first["max_input_ms"] = max(s["max_input_ms"] for s in shards)
    first["findings"] = [f for s in shards for f in s["findings"]][:10]
    first["shards"] = len(shards)
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.fuzz")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--only", nargs="*", default=())
    parser.add_argument("--work", type=Path, default=Path("/tmp/kiosk-fuzz"))
    parser.add_argument("--replay", type=Path, help="feed one saved input to --only TARGET")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    if args.replay:
        (target,) = build_targets(args.work, root, args.only)
        print(target.feed(args.replay.read_bytes()))
        return 0
    print(json.dumps(run_all(args.work, root, args.count, only=args.only), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
