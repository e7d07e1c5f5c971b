"""Pilot cohorts on a track: members, active learning time, surveys and the leads' dashboards."""

from flask import Blueprint

bp = Blueprint("cohorts", __name__)

from . import routes  # noqa: E402, F401
