"""The virtual My Number card: sans-IO card logic, state on disk, vpcd process, stack.

* :mod:`hw_emulator.card.card` — ``VirtualCard``: APDU in, response out.
* :mod:`hw_emulator.card.layout` — the JPKI-AP file map, PIN rules, the assumptions list.
* :mod:`hw_emulator.card.state` — profiles, ``make_card``/``load_card``, counters on disk.
* :mod:`hw_emulator.card.inprocess` — ``InProcessCardReader`` for fast tests.
* :mod:`hw_emulator.card.vpcd` — the card process behind pcscd's vpcd reader.
* :mod:`hw_emulator.card.stack` — start pcscd + vpcd + card process, ``present``/``remove``.
* :mod:`hw_emulator.card.cli` — ``hw-emu card make|run|ctl``.
"""
