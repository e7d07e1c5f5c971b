"""People, roles, login and logout; administration of people."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

# access registers the login manager's user loader.
from . import access, people_routes, routes  # noqa: E402, F401
