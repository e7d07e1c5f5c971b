"""People, roles, login and logout; administration of people."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import people_routes, routes  # noqa: E402, F401
