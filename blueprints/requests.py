"""Facts about the current request that services record as consent context."""

from flask import request

from services.consent import ConsentOrigin


def consent_origin(form: str, *, wording_version: str | None = None,
                   source_url: str | None = None, utm: dict[str, str] | None = None) -> ConsentOrigin:
    return ConsentOrigin(
        form=form,
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        source_url=source_url or request.referrer,
        referrer=request.referrer,
        wording_version=wording_version,
        utm=utm,
    )
