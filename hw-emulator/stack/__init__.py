"""The whole emulated stack (``hw-emu up``), scenarios (``hw-emu run``) and the
operator panel (``hw-emu panel``). See ``docs/scenarios.md``."""

from hw_emulator.stack.stack import PIN, EmulatedStack, StackError

__all__ = ["PIN", "EmulatedStack", "StackError"]
