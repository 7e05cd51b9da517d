"""DOCX letters to PDF with LibreOffice headless (Debian's ``libreoffice-writer-nogui``).

Clerks keep their letters in Word; the citizen receives a PDF (it prints and archives the same
everywhere, and nobody edits it by accident). LibreOffice is the standard free route from
``.docx`` to PDF; it runs headless as ``soffice --convert-to pdf``.

Two facts of ``soffice`` shape this module:

* **A user profile is a lock.** A second ``soffice`` started with the profile of a running one
  does not convert by itself: it hands its command line to the running instance and exits. Two
  conversions in parallel on one profile clash, so every conversion holds a profile of its
  own: a small pool per process, private to that process (a new one after ``fork``).
* **The first start on a fresh profile costs about twice a later one** (LibreOffice fills the
  profile on first use: about 1.9 s against 1.0 s per letter on a small machine). Profiles are
  kept and reused for the life of the process, so only the first letter per parallel slot pays.

A letter that is not a DOCX, a LibreOffice that fails or hangs past the timeout, or a missing
``soffice`` raise `amtsbote.ApplicationError` (the letter is ours, not the citizen's: the item
keeps its place and is retried, never rejected for it). A hung ``soffice`` is killed with its
whole process group, and its profile is thrown away.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import weakref
import zipfile
from pathlib import Path

from amtsbote import ApplicationError

__all__ = ["DEFAULT_TIMEOUT", "SOFFICE", "LetterConverter", "to_pdf"]

SOFFICE = Path("/usr/bin/soffice")
"""Debian's LibreOffice launcher (package ``libreoffice-writer-nogui``)."""

DEFAULT_TIMEOUT = 60.0
"""Seconds one conversion may take before ``soffice`` is killed (a letter takes about 1 s)."""

# The Word 2007+ import filter by name: without it LibreOffice would open a broken file as plain
# text and turn it into a PDF of garbage instead of failing.
_DOCX_FILTER = "MS Word 2007 XML"


def _check_docx(docx: bytes) -> None:
    """A DOCX is a ZIP with ``word/document.xml``; anything else never reaches LibreOffice."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            broken = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ApplicationError(
            "Das Schreiben ist kein lesbares DOCX-Dokument.", code="letter-not-docx"
        ) from exc
    if broken is not None or "word/document.xml" not in names:
        raise ApplicationError(
            "Das Schreiben ist kein vollständiges DOCX-Dokument.", code="letter-not-docx"
        )


class LetterConverter:
    """Converts DOCX letters to PDF; thread-safe, one reusable LibreOffice profile per slot.

    Args:
        soffice: The LibreOffice launcher.
        timeout: Seconds one conversion may take.
    """

    def __init__(self, soffice: Path | str = SOFFICE, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.soffice = Path(soffice)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pid = -1
        self._base: Path | None = None
        self._idle: list[Path] = []
        self._made = 0

    def to_pdf(self, docx: bytes) -> bytes:
        """Convert one DOCX letter to PDF.

        Args:
            docx: The letter as rendered (e.g. by `render_dog_tax_notice`).

        Returns:
            The PDF bytes.

        Raises:
            ApplicationError: ``letter-not-docx`` (not a DOCX), ``soffice-missing``,
                ``letter-conversion-timeout`` or ``letter-conversion-failed``.
        """
        _check_docx(docx)
        if not os.access(self.soffice, os.X_OK):
            raise ApplicationError(
                f"LibreOffice ({self.soffice}) ist nicht installiert.", code="soffice-missing"
            )
        profile = self._take_profile()
        keep = False
        try:
            with tempfile.TemporaryDirectory(prefix="amtsbote-letter-") as work:
                source = Path(work) / "letter.docx"
                source.write_bytes(docx)
                self._run(profile, source)
                keep = True
                target = source.with_suffix(".pdf")
                pdf = target.read_bytes() if target.is_file() else b""
        finally:
            self._give_back(profile, keep=keep)
        if not pdf.startswith(b"%PDF-"):
            raise ApplicationError(
                "LibreOffice hat aus dem Schreiben kein PDF erzeugt.",
                code="letter-conversion-failed",
            )
        return pdf

    def close(self) -> None:
        """Remove this process's profiles (also done at interpreter exit)."""
        with self._lock:
            base, self._base, self._idle = self._base, None, []
        if base is not None and self._pid == os.getpid():
            shutil.rmtree(base, ignore_errors=True)

    def _run(self, profile: Path, source: Path) -> None:
        """Run ``soffice`` once; kill it with its process group after the timeout."""
        command = [
            str(self.soffice),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--norestore",
            "--nolockcheck",
            f"--infilter={_DOCX_FILTER}",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(source.parent),
            str(source),
        ]
        try:
            # A session of its own, so that a timeout kills soffice.bin too, not only the
            # launcher script in front of it.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=source.parent,
                start_new_session=True,
            )
        except OSError as exc:
            raise ApplicationError(
                f"LibreOffice ({self.soffice}) lässt sich nicht starten.",
                code="letter-conversion-failed",
            ) from exc
        try:
            process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self._kill(process)
            raise ApplicationError(
                f"LibreOffice hat das Schreiben nicht in {self.timeout:g} s umgewandelt.",
                code="letter-conversion-timeout",
            ) from None

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def _take_profile(self) -> Path:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child must not share its parent's profiles: a fresh pool.
                self._pid = os.getpid()
                self._base = Path(tempfile.mkdtemp(prefix="amtsbote-soffice-"))
                self._idle = []
                weakref.finalize(self, _remove_profiles, self._base, self._pid)
            if self._idle:
                return self._idle.pop()
            assert self._base is not None
            self._made += 1
            return self._base / f"profile-{self._made}"

    def _give_back(self, profile: Path, *, keep: bool) -> None:
        with self._lock:
            if keep and self._base is not None and profile.parent == self._base:
                self._idle.append(profile)
                return
        shutil.rmtree(profile, ignore_errors=True)


def _remove_profiles(base: Path, pid: int) -> None:
    # Only the process that made the profiles removes them (a forked child inherits this hook).
    if os.getpid() == pid:
        shutil.rmtree(base, ignore_errors=True)


_default = LetterConverter()


def to_pdf(docx: bytes) -> bytes:
    """Convert a DOCX letter to PDF with the process's shared `LetterConverter`.

    Args:
        docx: The letter as rendered (e.g. by `render_dog_tax_notice`).

    Returns:
        The PDF bytes.

    Raises:
        ApplicationError: ``letter-not-docx``, ``soffice-missing``,
            ``letter-conversion-timeout`` or ``letter-conversion-failed``.
    """
    return _default.to_pdf(docx)
