"""A tiny kit for the sandbox tests: task functions that hand the job to student code."""
