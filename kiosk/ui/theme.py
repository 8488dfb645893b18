"""Layout and colour rules every screen shares.

Everything is laid out on a 1024×600 *logical* canvas and scaled to the real panel,
so a screen is designed once. The touch-target minimum comes from the panel we
design for:

* **Assumption:** a 10.1-inch 16:10-ish panel at 1024×600 shows about 222 mm × 130 mm,
  i.e. **≈ 0.217 mm per logical pixel**. A 15 mm target therefore needs
  15 / 0.217 ≈ 69.1 → **70 logical pixels** in both directions.
  A bigger panel makes targets bigger, never smaller, because the canvas is scaled.

Colours are chosen for contrast (WCAG AA or better for every text/background pair):
dark text on white, white text on deep blue or deep red, black on signal yellow.
"""

from __future__ import annotations

LOGICAL_W = 1024
LOGICAL_H = 600

MM_PER_PX = 0.217  # 10.1" panel at 1024×600, see the module docstring
MIN_TARGET_MM = 15.0
MIN_TARGET_PX = 70  # ceil(15 / 0.217) rounded to a tidy number

# Text sizes in logical pixels (the em size). Large-text mode multiplies them.
TITLE = 34
BODY = 28
BUTTON = 28
SMALL = 24
BIG = 56
HUGE = 80
LARGE_TEXT_FACTOR = 1.25
#: How far a string may be shrunk to fit its box before it counts as overflowing.
MIN_SHRINK = 0.72

# Colours (RGB)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
INK = (17, 17, 17)
MUTED = (60, 60, 60)
BACKGROUND = (255, 255, 255)
PANEL = (238, 242, 247)
HEADER = (0, 51, 128)
PRIMARY = (0, 70, 173)
PRIMARY_INK = WHITE
SECONDARY = WHITE
SECONDARY_INK = (0, 40, 100)
DANGER = (176, 0, 32)
DANGER_INK = WHITE
#: a chosen choice: a pale blue fill, dark blue ink and a thick blue edge with a check
#: mark — never the solid blue of the main action, so "chosen" and "press to go on"
#: cannot be mistaken for each other
SELECTED = (214, 232, 255)
SELECTED_INK = (0, 40, 100)
SELECTED_EDGE = (0, 70, 173)
#: the room the check mark takes at a selected button's left
CHECK_W = 34
PRESSED = (0, 24, 64)  # a button under the finger, whatever its style
DISABLED = (214, 214, 214)
DISABLED_INK = (70, 70, 70)
WARNING = (255, 212, 0)
WARNING_INK = BLACK
ALERT = (176, 0, 32)
OVERLAY_DIM = (0, 0, 0, 170)
BORDER = (0, 40, 100)

# Regions of the canvas (x, y, w, h)
HEADER_RECT = (0, 0, LOGICAL_W, 84)
CONTENT_TOP = 96
FOOTER_TOP = 514
FOOTER_H = 78
MARGIN = 20

#: While a left-behind alarm flashes, the screen alternates at most this often (Hz).
FLASH_HZ = 2.0
