"""The templates' translation functions: Jinja's "new style" rules (always a format string,
values escaped on HTML pages, not in plain-text emails), the request's language, and loop
variables as arguments."""

from flask import render_template_string
from flask_babel import force_locale


def test_values_are_escaped_on_html_pages_and_left_alone_in_plain_text(app):
    with app.test_request_context("/"):
        page = render_template_string("{{ _('Request %(number)s', number=name) }}",
                                      name="<b>7</b>")
        assert page == "Request &lt;b&gt;7&lt;/b&gt;"
        text = render_template_string(
            "{% autoescape false %}{{ _('Request %(number)s', number=name) }}"
            "{% endautoescape %}", name="<b>7</b>")
        assert text == "Request <b>7</b>"
        assert render_template_string("{{ _('100%% sure') }}") == "100% sure"


def test_the_language_in_force_and_loop_variables_reach_each_string(app):
    template = ("{% for n in numbers %}{{ ngettext('Simulation session with %(num)d "
                "participant.', 'Simulation session with %(num)d participants.', n) }};"
                "{{ _('Request %(number)d', number=n) }}|{% endfor %}")
    with app.test_request_context("/"):
        with force_locale("en"):
            assert render_template_string(template, numbers=[1, 2]) == (
                "Simulation session with 1 participant.;Request 1|"
                "Simulation session with 2 participants.;Request 2|")
        with force_locale("da"):
            danish = render_template_string(template, numbers=[1, 2])
    assert danish == ("Simulationssession med 1 deltager.;Anmodning 1|"
                      "Simulationssession med 2 deltagere.;Anmodning 2|")
