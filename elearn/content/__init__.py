"""Course content as files: loading, validation and rendering. Knows nothing of Flask."""

from .loader import load_directory
from .model import ContentError, Course, Module, Option, Question, Quiz, Video

__all__ = [
    "ContentError",
    "Course",
    "Module",
    "Option",
    "Question",
    "Quiz",
    "Video",
    "load_directory",
]
