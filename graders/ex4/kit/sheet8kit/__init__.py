"""Sheet 8, Exercise 4: the programming files (data, models, the tasks the grader runs, a local check)."""
