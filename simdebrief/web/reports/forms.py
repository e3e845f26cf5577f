from wtforms import BooleanField

from simdebrief.languages import lazy_gettext as _l
from simdebrief.web.forms import Form


class DownloadForm(Form):
    """The learner's choice when downloading their feedback; a GET form, so no token."""

    class Meta:
        csrf = False

    include_checkin = BooleanField(
        _l("Include my check-in"),
        description=_l("Your check-in is private and is left out of the PDF unless you tick "
                       "this. Anyone you give the file to will then see it."))
