"""One adapter per device, sans-IO protocol codecs, and shipped fakes."""
