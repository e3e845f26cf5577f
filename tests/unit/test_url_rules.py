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
