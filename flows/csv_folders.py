"""Where the export writes each merchant's files (spec 10.3): always one folder directly under
DIR, one merchant per folder, whatever the stored reference holds.

A reference that obeys spec 3 (1..64 characters of A-Z a-z 0-9 . _ -, not starting or ending
with "-" or ".", no "--") is its own folder name. Any other reference (stored before spec 3
restricted them: an absolute path, `../x`, `M/`, `.`, an empty or blank one, unicode, …) gets
`@` followed by its UTF-8 bytes percent-encoded (all but A-Z a-z 0-9 . _ -): `M/` → `@M%2F`,
`../x` → `@..%2Fx`, `` → `@`. `@` never occurs in a plain reference, so such a folder cannot be
a plain merchant's; the encoding is one-to-one, so two odd references never share one. An
encoded name longer than 100 characters keeps its first 78 and ends with `~` and 20 hex
characters of the reference's SHA-256 (file names have a length limit).

Defence in depth: each folder must resolve to a direct child of DIR (a symbolic link that leads
elsewhere is refused), a file is opened without following a symbolic link, and two merchants
whose folders turn out to be the same directory (a case-insensitive file system: `M` and `m`)
are refused rather than mixed."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import IO

from domain.references import merchant_reference_problem

SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
MARK = "@"
LONGEST, KEPT, HASHED = 100, 78, 20


class ExportError(Exception):
    """The export cannot go on; nothing more is written. The message names what and where."""


def plain_reference(reference: str) -> bool:
    """Spec 3's merchant reference rule (domain/references.py)."""
    return merchant_reference_problem(reference) is None


def folder_name(reference: str) -> str:
    if plain_reference(reference):
        return reference
    encoded = "".join(
        chr(byte) if byte in SAFE_BYTES else f"%{byte:02X}"
        for byte in reference.encode("utf-8", "surrogatepass")
    )
    if len(encoded) + len(MARK) <= LONGEST:
        return MARK + encoded
    digest = hashlib.sha256(reference.encode("utf-8", "surrogatepass")).hexdigest()[:HASHED]
    return f"{MARK}{encoded[:KEPT]}~{digest}"


class MerchantFolders:
    """Each merchant's folder under one existing directory, made and checked once."""

    def __init__(self, out: Path):
        self.out = out
        self.root = out.resolve(strict=True)
        self._folders: dict[str, Path] = {}
        self._owners: dict[tuple[int, int], str] = {}

    def folder(self, merchant: str) -> Path:
        known = self._folders.get(merchant)
        if known is not None:
            return known
        path = self.root / folder_name(merchant)
        with contextlib.suppress(FileExistsError):
            path.mkdir()
        if path.is_symlink() or not path.is_dir() or path.resolve().parent != self.root:
            raise ExportError(
                f"{path}: not a folder of its own inside {self.out} (a symbolic link leading "
                f"outside it, or a file); merchant {merchant!r} was not exported"
            )
        status = path.stat()
        owner = self._owners.setdefault((status.st_dev, status.st_ino), merchant)
        if owner != merchant:
            raise ExportError(
                f"merchants {owner!r} and {merchant!r} would share the folder {path} "
                "(a case-insensitive file system?); nothing of the second was written"
            )
        self._folders[merchant] = path
        return path

    def folders(self) -> dict[str, Path]:
        """Every merchant's folder made so far."""
        return dict(self._folders)

    def open(self, merchant: str, file_name: str, *, append: bool = False) -> IO[str]:
        """A merchant's file for writing, never through a symbolic link."""
        path = self.folder(merchant) / file_name
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        flags |= os.O_APPEND if append else os.O_TRUNC
        try:
            descriptor = os.open(path, flags, 0o666)
        except OSError as error:
            if path.is_symlink():
                raise ExportError(f"{path}: a symbolic link; not written through") from None
            raise ExportError(f"{path}: cannot write: {error.strerror}") from None
        return os.fdopen(descriptor, "w", newline="", encoding="utf-8")
