"""The catalog's TOML files, parsed in advance: ``data/parsed.cache``, shipped with the package.

Parsing the built-in TOML files took most of the start of ``nichekpi kpis`` and
``nichekpi score`` (about 40 ms with :mod:`tomllib` on our build machine); reading
their parsed contents from this file takes about 2 ms. It is a cache that cannot give
another answer than parsing:

* it holds, for each data file, the exact text it was made from, and a file's
  parsed contents are taken from it only when the file holds that same text today,
  byte for byte (no hash that could collide); any other text is parsed as before;
* the whole cache is checked against the CRC-32 written at its top before anything
  in it is used; a cache that fails that check, cannot be read, or has another
  layout is ignored, and the files are parsed;
* it is only ever read, never written while nichekpi runs, so it works the same
  in a read-only installation, and on a first run as on every other.

It is made by ``python -m nichekpi._datacache`` from the files in ``nichekpi/data``
(a test checks that the committed one is current).

The layout: a first line naming the layout and the CRC-32 of the rest; a line of
JSON, the index, giving for each file where its text and its parsed contents (JSON)
start in the body and how many bytes they take; then the body, those texts and
JSON values one after the other. Only the files asked for are decoded. Dates, which
JSON has no type for, are written as text and listed in the index with their place,
and turned back on reading; a file whose contents do not come back exactly (same
types, values and order, by ``repr``) is left out of the cache. Line ends turned
into CRLF (a Windows checkout) are turned back before the check, as Python reads the
TOML files themselves.
"""

from __future__ import annotations

import datetime as _dt
import json
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

NAME = "parsed.cache"
"""The cache's file name, in the package's ``data`` folder."""

_HEAD = b"nichekpi parsed data, layout 2, crc32 "
_TYPES = {"date": _dt.date, "datetime": _dt.datetime, "time": _dt.time}


def _plain(value: Any, path: list[str | int], dates: list[list[Any]]) -> Any:
    """``value`` with each date, datetime or time as its ISO text, whose place is added to ``dates``."""
    if isinstance(value, dict):
        return {key: _plain(item, [*path, key], dates) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, [*path, index], dates) for index, item in enumerate(value)]
    if isinstance(value, (_dt.date, _dt.time)):  # a datetime is a date too
        dates.append([path, "datetime" if isinstance(value, _dt.datetime) else type(value).__name__])
        return value.isoformat()
    return value


def _restore(data: Any, dates: Iterable[list[Any]]) -> Any:
    for path, kind in dates:
        holder = data
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = _TYPES[kind].fromisoformat(holder[path[-1]])
    return data


def build(texts: Mapping[str, str]) -> bytes:
    """The cache file for these data files' texts (names relative to ``data/``)."""
    import tomllib

    index: dict[str, dict[str, Any]] = {}
    body = bytearray()
    for name, text in texts.items():
        parsed = tomllib.loads(text)
        dates: list[list[Any]] = []
        data = json.dumps(_plain(parsed, [], dates), ensure_ascii=False).encode("utf-8")
        if repr(_restore(json.loads(data), dates)) != repr(parsed):  # left out: it would not come back exactly
            continue
        raw = text.encode("utf-8")
        index[name] = {"text": [len(body), len(raw)], "data": [len(body) + len(raw), len(data)], "dates": dates}
        body += raw + data
    rest = json.dumps(index, ensure_ascii=False).encode("utf-8") + b"\n" + bytes(body)
    return _HEAD + f"{zlib.crc32(rest):08x}".encode("ascii") + b"\n" + rest


class Cache:
    """The parsed contents of the data files, for texts that are those the cache was made from."""

    def __init__(self, path: Path):
        self.path = path
        self._index: dict[str, Any] | None = None
        self._body = b""

    def _read(self) -> None:
        self._index = {}
        try:
            content = self.path.read_bytes()
        except OSError:  # no cache (a copy of the package without it): every file is parsed
            return
        head, _, rest = content.partition(b"\n")
        head = head.removesuffix(b"\r")
        try:
            crc = int(head.removeprefix(_HEAD), 16) if head.startswith(_HEAD) else None
        except ValueError:
            crc = None
        if crc is not None and zlib.crc32(rest) != crc:
            rest = rest.replace(b"\r\n", b"\n")  # a checkout that turned the line ends to CRLF
        if crc is None or zlib.crc32(rest) != crc:
            return
        line, _, self._body = rest.partition(b"\n")
        try:
            index = json.loads(line)
        except ValueError:
            return
        if isinstance(index, dict):
            self._index = index

    def parsed(self, name: str, text: str) -> dict[str, Any] | None:
        """The parsed contents of data file ``name`` if it holds ``text``; ``None`` if it must be parsed.

        Each entry is handed out once (the caller owns what it gets; a second call parses).
        """
        if self._index is None:
            self._read()
        entry = self._index.pop(name, None)  # type: ignore[union-attr]
        try:
            (text_at, text_size), (data_at, data_size) = entry["text"], entry["data"]  # type: ignore[index]
            if self._body[text_at : text_at + text_size] != text.encode("utf-8"):
                return None
            data = json.loads(self._body[data_at : data_at + data_size].decode("utf-8"))
            return _restore(data, entry["dates"])  # type: ignore[index]
        except (TypeError, ValueError, KeyError, IndexError):  # no entry, or a layout this version cannot read
            return None


def main() -> None:
    """Write ``data/parsed.cache`` from the package's data files."""
    from nichekpi.catalog import cached_data_names, data_folder

    folder = data_folder()
    texts = {name: (folder / name).read_text(encoding="utf-8") for name in cached_data_names()}
    (folder / NAME).write_bytes(build(texts))
    print(f"wrote {folder / NAME}")


if __name__ == "__main__":
    main()
