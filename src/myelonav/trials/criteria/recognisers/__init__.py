"""One small module per concept: each recogniser turns a normalised segment into atoms."""
