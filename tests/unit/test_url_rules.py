"""Routes whose URL builders are compiled on first use build the same URLs as Werkzeug's own
rules, with and without extra values (the query string)."""

from werkzeug.routing import Map, Rule

from simdebrief.web.url_rules import LazyBuildRule


def sample_values(rule: Rule) -> dict:
    return {name: 7 if type(converter).__name__ == "IdConverter" else "x-y"
            for name, converter in rule._converters.items()}


def test_every_route_builds_the_same_url_as_werkzeugs_own_rule(app):
    ours = app.url_map
    assert all(isinstance(rule, LazyBuildRule) for rule in ours.iter_rules()
               if rule.endpoint != "static")
    theirs = Map([Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods,
                       defaults=rule.defaults) for rule in ours.iter_rules()],
                 converters=ours.converters)
    built = 0
    for rule in ours.iter_rules():
        values = sample_values(rule)
        for extra in ({}, {"page": 2, "show": "past"}):
            expected = theirs.bind("sim.example.org").build(rule.endpoint, {**values, **extra})
            assert ours.bind("sim.example.org").build(rule.endpoint,
                                                      {**values, **extra}) == expected
            built += 1
    assert built > 200


def test_a_lists_id_links_are_the_urls_url_for_builds(app):
    """``id_links`` builds one URL and writes each row's id into it: the same URL as
    ``url_for``, under a prefix (SCRIPT_NAME) and with query values too."""
    from flask import url_for

    from simdebrief.web.url_rules import ID_MARK, id_links

    for script_name in ("", "/sim"):
        with app.test_request_context("/", base_url=f"http://sim.example.org{script_name}"):
            links = {"plain": (id_links("sessions.detail", "session_id"),
                               lambda i: url_for("sessions.detail", session_id=i)),
                     "query": (id_links("followups.stage", "followup_id", token="a b&c"),
                               lambda i: url_for("followups.stage", followup_id=i,
                                                 token="a b&c"))}
            for link, expected in links.values():
                for row_id in (1, 9, 10, 4711, 2**63 - 1, ID_MARK - 1):
                    assert link(row_id) == expected(row_id)
            assert links["plain"][0](12).startswith(f"{script_name}/sessions/12")
