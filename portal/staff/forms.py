from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.i18n import lazy_gettext as _l


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail"), filters=[lambda v: v.strip().lower() if v else v],
                        validators=[DataRequired(message=_l("Type your e-mail address.")),
                                    Length(max=254)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(message=_l("Type your password.")),
                                         Length(max=200)])
