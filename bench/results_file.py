"""How a benchmark writes its results file: the generated part is replaced on every run, and
what people wrote below the NOTES line (analysis, earlier runs, what was tried) is kept."""

from __future__ import annotations

from pathlib import Path

NOTES = "<!-- notes: everything below this line is kept when the benchmark rewrites the file -->"


def write_keeping_notes(path: Path, generated: str) -> None:
    """Write ``generated`` to ``path``, followed by the NOTES line and the notes already there."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generated.rstrip("\n") + "\n\n" + NOTES + kept, encoding="utf-8")
