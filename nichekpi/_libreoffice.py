"""LibreOffice headless, as a real spreadsheet engine: recalculate, convert and render workbooks.

Used by the tests and the picture-making script, not by the product at run time.
LibreOffice keeps the cached values it finds in a file unless told otherwise, so the
conversions run with an isolated user profile set to always recalculate on load.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

INSTALL_HINT = "install LibreOffice to run it: apt-get install -y libreoffice-calc-nogui (Debian/Ubuntu)"

_ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """The LibreOffice program, or ``None`` when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(files: Sequence[Path], to: str, outdir: Path, *, timeout: float = 600) -> list[Path]:
    """Open ``files`` in LibreOffice, recalculate them, and save them as ``to`` (xlsx, html, pdf...)."""
    program = soffice()
    if program is None:
        raise RuntimeError(f"LibreOffice is not installed; {INSTALL_HINT}")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nichekpi-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_ALWAYS_RECALCULATE, encoding="utf-8")
        command = [
            program,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(outdir),
            *map(str, files),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    extension = to.split(":", 1)[0]
    outputs = [outdir / f"{Path(f).stem}.{extension}" for f in files]
    missing = [str(p) for p in outputs if not p.exists()]
    if result.returncode != 0 or missing:
        raise RuntimeError(f"LibreOffice could not convert {missing or files}: {result.stderr.strip()}")
    return outputs
