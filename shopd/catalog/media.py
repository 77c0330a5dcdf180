"""Uploaded images: kept in the database, copied to each app server's disk on first use.

Behind nginx any app server may be asked for any image; an image written only to the disk of
the server that took the upload was a 404 on the others and in no backup. The database row is
the image; the file under ``media_dir`` is that server's copy, which the static files router
serves with its ETag, Last-Modified and a year's ``immutable`` caching (names are content
hashes, so a name never shows other bytes)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import MediaFile
from shopd.db import Database

# What add_image names files: products/<32 hex>.<kind>. Anything else is not looked up.
NAME = re.compile(r"products/[0-9a-f]{32}\.(?:png|jpeg|gif|webp)")


async def store(session: AsyncSession, name: str, data: bytes) -> None:
    """Keep the image in the database (once: the same bytes have the same name)."""
    if await session.get(MediaFile, name) is None:
        session.add(MediaFile(name=name, data=data))


def write_copy(media_dir: Path, name: str, data: bytes) -> None:
    """This server's copy, written whole or not at all (a reader never sees half a file)."""
    path = media_dir / name
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer: two workers copying the same image never share a file.
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(path)


async def ensure_copy(db: Database, media_dir: Path, name: str) -> bool:
    """Make sure this server has a copy of the image ``name``; False when no such image."""
    if (media_dir / name).is_file():
        return True
    if not NAME.fullmatch(name):
        return False
    async with db.read() as session:
        data = await session.scalar(select(MediaFile.data).where(MediaFile.name == name))
    if data is None:
        return False
    write_copy(media_dir, name, data)
    return True
