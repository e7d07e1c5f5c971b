"""`flask data copy-to URL`: a city that began on SQLite moves to PostgreSQL."""

import flask_migrate
import pytest
import sqlalchemy as sa

from elearn import create_app
from elearn.certificates.models import Certificate
from elearn.extensions import db
from elearn.org.models import Office
from elearn.quiz.models import Attempt

from .conftest import ON_POSTGRESQL, TEST_DATABASE_URL


def _upgraded(path) -> str:
    """A new SQLite database with this version's schema, as `flask db upgrade` makes it."""
    url = f"sqlite:///{path}"
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with other.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = {t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                  for t in db.metadata.sorted_tables}
    engine.dispose()
    return counts


def test_every_row_goes_into_the_new_database_and_only_into_an_empty_one(
        runner, tmp_path, make_user, make_office, synced):
    from elearn.certificates import services as certificates

    parent = make_office(code="10", name="Dezernat I", kind="dezernat")
    child = make_office(code="11", name="Hauptamt", parent=parent)
    person = make_user(office=child)
    first = certificates.issue_manually(person.email, "demo-kurs")
    certificates.revoke(first, "Irrtümlich ausgestellt")
    db.session.flush()
    renewal = certificates.issue_manually(person.email, "demo-kurs")
    renewal.renewal_of_id = first.id  # a row pointing at another of its table
    course, version = synced
    module = version.modules[0]
    db.session.add(Attempt(user_id=person.id, module_id=module.id, mode="study", drawn=[],
                           answers=None))  # open: no answers, SQL NULL
    db.session.commit()
    source = db.engine.url.render_as_string(hide_password=False)
    target = _upgraded(tmp_path / "neu.sqlite")

    done = runner.invoke(args=["data", "copy-to", target])
    assert done.exit_code == 0, done.output
    assert _counts(target) == _counts(source)
    assert "office: 2\n" in done.output and "copied " in done.output
    engine = sa.create_engine(target)
    with engine.connect() as connection:
        assert connection.execute(sa.select(Office.code, Office.parent_id).where(
            Office.code == "11")).one() == ("11", parent.id)
        assert connection.execute(sa.select(Certificate.renewal_of_id).where(
            Certificate.id == renewal.id)).scalar() == first.id
        # Still SQL NULL, not the JSON text 'null' (the purge would count it again).
        assert connection.execute(sa.select(sa.func.count()).select_from(Attempt).where(
            Attempt.answers.is_(None))).scalar() == 1
    engine.dispose()
    # A second copy would mix two states: refused, and the target is as it was.
    again = runner.invoke(args=["data", "copy-to", target])
    assert again.exit_code == 1
    assert "The target is not empty (rows in " in again.output
    assert "Nothing was copied." in again.output and _counts(target) == _counts(source)
    # A database without the schema is named, with what to do; a file that is not there
    # is not made (an empty one stayed behind).
    assert "Give the SQLite file's absolute path" in runner.invoke(
        args=["data", "copy-to", "sqlite:///neu.sqlite"]).output
    missing = tmp_path / "fehlt.sqlite"
    assert "There is no database file " in runner.invoke(
        args=["data", "copy-to", f"sqlite:///{missing}"]).output
    assert not missing.exists()
    (tmp_path / "leer.sqlite").touch()
    bare = runner.invoke(args=["data", "copy-to", f"sqlite:///{tmp_path / 'leer.sqlite'}"])
    assert bare.exit_code == 1
    assert "The target: the database has no tables of this platform: run `flask --app wsgi " \
           "db upgrade`" in bare.output
    assert runner.invoke(args=["data", "copy-to", source]).output.strip() == \
        "Error: TARGET_URL is this database itself. Nothing was copied."
    assert "TARGET_URL names a database type" in runner.invoke(
        args=["data", "copy-to", "postgresq://u:p@db/x"]).output


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the copy into PostgreSQL needs one")
def test_from_sqlite_into_postgresql_new_rows_are_numbered_after_the_copied_ones(
        app, tmp_path):
    """PostgreSQL numbers new rows from a sequence the copied rows do not advance: the next
    office would have taken id 1 again, and every insert after the move failed."""
    source = _upgraded(tmp_path / "stadt.sqlite")
    small = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": source})
    with small.app_context():
        top = Office(code="1", name="Verwaltung", kind="verwaltung")
        db.session.add(top)
        db.session.flush()
        db.session.add_all([Office(code=str(n), name=f"Amt {n}", kind="amt", parent_id=top.id)
                            for n in range(2, 40)])
        db.session.flush()
        # Put under a unit made later (a reorganisation): the row comes before its parent's.
        above = Office(code="40", name="Dezernat", kind="dezernat")
        db.session.add(above)
        db.session.flush()
        top.parent_id = above.id
        db.session.commit()
        done = small.test_cli_runner().invoke(args=["data", "copy-to", TEST_DATABASE_URL])
        db.engine.dispose()
    assert done.exit_code == 0, done.output
    assert "office: 40" in done.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 40
    assert db.session.scalar(sa.select(Office.parent_id).where(Office.code == "1")) == 40
    later = Office(code="99", name="Neues Amt", kind="amt")
    db.session.add(later)
    db.session.commit()
    assert later.id == 41
