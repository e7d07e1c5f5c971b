"""Statistical review: the figures against numpy/scipy and hand-computed values, and the words
beside them against what they count."""

import random
import statistics
from datetime import date, timedelta

import numpy as np
import pytest
import scipy.stats

from elearn.cohorts import compare, figures
from elearn.cohorts.services import create_cohort
from elearn.extensions import db
from elearn.org.models import utcnow
from elearn.quiz import statistics as quiz_statistics
from elearn.quiz.models import Attempt, AttemptAnswer

from .test_cohorts import cohort, lead, page, populate  # noqa: F401  (fixtures)

# --- the bootstrap ---------------------------------------------------------------------------


def _groups(seed=7, n_a=40, n_b=45):
    rng = random.Random(seed)
    a = [rng.lognormvariate(1.8, 0.35) for _ in range(n_a)]  # hours, right-skewed
    b = [rng.lognormvariate(1.4, 0.35) for _ in range(n_b)]
    return a, b


@pytest.mark.parametrize("statistic, numpy_statistic", [
    (statistics.median, np.median), (statistics.fmean, np.mean)])
def test_bootstrap_interval_agrees_with_scipys_percentile_bootstrap(statistic, numpy_statistic):
    """People resampled with replacement within each group, percentile method: the ends agree
    with scipy's independent two-sample percentile bootstrap up to resampling noise."""
    a, b = _groups()
    ours = compare.bootstrap(a, b, statistic, min_group=5)
    theirs = scipy.stats.bootstrap(
        (np.array(a), np.array(b)),
        lambda x, y, axis: numpy_statistic(y, axis=axis) - numpy_statistic(x, axis=axis),
        vectorized=True, paired=False, method="percentile", n_resamples=50_000,
        confidence_level=0.95, rng=np.random.default_rng(1)).confidence_interval
    assert ours.diff == pytest.approx(statistic(b) - statistic(a))
    width = theirs.high - theirs.low
    assert ours.low == pytest.approx(theirs.low, abs=0.1 * width)
    assert ours.high == pytest.approx(theirs.high, abs=0.1 * width)
    assert (ours.n_a, ours.n_b) == (40, 45)


def test_bootstrap_ends_are_the_2_5_and_97_5_percentiles_of_the_resampled_differences():
    """2,000 resamples with the fixed seed; 50 resampled differences lie below the interval
    and 50 above it (the percentile method, trimmed equally on both sides)."""
    a, b = _groups()
    rng = random.Random(compare.SEED)
    diffs = [statistics.median(rng.choices(b, k=len(b)))
             - statistics.median(rng.choices(a, k=len(a))) for _ in range(2000)]
    ours = compare.bootstrap(a, b, statistics.median, min_group=5)
    assert sum(d < ours.low for d in diffs) <= 50 <= sum(d <= ours.low for d in diffs)
    assert sum(d > ours.high for d in diffs) <= 50 <= sum(d >= ours.high for d in diffs)
    assert ours.low == pytest.approx(np.percentile(diffs, 2.5, method="higher"))
    assert ours.high == pytest.approx(np.percentile(diffs, 97.5, method="lower"))
    assert compare.RESAMPLES == 2000
    assert compare.bootstrap(a, b, statistics.median, 5) == ours  # the same on every visit


def test_bootstrap_properties():
    a, b = _groups()
    base = compare.bootstrap(a, b, statistics.median, 5)
    # Shifting a group moves the difference and both ends by exactly that much.
    shifted = compare.bootstrap(a, [x + 2.5 for x in b], statistics.median, 5)
    assert (shifted.diff, shifted.low, shifted.high) == pytest.approx(
        (base.diff + 2.5, base.low + 2.5, base.high + 2.5))
    # Ties: two identical constant groups give a point interval at zero, no clear difference.
    tie = compare.bootstrap([3.0] * 25, [3.0] * 25, statistics.median, 5)
    assert (tie.diff, tie.low, tie.high) == (0, 0, 0) and not tie.clear
    # Empty and small groups: nothing, never an exception.
    for small_a, small_b in (([], []), ([], b), ([1.0] * 4, b)):
        nothing = compare.bootstrap(small_a, small_b, statistics.median, 5)
        assert not nothing.known and not nothing.bounded and not nothing.clear
    assert base.low <= base.diff <= base.high


def test_bootstrap_interval_covers_the_true_difference_about_95_times_in_100():
    """Coverage on normal data with a known difference of means (-1): a 95 % interval that
    held the truth far less often would make "clear" differences out of noise."""
    rng = random.Random(3)
    covered = 0
    runs = 200
    for _ in range(runs):
        a = [rng.gauss(6, 1.5) for _ in range(30)]
        b = [rng.gauss(5, 1.5) for _ in range(30)]
        d = compare.bootstrap(a, b, statistics.fmean, 5, resamples=400, seed=rng.random())
        covered += d.low <= -1 <= d.high
    assert 0.88 <= covered / runs <= 0.99


def _difference(low, high, diff=None):
    diff = (low + high) / 2 if diff is None else diff
    return compare.Difference(1.0, 1.0 + diff, diff, low, high, 25, 25)


@pytest.mark.parametrize("low, high, same", [
    (-0.10, 0.10, True), (-0.09, 0.02, True), (0.01, 0.09, True),  # within ±10 points
    (-0.11, 0.05, False), (-0.05, 0.1001, False), (-0.2, 0.2, False)])
def test_same_pass_rate_only_when_the_whole_interval_lies_within_the_margin(app, low, high, same):
    time = _difference(-2.0, -0.5)
    with app.test_request_context(headers={"Accept-Language": "de"}):
        text = " ".join(compare.verdict("A", "B", time, _difference(low, high), 5))
    assert ("praktisch gleich" in text) is same
    if not same and low < 0 < high:
        assert "Ob sich die Bestehensquote unterscheidet, lässt sich nicht sagen" in text
    assert "„B“ spart gegenüber „A“ im Median" in text  # the time interval excludes zero


@pytest.mark.parametrize("low, high, words", [
    (-2.0, -0.5, "spart"), (0.5, 2.0, "mehr Lernzeit"),
    (-2.0, 0.5, "Ob sich die Lernzeit unterscheidet, lässt sich nicht sagen"),
    (0.0, 2.0, "Ob sich die Lernzeit unterscheidet, lässt sich nicht sagen")])  # 0 is inside
def test_a_time_difference_is_stated_only_when_the_interval_excludes_zero(app, low, high, words):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        text = " ".join(compare.verdict("A", "B", _difference(low, high),
                                        _difference(-0.3, 0.3), 5))
    assert words in text


# --- dashboard figures -------------------------------------------------------------------------

def test_quartiles_are_numpys_linear_percentiles_with_ties():
    values = [600, 600, 900, 900, 900, 1200, 1500, 1500, 3000, 3000, 3000, 6000]
    spread = figures.Spread.of(values, 5)
    assert (spread.q1, spread.median, spread.q3) == pytest.approx(
        tuple(np.percentile(values, [25, 50, 75])))
    assert figures.Spread.of(values[:9], 5) == figures.Spread(n=9, median=np.median(values[:9]))
    assert figures.Spread.of(values[:4], 5) == figures.Spread(n=4)
    assert figures.Spread.of([], 5) == figures.Spread(n=0)


def test_a_rate_needs_k_with_and_k_without_the_result():
    for hits, n, shown in ((5, 10, 0.5), (4, 10, None), (6, 10, None), (10, 10, None),
                           (0, 0, None), (7, 12, 7 / 12)):
        assert figures.Rate(hits, n, 5).value == shown


def test_the_comparison_says_what_its_pass_rate_counts(
        client, auth, cohort, lead, make_user, synced_tracks):  # noqa: F811  (fixtures)
    """The page said test-outs count ("auch per Einstufungstest"): the rate counts only first
    quiz attempts after studying, each person's share, averaged over the people. It also said
    each group needs 5 people "for this" (the verdict), beside the 20 an interval needs."""
    other = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[lead])
    # Each group: 24 people, the first six tested out (and passed); of the 18 who studied,
    # 12 and 9 passed their first quiz.
    populate(cohort, make_user, [60] * 24, first_passes=[True] * 18 + [False] * 6, test_out=6)
    populate(other, make_user, [30] * 24, first_passes=[True] * 15 + [False] * 9, test_out=6)
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/vergleich?a={cohort.id}&b={other.id}"))
    row = text[text.index("Bestehensquote im ersten Versuch"):]
    row = row[:row.index("</tr>")]
    # 12/18 = 67 % and 9/18 = 50 %: the test-outs' passes are not in it.
    assert ">67<" in row and ">50<" in row and "−17" in row
    explanation = text[text.index("So wird gerechnet"):]
    assert "auch per Einstufungstest" not in explanation
    assert "keine Einstufungstests" in explanation
    assert "Mittelwert über die Personen" in explanation
    assert "braucht dafür mindestens 5 Personen" not in explanation
    assert "Intervalle und Aussagen gibt es erst ab 20 Personen je Gruppe" in explanation
    assert "wer nicht fertig wurde, fehlt in diesem Median" in explanation


# --- item statistics ---------------------------------------------------------------------------

def _attempts(module, make_user, points_by_person):
    for points in points_by_person:
        user = make_user()
        attempt = Attempt(user_id=user.id, module_id=module.id, drawn=[], answers={},
                          submitted_at=utcnow() - timedelta(days=8), passed=True, mode="study",
                          first_study=True)
        db.session.add(attempt)
        db.session.flush()
        db.session.add_all(AttemptAnswer(attempt_id=attempt.id, question_id=qid, points=p)
                           for qid, p in points.items())
    db.session.commit()


def _random_points(people, seed=11):
    rng = random.Random(seed)
    result = []
    for _ in range(people):
        ability = rng.random()
        result.append({q: min(1.0, max(0.0, round(ability + rng.uniform(-0.5, 0.5) - d, 2)))
                       for q, d in (("a", -0.2), ("b", 0.0), ("c", 0.3), ("d", 0.1))})
    return result


def test_difficulty_and_item_rest_correlation_agree_with_numpy(synced, make_user):
    course, version = synced
    data = _random_points(40)
    _attempts(version.modules[0], make_user, data)
    stats = {s.question_id: s for s in quiz_statistics.question_stats(
        course.id, version.modules[0].slug, 5)}
    matrix = np.array([[p[q] for q in "abcd"] for p in data])
    for column, q in enumerate("abcd"):
        rest = matrix.sum(axis=1) - matrix[:, column]
        assert stats[q].answered == 40
        assert stats[q].share_correct == pytest.approx(matrix[:, column].mean())
        assert stats[q].discrimination == pytest.approx(
            np.corrcoef(matrix[:, column], rest)[0, 1])


def test_no_discrimination_from_too_few_people(app, synced, make_user, client, auth):
    """From five people the page flagged questions "prüfen" on a correlation whose standard
    error is about 0.5: mostly chance. The share right is shown from five, the correlation
    from thirty."""
    course, version = synced
    module = version.modules[0]
    _attempts(module, make_user, _random_points(29))
    stats = quiz_statistics.question_stats(course.id, module.slug, 5)
    assert all(s.share_correct is not None and s.discrimination is None for s in stats)
    _attempts(module, make_user, _random_points(1, seed=12))
    stats = quiz_statistics.question_stats(course.id, module.slug, 5)
    assert all(s.discrimination is not None for s in stats)
    app.config["MIN_GROUP_SIZE"] = 5
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    text = page(client.get("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul"))
    assert "Die Trennschärfe erscheint erst ab 30 Personen" in text
