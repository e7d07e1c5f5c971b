"""The object model of course content: plain dataclasses."""

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class ContentError:
    path: str
    line: int  # 1-based; 0 when the error concerns the file or folder as a whole
    message: str

    def __str__(self) -> str:
        if not self.line:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Option:
    text: str
    correct: bool = False
    feedback: str = ""
    weight: float | None = None  # percent of the question's point (GIFT %weight%); may be < 0


@dataclass
class Answer:
    """An accepted answer of a short_text or numeric question."""

    text: str = ""  # short_text
    value: float | None = None  # numeric: value with tolerance ...
    tolerance: float = 0.0
    min: float | None = None  # ... or a range
    max: float | None = None
    weight: float = 100.0
    feedback: str = ""


@dataclass
class Pair:
    left: str
    right: str


QUESTION_TYPES = (
    "single", "multiple", "true_false", "matching", "ordering", "short_text", "numeric",
)


@dataclass
class Question:
    id: str
    type: str  # one of QUESTION_TYPES
    text: str
    options: list[Option] = field(default_factory=list)  # single, multiple
    answer: bool | None = None  # true_false
    feedback_true: str = ""  # true_false: shown to who answered "true"
    feedback_false: str = ""
    pairs: list[Pair] = field(default_factory=list)  # matching
    items: list[str] = field(default_factory=list)  # ordering, in the right order
    answers: list[Answer] = field(default_factory=list)  # short_text, numeric
    # multiple: all_or_nothing | partial | weighted; matching, ordering: all_or_nothing | partial
    scoring: str = "all_or_nothing"
    feedback: str = ""
    line: int = 0  # where the question starts in its file


@dataclass
class Quiz:
    questions: list[Question]
    pass_percent: int = 80
    draw: int | None = None
    shuffle: bool = True
    max_attempts: int = 0
    wait_minutes: int = 0
    reveal_answers: bool = True


@dataclass
class Video:
    src: str
    title: str
    captions: str
    transcript: str


@dataclass
class Module:
    slug: str
    title: str
    estimated_minutes: int
    objectives: list[str]
    body: str
    videos: list[Video] = field(default_factory=list)
    quiz: Quiz | None = None


@dataclass
class Course:
    slug: str
    title: str
    summary: str
    audience: str
    version: str
    language: str
    estimated_minutes: int
    modules: list[Module]
    folder: str
    content_hash: str
    certificate_validity_months: int | None = None

    @property
    def question_count(self) -> int:
        return sum(len(m.quiz.questions) for m in self.modules if m.quiz)


@dataclass
class TrackStep:
    course: str
    module: str | None = None  # a single module of the course; None = the whole course
    required: bool = True
    target_days: int | None = None  # days from the cohort's start


@dataclass
class Track:
    slug: str
    title: str
    summary: str
    version: str
    steps: list[TrackStep]
    certificate: str | None  # the title of the certificate it awards, if any
    content_hash: str = ""
    # The certificate goes only to members of a learning group on this track (or on another
    # awarding the same certificate): a qualification for a role, not for the modules alone.
    certificate_only_for_groups: bool = False
