"""Export and import pages: CSV downloads streamed from the export services, and
the import flow, each step run by the worker: upload → dry run (→ column map) → import,
with progress."""

from flask import Response, abort, current_app, redirect, render_template, request, url_for

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome
from blueprints.admin.data.forms import ExportForm, ImportUploadForm
from blueprints.form_errors import show_error
from extensions import csrf
from models import ImportStatus
from services.core.csv_safety import download_name
from services.core.errors import InvalidInput
from services.core.transactions import read_session
from services.data import enrollment_export, exports, import_steps, imports
from services.data.exports import SubscriberFilters
from services.data.import_formats import MAPPABLE_FIELDS, too_large
from services.subscriptions import lists

MAP_LABELS = {"email": "Email address", "full_name": "Full name", "first_name": "First name",
              "last_name": "Last name"}
MAP_PREFIX = "map_"
# Room for the multipart framing and the form's other fields beside the file itself.
UPLOAD_FORM_OVERHEAD = 64 * 1024


def _csv_response(body, filename: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _wants_bom() -> bool:
    return request.args.get("bom") == "1"


@bp.route("/export")
def export():
    form = ExportForm(request.args).with_lists(lists.all_lists(read_session()))
    return render_template("admin/export.html", form=form)


@bp.route("/subscribers/export.csv")
def subscribers_export():
    filters = SubscriberFilters(request.args.get("list") or None,
                                tuple(status for status in request.args.getlist("status") if status))
    try:
        stream = exports.export_subscribers(filters, current_actor(), bom=_wants_bom())
    except InvalidInput as error:
        form = ExportForm(request.args).with_lists(lists.all_lists(read_session()))
        show_error(form, error)
        return render_template("admin/export.html", form=form), 400
    return _csv_response(stream, exports.export_filename(filters))


@bp.route("/enrollments/export.csv")
def enrollments_export():
    cohort_id = request.args.get("cohort", "")
    if not cohort_id.isdigit():
        abort(404)
    export = enrollment_export.export_enrollments(int(cohort_id), current_actor(), bom=_wants_bom())
    return _csv_response(export.stream, export.filename)


def _upload_page(form: ImportUploadForm, status: int = 200):
    all_lists = lists.all_lists(read_session())
    return render_template("admin/imports.html", form=form.with_lists(all_lists),
                           jobs=imports.recent_jobs(read_session()),
                           list_names={m.id: m.name for m in all_lists}), status


def _refused_upload(message: str, status: int = 400):
    form = ImportUploadForm(formdata=None)
    form.file.errors = [message]
    return _upload_page(form, status)


@bp.route("/imports", endpoint="imports")
def imports_page():
    return _upload_page(ImportUploadForm(formdata=None))


# Exempt from the app-wide CSRF check, which reads the form under the 1 MB app-wide
# limit; this view raises the limit for itself first, then checks the token.
@csrf.exempt
@bp.route("/imports/upload", methods=["POST"])
def import_upload():
    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    if (request.content_length or 0) > max_bytes + UPLOAD_FORM_OVERHEAD:
        return _refused_upload(too_large(max_bytes).message, 413)  # refused before reading the body
    request.max_content_length = max_bytes + UPLOAD_FORM_OVERHEAD
    csrf.protect()
    form = ImportUploadForm()
    if not form.with_lists(lists.all_lists(read_session())).validate():
        return _upload_page(form, 400)
    upload = form.file.data
    try:
        job_id = import_steps.upload(upload.stream, upload.filename or "upload", current_actor(),
                                list_slug=form.list.data or None)
    except InvalidInput as error:
        return _refused_upload(error.message, 413 if error.field == "file" else 400)
    # The worker checks the file; the import's page shows its progress, then the dry run.
    return redirect(url_for(".import_job", job_id=job_id), 303)


def _job(job_id: int):
    return imports.get_job(job_id)


# Each step of an import has its page at the import's one address.
STEP_TEMPLATES = {ImportStatus.NEEDS_COLUMNS: "admin/import_map.html",
                  ImportStatus.ANALYSED: "admin/import_review.html"}


@bp.route("/imports/<int:job_id>")
def import_job(job_id):
    job = _job(job_id)
    return render_template(STEP_TEMPLATES.get(job.status, "admin/import_job.html"), job=job,
                           worker_job=import_steps.worker_job(job), labels=MAP_LABELS,
                           list_name=imports.list_name(job))


def _step(job_id: int, action, success: str):
    """A button of an import's page: run the step, then back to the page."""
    flash_outcome(action, success)
    return redirect(url_for(".import_job", job_id=job_id), 303)


@bp.route("/imports/<int:job_id>/columns", methods=["POST"])
def import_columns(job_id):
    column_map = {field: request.form[MAP_PREFIX + field] for field in MAPPABLE_FIELDS
                  if request.form.get(MAP_PREFIX + field)}
    return _step(job_id, lambda: import_steps.choose_columns(job_id, column_map),
                 "The file is being checked again with these columns.")


@bp.route("/imports/<int:job_id>/start", methods=["POST"])
def import_start(job_id):
    return _step(job_id, lambda: import_steps.start(job_id), "The import is queued; this page shows its progress.")


@bp.route("/imports/<int:job_id>/discard", methods=["POST"])
def import_discard(job_id):
    return _step(job_id, lambda: import_steps.discard(job_id), "The uploaded file was discarded; nothing was imported.")


@bp.route("/imports/<int:job_id>/errors.csv")
def import_errors(job_id):
    # Written formula-safe by the import.
    return _csv_response(_job(job_id).errors_csv, download_name("import-errors", str(job_id)))


@bp.route("/imports/<int:job_id>/opt-in", methods=["POST"])
def import_opt_in(job_id):
    flash_outcome(lambda: imports.request_opt_in(current_actor(), job_id),
                  lambda queued: f"Queued {queued} confirmation mails to this import's pending people "
                                 "(addresses mailed recently are skipped).")
    return redirect(url_for(".import_job", job_id=job_id), 303)
