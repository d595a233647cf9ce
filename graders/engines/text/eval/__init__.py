"""Labelled answers and the agreement figures of the text engine against a TA's points."""
