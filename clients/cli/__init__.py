"""The Marginalia command-line client (a sample third party): device sign-in, books, reviews."""
