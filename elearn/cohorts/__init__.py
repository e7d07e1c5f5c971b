"""Pilot cohorts on a track: members, active learning time, surveys and the leads' dashboards."""

from flask import Blueprint

bp = Blueprint("cohorts", __name__)


@bp.record_once
def _heartbeat_interval(state) -> None:
    """The page's script beats as often as the server counts (activity.BEAT), one number."""
    from .activity import BEAT

    state.app.jinja_env.globals["activity_beat_ms"] = int(BEAT.total_seconds() * 1000)


from . import routes  # noqa: E402, F401
