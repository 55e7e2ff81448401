"""A citizen's contact file: the aggregate and its events, its commands, and the restrictions it holds (terms, state, dates, phone routing)."""
