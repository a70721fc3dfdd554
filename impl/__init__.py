"""The library the course claims call into. Importing it does no I/O."""
