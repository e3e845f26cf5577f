"""URL rules whose builders are written when first used, not when the app starts.

Werkzeug writes two URL builders per route as Python source and compiles them as the route
is added: about 2 ms a route, a quarter of a second for SimDebrief's 130 at every start (each
gunicorn worker, each command such as ``followups dispatch --once``, each test's app). A
process builds URLs for a few of its routes; each builder is now compiled the first time that
route's URL is built, and kept. Matching requests to routes is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

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
