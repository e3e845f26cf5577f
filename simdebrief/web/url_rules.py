"""URL rules whose builders are written when first used, not when the app starts.

Werkzeug writes two URL builders per route as Python source and compiles them as the route
is added: about 2 ms a route, a quarter of a second for SimDebrief's 130 at every start (each
gunicorn worker, each command such as ``followups dispatch --once``, each test's app). A
process builds URLs for a few of its routes; each builder is now compiled the first time that
route's URL is built, and kept. Matching requests to routes is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for
from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_now = super()._compile_builder
        compiled: list[Callable[..., tuple[str, str]]] = []

        def build(rule: Rule, *args, **kwargs) -> tuple[str, str]:
            if not compiled:
                compiled.append(compile_now(append_unknown))
            return compiled[0](rule, *args, **kwargs)

        return build


#: An id no row has (ids are counted from 1 and stay far below it), written into a URL once
#: to mark where each row's own id goes.
ID_MARK = 9_876_543_210_123


def id_links(endpoint: str, name: str, **values) -> Callable[[int], str]:
    """``url_for(endpoint, **{name: id}, **values)`` for each row of a list.

    The URL is built once, for ``ID_MARK``, and each row's id is written where the mark is:
    ``url_for`` takes about 5 µs a URL (the request's adapter, the endpoint's blueprint, the
    rule's builder), and a list has fifty. An id converter writes an integer as its digits,
    so the text around it is the same for every id."""
    built = url_for(endpoint, **{name: ID_MARK}, **values)
    if built.count(str(ID_MARK)) != 1:  # never in SimDebrief's routes; then each is built
        return lambda row_id: url_for(endpoint, **{name: row_id}, **values)
    head, _mark, tail = built.partition(str(ID_MARK))

    def link(row_id: int) -> str:
        return f"{head}{int(row_id)}{tail}"

    return link
