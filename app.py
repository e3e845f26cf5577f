from simdebrief import create_app
from simdebrief.key_rotation import KeyCheckError

try:
    app = create_app()
except KeyCheckError as error:  # a plain message instead of a traceback
    raise SystemExit(f"SimDebrief did not start: {error}") from None
