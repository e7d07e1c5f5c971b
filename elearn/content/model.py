"""The object model of course content: plain dataclasses."""

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class ContentError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Option:
    text: str
    correct: bool = False
    feedback: str = ""


@dataclass
class Question:
    id: str
    type: str  # single | multiple | true_false
    text: str
    options: list[Option] = field(default_factory=list)
    answer: bool | None = None  # true_false only
    scoring: str = "all_or_nothing"  # multiple only: all_or_nothing | partial
    feedback: str = ""


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
    body_line: int  # line of the file where the Markdown body starts
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
