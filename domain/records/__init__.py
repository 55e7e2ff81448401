"""What legal staff read back: the timeline, the as-of reconstruction, one Danish line per fact, and superseded events."""
