#!/usr/bin/env python3
"""Render the kiosk's voice prompts and tones into small mono OGG Vorbis files.

    .venv/bin/python scripts/render_voice.py            # render what changed
    .venv/bin/python scripts/render_voice.py --force    # render everything again
    .venv/bin/python scripts/render_voice.py --check    # exit 1 if anything is missing or stale
    .venv/bin/python scripts/render_voice.py --lang en --only card_left

Input: ``assets/voice/texts/<lang>.toml`` (prompt id → sentence), whose keys must be
exactly ``kiosk.core.prompts.ALL_PROMPTS``. Output: ``assets/voice/<lang>/<id>.ogg``,
``assets/voice/tones/{alarm,chime}.ogg`` and ``assets/voice/manifest.json``.

Japanese is spoken by pyopenjtalk-plus (dictionary and HTS voice inside the wheel,
offline); the other languages by espeak-ng. sox trims the silence around each
sentence, levels it to one loudness (RMS target, peak capped), pads it, and encodes
mono Vorbis at 22.05 kHz. sox runs with ``-R`` (repeatable) and both engines are
deterministic, so the same text gives the same bytes on the same engine versions.

The manifest keeps a stamp per file (text, voice, settings); a file whose stamp is
unchanged is not rendered again, so re-running after editing one sentence touches
one file. Files of ids that left the catalog are removed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.core.prompts import ALL_PROMPTS, TONES  # noqa: E402 — needs ROOT on sys.path

VOICE_DIR = ROOT / "assets" / "voice"
TEXTS_DIR = VOICE_DIR / "texts"

#: Bump when the processing below changes: every file is rendered again.
PIPELINE = 2
RATE = 22050  # Hz; speech stays intelligible up to 11 kHz and the files stay small
QUALITY = -1  # Vorbis -q: the lowest, about 25 kbit/s for mono speech at this rate
TARGET_RMS_DB = -20.0  # speech loudness; the same for every language
PEAK_CAP_DB = -3.0  # headroom: a low-quality Vorbis decode overshoots by up to 3 dB
LEAD_IN, TAIL = 0.12, 0.15  # seconds of silence around each sentence

#: language → (engine, voice, words per minute for espeak-ng)
VOICES: dict[str, tuple[str, str, int]] = {
    "ja": ("openjtalk", "mei_normal", 0),
    "en": ("espeak-ng", "en-us", 150),
    "zh": ("espeak-ng", "cmn-latn-pinyin", 170),
    "ko": ("espeak-ng", "ko", 150),
    "pt": ("espeak-ng", "pt-br", 150),
    "vi": ("espeak-ng", "vi", 150),
}

#: The tones, as sox "synth" recipes: a list of (seconds, synth arguments) parts.
#: alarm: a loud European two-tone (B5/F#5 square, 4 cycles); chime: ding-dong.
TONE_PARTS: dict[str, list[tuple[float, list[str]]]] = {
    "alarm": [(0.3, ["square", "988"]), (0.3, ["square", "740"])] * 4,
    "chime": [(0.75, ["pluck", "659.25"]), (1.2, ["pluck", "523.25"])],
}
TONE_PEAK_DB = {"alarm": -6.0, "chime": -4.0}  # square waves overshoot when decoded


@dataclass(frozen=True)
class Job:
    key: str  # "ja/card_left" or "tones/alarm"
    out: Path
    stamp: str
    render: Callable[[Path, Path], None]  # (workdir, wav to write)
    level: Callable[[Path, Path, Path], None]  # (workdir, wav in, ogg out)


def sox(*args: str | Path) -> str:
    """Run sox in repeatable mode; return what it printed on stderr (stats)."""
    done = subprocess.run(["sox", "-R", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"sox {' '.join(map(str, args))}: {done.stderr.strip()}")
    return done.stderr


def stats(path: Path) -> dict[str, float]:
    out = sox(path, "-n", "stats")
    figures: dict[str, float] = {}
    for line in out.splitlines():
        match = re.match(r"(RMS lev dB|Pk lev dB|Length s)\s+(-?[\d.]+|-inf)", line)
        if match:
            figures[match[1]] = float(match[2])
    return figures


def check_tools() -> None:
    if shutil.which("sox") is None:
        raise SystemExit("sox is missing: apt-get install sox libsox-fmt-base")
    if "vorbis" not in subprocess.run(["sox", "-h"], capture_output=True, text=True).stdout:
        raise SystemExit("sox cannot write Ogg Vorbis: apt-get install libsox-fmt-base")


def engine_versions(languages: list[str]) -> dict[str, str]:
    versions: dict[str, str] = {}
    if any(VOICES[lang][0] == "openjtalk" for lang in languages):
        versions["pyopenjtalk-plus"] = importlib.metadata.version("pyopenjtalk-plus")
    if any(VOICES[lang][0] == "espeak-ng" for lang in languages):
        if shutil.which("espeak-ng") is None:
            raise SystemExit("espeak-ng is missing: apt-get install espeak-ng")
        first = subprocess.run(["espeak-ng", "--version"], capture_output=True,
                               text=True).stdout.split("Data at")[0]
        versions["espeak-ng"] = first.replace("eSpeak NG text-to-speech:", "").strip()
    versions["sox"] = subprocess.run(["sox", "--version"], capture_output=True,
                                     text=True).stdout.split("v")[-1].strip()
    return versions


# --------------------------------------------------------------------------- engines

def openjtalk(text: str) -> Callable[[Path, Path], None]:
    def render(work: Path, wav: Path) -> None:
        import numpy as np  # noqa: PLC0415 — comes with pyopenjtalk-plus
        import pyopenjtalk  # noqa: PLC0415 — only needed for Japanese

        samples, rate = pyopenjtalk.tts(text)
        pcm = np.clip(np.rint(samples), -32768, 32767).astype("<i2")
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(int(rate))
            w.writeframes(pcm.tobytes())
    return render


def espeak(text: str, voice: str, wpm: int) -> Callable[[Path, Path], None]:
    def render(work: Path, wav: Path) -> None:
        done = subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(wav),
                               "--", text], capture_output=True, text=True)
        if done.returncode != 0 or not wav.exists():
            raise SystemExit(f"espeak-ng -v {voice}: {done.stderr.strip()}")
    return render


def level_speech(work: Path, wav: Path, ogg: Path) -> None:
    """Trim, level (RMS target, peak cap), pad, encode."""
    trimmed = work / "trimmed.wav"
    sox(wav, "-c", "1", trimmed, "highpass", "70",
        "silence", "1", "0.02", "-48d", "reverse", "silence", "1", "0.02", "-48d", "reverse")
    s = stats(trimmed)
    gain = min(TARGET_RMS_DB - s["RMS lev dB"], PEAK_CAP_DB - s["Pk lev dB"])
    sox(trimmed, "-r", str(RATE), "-C", str(QUALITY), ogg,
        "gain", f"{gain:.2f}", "pad", str(LEAD_IN), str(TAIL))


def tone(name: str) -> Callable[[Path, Path], None]:
    def render(work: Path, wav: Path) -> None:
        parts = []
        for index, (seconds, synth) in enumerate(TONE_PARTS[name]):
            part = work / f"part{index}.wav"
            fade = "0.01" if name == "alarm" else "0.005"
            sox("-n", "-r", str(RATE), "-c", "1", "-b", "16", part,
                "synth", str(seconds), *synth, "lowpass", "5000",
                "fade", "q", fade, str(seconds), fade if name == "alarm" else "0.3")
            parts.append(part)
        sox(*parts, wav)
    return render


def level_tone(name: str) -> Callable[[Path, Path, Path], None]:
    def level(work: Path, wav: Path, ogg: Path) -> None:
        sox(wav, "-r", str(RATE), "-C", str(QUALITY), ogg, "norm", str(TONE_PEAK_DB[name]))
    return level


# --------------------------------------------------------------------------- catalog

def load_catalog(lang: str) -> dict[str, str]:
    path = TEXTS_DIR / f"{lang}.toml"
    texts = tomllib.loads(path.read_text(encoding="utf-8"))
    bad = [k for k, v in texts.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise SystemExit(f"{path}: not a sentence: {', '.join(sorted(bad))}")
    missing, extra = ALL_PROMPTS - texts.keys(), texts.keys() - ALL_PROMPTS
    if missing or extra:
        raise SystemExit(f"{path}: missing {sorted(missing)}, unknown {sorted(extra)}")
    return texts


def stamp(*parts: object) -> str:
    blob = json.dumps([PIPELINE, RATE, QUALITY, TARGET_RMS_DB, PEAK_CAP_DB, LEAD_IN, TAIL,
                       *parts], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def jobs(languages: list[str], only: set[str]) -> list[Job]:
    found: list[Job] = []
    for lang in languages:
        engine, voice, wpm = VOICES[lang]
        for prompt, text in sorted(load_catalog(lang).items()):
            if only and prompt not in only:
                continue
            render = openjtalk(text) if engine == "openjtalk" else espeak(text, voice, wpm)
            found.append(Job(f"{lang}/{prompt}", VOICE_DIR / lang / f"{prompt}.ogg",
                             stamp(engine, voice, wpm, text), render, level_speech))
    for name in sorted(TONES):
        if only and name not in only:
            continue
        found.append(Job(f"tones/{name}", VOICE_DIR / "tones" / f"{name}.ogg",
                         stamp(TONE_PARTS[name], TONE_PEAK_DB[name]), tone(name),
                         level_tone(name)))
    return found


def stale_files(languages: list[str]) -> list[Path]:
    keep = {f"{lang}/{p}" for lang in languages for p in ALL_PROMPTS}
    keep |= {f"tones/{t}" for t in TONES}
    found = []
    for folder in [*languages, "tones"]:
        for path in sorted((VOICE_DIR / folder).glob("*.ogg")):
            if f"{folder}/{path.stem}" not in keep:
                found.append(path)
    return found


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", nargs="*", choices=sorted(VOICES), default=sorted(VOICES))
    parser.add_argument("--only", nargs="*", default=[], help="prompt ids or tone names")
    parser.add_argument("--force", action="store_true", help="render even if up to date")
    parser.add_argument("--check", action="store_true",
                        help="render nothing; exit 1 if a file is missing or stale")
    args = parser.parse_args(argv)
    languages: list[str] = args.lang
    manifest_path = VOICE_DIR / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    files: dict[str, dict[str, object]] = manifest.get("files", {})

    todo = [j for j in jobs(languages, set(args.only))
            if args.force or not j.out.exists() or files.get(j.key, {}).get("stamp") != j.stamp]
    stale = stale_files(languages)
    if args.check:
        for job in todo:
            print(f"out of date: {job.key}", file=sys.stderr)
        for path in stale:
            print(f"not in any catalog: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if todo or stale else 0

    check_tools()
    for path in stale:
        path.unlink()
        files.pop(f"{path.parent.name}/{path.stem}", None)
        print(f"removed {path.relative_to(ROOT)}")
    with tempfile.TemporaryDirectory(prefix="render-voice-") as tmp:
        work = Path(tmp)
        for number, job in enumerate(todo, 1):
            job.out.parent.mkdir(parents=True, exist_ok=True)
            raw = work / "raw.wav"
            job.render(work, raw)
            job.level(work, raw, job.out)
            seconds = stats(job.out).get("Length s", 0.0)
            files[job.key] = {"stamp": job.stamp, "seconds": round(seconds, 2),
                              "bytes": job.out.stat().st_size}
            print(f"[{number}/{len(todo)}] {job.key}: {seconds:.2f} s, "
                  f"{job.out.stat().st_size} B")
            for leftover in work.iterdir():
                leftover.unlink()

    manifest = {
        "about": "written by scripts/render_voice.py; see docs/voice.md",
        "format": {"codec": "vorbis", "channels": 1, "rate": RATE, "quality": QUALITY},
        "voices": {lang: {"engine": VOICES[lang][0], "voice": VOICES[lang][1]}
                   for lang in sorted(VOICES)},
        "engines": {**manifest.get("engines", {}), **engine_versions(languages)},
        "files": dict(sorted(files.items())),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in VOICE_DIR.rglob("*.ogg"))
    print(f"rendered {len(todo)} file(s); assets/voice holds {total / 1024:.0f} kB of OGG")
    return 0


if __name__ == "__main__":
    sys.exit(main())
