"""Device emulators behind the real seams, and the issuance-center emulator."""
