"""People, roles, login and logout; administration of people."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.record_once
def _template_globals(state) -> None:
    from .access import login_ending

    state.app.jinja_env.globals["login_ending"] = login_ending  # the layout's warning

# access registers the login manager's user loader.
from . import access, people_routes, routes  # noqa: E402, F401
