from werkzeug.datastructures import MultiDict
from wtforms import HiddenField

from blueprints.public.forms import SubscribeForm

MAILCHIMP_HONEYPOT_PREFIX = "b_"


class EmbedForm(SubscribeForm):
    """The hosted form's fields, posted from another site: no CSRF token, since
    browsers do not send our cookies cross-site (the origin allow-list guards it)."""

    class Meta:
        csrf = False

    next = HiddenField()
    # The article page's title (document.title), which the console shows for its URL.
    source_title = HiddenField()
    # "frame" when posted from the iframe form, which answers inside the frame.
    view = HiddenField()


def is_mailchimp(formdata: MultiDict) -> bool:
    return "EMAIL" in formdata


def embed_formdata(formdata: MultiDict, query: MultiDict) -> MultiDict:
    """Our field names from a post, which may use Mailchimp's embed field names
    (EMAIL, FNAME, LNAME, honeypot b_…); `list` and `next` may come in the action URL."""
    data = MultiDict(formdata)
    if is_mailchimp(formdata):
        data["email"] = formdata.get("EMAIL", "")
        data["full_name"] = " ".join(
            part for part in (formdata.get("FNAME", "").strip(), formdata.get("LNAME", "").strip()) if part)
        data["website"] = "".join(
            value for key, value in formdata.items(multi=True) if key.startswith(MAILCHIMP_HONEYPOT_PREFIX))
    for key in ("list", "next", "source", "source_title"):
        if not data.get(key) and query.get(key):
            data[key] = query[key]
    return data
