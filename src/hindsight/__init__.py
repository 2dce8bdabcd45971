"""Hindsight: blameless incident postmortems, from evidence to action items."""

__version__ = "0.1.0"
