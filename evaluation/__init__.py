"""Evaluation: the one implementation of the project's metrics (`metrics`)."""
