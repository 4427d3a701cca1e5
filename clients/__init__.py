"""The sample third-party client: a web app and a CLI that speak OAuth over HTTP only."""
