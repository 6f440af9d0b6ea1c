"""The index's writer lock (`.lessons/lock`): one writer at a time; readers only look whether one is at work."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import IndexFolderBlocked, IndexLocked


def check_index_folder(folder: Path) -> None:
    """Refuse, naming the path and the fix, a file where the index folder must be or a folder where its lock file must be."""
    for path in (folder, folder / "index"):
        if path.exists() and not path.is_dir():
            raise IndexFolderBlocked(
                f"{path} is a file, but lessons keeps its index there in a folder: move or delete it, then run the command again"
            )
    if (folder / "lock").is_dir():
        raise IndexFolderBlocked(
            f"{folder / 'lock'} is a folder, but it must be the index's lock file: remove it, then run the command again"
        )


@contextmanager
def writer_lock(folder: Path, wait: float = 10.0, command: str = "lessons index") -> Iterator[None]:
    """Hold the index's writer lock; wait up to `wait` seconds, then say who holds it."""
    import fcntl

    check_index_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "lock"
    handle = open(path, "a+", encoding="utf-8")  # held open for the whole block
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"the index is being written by another process ({_holder(path)}); "
                        "wait for it to finish, or try again with a longer --wait"
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "command": command, "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock; the kernel also releases it if the process dies


def writer_active(folder: Path) -> str | None:
    """Who is writing the index now ('pid ..., command, since ...'), or None. Never waits."""
    import fcntl

    try:
        handle = open(folder / "lock", encoding="utf-8")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)  # fails only while a writer holds it exclusively
        except BlockingIOError:
            return _holder(folder / "lock")
        except OSError:
            return None
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']}, '{info['command']}', since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
