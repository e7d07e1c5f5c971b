"""Quiz statistics against a hand-computed example, suppression and access."""

import dataclasses
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from elearn.catalog import services as catalog
from elearn.catalog.models import ModuleProgress
from elearn.extensions import db
from elearn.org.models import utcnow
from elearn.quiz import statistics
from elearn.quiz.models import Attempt, AttemptAnswer

# Four attempts at three questions (1 = right). Hand-computed:
#   share right: A 0.5, B 0.75, C 0.25
#   A: x = 1 1 0 0, rest = 2 1 1 0 -> r = 0.25 / sqrt(0.25 * 0.5)       = 0.7071
#   B: x = 1 1 1 0, rest = 2 1 0 0 -> r = 0.1875 / sqrt(0.1875 * 0.6875) = 0.5222
#   C: x = 1 0 0 0, rest = 2 2 1 0 -> r = 0.5222
EXAMPLE = [{"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1, "c": 0},
           {"a": 0, "b": 1, "c": 0}, {"a": 0, "b": 0, "c": 0}]


@pytest.fixture
def example(synced, make_user):
    course, version = synced
    module = version.modules[0]
    for n, points in enumerate(EXAMPLE):
        user = make_user()
        # Last week's: the pages show what happened before this week began.
        attempt = Attempt(user_id=user.id, module_id=module.id, drawn=[], answers={},
                          submitted_at=utcnow() - timedelta(days=8), passed=n < 2, mode="study",
                          first_study=True)
        db.session.add(attempt)
        db.session.flush()
        for qid, p in points.items():
            db.session.add(AttemptAnswer(attempt_id=attempt.id, question_id=qid, points=p))
        if n == 0:
            catalog.complete_module(user, module, via="test_out")
        elif n == 1:
            catalog.complete_module(user, module)
    db.session.execute(sa.update(ModuleProgress).values(
        completed_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    return course, module


def test_question_statistics_match_the_hand_computed_example(example):
    course, module = example
    stats = {s.question_id: s for s in statistics.question_stats(course.id, module.slug, 1,
                                                                   discrimination_min=1)}
    assert stats["a"].share_correct == 0.5 and stats["a"].answered == 4
    assert stats["b"].share_correct == 0.75 and stats["c"].share_correct == 0.25
    assert stats["a"].discrimination == pytest.approx(0.7071, abs=1e-4)
    assert stats["b"].discrimination == pytest.approx(0.5222, abs=1e-4)
    assert stats["c"].discrimination == pytest.approx(0.5222, abs=1e-4)


def test_module_statistics(example):
    course, module = example
    (stats,) = statistics.module_stats(1)
    assert (stats.course_id, stats.module_slug, stats.learners) == (course.id, module.slug, 4)
    assert stats.first_attempt_pass_rate == 0.5
    assert stats.completions == 2 and stats.test_out_rate == 0.5


def test_only_the_first_attempt_counts_for_the_first_attempt_rate(example, learner):
    course, module = example
    for passed in (False, True):  # failed first, as submit() marks it
        db.session.add(Attempt(user_id=learner.id, module_id=module.id, drawn=[],
                               submitted_at=utcnow(), passed=passed, mode="study",
                               first_study=not passed))
    db.session.commit()
    (stats,) = statistics.module_stats(1)
    assert stats.learners == 5 and stats.first_attempt_pass_rate == pytest.approx(2 / 5)


def test_small_groups_are_withheld(example):
    course, module = example
    stats = statistics.question_stats(course.id, module.slug, 5)
    assert all(s.share_correct is None and s.discrimination is None for s in stats)
    assert all(s.answered is None for s in stats)  # the count of few people's attempts too
    (module_stats,) = statistics.module_stats(5)
    assert module_stats.first_attempt_pass_rate is None and module_stats.test_out_rate is None


def test_no_variation_means_no_discrimination():
    assert statistics.correlation(4, 4, 6, 4, 12, 6) is None


def test_submitting_records_points_per_question(client, auth, learner, synced):
    from .test_quiz import ALL_RIGHT, start, submit

    auth.login()
    submit(client, start(client), ALL_RIGHT)
    rows = dict(db.session.execute(
        sa.select(AttemptAnswer.question_id, AttemptAnswer.points)).all())
    assert rows == {"einfach": 1.0, "mehrfach": 1.0, "wahr-falsch": 1.0}


def test_statistics_pages_for_admin_and_lead(app, example, client, auth, make_user,
                                             monkeypatch):
    app.config["MIN_GROUP_SIZE"] = 1
    monkeypatch.setattr(statistics, "DISCRIMINATION_MIN", 1)  # the example's four people
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    page = client.get("/verwaltung/quizstatistik").get_data(as_text=True)
    assert "Testkurs Digitales Arbeiten" in page and "Erstes Modul" in page
    assert "50 %" in page
    # What the people column counts: first attempts after studying, not placement tests.
    assert ">Personen mit erstem Quizversuch</th>" in page
    assert "(Einstufungstests zählen dafür nicht)" in page
    # Course and module names are German on an English page too (WCAG 3.1.2).
    assert '<td class="kern-table__cell" lang="de">Testkurs Digitales Arbeiten</td>' in page
    # The module names each row, so a screen reader moving down a column says whose figure
    # it is (WCAG 1.3.1); on the detail page the question does.
    assert re.search(r'<th scope="row" class="kern-table__header" lang="de"><a [^>]*>'
                     r'Erstes Modul', page)
    detail = client.get("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul")
    assert "0,71" in detail.get_data(as_text=True)
    assert '<tr class="kern-table__row">\n    <th scope="row" class="kern-table__header">' in \
        detail.get_data(as_text=True)
    # The example's questions a, b, c are not in the module's quiz (any more): no text, no
    # advice to check them, but their id and why.
    assert re.search(r">a <span class=\"kern-badge kern-badge--info\">nicht mehr im Quiz<",
                     detail.get_data(as_text=True))
    assert "kern-badge--warning" not in detail.get_data(as_text=True)
    # Its date can differ from the overview row's: the page says why (a review read it as a
    # contradiction).
    assert "Die Zeile des Moduls in der Übersicht (erste Versuche, Abschlüsse) ändert sich " \
        "nach eigenen Schritten" in detail.get_data(as_text=True)
    assert '<h1 class="kern-heading-large" lang="de">Erstes Modul</h1>' in \
        detail.get_data(as_text=True)
    # Numbers as the language writes them: 50 % and 0,71 in German, 50% and 0.71 in English.
    english = {"Accept-Language": "en"}
    assert "50%" in client.get("/verwaltung/quizstatistik", headers=english).get_data(
        as_text=True)
    assert "0.71" in client.get("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul",
                                headers=english).get_data(as_text=True)
    assert client.get("/verwaltung/quizstatistik/demo-kurs/99-nicht").status_code == 404


def test_this_weeks_attempts_change_nothing_until_next_week(app, example, client, auth,
                                                             make_user, monkeypatch):
    """A lead who watches one colleague take a quiz must not read its result from the page."""
    app.config["MIN_GROUP_SIZE"] = 1
    this_week = statistics.week_start()  # a run across Monday 00:00 UTC stays in this week
    monkeypatch.setattr(statistics, "week_start", lambda: this_week)
    course, module = example
    make_user(email="lead@test.example", roles=("lead",))
    auth.login(email="lead@test.example")
    def shown(url):  # the page without its CSRF tokens, which carry the second they were made
        return re.sub(r'name="csrf_token" value="[^"]*"', "",
                      client.get(url).get_data(as_text=True))

    before = shown("/verwaltung/quizstatistik")
    detail_before = shown("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul")
    assert "Gezählt bis" in before and "50 %" in before
    # A lead read "< 5" beside an old "Gezählt bis" as today's figure, and a module nearly
    # everyone passes as forgotten: the page says what a row covers and why it can wait.
    assert ("Jede Zeile gilt bis zum Tag unter „Gezählt bis“, auch „&lt; 1“: Was danach "
            "geschah, ist noch nicht darin. Bei einem Modul, das fast alle im ersten Versuch "
            "bestehen, kann ein neuer Stand lange dauern, weil er 1 nicht bestandene erste "
            "Versuche braucht.") in before
    for passed in (True, False, False):  # three colleagues this week, one passed
        attempt = Attempt(user_id=make_user().id, module_id=module.id, drawn=[], answers={},
                          submitted_at=utcnow(), passed=passed, mode="study", first_study=True)
        db.session.add(attempt)
        db.session.flush()
        for qid in "abc":
            db.session.add(AttemptAnswer(attempt_id=attempt.id, question_id=qid,
                                         points=int(passed)))
    db.session.commit()
    assert shown("/verwaltung/quizstatistik") == before
    assert shown("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul") == detail_before
    # Counted from the next week on, also by a process that has shown the page this week.
    (stats,) = statistics.module_stats(1)
    assert stats.learners == 7 and stats.first_attempt_pass_rate == pytest.approx(3 / 7)
    next_monday = statistics.week_start() + timedelta(weeks=1)
    monkeypatch.setattr(statistics, "week_start", lambda: next_monday)
    assert "43 %" in shown("/verwaltung/quizstatistik")
    # Question a: 2 of 4 right before, 3 of 7 now.
    assert "43 %" in shown("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul")
    assert "43 %" not in detail_before


def test_statistics_pages_show_less_than_5_by_default(example, client, auth, make_user):
    make_user(email="lead@test.example", roles=("lead",))
    auth.login(email="lead@test.example")
    page = client.get("/verwaltung/quizstatistik").get_data(as_text=True)
    assert "&lt; 5" in page and "50 %" not in page


def test_learners_and_hr_may_not_see_statistics(example, client, auth, make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    assert client.get("/verwaltung/quizstatistik").status_code == 403
    assert client.get("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul").status_code == 403


def took(user, module, when, points=1):
    """`user` handed in `module`'s quiz at `when`, one question answered with `points`; the
    first time, it is their first study attempt (as submit() marks it)."""
    first = not db.session.scalar(sa.select(sa.exists().where(
        Attempt.user_id == user.id, Attempt.module_id == module.id)))
    attempt = Attempt(user_id=user.id, module_id=module.id, drawn=[], answers={},
                      submitted_at=when, passed=points == 1, mode="study", first_study=first)
    db.session.add(attempt)
    db.session.flush()
    db.session.add(AttemptAnswer(attempt_id=attempt.id, question_id="a", points=points))


def weeks_ago(weeks: int, day: int = 2):
    """A moment in the week that began `weeks` Mondays before this one (Wednesday noon)."""
    return statistics.week_start() - timedelta(weeks=weeks) + timedelta(days=day, hours=12)


def answered(course, module, published):
    (stats,) = statistics.question_stats(course.id, module.slug, 1, published)
    return stats.answered


def took_first(make_user, module, when, passed=5, failed=5):
    """New people's first attempts at `when`: `passed` right, `failed` wrong."""
    for points in [1] * passed + [0] * failed:
        took(make_user(), module, when, points=points)


def test_one_persons_quiz_waits_until_enough_others_have_taken_it(synced, make_user):
    """A week in which only one person took the quiz must not move the figures on its own:
    comparing the page before and after would show that person's answers."""
    course, version = synced
    module = version.modules[0]
    took_first(make_user, module, weeks_ago(3))
    took(make_user(), module, weeks_ago(2), points=0)  # alone in its week
    db.session.commit()
    published = statistics.steps(5, 365)[(course.id, module.slug)]
    assert published.until == published.questions_until == \
        statistics.week_start() - timedelta(weeks=2)
    assert published.last_day == (statistics.week_start() - timedelta(weeks=2, days=1)).date()
    assert answered(course, module, published) == 10  # not 11
    (module_stats,) = statistics.module_stats(5, statistics.steps(5, 365))
    assert module_stats.learners == 10 and module_stats.first_attempt_pass_rate == 0.5

    took_first(make_user, module, weeks_ago(1), passed=5, failed=4)  # with the lone one: 5 + 5
    db.session.commit()
    published = statistics.steps(5, 365)[(course.id, module.slug)]
    assert published.until == published.questions_until == statistics.week_start()
    assert answered(course, module, published) == 20
    (module_stats,) = statistics.module_stats(5, statistics.steps(5, 365))
    assert module_stats.learners == 20 and module_stats.first_attempt_pass_rate == 0.5


@pytest.mark.parametrize(("passed", "failed"), [(0, 5), (5, 0), (4, 6), (6, 4)])
def test_first_attempts_with_one_result_only_move_nothing(synced, make_user, passed, failed):
    """Five first attempts in a week, all failed (or all passed), told a lead who knew who took
    the quiz that week each one's result: a step needs five passes and five failures (four
    failures beside six passes are a group of four)."""
    course, version = synced
    module = version.modules[0]
    took_first(make_user, module, weeks_ago(3))
    took_first(make_user, module, weeks_ago(2), passed=passed, failed=failed)
    db.session.commit()
    (row,) = statistics.module_stats(5, statistics.steps(5, 365))
    assert (row.learners, row.first_attempt_pass_rate) == (10, 0.5)
    assert row.until == statistics.week_start() - timedelta(weeks=2)


def test_retries_count_as_one_person_but_a_busy_day_counts_its_people(synced, make_user):
    course, version = synced
    module = version.modules[0]
    people = [make_user() for _ in range(10)]
    for person, points in zip(people, [1] * 5 + [0] * 5, strict=True):
        took(person, module, weeks_ago(4), points=points)
    for day in range(5):  # one person retries every day of a week: still one person
        took(people[0], module, weeks_ago(3, day=day), points=0)
    db.session.commit()
    first_step = statistics.week_start() - timedelta(weeks=3)
    published = statistics.steps(5, 365)[(course.id, module.slug)]
    assert published.until == published.questions_until == first_step
    for person in people[:5]:  # five retry on one day: the points per question move
        took(person, module, weeks_ago(2), points=0)
    db.session.commit()
    published = statistics.steps(5, 365)[(course.id, module.slug)]
    assert published.questions_until == statistics.week_start() - timedelta(weeks=1)
    assert published.until == first_step  # retries move no first attempt and no completion


def test_one_first_attempt_beside_others_retries_moves_nothing(synced, make_user):
    """A busy day of retries published a step in which one person made a first attempt: the
    pass rate went from 0 % of 5 to 17 % of 6, so that person had passed."""
    course, version = synced
    module = version.modules[0]
    people = [make_user() for _ in range(10)]
    for person, points in zip(people, [1] * 5 + [0] * 5, strict=True):
        took(person, module, weeks_ago(4), points=points)
    for person in people:
        took(person, module, weeks_ago(2), points=0)
    took(make_user(), module, weeks_ago(2))  # a first attempt, passed
    db.session.commit()
    (row,) = statistics.module_stats(5, statistics.steps(5, 365))
    assert (row.learners, row.first_attempt_pass_rate) == (10, 0.5)
    assert row.until == statistics.week_start() - timedelta(weeks=3)


def test_one_test_out_beside_others_first_attempts_moves_nothing(synced, make_user):
    """Five first attempts and one completion by test-out in a week: the test-out share would
    go from nothing to 1 of 6 and name the one who completed."""
    from elearn.catalog import services as catalog

    course, version = synced
    module = version.modules[0]
    for _ in range(5):
        took(make_user(), module, weeks_ago(2), points=0)
    quick = make_user()
    catalog.complete_module(quick, module, via="test_out")
    db.session.execute(sa.update(ModuleProgress).values(completed_at=weeks_ago(2)))
    db.session.commit()
    (row,) = statistics.module_stats(5, statistics.steps(5, 365))
    assert row.until is None and row.completions == 0 and row.test_out_rate is None


def test_a_question_few_people_were_asked_in_a_step_is_withheld(app, synced, make_user, client,
                                                                auth):
    """Drawn from a pool, question a was in one attempt of a step of six people: its line
    would move by that one person's points."""
    course, version = synced
    module = version.modules[0]
    for _ in range(5):
        took(make_user(), module, weeks_ago(3))  # a, five people
    for _ in range(5):  # b only
        person = make_user()
        attempt = Attempt(user_id=person.id, module_id=module.id, drawn=[], answers={},
                          submitted_at=weeks_ago(2), passed=True, mode="study",
                          first_study=True)
        db.session.add(attempt)
        db.session.flush()
        db.session.add(AttemptAnswer(attempt_id=attempt.id, question_id="b", points=1))
    took(make_user(), module, weeks_ago(2), points=0)  # a, one person
    db.session.commit()
    published = statistics.steps(5, 365)[(course.id, module.slug)]
    assert published.questions_until == statistics.week_start() - timedelta(weeks=1)
    stats = {q.question_id: q for q in statistics.question_stats(course.id, module.slug, 5,
                                                                  published)}
    assert stats["a"].unsteady and stats["a"].share_correct is None
    assert stats["b"].answered == 5 and not stats["b"].unsteady
    make_user(email="lead@test.example", roles=("lead",))
    auth.login(email="lead@test.example")
    detail = client.get(f"/verwaltung/quizstatistik/demo-kurs/{module.slug}").get_data(
        as_text=True)
    assert "n. a.: nicht ausgewiesen – ein Schritt brachte Antworten von weniger als 5 " \
        "Personen auf diese Frage" in detail


def test_a_module_without_a_step_shows_no_figures(app, synced, make_user, client, auth):
    course, version = synced
    module = version.modules[0]
    for _ in range(4):
        took(make_user(), module, weeks_ago(2))
    db.session.commit()
    assert statistics.question_stats(course.id, module.slug, 5,
                                     statistics.steps(5, 365)[(course.id, module.slug)]) == []
    make_user(email="lead@test.example", roles=("lead",))
    auth.login(email="lead@test.example")
    overview = client.get("/verwaltung/quizstatistik").get_data(as_text=True)
    assert "noch nicht" in overview and "&lt; 5" in overview
    detail = client.get(f"/verwaltung/quizstatistik/demo-kurs/{module.slug}").get_data(
        as_text=True)
    assert "Noch keine Zahlen: Sie erscheinen frühestens am Ende der Woche, in der mindestens 5 " \
        "Personen" in detail


def test_purged_details_leave_the_figures_in_whole_steps(app, synced, make_user, client, auth):
    """The retention purge deletes old points per question by the week. Counting them only
    from the first step after its cutoff, a purge takes a whole step out, not one person."""
    from elearn.privacy import services as privacy

    course, version = synced
    module = version.modules[0]
    for _ in range(5):
        took(make_user(), module, weeks_ago(4))  # a step
    took(make_user(), module, weeks_ago(3))  # alone in its week, and older than the cutoff
    for _ in range(4):
        took(make_user(), module, weeks_ago(2))  # with the lone one: five, a step
    for _ in range(5):
        took(make_user(), module, weeks_ago(1))  # a step
    db.session.commit()
    # 21 days: details of attempts before the Monday two weeks ago go, the lone one's too.
    assert statistics.details_cutoff(21) == statistics.week_start() - timedelta(weeks=2)
    published = statistics.steps(5, 21)[(course.id, module.slug)]
    assert published.questions_until == statistics.week_start()
    assert published.since == statistics.week_start() - timedelta(weeks=1)
    before_purge = answered(course, module, published)
    # The last step only: counting from the cutoff, the purge would take one person out.
    assert before_purge == 5
    privacy.purge(21)
    db.session.commit()
    assert answered(course, module, statistics.steps(5, 21)[(course.id, module.slug)]) == \
        before_purge
    # The pass rates come from the attempts, which stay: all 15 people.
    (module_stats,) = statistics.module_stats(5)
    assert module_stats.learners == 15
    app.config["RETENTION_DAYS"] = 21
    make_user(email="lead@test.example", roles=("lead",))
    auth.login(email="lead@test.example")
    detail = client.get(f"/verwaltung/quizstatistik/demo-kurs/{module.slug}").get_data(
        as_text=True)
    since = published.first_day.strftime("%d.%m.%Y")
    assert f"Gezählt wird ab dem {since}: Die Einzelheiten älterer Versuche werden" in detail


def test_a_retired_courses_modules_are_not_listed(app, example, client, auth, make_user):
    """Their links led to "not found"."""
    from elearn.catalog.models import Course

    app.config["MIN_GROUP_SIZE"] = 1
    course, module = example
    make_user(email="lead@test.example", roles=("lead",))
    auth.login(email="lead@test.example")
    assert "/verwaltung/quizstatistik/demo-kurs/01-erstes-modul" in client.get(
        "/verwaltung/quizstatistik").get_data(as_text=True)
    db.session.get(Course, course.id).active = False
    db.session.commit()
    page = client.get("/verwaltung/quizstatistik").get_data(as_text=True)
    assert "01-erstes-modul" not in page and "Noch keine abgegebenen Quizversuche." in page


def test_statistics_counts_are_grouped_as_the_language_writes_numbers(
        app, example, client, auth, make_user, monkeypatch):
    """A city's counts reach thousands: „1.234“ in German, "1,234" in English, as the reports
    write them (the page wrote "1234" in both)."""
    real = statistics.module_stats

    def large(*args, **kwargs):
        return [dataclasses.replace(m, learners=1234, completions=5678)
                for m in real(*args, **kwargs)]

    app.config["MIN_GROUP_SIZE"] = 1
    monkeypatch.setattr(statistics, "module_stats", large)
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    german = client.get("/verwaltung/quizstatistik").get_data(as_text=True)
    assert ">1.234<" in german and ">5.678<" in german
    english = client.get("/verwaltung/quizstatistik", headers={"Accept-Language": "en"})
    assert ">1,234<" in english.get_data(as_text=True)


def test_the_weeks_first_minutes_are_not_kept_for_the_week(app, example, make_user,
                                                            monkeypatch):
    """An attempt stamped on Sunday 23:59:59 and written just after midnight (or by an app
    server whose clock is a little behind) was missing all week from a process that had
    counted at 00:00:02, while every other process counted it."""
    course, module = example
    monday = statistics.week_start()

    def late_attempt():
        db.session.add(Attempt(user_id=make_user().id, module_id=module.id, drawn=[],
                               answers={}, submitted_at=monday - timedelta(seconds=1),
                               passed=True, mode="study", first_study=True))
        db.session.commit()

    def learners():
        counts, _ = statistics.current(1, 365)
        return sum(row[statistics.FIRSTS] for by_day in counts.values()
                   for row in by_day.values())

    monkeypatch.setattr(statistics, "utcnow", lambda: monday + timedelta(seconds=2))
    assert learners() == 4
    late_attempt()
    # Kept for a minute in those minutes (counting at every view took seconds each), then
    # counted again.
    monkeypatch.setattr(statistics, "utcnow", lambda: monday + timedelta(seconds=50))
    assert learners() == 4
    monkeypatch.setattr(statistics, "utcnow", lambda: monday + timedelta(seconds=70))
    assert learners() == 5
    late_attempt()
    monkeypatch.setattr(statistics, "utcnow", lambda: monday + timedelta(minutes=20))
    assert learners() == 6  # counted again, and kept from now on
    late_attempt()
    assert learners() == 6
