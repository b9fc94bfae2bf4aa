"""Facts about the current request: the consent context services record, and what the client accepts."""

from flask import request

from blueprints.cross_origin import own_origins
from services.core.languages import current_language
from services.core.origins import origin_of
from services.subscriptions.consent import ConsentOrigin, shown_wording


def _elsewhere(url: str | None) -> str | None:
    """`url`, unless it is on Roster's own origin: never recorded as where a reader came
    from, since Roster's pages are the forms themselves and its mailed links (confirm,
    unsubscribe, preferences, privacy, enrolment) carry the reader's private tokens."""
    return url if url and origin_of(url) not in own_origins() else None


def consent_origin(form: str, *, wording_version: str | None = None,
                   source_url: str | None = None, utm: dict[str, str] | None = None) -> ConsentOrigin:
    referrer = _elsewhere(request.referrer)
    return ConsentOrigin(
        form=form,
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        source_url=_elsewhere(source_url) or referrer,
        referrer=referrer,
        wording_version=wording_version,
        utm=utm,
    )


def wording_shown(version: str) -> tuple[str, str]:
    """The consent wording `version` as this page shows it, in the reader's language: the
    version to record (it names the language) and the exact text."""
    return shown_wording(version, current_language())


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
