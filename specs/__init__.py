"""Executable specs: one test function per course claim."""
