"""The Bookshelf command-line client: device sign-in, books, reviews."""
