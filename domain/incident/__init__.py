"""An incident and its handling: the aggregate and its facts, its commands, and the police-report part."""
