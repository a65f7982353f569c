"""Content-addressed document storage under the data folder.

A document is stored once per content at ``<root>/<sha[:2]>/<sha>``, written to a temporary file
in the same folder and renamed into place, so a reader never sees half a file and two uploads of
the same PDF share it.  A file written by a transaction that is later rolled back stays on disk
unreferenced; it holds nothing a referenced row does not point to and can be swept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class DocumentStore:
    """PDFs of cases, by SHA-256 of their content."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the content with this hash lives."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store content (once) and return its SHA-256."""
        sha = hashlib.sha256(content).hexdigest()
        target = self.path(sha)
        if target.exists() and target.stat().st_size == len(content):
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha
