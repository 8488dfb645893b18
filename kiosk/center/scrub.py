"""Overwrite document bytes before the interpreter frees them.

Freeing memory does not clear it: a page's bytes stay in the process until the
allocator hands the block out again, and the kiosk promises that no certificate
outlives the transaction (docs/architecture.md, "Wipe and what memory keeps").
The center client therefore keeps documents in ``bytearray`` buffers that it
zeroes, and where the standard library insists on returning an immutable
``bytes`` (``base64`` decoding) it copies the result into a buffer and burns the
``bytes`` object at once, while it is certain nobody else holds it.
"""

from __future__ import annotations

import ctypes
import sys

#: Where a ``bytes`` object's payload starts (``PyBytesObject.ob_sval``): the size of
#: an empty ``bytes`` less its terminating NUL.
_BYTES_PAYLOAD = sys.getsizeof(b"") - 1
#: References to the argument inside :func:`burn` when only its caller holds it:
#: the caller's name, the parameter and ``getrefcount``'s own argument.
_ONLY_THE_CALLER = 3


def zero(buffer: bytearray) -> None:
    """Overwrite a buffer in place (its size stays, so views of it stay valid)."""
    buffer[:] = bytes(len(buffer))


def burn(data: bytes) -> bool:
    """Overwrite the payload of a ``bytes`` object the caller is about to drop.

    CPython only (the layout of ``PyBytesObject``). Refuses, returning False, unless
    the caller holds the only reference: overwriting a ``bytes`` someone else still
    uses (an interned one, a cached single byte) would corrupt it. The caller must
    drop the object right after; it must never be used again.
    """
    if type(data) is not bytes or len(data) < 2 or sys.implementation.name != "cpython":
        return False
    if sys.getrefcount(data) > _ONLY_THE_CALLER:
        return False
    ctypes.memset(id(data) + _BYTES_PAYLOAD, 0, len(data))
    return True
