"""The catalog's TOML files, parsed in advance: ``data/parsed.json``, shipped with the package.

Parsing the built-in TOML files takes most of the start of ``nichekpi kpis`` and
``nichekpi score`` (about 40 ms with :mod:`tomllib`); reading that file takes about
2 ms. It is a cache that cannot give a different answer than parsing:

* it holds, for each data file, the exact text it was made from, and a file's
  parsed contents are taken from it only when the file holds that same text today,
  character for character (no hash to collide); any other text is parsed as before;
* the whole cache is checked against the CRC-32 written at its top before it is
  read; a cache that fails that check, cannot be read, or has another layout is
  ignored, and the files are parsed;
* it is only ever read, never written while nichekpi runs, so it works the same
  in a read-only installation, on a first run as on every other.

It is made by ``python -m nichekpi._datacache`` from the files in ``nichekpi/data``
(a test checks that the committed one is current). Dates, which JSON has no type for,
are written as text and listed under ``"dates"`` with their place, and turned back
on reading; a file whose contents do not come back exactly (same types, same
values, by ``repr``) is left out of the cache.
"""

from __future__ import annotations

import datetime as _dt
import json
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

NAME = "parsed.json"
"""The cache's file name, in the package's ``data`` folder."""

_HEAD = "nichekpi parsed data, layout 1, crc32 "
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


def build(texts: Mapping[str, str]) -> str:
    """The cache file for these data files' texts (names relative to ``data/``)."""
    import tomllib

    parsed = {name: tomllib.loads(text) for name, text in texts.items()}
    files = {}
    for name, text in texts.items():
        dates: list[list[Any]] = []
        files[name] = {"text": text, "data": _plain(parsed[name], [], dates), "dates": dates}
    again = json.loads(json.dumps({"files": files}, ensure_ascii=False))["files"]
    for name in texts:  # left out if it does not come back exactly: same types, values and order
        if repr(_restore(again[name]["data"], again[name]["dates"])) != repr(parsed[name]):
            del files[name]
    payload = json.dumps({"files": files}, ensure_ascii=False, indent=0)
    return f"{_HEAD}{zlib.crc32(payload.encode('utf-8')):08x}\n{payload}\n"


def read(content: str) -> dict[str, dict[str, Any]]:
    """The cache's entries by file name; none if the content is not a whole, intact cache.

    ``content`` is the file read as text, with Python's universal newlines, as the
    data files are read: a copy whose line ends became CRLF still checks.
    """
    head, _, payload = content.partition("\n")
    try:
        if not head.startswith(_HEAD) or int(head[len(_HEAD) :], 16) != zlib.crc32(payload[:-1].encode("utf-8")):
            return {}
        files = json.loads(payload)["files"]
        if isinstance(files, dict) and all(
            isinstance(e, dict) and isinstance(e.get("text"), str) and "data" in e and isinstance(e.get("dates"), list)
            for e in files.values()
        ):
            return files
    except (ValueError, TypeError, KeyError):  # not a number, not JSON, not our layout
        pass
    return {}


class Cache:
    """The parsed contents of the data files, for texts that are those the cache was made from."""

    def __init__(self, path: Path):
        self.path = path
        self._files: dict[str, dict[str, Any]] | None = None

    def parsed(self, name: str, text: str) -> dict[str, Any] | None:
        """The parsed contents of data file ``name`` if it holds ``text``; ``None`` if it must be parsed.

        Each entry is handed out once (the caller owns what it gets; a second call parses).
        """
        if self._files is None:
            try:
                self._files = read(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # no cache (a copy of the package without it), or not UTF-8: parse
                self._files = {}
        entry = self._files.get(name)
        if entry is None or entry["text"] != text:
            return None
        del self._files[name]
        try:
            return _restore(entry["data"], entry["dates"])
        except (ValueError, TypeError, KeyError, IndexError):  # a layout this version cannot read
            return None


def main() -> None:
    """Write ``data/parsed.json`` from the package's data files."""
    from nichekpi.catalog import cached_data_names, data_folder

    folder = data_folder()
    texts = {name: (folder / name).read_text(encoding="utf-8") for name in cached_data_names()}
    (folder / NAME).write_text(build(texts), encoding="utf-8", newline="\n")
    print(f"wrote {folder / NAME} ({len(texts)} files)")


if __name__ == "__main__":
    main()
