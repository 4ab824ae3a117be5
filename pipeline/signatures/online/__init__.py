"""Signing online: invitations by e-mail, one-time codes, one-time certificates from the
workspace's CA, and a sealed evidence file per signature or refusal.

Modules: :mod:`tokens` (link tokens, codes), :mod:`invite` (``fiftyfifty invite``),
:mod:`journey` (what the web pages call), :mod:`drawing` (the drawn signature and the
appearance), :mod:`evidence` (the dossier de preuve and its checks).
"""
