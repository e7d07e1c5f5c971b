from flask import Response, current_app, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.access import role_required
from ..auth.models import ADMIN, HR
from ..errors import render_error
from ..org import services as org_services
from . import bp, chart, export, services
from .forms import filters


def _report() -> services.Report:
    """The report the query string asks for; ReportError naming every problem."""
    args = request.args
    chosen = filters(args.get("thema"), args.get("von"), args.get("bis"), args.get("amt"))
    return services.build(chosen["subject"], date_from=chosen["date_from"],
                          date_to=chosen["date_to"], office=chosen["office"],
                          min_group=current_app.config["MIN_GROUP_SIZE"])


@bp.get("/berichte")
@role_required(HR, ADMIN)
def index():
    page = {"subjects": services.subjects(), "args": request.args,
            "office_choices": org_services.choices(), "columns": services.COLUMNS,
            "expiring_days": services.EXPIRING_DAYS}
    try:
        report = _report()
    except services.ReportError as error:  # the form again, with the problems on it
        return render_template("reports/index.html", report=None, problems=error.problems,
                               min_group=current_app.config["MIN_GROUP_SIZE"], **page), 400
    return render_template("reports/index.html", report=report, problems=[],
                           min_group=report.min_group, chart=chart.bars(report), **page)


@bp.get("/berichte/export.<fmt>")
@role_required(HR, ADMIN)
def download(fmt: str):
    if fmt not in ("csv", "xlsx"):
        return render_error(404)
    try:
        report = _report()
    except services.ReportError as error:
        # Back to the report page with the same choices: it names each problem at its field.
        query = request.query_string.decode("utf-8", "replace")
        return render_error(400, str(error), back=(
            url_for("reports.index") + (f"?{query}" if query else ""),
            _("Zurück zu den Berichten")))
    name = export.filename(report, fmt)
    if fmt == "csv":
        body, mimetype = export.to_csv(report), "text/csv"
    else:
        body = export.to_xlsx(report)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
