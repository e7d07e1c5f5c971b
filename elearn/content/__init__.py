"""Course content as files: loading, validation and rendering. Knows nothing of Flask."""

from pathlib import Path

from .loader import is_junk, load_directory, rendered_before
from .model import ContentError, Course, Module, Option, Question, Quiz, Track, TrackStep, Video
from .tracks import load_tracks


def load_all(root: str | Path) -> tuple[list[Course], list[Track], list[ContentError]]:
    """Courses and tracks below root, with every error of both."""
    failed: set[str] = set()
    courses, errors = load_directory(root, failed)
    # Not where the folder itself is missing or may not be read (reported once, with no
    # follow-up errors in the tracks).
    readable = Path(root).is_dir() and not any(e.path == Path(root).resolve().name
                                               for e in errors)
    tracks, track_errors = load_tracks(Path(root), courses, failed) if readable else ([], [])
    return courses, tracks, sorted(errors + track_errors)

__all__ = [
    "ContentError",
    "Course",
    "Module",
    "Option",
    "Question",
    "Quiz",
    "Track",
    "TrackStep",
    "Video",
    "is_junk",
    "load_all",
    "load_directory",
    "load_tracks",
    "rendered_before",
]
