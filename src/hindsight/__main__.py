"""`python -m hindsight` runs the command line."""

from hindsight.cli.main import run

run()
