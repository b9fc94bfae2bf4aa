"""A mail's two parts rendered once per shape and filled in per recipient.

The text values of the context (the reader's name, their links, the list's name) go into
the templates as markers; the parts are rendered once for each combination of template,
language, the other values, and which text values are empty (for `{% if recipient_name %}`),
then split at the markers. Each mail is then a join of the pieces with its values, escaped
in the HTML part as Jinja would have escaped them. A template that did more with a text
value than print it would not fill as it renders: tests/mail/test_rendering.py renders
every mail template both ways.
"""

import re
import secrets
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup, escape

from services.core.languages import current_language

# Private-use characters that Jinja's escaping and gettext's formatting leave be, around a
# number no one can type into a name or a setting (a process's own).
_MARKER = "\ue000" + secrets.token_hex(8) + "-{}\ue001"
_MARKERS = re.compile(re.escape(_MARKER).replace(r"\{\}", "([0-9]+)"))
# Shapes kept per process before the cache starts over (each is a few kilobytes).
MAX_SHAPES = 512


@dataclass(frozen=True)
class _Shape:
    """A part split at its markers: pieces[0], value, pieces[1], value, …"""

    pieces: tuple[str, ...]
    names: tuple[str, ...]  # the value between pieces[i] and pieces[i + 1]

    def fill(self, values: dict[str, str], html: bool) -> str:
        out = [self.pieces[0]]
        for name, piece in zip(self.names, self.pieces[1:], strict=True):
            value = values[name]
            out.append(escape(value) if html else value)
            out.append(piece)
        return "".join(out)


_shapes: dict[tuple, tuple[_Shape, _Shape]] = {}


def _is_fill_value(value: object) -> bool:
    return isinstance(value, str) and not isinstance(value, Markup)


def _split(rendered: str, names: list[str]) -> _Shape:
    split = _MARKERS.split(rendered)  # piece, index, piece, index, …, piece
    return _Shape(tuple(split[0::2]), tuple(names[int(index)] for index in split[1::2]))


def render(name: str, context: dict) -> str:
    """Straight from the Jinja environment: mail needs none of the page context processors
    (request, session, CSRF) that render_template runs."""
    return current_app.jinja_env.get_template(name).render(context)


def render_parts(template: str, context: dict) -> tuple[str, str]:
    """`templates/email/<template>.txt` and `.html` rendered with `context`."""
    values = {name: value for name, value in context.items() if _is_fill_value(value) and value}
    fixed = {name: value for name, value in context.items() if name not in values}
    try:
        key = (template, current_language(), tuple(sorted(fixed.items())), tuple(sorted(values)))
        shapes = _shapes.get(key)
    except TypeError:  # a value that cannot be a key (a list): rendered as it is
        return render(f"email/{template}.txt", context), render(f"email/{template}.html", context)
    if shapes is None:
        names = list(values)
        marked = {**fixed, **{name: _MARKER.format(index) for index, name in enumerate(names)}}
        shapes = (_split(render(f"email/{template}.txt", marked), names),
                  _split(render(f"email/{template}.html", marked), names))
        if len(_shapes) >= MAX_SHAPES:
            _shapes.clear()
        _shapes[key] = shapes
    return shapes[0].fill(values, html=False), shapes[1].fill(values, html=True)
