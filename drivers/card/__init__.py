"""My Number card (JPKI) over PC/SC: sans-IO codec, token profiles, reader flow, adapter.

* :mod:`drivers.card.apdu` — APDU builders and response parsers (no I/O).
* :mod:`drivers.card.profiles` — AIDs, file ids and algorithms per token, as data.
* :mod:`drivers.card.reader` — the flow above one raw exchange (``JpkiReaderBase``).
* :mod:`drivers.card.pcsc` — the pyscard adapter (``PcscCardReader``), imported
  only by the composition root so that nothing else pulls in pyscard.
"""
