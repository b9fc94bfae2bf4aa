"""The embeds' snippets and the staff API's tokens."""
