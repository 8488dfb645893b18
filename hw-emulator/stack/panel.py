"""The operator panel: the emulated devices on a page served on loopback.

``hw-emu up`` serves it on http://127.0.0.1:8070/ (``--panel-port``), or
``hw-emu panel`` for a stack that is already up. Server-rendered HTML, standard
library only; a little JavaScript polls ``/status.json`` once a second to refresh
the coin box, the tray's thumbnails and the wire logs, and posts the forms so the
page does not reload. Without JavaScript every form still works (POST, then a
redirect back to the page).

Routes: ``GET /`` the page; ``GET /status.json`` the stack's status and wire
logs; ``GET /page/<seq>/<n>.png`` a printed page from the tray (only pages the
tray lists); ``POST /action`` with ``op`` and its fields (the control ops of
:meth:`EmulatedStack.call`: present, remove, coin, take, fault, clear, clock).
"""

from __future__ import annotations

import contextlib
import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from hw_emulator.stack.control import StackClient, stack_is_up
from hw_emulator.stack.scenario import StackPort
from hw_emulator.stack.stack import StackError

WIRES = ("card", "coins", "printer", "center")
COINS = (10, 50, 100, 500)

_SCRIPT = """
async function refresh() {
  try {
    const r = await fetch('/status.json'); const s = await r.json();
    document.getElementById('status').innerHTML = s.html.status;
    document.getElementById('tray').innerHTML = s.html.tray;
    document.getElementById('registrations').innerHTML = s.html.registrations;
    for (const d of Object.keys(s.wire)) {
      const el = document.getElementById('wire-' + d);
      if (el) { el.textContent = s.wire[d].join('\\n'); el.scrollTop = el.scrollHeight; }
    }
  } catch (e) {}
}
document.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = new URLSearchParams(new FormData(ev.target, ev.submitter));
  const r = await fetch('/action', {method: 'POST', body, headers: {'Accept': 'application/json'}});
  const j = await r.json();
  document.getElementById('last').textContent = j.ok ? 'ok: ' + JSON.stringify(j.result)
                                                      : 'error: ' + j.error;
  refresh();
});
setInterval(refresh, 1000); refresh();
"""

_STYLE = """
body{font-family:sans-serif;margin:1em;background:#f4f4f4}
section{background:#fff;border-radius:8px;padding:.6em 1em;margin:.6em 0}
h1{font-size:1.3em} h2{font-size:1.05em;margin:.2em 0}
button{font-size:1em;padding:.4em .9em;margin:.15em}
pre{background:#111;color:#9f9;font-size:.75em;height:10em;overflow:auto;padding:.4em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(22em,1fr));gap:.6em}
img.page{width:120px;border:1px solid #888;margin:.2em}
#last{color:#036}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _options(values: list[str], selected: str = "") -> str:
    return "".join(f'<option{" selected" if v == selected else ""}>{_e(v)}</option>'
                   for v in values)


def status_html(s: dict[str, Any]) -> str:
    card = s["card"]
    coins = s["coins"]
    hoppers = ", ".join(f"hopper {a}: {h.get('level', '?')} coins"
                        for a, h in (coins.get("hoppers") or {}).items())
    return (f"<p>Card: <b>{_e(card['resident'])}</b> ({_e(card['profile'])}), "
            f"{'on the reader' if card['present'] else 'not on the reader'}</p>"
            f"<p>Coin box: <b>{_e(coins['coin_box_yen'])} yen</b>; paid out "
            f"{_e(coins['paid_out_yen'])} yen; slot {'open' if coins['slot_open'] else 'closed'}"
            f"; {_e(hoppers)}</p>"
            f"<p>Printer fault: {_e(s['printer']['fault'].get('fault', 'none'))}; "
            f"center clock {_e(s['center']['clock'])}; center faults: "
            f"{_e(', '.join(s['center']['faults']) or 'none')}</p>")


def tray_html(s: dict[str, Any]) -> str:
    printouts = s["printer"]["printouts"]
    if not printouts:
        return "<p>The tray is empty.</p>"
    parts = []
    for p in printouts:
        imgs = "".join(f'<img class="page" alt="page {pg["number"]}" '
                       f'src="/page/{p["seq"]}/{pg["number"]}.png">' for pg in p["pages"])
        parts.append(f"<div>printout {p['seq']} (job {p['job_id']}, {_e(p['outcome'])}"
                     f"{', fault ' + _e(p['fault']) if p['fault'] else ''}): {imgs}</div>")
    return "".join(parts)


def registrations_html(s: dict[str, Any]) -> str:
    filed = s["center"].get("registrations", [])
    if not filed:
        return "<p>No koseki use-registration filed.</p>"
    rows = []
    for r in filed:
        buttons = ""
        if r["status"] == "pending":
            buttons = (f'<form method="post" action="/action" style="display:inline">'
                       f'<input type="hidden" name="op" value="decide">'
                       f'<input type="hidden" name="number" value="{_e(r["number"])}">'
                       f'<button name="decision" value="approve">approve</button>'
                       f'<button name="decision" value="reject">reject</button></form>')
        rows.append(f"<div>{_e(r['number'])} ({_e(r['municipality'])}): "
                    f"<b>{_e(r['status'])}</b> {buttons}</div>")
    return "".join(rows)


def page_html(s: dict[str, Any]) -> str:
    faults = s["faults"]
    fault_forms = "".join(
        f'<form method="post" action="/action"><input type="hidden" name="op" value="fault">'
        f'<input type="hidden" name="device" value="{d}"><b>{d}</b> '
        f'<select name="name">{_options(faults[d])}</select>'
        + (' page <input name="page" size="2" value="1"> give up after '
           '<input name="give_up" size="2" value="2"> s' if d == "printer" else "")
        + '<button>inject</button><button name="op" value="clear">clear</button></form>'
        for d in ("card", "coins", "printer", "center"))
    coin_buttons = "".join(f'<button name="value" value="{v}">{v} yen</button>' for v in COINS)
    wires = "".join(f'<div><h2>{d} wire log</h2><pre id="wire-{d}"></pre></div>' for d in WIRES)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>hw-emu operator panel</title><style>{_STYLE}</style></head><body>
<h1>Emulated kiosk hardware — operator panel (TEST ONLY, fictional residents)</h1>
<p id="last"></p>
<section id="status">{status_html(s)}</section>
<div class="grid">
<section><h2>Card reader</h2>
<form method="post" action="/action"><input type="hidden" name="op" value="present">
resident <select name="resident">{_options(s['residents'], s['card']['resident'] or '')}</select>
profile <select name="profile">{_options(s['profiles'], s['card']['profile'] or '')}</select>
<button>tap card</button></form>
<form method="post" action="/action"><input type="hidden" name="op" value="remove">
<button>remove card</button></form></section>
<section><h2>Coins</h2><form method="post" action="/action">
<input type="hidden" name="op" value="coin">{coin_buttons}</form></section>
<section><h2>Faults</h2>{fault_forms}
<form method="post" action="/action"><input type="hidden" name="op" value="clock">
center clock <input name="now" size="22" placeholder="2026-11-24T10:00"><button>set</button>
</form></section>
<section><h2>Koseki use-registrations (the domicile decides)</h2>
<div id="registrations">{registrations_html(s)}</div></section>
</div>
<section><h2>Output tray</h2><div id="tray">{tray_html(s)}</div>
<form method="post" action="/action"><input type="hidden" name="op" value="take">
<button>take the printout</button></form></section>
<div class="grid">{wires}</div>
<script>{_SCRIPT}</script></body></html>"""


def _action(stack: StackPort, form: dict[str, str]) -> Any:
    op = form.get("op", "")
    if op == "present":
        return stack.call("present", resident=form.get("resident", "taro"),
                          profile=form.get("profile", "default"))
    if op == "remove":
        return stack.call("remove")
    if op == "coin":
        return stack.call("coin", value=int(form["value"]))
    if op == "take":
        return stack.call("take")
    if op == "fault":
        params: dict[str, Any] = {}
        if form.get("device") == "printer":
            if form.get("page"):
                params["page"] = int(form["page"])
            if form.get("give_up"):
                params["give_up"] = float(form["give_up"])
        return stack.call("fault", device=form["device"], name=form["name"], **params)
    if op == "clear":
        return stack.call("clear", device=form.get("device", "all"))
    if op == "clock":
        return stack.call("clock", now=form.get("now") or None)
    if op == "decide":
        return stack.call("decide", decision=form.get("decision", ""),
                          number=form.get("number") or None)
    raise StackError(f"unknown action {op!r}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        stack = self.server.stack
        try:
            if self.path == "/":
                self._send(200, page_html(stack.call("status")).encode(),
                           "text/html; charset=utf-8")
            elif self.path == "/status.json":
                s = stack.call("status")
                wire = {d: stack.call("wire", device=d, lines=30) for d in WIRES}
                body = {"status": s, "wire": wire,
                        "html": {"status": status_html(s), "tray": tray_html(s),
                                 "registrations": registrations_html(s)}}
                self._send(200, json.dumps(body, ensure_ascii=False).encode(),
                           "application/json")
            elif self.path.startswith("/page/"):
                self._page(stack)
            else:
                self._send(404, b"not found", "text/plain")
        except (StackError, OSError, ValueError) as exc:
            self._send(500, str(exc).encode(), "text/plain")

    def _page(self, stack: StackPort) -> None:
        try:
            seq, name = self.path.split("/")[2:4]
            number = int(name.removesuffix(".png"))
        except ValueError:
            self._send(404, b"not found", "text/plain")
            return
        for p in stack.call("printouts"):
            if str(p["seq"]) == seq:
                for pg in p["pages"]:
                    if pg["number"] == number and Path(pg["png"]).exists():
                        self._send(200, Path(pg["png"]).read_bytes(), "image/png")
                        return
        self._send(404, b"no such page in the tray", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 64 * 1024)).decode("utf-8", "replace")
        form = {k: v[-1] for k, v in parse_qs(raw).items()}
        try:
            reply = {"ok": True, "result": _action(self.server.stack, form)}
        except (StackError, KeyError, ValueError, OSError) as exc:
            reply = {"ok": False, "error": str(exc)}
        if "application/json" in self.headers.get("Accept", ""):
            self._send(200 if reply["ok"] else 400,
                       json.dumps(reply, ensure_ascii=False).encode(), "application/json")
        else:
            self.send_response(303)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, stack: StackPort) -> None:
        self.stack = stack
        super().__init__(("127.0.0.1", port), _Handler)


class PanelServer:
    """The panel on 127.0.0.1 (``port=0``: any free port); ``stop()`` ends it."""

    def __init__(self, stack: StackPort, port: int = 0) -> None:
        self.stack = stack
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> PanelServer:
        self._server = _Server(self.port, self.stack)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2}, name="panel",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> PanelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_panel(state: Path, port: int) -> int:
    """``hw-emu panel``: the panel for the stack of ``hw-emu up`` in ``state``."""
    control = state / "control.sock"
    if not stack_is_up(control):
        print(f"hw-emu panel: no stack is up in {state} (start one with `hw-emu up`)")
        return 1
    stop = threading.Event()
    with StackClient(control) as client, PanelServer(_Locked(client), port) as panel:
        print(f"hw-emu panel: {panel.url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


class _Locked:
    """One control connection shared by the panel's request threads."""

    def __init__(self, client: StackClient) -> None:
        self.client = client

    def call(self, op: str, **args: Any) -> Any:
        return self.client.call(op, **args)
