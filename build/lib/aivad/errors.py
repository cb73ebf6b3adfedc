"""The one exception type for mistakes a user can make and fix.

Anything raised as ``UserError`` is shown as a single sentence (no traceback unless
``--debug``) and the process exits with status 2. Everything else is a bug.
"""


class UserError(Exception):
    """A problem the user caused and can fix; the message says what to do."""
