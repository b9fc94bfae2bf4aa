"""A campaign's body: Markdown to sanitised HTML, and to the mail's text part.

markdown-it-py parses (CommonMark, with tables and strikethrough); its token stream
gives the text part straight from the Markdown, links written `text (url)`, rather than
from the HTML. nh3 keeps only harmless tags, attributes and http(s)/mailto URLs, so
neither the mail nor the archive carries script, event handlers or javascript: links.
"""

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Raw HTML is parsed (so that a <script> is seen as such and dropped by nh3, not shown
# as text); the text part leaves it out.
_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "ol": {"start"},
    "td": {"align"}, "th": {"align"}, "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def to_html(source: str) -> str:
    """The body as HTML that is safe to put in a mail or a page."""
    return nh3.clean(_MARKDOWN.render(source), tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer")


def to_text(source: str) -> str:
    """The body as plain text, from the Markdown's tokens."""
    writer = _TextWriter()
    writer.blocks(_MARKDOWN.parse(source))
    return writer.result()


class _TextWriter:
    def __init__(self):
        self.out: list[str] = []
        self.prefixes: list[str] = []  # "> " per open blockquote
        self.lists: list[int | None] = []  # per open list: the next number, or None (bullets)
        self.links: list[str] = []
        self.at_line_start = True

    def result(self) -> str:
        return "\n".join(line.rstrip() for line in "".join(self.out).strip().splitlines()) + "\n"

    def write(self, text: str) -> None:
        """Quoted lines get their "> " before their first character."""
        for number, segment in enumerate(text.split("\n")):
            if number:
                self.out.append("\n")
                self.at_line_start = True
            if segment:
                if self.at_line_start and self.prefixes:
                    self.out.append("".join(self.prefixes))
                self.out.append(segment)
                self.at_line_start = False

    def end_block(self) -> None:
        self.write("\n\n")

    def blocks(self, tokens: list[Token]) -> None:
        for token in tokens:
            kind = token.type
            if kind == "inline":
                self.inline(token.children or [])
            elif kind in ("paragraph_close", "heading_close", "table_close"):
                if kind != "paragraph_close" or not self.lists:
                    self.end_block()
                else:
                    self.write("\n")
            elif kind == "heading_open":
                self.write("#" * int(token.tag[1]) + " ")
            elif kind == "blockquote_open":
                self.prefixes.append("> ")
            elif kind == "blockquote_close":
                self.prefixes.pop()
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self.lists.append(int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None)
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                if not self.lists:
                    self.write("\n")
            elif kind == "list_item_open":
                self.write("  " * (len(self.lists) - 1) + self._marker())
            elif kind in ("fence", "code_block"):
                self.write("    " + token.content.rstrip("\n").replace("\n", "\n    "))
                self.end_block()
            elif kind == "hr":
                self.write("-" * 20)
                self.end_block()
            elif kind == "tr_close":
                self.write("\n")
            elif kind in ("th_close", "td_close"):
                self.write("  ")

    def _marker(self) -> str:
        number = self.lists[-1]
        if number is None:
            return "- "
        self.lists[-1] = number + 1
        return f"{number}. "

    def inline(self, tokens: list[Token]) -> None:
        for token in tokens:
            kind = token.type
            if kind in ("text", "code_inline"):
                self.write(f"`{token.content}`" if kind == "code_inline" else token.content)
            elif kind in ("softbreak", "hardbreak"):
                self.write("\n")
            elif kind == "link_open":
                self.links.append(str(token.attrGet("href") or ""))
                self.out.append("\0")  # where the link's text starts
            elif kind == "link_close":
                self._close_link(self.links.pop())
            elif kind == "image":
                alt = "".join(child.content for child in token.children or [])
                self.write(f"{alt} ({token.attrGet('src')})" if alt else f"({token.attrGet('src')})")
            # html_inline is left out; emphasis marks need nothing in text.

    def _close_link(self, href: str) -> None:
        start = len(self.out) - 1 - self.out[::-1].index("\0")
        label = "".join(self.out[start + 1:])
        del self.out[start]  # the marker; the label stays as written
        if label and label.strip() not in (href, href.removeprefix("mailto:")):
            self.write(f" ({href})")
        elif not label:
            self.write(href)
