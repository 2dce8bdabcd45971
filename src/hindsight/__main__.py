"""`python -m hindsight` runs the command line."""

from hindsight.cli.main import run

if __name__ == "__main__":  # not when a helper process (multiprocessing spawn) imports it
    run()
