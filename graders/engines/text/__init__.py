"""Short-answer grading: per-question rubrics (concepts, misconceptions, application families)
matched by patterns and by a sentence-embedding model, with negation and keyword-list guards
and a confidence signal that sends unsure marks to the TA review queue."""
