"""Small rules both APIs share (DRF only): no project package is imported here."""
