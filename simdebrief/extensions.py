"""Extensions, created unbound; ``create_app`` binds them to an app.

Flask-Migrate is bound on first use, by ``simdebrief.schema``."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from simdebrief.models.base import Base

db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
