"""Small rules both apps share (Django and DRF only): no project package is imported here."""
