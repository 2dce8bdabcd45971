"""Plain typed values for every part of a postmortem; no IO, no clock."""
