"""Running the server in production: health endpoints and structured request logs."""
