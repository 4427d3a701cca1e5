"""Marginalia, the sample third-party web app: a small Django project of its own."""
