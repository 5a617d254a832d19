"""The one way to read a file we did not write (a session file, an import): only a regular file,
only up to a size limit, never blocking, and every failure a sentence for the user.

A named pipe would block `open()` until someone writes to it, a device may have side effects, and
a directory or a file that is too big fails in ways a caller would otherwise have to list. The
file is checked with `stat` before it is opened and again (with `fstat`) after, so swapping it for
a pipe in between does not help; it is opened with O_NONBLOCK and O_NOCTTY all the same.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_SIZE = 1 << 20


class FileUnreadable(Exception):
    """The file cannot be read; `str()` says why, in words for the user ("is a directory")."""


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """The bytes of `path` when it is a regular file of at most `limit` bytes."""
    try:
        _check(os.stat(path), limit)
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise FileUnreadable(_reason(exc)) from None
    try:
        _check(os.fstat(fd), limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_READ_SIZE, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileUnreadable(_too_large(limit))
        return b"".join(chunks)
    except OSError as exc:
        raise FileUnreadable(_reason(exc)) from None
    except MemoryError:
        raise FileUnreadable("is too large to read into memory") from None
    finally:
        os.close(fd)


def _check(info: os.stat_result, limit: int) -> None:
    kind = _kind(info.st_mode)
    if kind is not None:
        raise FileUnreadable(f"is {kind}, not a regular file")
    if info.st_size > limit:
        raise FileUnreadable(_too_large(limit))


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def _too_large(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"is larger than {limit // (1024 * 1024)} MB"
    return f"is larger than {limit:,} bytes"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied"
    if exc.errno == errno.EISDIR:
        return "is a directory, not a regular file"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link loop"
    return f"cannot be read: {exc.strerror or exc}"


__all__ = ["FileUnreadable", "read_regular_file"]
