import pytest
from flask import Blueprint

from elearn.auth.access import role_required
from elearn.auth.models import ADMIN, HR, LEAD


@pytest.fixture
def guarded_app(app):
    bp = Blueprint("guarded", __name__)

    @bp.get("/nur-hr")
    @role_required(HR, ADMIN)
    def hr_only():
        return "HR-Bereich"

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize(("roles", "status"), [
    ((), 403), ((LEAD,), 403), ((HR,), 200), ((ADMIN,), 200), ((LEAD, HR), 200),
])
def test_role_guard(guarded_app, auth, client, make_user, roles, status):
    make_user(email="p@test.example", roles=roles)
    auth.login(email="p@test.example")
    response = client.get("/nur-hr")
    assert response.status_code == status
    if status == 403:
        assert "Kein Zugriff" in response.get_data(as_text=True)


def test_role_guard_sends_anonymous_to_login(guarded_app, client):
    assert client.get("/nur-hr").headers["Location"].startswith("/login")


def test_every_person_is_a_learner_and_may_hold_several_roles(make_user):
    user = make_user(roles=(LEAD, HR))
    assert user.roles == {"learner", LEAD, HR}
