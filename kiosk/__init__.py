"""Kiosk firmware for the convenience-store certificate service (コンビニ交付)."""
