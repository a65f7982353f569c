"""The embedded broker: kombu's filesystem transport made safe for at-least-once delivery.

kombu's filesystem transport reads a message file and deletes it at once, so a worker whose
main process dies loses what it held, and a reader can see a file that is still being
written.  This subclass (a) writes each message to a temporary name and renames it into the
queue folder, so readers only ever see whole files, and (b) moves a message it hands out into
an *in-flight* folder owned by this process and deletes it only on ack or reject.  When a
process starts, in-flight folders of processes that no longer exist are put back on their
queues, so a SIGKILLed worker main process loses nothing (it may run a message twice; the
inbox absorbs that).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

ALIAS = "ecasefs"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Channel(filesystem.Channel):
    """Filesystem channel with atomic writes and durable in-flight messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inflight: dict[str, Path] = {}
        self._owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._recover_orphans()

    # --- folders ---------------------------------------------------------------------------
    @property
    def _queue_dir(self) -> Path:
        return Path(self.data_folder_in)

    @property
    def _inflight_root(self) -> Path:
        return self._queue_dir.parent / "inflight"

    @property
    def _my_inflight(self) -> Path:
        path = self._inflight_root / self._owner
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _recover_orphans(self) -> None:
        root = self._inflight_root
        if not root.exists():
            return
        host = socket.gethostname()
        for folder in root.iterdir():
            parts = folder.name.rsplit("-", 2)
            if len(parts) != 3 or parts[0] != host:
                continue
            pid_text = parts[1]
            if not (pid_text.isascii() and pid_text.isdigit()) or _pid_alive(int(pid_text)):
                continue
            for msg in folder.glob("*.msg"):
                try:
                    os.replace(msg, self._queue_dir / msg.name)
                except FileNotFoundError:
                    continue
            with contextlib.suppress(OSError):
                folder.rmdir()

    # --- messages --------------------------------------------------------------------------
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{time.time_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        tmp_dir = self._queue_dir.parent / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / name
        with open(tmp, "wb", buffering=0) as f:
            f.write(str_to_bytes(dumps(payload)))
            os.fsync(f.fileno())
        os.replace(tmp, self._queue_dir / name)

    def _get(self, queue: str) -> Any:
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self._queue_dir)):
            if name.partition(".")[2] != wanted:
                continue
            target = self._my_inflight / name
            try:
                os.replace(self._queue_dir / name, target)
            except FileNotFoundError:
                continue  # another consumer took it first
            payload = loads(bytes_to_str(target.read_bytes()))
            tag = payload.get("properties", {}).get("delivery_tag")
            if tag is not None:
                self._inflight[tag] = target
            else:
                target.unlink(missing_ok=True)
            return payload
        raise filesystem.Empty()

    def _forget(self, delivery_tag: str) -> None:
        path = self._inflight.pop(delivery_tag, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue=requeue)
        self._forget(delivery_tag)

    def close(self) -> None:
        # A graceful close restores unacked messages to their queues (kombu), after which
        # our in-flight copies are redundant.
        super().close()
        for tag in list(self._inflight):
            self._forget(tag)

    def _size(self, queue: str) -> int:
        wanted = f"{queue}.msg"
        return sum(1 for n in os.listdir(self._queue_dir) if n.partition(".")[2] == wanted)


class Transport(filesystem.Transport):
    """Filesystem transport using the durable channel above."""

    Channel = Channel


TRANSPORT_ALIASES[ALIAS] = "shared.fsbroker:Transport"
