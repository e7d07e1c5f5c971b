"""Training tracks as files (`courses/tracks/<slug>.yaml`): ordered courses or single modules."""

import hashlib
from pathlib import Path

from .collect import SLUG, Collector
from .loader import LINK_AT_ROOT, is_junk, listing
from .model import ContentError, Course, Track, TrackStep

TRACK_FIELDS = {"title": (str, True), "summary": (str, True), "version": (str, True),
                "certificate": (str, False), "certificate_only_for_groups": (bool, False),
                "steps": (list, True)}
STEP_FIELDS = {"course": (str, True), "module": (str, False), "required": (bool, False),
               "target_days": (int, False)}


def load_tracks(root: Path, courses: list[Course], failed: set[str] = frozenset(),
                ) -> tuple[list[Track], list[ContentError]]:
    """Read every track file; steps must name courses and modules that exist. Steps naming a
    course in `failed` (it has errors of its own) are not checked: no follow-up errors."""
    root = Path(root).resolve()
    folder = root / "tracks"
    errors: list[ContentError] = []
    if folder.is_symlink():
        Collector(errors, root, folder).add(1, LINK_AT_ROOT)
        return [], errors
    if folder.exists() and not folder.is_dir():
        # Skipped, it passed as "no tracks", and the sync then retired every track.
        Collector(errors, root, folder).add(
            1, "Hier steht eine Datei, wo der Ordner „tracks“ mit den Lernpfaden sein muss.")
        return [], errors
    entries = listing(root, folder, errors) if folder.is_dir() else None
    if entries is None:
        return [], errors
    known = {c.slug: {m.slug for m in c.modules} for c in courses}
    tracks = []
    # Hidden files and leftovers (`is_junk`: "plan.yaml~", Thumbs.db, the Mac's "._pfad.yaml"
    # on a network share) are neither read nor reported; links are refused all the same.
    entries = [p for p in entries if not is_junk(p.name) or p.is_symlink()]
    for path in [p for p in entries if p.is_symlink()]:
        # Its target (/etc/passwd) would be read, and quoted in messages.
        Collector(errors, root, path).add(
            1, "Symbolische Verknüpfung: Lernpfade müssen als Dateien im Ordner tracks liegen.")
    for path in [p for p in entries if not p.name.endswith(".yaml") and not p.is_symlink()]:
        # A track saved as .yml (or a copy named .bak) would be skipped, and its track retired.
        Collector(errors, root, path).add(
            1, "Lernpfade stehen in Dateien mit der Endung .yaml; andere Dateien gehören nicht "
               "in diesen Ordner.")
    for path in [p for p in entries if p.name.endswith(".yaml") and not p.is_symlink()]:
        before = len(errors)
        col = Collector(errors, root, path)
        try:
            track = _load_track(col, path, known, failed)
        except Exception as exc:  # noqa: BLE001 - a file nobody foresaw: name it, never crash
            col.add(1, f"Datei lässt sich nicht verarbeiten ({type(exc).__name__}: {exc}).")
            continue
        if track and len(errors) == before:
            tracks.append(track)
    # Tracks awarding one certificate (a full and a shortened training) agree who receives it:
    # one that does not say "only for groups" would give the qualification to anyone.
    for track in tracks:
        strict = next((other for other in tracks if other.certificate == track.certificate
                       and other.certificate_only_for_groups), None)
        if track.certificate and strict and not track.certificate_only_for_groups:
            Collector(errors, root, folder / f"{track.slug}.yaml").add(
                1, f"Der Lernpfad „{strict.slug}“ vergibt dasselbe Zertifikat „"
                   f"{track.certificate}“ nur an Mitglieder seiner Lerngruppen: Dann gehört "
                   "auch hier „certificate_only_for_groups: true“ hin.")
    return tracks, errors


def _load_track(col: Collector, path: Path, known: dict[str, set[str]],
                failed: set[str]) -> Track | None:
    if not SLUG.match(path.stem):
        col.add(1, f"Dateiname „{path.name}“: Kennung nur aus a-z, 0-9 und Bindestrichen.")
    elif len(path.stem) > 100:
        col.add(1, f"Dateiname „{path.name[:20]}…“: Kennung höchstens 100 Zeichen lang.")
    text = col.read_text(path)
    data = None if text is None else col.yaml(text)
    if data is None or not col.fields(data, TRACK_FIELDS, "Lernpfad"):
        return None
    steps, seen, unchecked = [], set(), False
    raw_steps = data.get("steps") or []
    for raw, line in zip(raw_steps, getattr(raw_steps, "lines", [1] * len(raw_steps)),
                         strict=True):
        course = raw.get("course") if isinstance(raw, dict) else None
        if isinstance(course, str) and course in failed and course not in known:
            unchecked = True  # the course's own errors are reported; nothing loads while they do
            continue
        step = _step(col, raw, known, line)
        if step is None:
            continue
        key = (step.course, step.module)
        if key in seen:
            col.add(raw.line, "Dieser Schritt ist doppelt.")
        seen.add(key)
        steps.append(step)
    if unchecked:
        return None  # incomplete without its course: checked again once the course loads
    if data.get("steps") is not None and not any(s.required for s in steps):
        col.add(data.lines["steps"], "Ein Lernpfad braucht mindestens einen Pflichtschritt.")
    only_groups = bool(data.get("certificate_only_for_groups"))
    if only_groups and not data.get("certificate"):
        col.add(data.lines["certificate_only_for_groups"],
                "„certificate_only_for_groups“ braucht ein Zertifikat („certificate“).")
    return Track(slug=path.stem, title=data.get("title") or "", summary=data.get("summary") or "",
                 version=str(data.get("version") or ""), steps=steps,
                 certificate=data.get("certificate"), certificate_only_for_groups=only_groups,
                 content_hash=hashlib.sha256(text.removeprefix("\ufeff").encode()).hexdigest())


def _step(col: Collector, raw, known, line: int) -> TrackStep | None:
    if not col.fields(raw, STEP_FIELDS, "Schritt", line):
        return None
    course, module = raw.get("course") or "", raw.get("module")
    if not course:
        return None  # reported as a missing field; nothing more to say about this step
    if course not in known:
        col.add(raw.lines["course"], f"Kurs „{course}“ gibt es nicht.")
        return None
    if module is not None and module not in known.get(course, set()):
        col.add(raw.lines["module"], f"Modul „{module}“ gibt es im Kurs „{course}“ nicht.")
        return None
    days = raw.get("target_days")
    if days is not None and not 0 <= days <= 3650:
        col.add(raw.lines["target_days"], "target_days muss zwischen 0 und 3650 liegen.")
    required = raw.get("required")
    return TrackStep(course=course, module=module,
                     required=True if required is None else required, target_days=days)
