"""Comparing two cohorts (say the full track and a shortened one) with bootstrap intervals.

Two outcomes are compared, person by person:
- active learning time for the whole track, over the people who completed it before the
  group ended (median);
- the pass rate: for each person, the share of the track's required modules whose quiz they
  passed at the first attempt; a group's rate is the mean over its people.
The difference "B minus A" gets a 95 % percentile bootstrap interval (people resampled with
replacement within each group, a fixed seed, so the page shows the same figures on every visit).
A verdict is stated only when the interval supports it: a time difference when the interval
excludes zero, "the same pass rate" when the whole interval lies within +/- EQUIVALENCE.
Intervals need INTERVAL_MIN people in each group; smaller groups get no interval and no verdict.
"""

import random
import statistics
from dataclasses import dataclass

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from ..i18n import configured_german, filled
from .figures import CohortFigures

RESAMPLES = 2000
EQUIVALENCE = 0.10  # pass rates count as "the same" within 10 percentage points
SEED = 20261122
# With few people an interval's end is a resampled extreme: the fastest or slowest person's
# time minus the shown median, so that person's time can be read off. From twenty people per
# group the ends are quantiles over many different resamples, no one person's value.
INTERVAL_MIN = 20


@dataclass
class Difference:
    a: float | None
    b: float | None
    diff: float | None  # b - a
    low: float | None
    high: float | None
    n_a: int
    n_b: int

    @property
    def known(self) -> bool:
        return self.diff is not None

    @property
    def bounded(self) -> bool:
        """Whether the interval is known (both groups large enough for one)."""
        return self.low is not None

    @property
    def clear(self) -> bool:
        return self.bounded and (self.low > 0 or self.high < 0)


def bootstrap(a: list[float], b: list[float], statistic, min_group: int,
              resamples: int = RESAMPLES, seed: int = SEED) -> Difference:
    """The difference statistic(b) - statistic(a) with its 95 % percentile interval (none
    when a group has fewer than INTERVAL_MIN people)."""
    if len(a) < min_group or len(b) < min_group:
        return Difference(None, None, None, None, None, len(a), len(b))
    sa, sb = statistic(a), statistic(b)
    if min(len(a), len(b)) < INTERVAL_MIN:
        return Difference(sa, sb, sb - sa, None, None, len(a), len(b))
    # Resampling needs reproducible, not unpredictable, numbers.
    rng = random.Random(seed)  # noqa: S311  # nosec B311
    diffs = sorted(statistic(rng.choices(b, k=len(b))) - statistic(rng.choices(a, k=len(a)))
                   for _ in range(resamples))
    low, high = diffs[int(0.025 * resamples)], diffs[int(0.975 * resamples) - 1]
    return Difference(sa, sb, sb - sa, low, high, len(a), len(b))


@dataclass
class Comparison:
    a: CohortFigures
    b: CohortFigures
    time: Difference
    passing: Difference
    verdict: list[str]


def compare(a: CohortFigures, b: CohortFigures, min_group: int) -> Comparison:
    """Compare two ended groups' learning time and pass shares, with a verdict."""
    time = bootstrap(a.hours, b.hours, statistics.median, min_group)
    passing = bootstrap(a.pass_shares, b.pass_shares, statistics.fmean, min_group)
    withheld = [filled(_("Lernzeit und Bestehensquote von „%(name)s“ werden zurückgehalten: "
                         "Eine andere Gruppe im selben Zeitraum hat fast dieselben Mitglieder "
                         "(weniger als %(n)s Personen Unterschied)."),
                       name=configured_german(side.cohort.name), n=min_group)
                for side in (a, b) if side.withheld]
    # Why a completions cell says "n. a.": the time and pass figures are compared as usual.
    progress = [filled(_("Der Fortschritt von „%(name)s“ (abgeschlossen) wird zurückgehalten: "
                         "Eine andere Gruppe hat fast dieselben Mitglieder (weniger als %(n)s "
                         "Personen Unterschied)."),
                       name=configured_german(side.cohort.name), n=min_group)
                for side in (a, b) if side.steps_withheld]
    return Comparison(a=a, b=b, time=time, passing=passing, verdict=(withheld or verdict(
        a.cohort.name, b.cohort.name, time, passing, min_group)) + progress)


def _hours(value: float) -> str:
    """A difference in hours as words: "1 Stunde", "3,5 Stunden", "40 Minuten"."""
    hours = round(abs(value), 1)
    if hours < 1:
        minutes = max(1, round(abs(value) * 60))
        return ngettext("%(num)s Minute", "%(num)s Minuten", minutes)
    text = format_decimal(hours, format="#,##0.#")
    return _("%(hours)s Stunde", hours=text) if hours == 1 else \
        _("%(hours)s Stunden", hours=text)


def _points(value: float) -> str:
    return format_decimal(round(abs(value) * 100), format="#,##0")


def verdict(name_a: str, name_b: str, time: Difference, passing: Difference,
            min_group: int) -> list[str]:
    """Plain sentences, each only as strong as the intervals allow."""
    name_a, name_b = configured_german(name_a), configured_german(name_b)
    if not time.known:
        # Ended groups' figures are fixed: too few people, not data still to come.
        return [_("Für einen Vergleich haben zu wenige Personen den Lernpfad bis zum Ende ihrer "
                  "Gruppe abgeschlossen: In beiden Gruppen müssten es mindestens %(k)s sein.",
                  k=min_group)]
    same_pass = passing.bounded and passing.low >= -EQUIVALENCE and passing.high <= EQUIVALENCE
    if time.clear and time.diff < 0 and same_pass:
        return [filled(_("„%(b)s“ spart gegenüber „%(a)s“ im Median %(hours)s Lernzeit bei "
                         "praktisch gleicher Bestehensquote."), a=name_a, b=name_b,
                       hours=_hours(time.diff))]
    sentences = []
    if time.clear and time.diff < 0:
        sentences.append(filled(_("„%(b)s“ spart gegenüber „%(a)s“ im Median %(hours)s "
                                  "Lernzeit."), a=name_a, b=name_b, hours=_hours(time.diff)))
    elif time.clear:
        sentences.append(filled(_("„%(b)s“ braucht gegenüber „%(a)s“ im Median %(hours)s "
                                  "mehr Lernzeit."), a=name_a, b=name_b,
                                hours=_hours(time.diff)))
    elif not time.bounded:
        sentences.append(_("Für eine Aussage über die Lernzeit sind die Gruppen zu klein: "
                           "Dafür braucht jede Gruppe mindestens %(n)s Personen, die den "
                           "Lernpfad abgeschlossen haben.", n=INTERVAL_MIN))
    else:
        sentences.append(_("Ob sich die Lernzeit unterscheidet, lässt sich nicht sagen: Das "
                           "Intervall schließt die Null ein."))
    if not passing.known:
        sentences.append(_("Die Bestehensquoten lassen sich nicht vergleichen: Dafür hätte "
                           "jede Gruppe mindestens %(n)s Personen mit Quizversuch in einem "
                           "Pflichtmodul mit ausgewiesener Quote gebraucht.", n=min_group))
    elif not passing.bounded:
        sentences.append(_("Für eine Aussage über die Bestehensquote sind die Gruppen zu "
                           "klein: Dafür braucht jede Gruppe mindestens %(n)s Personen mit "
                           "Quizversuch in einem Pflichtmodul mit ausgewiesener Quote.",
                           n=INTERVAL_MIN))
    elif same_pass:
        sentences.append(_("Die Bestehensquote ist praktisch gleich (Unterschied höchstens "
                           "%(points)s Prozentpunkte).", points=_points(EQUIVALENCE)))
    elif passing.clear and passing.diff < 0:
        sentences.append(filled(_("Die Bestehensquote von „%(b)s“ ist um %(points)s "
                                  "Prozentpunkte niedriger."), b=name_b,
                                points=_points(passing.diff)))
    elif passing.clear:
        sentences.append(filled(_("Die Bestehensquote von „%(b)s“ ist um %(points)s "
                                  "Prozentpunkte höher."), b=name_b,
                                points=_points(passing.diff)))
    else:
        sentences.append(_("Ob sich die Bestehensquote unterscheidet, lässt sich nicht sagen: "
                           "Das Intervall schließt die Null ein, reicht aber über ±%(points)s "
                           "Prozentpunkte hinaus.", points=_points(EQUIVALENCE)))
    return sentences
