"""Documents made from postmortems (and read back, for the forms that round-trip)."""
