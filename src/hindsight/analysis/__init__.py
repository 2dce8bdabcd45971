"""Pure functions over domain values: metrics, diffs, and (later) candidates and lint."""
