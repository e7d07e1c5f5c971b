"""The schema comes only from migrations, and they build all of it from an empty database."""

import json
from datetime import date, datetime

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from elearn.extensions import db


def test_upgrade_from_empty_database_matches_models(app):
    # The session-wide database fixture was built by `flask db upgrade` from nothing.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def _plain(condition) -> str:
    return " ".join(str(condition).replace("(", " ").replace(")", " ").lower().split())


def test_partial_indexes_have_the_models_conditions(app):
    """Alembic compares no index condition: `uq_attempt_open` (one open attempt per person and
    module) built over `submitted_at IS NOT NULL` passed the comparison above (migrations
    review)."""
    dialect = db.engine.dialect.name
    expected = {index.name: _plain(index.dialect_options[dialect]["where"])
                for table in db.metadata.tables.values() for index in table.indexes
                if index.dialect_options[dialect]["where"] is not None}
    inspector = sa.inspect(db.engine)
    built = {index["name"]: _plain(index["dialect_options"][f"{dialect}_where"])
             for table in inspector.get_table_names() for index in inspector.get_indexes(table)
             if f"{dialect}_where" in index.get("dialect_options", {})}
    assert built == expected
    assert {"uq_attempt_open", "ix_attempt_first_study", "ix_study_session_open"} <= set(built)


def test_no_two_constraints_share_a_name():
    """With only the first column in a unique constraint's name, a second one beginning with the
    same column got the same name, and autogenerate dropped the first (migrations review)."""
    names = [constraint.name for table in db.metadata.tables.values()
             for constraint in (*table.constraints, *table.indexes)]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_downgrade_and_upgrade_again(app):
    flask_migrate.downgrade(revision="base")
    tables = sa.inspect(db.engine).get_table_names()
    assert "user_account" not in tables
    flask_migrate.upgrade()
    assert {"office", "user_account", "course", "attempt"} <= set(
        sa.inspect(db.engine).get_table_names()
    )


def test_groups_created_twice_before_names_were_unique_keep_both(app):
    flask_migrate.downgrade(revision="e43eb641328e")
    with db.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO track (id, slug, title, summary, version_label, steps, content_hash, "
            "active) VALUES (1, 't', 'T', '', '1', '[]', 'h', true)"))
        # The third group's name is what the second would be renamed to.
        for cohort_id, name in ((1, "Pilot"), (2, "Pilot"), (3, "Pilot (2)"), (4, "Pilot")):
            connection.execute(sa.text(
                "INSERT INTO cohort (id, name, track_id, starts_on, ends_on, created_at) "
                "VALUES (:id, :name, 1, '2026-03-01', '2026-04-30', '2026-02-01')"),
                {"id": cohort_id, "name": name})
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        names = connection.execute(sa.text("SELECT name FROM cohort ORDER BY id")).scalars()
        assert list(names) == ["Pilot", "Pilot (3)", "Pilot (2)", "Pilot (4)"]
        connection.execute(sa.text("DELETE FROM cohort"))
        connection.execute(sa.text("DELETE FROM track"))


def _insert_people(names, sort_key=None) -> None:
    """People (last name, first name) in one office, as rows of an older schema: with the
    given sort key, or without the column (before it existed)."""
    key = {"sort_key": sort_key} if sort_key else {}
    with db.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO office (id, code, name, kind, created_at) "
            "VALUES (1, 'A1', 'Amt 1', 'amt', '2026-01-01')"))
        connection.execute(
            sa.table("user_account", *map(sa.column, (
                "id", "email", "first_name", "last_name", "office_id", "auth_source", "active",
                "session_token", "created_at", *key))).insert(),
            [{"id": n, "email": f"p{n}@test.example", "first_name": first, "last_name": last,
              "office_id": 1, "auth_source": "local", "active": True, "session_token": "x",
              "created_at": datetime(2026, 1, 1), **key}
             for n, (last, first) in enumerate(names, start=1)])


def test_people_from_before_the_sort_key_get_theirs(app):
    """The migration works out every existing person's key, as the application would."""
    from elearn.auth.models import name_sort_key

    flask_migrate.downgrade(revision="81ca8cc2432b")
    names = [("Zimmermann", "Zoe"), ("Özdemir", "Ülkü"), ("Krüger", "Karl"), ("Köhler", "Kim"),
             ("Strauß", "Sven"), ("ärger", "egon"), ("Strausberg", "Sara"), ("Ahrens", "Anke")]
    _insert_people(names)
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        rows = connection.execute(sa.text(
            "SELECT last_name, first_name, sort_key FROM user_account ORDER BY sort_key, id"))
        rows = rows.all()
        assert [key for _, _, key in rows] == [name_sort_key(last, first)
                                              for last, first, _ in rows]
        assert [last for last, _, _ in rows] == ["Ahrens", "ärger", "Köhler", "Krüger",
                                                 "Özdemir", "Strausberg", "Strauß",
                                                 "Zimmermann"]
        connection.execute(sa.text("DELETE FROM user_account"))
        connection.execute(sa.text("DELETE FROM office"))


def test_people_deactivated_before_the_date_was_kept_get_one(app):
    """From the audit log where it has the deactivation; else the upgrade's time, so that
    nobody is erased sooner than ELEARN_ERASE_DEACTIVATED_DAYS says."""
    from elearn.org.models import utcnow

    flask_migrate.downgrade(revision="3d339903351b")
    with db.engine.begin() as connection:
        _people_at_an_old_revision(connection, {1: True, 2: False, 3: False})
        for when in ("2026-02-01 08:00:00", "2026-05-04 09:30:00"):  # deactivated twice
            connection.execute(sa.text(
                "INSERT INTO audit_entry (created_at, action, target_type, target_id, details) "
                "VALUES (:when, 'deactivated', 'user', 2, '{}')"), {"when": when})
        connection.execute(sa.text(
            "INSERT INTO audit_entry (created_at, action, target_type, target_id, details) "
            "VALUES ('2026-03-01 10:00:00', 'deactivated', 'office', 3, '{}')"))
    before = utcnow()
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        found = dict(connection.execute(sa.text(
            "SELECT id, deactivated_at FROM user_account ORDER BY id")).all())
        _forget_everyone(connection)
    assert found[1] is None
    assert str(found[2]).startswith("2026-05-04 09:30:00")
    upgraded = found[3] if not isinstance(found[3], str) else datetime.fromisoformat(found[3])
    assert abs((upgraded - before).total_seconds()) < 60


def test_people_deactivated_by_an_import_before_it_was_kept_are_known(app):
    """The latest deactivation in the audit log decides; without one, by hand (the safe side:
    a list then does not reactivate the person)."""
    flask_migrate.downgrade(revision="9b99f28741c0")
    with db.engine.begin() as connection:
        _people_at_an_old_revision(connection, {n: n == 1 for n in range(1, 6)})
        entries = [(1, '{"source": "import"}'),  # active again since
                   (2, '{"source": "import"}'),
                   (3, '{"source": "import"}'), (3, '{}'),  # later by hand
                   (4, '{}'), (4, '{"source": "import"}')]  # later by an import
        connection.execute(sa.text(
            "INSERT INTO audit_entry (created_at, action, target_type, target_id, details) "
            "VALUES ('2026-03-01', 'deactivated', 'user', :person, :details)"),
            [{"person": person, "details": details} for person, details in entries])
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        found = dict(connection.execute(sa.text(
            "SELECT id, deactivated_by_import FROM user_account ORDER BY id")).all())
        _forget_everyone(connection)
    assert {n: bool(v) for n, v in found.items()} == {
        1: False, 2: True, 3: False, 4: True, 5: False}


def _people_at_an_old_revision(connection, active: dict[int, bool]) -> None:
    """An office and people with these ids (active or not), in columns every revision since
    the sort key's has."""
    connection.execute(sa.text(
        "INSERT INTO office (id, code, name, kind, created_at) "
        "VALUES (1, 'A1', 'Amt 1', 'amt', '2026-01-01')"))
    connection.execute(sa.text(
        "INSERT INTO user_account (id, email, first_name, last_name, sort_key, office_id, "
        "auth_source, active, session_token, created_at) VALUES (:id, :email, 'A', 'B', "
        "'b\ta', 1, 'local', :active, 'x', '2026-01-01')"),
        [{"id": n, "email": f"p{n}@test.example", "active": a} for n, a in active.items()])


def _forget_everyone(connection) -> None:
    for table in ("audit_entry", "user_account", "office"):
        connection.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names


def test_what_named_a_person_before_it_was_no_longer_stored_goes(app):
    """Snapshots stored per-person values in the members' order by name; people erased
    before erasure removed notes, reasons, log values and the learner role kept them."""
    flask_migrate.downgrade(revision="c394e3a7e682")
    with db.engine.begin() as connection:
        _people_at_an_old_revision(connection, {1: False, 2: True})
        connection.execute(sa.text("UPDATE user_account SET erased_at = '2026-06-01' "
                                   "WHERE id = 1"))
        connection.execute(sa.text("INSERT INTO user_role (user_id, role) VALUES "
                                   "(1, 'learner'), (2, 'learner')"))
        connection.execute(sa.text(
            "INSERT INTO track (id, slug, title, summary, version_label, steps, content_hash, "
            "active) VALUES (1, 't', 'T', '', '1', '[]', 'h', true)"))
        connection.execute(sa.text(
            "INSERT INTO cohort (id, name, track_id, starts_on, ends_on, created_at) "
            "VALUES (1, 'Pilot', 1, '2026-03-01', '2026-04-30', '2026-02-01')"))
        connection.execute(sa.text(
            "INSERT INTO cohort_snapshot (cohort_id, taken_at, figures) VALUES (1, "
            "'2026-05-01', :figures)"),
            {"figures": '{"hours": [3.5, 1.0, 2.0], "pass_shares": [1.0, 0.0, 0.5], '
                        '"shares_of_shown_rows": true}'})
        for person in (1, 2):
            connection.execute(sa.text(
                "INSERT INTO certificate (code, user_id, track_id, holder_name, title, "
                "version_label, issued_at, source, note, revoked_at, revoked_reason) VALUES "
                "(:code, :person, 1, 'X', 'T', '1', '2026-05-01', 'manual', 'bei Sven Braun', "
                "'2026-05-02', 'Sven Braun hat geschummelt')"),
                {"code": f"C{person}", "person": person})
            connection.execute(sa.text(
                "INSERT INTO audit_entry (created_at, action, target_type, target_id, details) "
                "VALUES ('2026-03-01', 'moved', 'user', :person, "
                "'{\"source\": \"import\", \"before\": \"32\", \"after\": \"51\"}')"),
                {"person": person})
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        figures = connection.execute(sa.text("SELECT figures FROM cohort_snapshot")).scalar()
        certificates = connection.execute(sa.text(
            "SELECT user_id, note, revoked_reason, revoked_at IS NOT NULL FROM certificate "
            "ORDER BY user_id")).all()
        details = connection.execute(sa.text(
            "SELECT details FROM audit_entry ORDER BY target_id")).scalars().all()
        roles = connection.execute(sa.text("SELECT user_id FROM user_role")).scalars().all()
        for table in ("cohort_snapshot", "certificate", "user_role", "cohort", "track"):
            connection.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        _forget_everyone(connection)
    figures = json.loads(figures) if isinstance(figures, str) else figures
    assert figures == {"hours": [1.0, 2.0, 3.5], "pass_shares": [0.0, 0.5, 1.0],
                       "shares_of_shown_rows": True}
    assert [tuple(row) for row in certificates] == [
        (1, None, None, True), (2, "bei Sven Braun", "Sven Braun hat geschummelt", True)]
    details = [json.loads(d) if isinstance(d, str) else d for d in details]
    assert details == [{"source": "import"},
                       {"source": "import", "before": "32", "after": "51"}]
    assert roles == [2]


def test_attempts_handed_in_before_the_flag_get_it_as_the_statistics_counted_them(
        synced, make_user):
    """The quiz statistics counted a person's study attempt with the smallest id at a module
    (any version) as their first; the flag stored since marks the same ones."""
    from elearn.catalog.models import CourseVersion, Module

    course, version = synced
    first_module, second_module = version.modules[:2]
    newer = CourseVersion(course_id=course.id, number=2, content_hash="neu", label="2",
                          title=version.title, summary="", audience="", language="de",
                          estimated_minutes=1)
    db.session.add(newer)
    db.session.flush()
    newer_first = Module(version_id=newer.id, slug=first_module.slug, position=1, title="M",
                         estimated_minutes=1, objectives=[], body_html="", videos=[])
    db.session.add(newer_first)
    one, two = make_user().id, make_user().id
    db.session.commit()
    flask_migrate.downgrade(revision="f2a81c5d3e90")
    attempts = [  # person, module, mode, handed in
        (one, first_module.id, "study", True), (one, first_module.id, "study", True),
        (one, newer_first.id, "study", True), (one, second_module.id, "test_out", True),
        (one, second_module.id, "study", False), (two, newer_first.id, "test_out", True),
        (two, newer_first.id, "study", True), (one, second_module.id, "study", True)]
    with db.engine.begin() as connection:
        for number, (person, module, mode, handed_in) in enumerate(attempts, start=1):
            connection.execute(sa.text(
                "INSERT INTO attempt (id, user_id, module_id, mode, drawn, started_at, "
                "submitted_at, passed) VALUES (:id, :person, :module, :mode, '[]', "
                "'2026-05-01', :at, false)"),
                {"id": number, "person": person, "module": module, "mode": mode,
                 "at": "2026-05-02" if handed_in else None})
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        first = connection.execute(sa.text(
            "SELECT id FROM attempt WHERE first_study ORDER BY id")).scalars().all()
    # Person one: the first study attempt at the first module (not the later one in version
    # 2) and the second module's handed in after an open one; person two: after a test-out.
    assert first == [1, 7, 8]


def test_a_deleted_groups_id_is_never_given_again(app):
    """On SQLite only AUTOINCREMENT keeps the largest id from being reused, as the migration
    makes the table and the model says (PostgreSQL's sequences never reuse one)."""
    from elearn.cohorts.models import Cohort

    assert Cohort.__table__.dialect_kwargs["sqlite_autoincrement"] is True
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            made = connection.execute(sa.text(
                "SELECT sql FROM sqlite_master WHERE name = 'cohort'")).scalar()
        assert "AUTOINCREMENT" in made


def test_a_group_deleted_before_the_upgrade_keeps_its_id_too(synced_tracks):
    """Its id is left only in the audit log; a new group must not take it (review 157)."""
    from elearn.cohorts.services import create_cohort

    flask_migrate.downgrade(revision="8c41d2e6f7a3")
    with db.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO cohort (id, name, track_id, starts_on, ends_on, created_at) "
            "VALUES (9003, 'Bleibt', :track, '2027-01-04', '2027-02-26', '2026-12-01')"),
            {"track": synced_tracks.id})
        connection.execute(sa.text(
            "INSERT INTO audit_entry (created_at, action, target_type, target_id, details) "
            "VALUES ('2026-12-02', 'cohort_deleted', 'cohort', 9007, '{}')"))
    flask_migrate.upgrade()
    made = create_cohort(name="Neu", track=synced_tracks, starts_on=date(2027, 3, 1),
                         ends_on=date(2027, 4, 30), leads=[])
    db.session.commit()
    assert made.id not in (9003, 9007)
    if db.engine.dialect.name == "sqlite":  # PostgreSQL's sequence never reached them
        assert made.id == 9008


def test_learning_time_totals_written_before_the_mark_get_it(synced, make_user):
    """Totals were told apart by their date (a closed row that begins and ends at midnight on
    the first of a month); the mark stored since is set on exactly those."""
    course, _ = synced
    person = make_user().id
    flask_migrate.downgrade(revision="5e1c0a7d9b42")
    rows = [  # begins, ends, closed: a total, then what looks close to one but is not
        ("2025-05-01 00:00:00", "2025-05-01 00:00:00", True),
        ("2025-05-01 00:00:00", "2025-05-01 00:10:00", True),  # a visit from midnight
        ("2025-05-01 00:00:01", "2025-05-01 00:00:01", True),
        ("2025-05-02 00:00:00", "2025-05-02 00:00:00", True),
        ("2025-06-01 00:00:00", "2025-06-01 00:00:00", False),  # open, just begun
        ("2025-07-01 00:00:00", "2025-07-01 00:00:00", True)]
    with db.engine.begin() as connection:
        for number, (begins, ends, closed) in enumerate(rows, start=1):
            connection.execute(sa.text(
                "INSERT INTO study_session (id, user_id, course_id, module_slug, started_at, "
                "last_event_at, active_seconds, beats, closed) VALUES (:id, :person, "
                ":course, 'm', :begins, :ends, 60, 0, :closed)"),
                {"id": number, "person": person, "course": course.id, "begins": begins,
                 "ends": ends, "closed": closed})
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        totals = connection.execute(sa.text(
            "SELECT id FROM study_session WHERE total ORDER BY id")).scalars().all()
    assert totals == [1, 6]


def test_names_with_another_apostrophe_get_the_key_the_application_gives(app):
    """O’Connor's key held the typographic apostrophe: "o'connor" did not find the name."""
    from elearn.auth.models import name_sort_key

    flask_migrate.downgrade(revision="d7e2a9c41b05")
    names = [("O’Connor", "Orla"), ("O'Connor", "Olaf"), ("Meier", "Zo´e"), ("Krüger", "Karl")]
    _insert_people(names, sort_key="as before")
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        keys = dict(connection.execute(sa.text(
            "SELECT last_name || ', ' || first_name, sort_key FROM user_account")).all())
        # Only names with another apostrophe are worked out again.
        assert keys == {"O’Connor, Orla": name_sort_key("O’Connor", "Orla"),
                        "O'Connor, Olaf": "as before",
                        "Meier, Zo´e": name_sort_key("Meier", "Zo´e"),
                        "Krüger, Karl": "as before"}
        assert keys["O’Connor, Orla"] == "o'connor\torla"
    # Going back gives the keys the code before wrote ("´" became a space there).
    flask_migrate.downgrade(revision="d7e2a9c41b05")
    with db.engine.begin() as connection:
        keys = dict(connection.execute(sa.text(
            "SELECT last_name || ', ' || first_name, sort_key FROM user_account")).all())
    assert (keys["O’Connor, Orla"], keys["Meier, Zo´e"]) == ("o’connor\torla", "meier\tzo e")
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM user_account"))
        connection.execute(sa.text("DELETE FROM office"))
