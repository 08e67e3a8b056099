"""The pool and everything that reads it. Knows nothing of Dash."""
