"""Tests of the harness itself (not course claims)."""
