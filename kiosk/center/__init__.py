"""The issuance-center side of the kiosk: the port, the HTTPS client, document checks."""
