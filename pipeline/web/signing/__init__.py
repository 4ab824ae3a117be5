"""The inhabitants' signing pages (blueprint ``signing``).

``/signer/<token>`` is the personal link of an e-mail; it puts the invitation in the
session (key ``citizen``, apart from the staff's session keys) and redirects to
``/signature``, so the token leaves the address bar. Every later page works from the
session. Unknown, expired, used, revoked and locked links all get the same page.
"""

from pipeline.web.signing.routes import blueprint

__all__ = ["blueprint"]
