"""Lesson 6: big data and distributed systems (MapReduce, PySpark on a real cluster, distributed training with torchrun)."""

__all__: list[str] = []  # the API is in the modules
