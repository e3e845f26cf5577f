"""The WSGI app (``gunicorn app:app``) and the target of ``flask --app app``.

Start-up builds tens of thousands of objects that live as long as the process (models,
routes, templates' globals); the cyclic garbage collector would walk them again and again
while they are made. It is paused until the app is built, then those objects are frozen out
of later collections, which also keeps forked workers from touching their shared pages.
"""

import gc

gc.disable()

from simdebrief import create_app  # noqa: E402
from simdebrief.key_rotation import KeyCheckError  # noqa: E402

try:
    app = create_app()
except KeyCheckError as error:  # a plain message instead of a traceback
    raise SystemExit(f"SimDebrief did not start: {error}") from None
finally:
    gc.enable()
gc.freeze()
