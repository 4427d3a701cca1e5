"""`make bench`: the server under load with gunicorn and production settings."""
