"""Read the newsletter aloud with an offline speech engine (espeak-ng's command line).

Optional: nothing else needs it. Without the engine, a ``SpeechError`` says how to install it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from localdigest.errors import ExitCode, LocaldigestError
from localdigest.fsutil import copy_atomically

ENGINES = ("espeak-ng", "espeak")
INSTALL_HINT = (
    "install espeak-ng (Debian/Ubuntu: `sudo apt-get install espeak-ng`; macOS: "
    "`brew install espeak-ng`; Fedora: `sudo dnf install espeak-ng`) or set "
    "LOCALDIGEST_SPEECH_ENGINE to its path"
)
TIMEOUT_S = 600


class SpeechError(LocaldigestError):
    """The speech engine is missing or failed (exit 2, like other set-up problems)."""

    exit_code = ExitCode.USAGE


def speech_text(markdown: str) -> str:
    """Markdown made into plain sentences a speech engine reads well."""
    text = markdown.replace("\r\n", "\n")
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)  # code blocks are not read
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)  # images: their alt text
    text = re.sub(r"\[([^\]]*)\]\((?:<[^>]*>|[^)]*)\)", r"\1", text)  # links: their label
    text = re.sub(r"<(?:https?|file)://[^>]*>", " ", text)  # autolinks
    text = re.sub(r"(?:https?|file)://\S+", " ", text)  # bare URLs
    text = re.sub(r"<[^>\n]+>", " ", text)  # inline HTML
    text = re.sub(r"\\([\\`*_\[\]<>#{}()+\-.!|])", r"\1", text)  # escapes
    lines = []
    for raw in text.split("\n"):
        line = re.sub(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", "", raw)
        line = re.sub(r"(\*\*|__|\*|_|`)", "", line).strip()
        line = line.replace(" · ", ", ")
        if re.fullmatch(r"[-*_=\s]*", line):
            lines.append("")  # a rule or an empty line ends a paragraph
            continue
        if raw.lstrip().startswith("#") or re.match(r"^\s*(?:[-*+]|\d+[.)])\s", raw):
            line = line if line.endswith((".", "!", "?", ":")) else line + "."
        lines.append(line)
    paragraphs = re.split(r"\n{2,}", "\n".join(lines).strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip()) + "\n"


def find_engine() -> str | None:
    """The speech engine's executable: ``LOCALDIGEST_SPEECH_ENGINE`` or espeak-ng/espeak."""
    configured = os.environ.get("LOCALDIGEST_SPEECH_ENGINE")
    if configured:
        return shutil.which(configured)
    for name in ENGINES:
        found = shutil.which(name)
        if found:
            return found
    return None


def synthesize(text: str, output: Path, *, voice: str | None = None) -> Path:
    """Speak ``text`` into a WAV file, written atomically; return its path."""
    engine = find_engine()
    if engine is None:
        raise SpeechError(f"No offline speech engine found for --audio — {INSTALL_HINT}")
    if not text.strip():
        raise SpeechError("There is nothing to read aloud")
    output = output.expanduser()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".speech-", dir=output.parent) as tmp:
        script = Path(tmp) / "speech.txt"
        script.write_text(text, encoding="utf-8")
        wav = Path(tmp) / "speech.wav"
        cmd = [engine, "-w", str(wav), "-f", str(script)]
        if voice:
            cmd[1:1] = ["-v", voice]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SpeechError(f"The speech engine {engine} could not run ({e})") from e
        if proc.returncode != 0 or not wav.is_file() or wav.stat().st_size == 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SpeechError(
                f"The speech engine {engine} failed (exit {proc.returncode}: {detail[0]}) — "
                "try it by hand: espeak-ng 'hello'"
            )
        copy_atomically(wav, output)  # renamed into place and checked, like every output
    return output
