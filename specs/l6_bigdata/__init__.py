"""Lesson 6: Big data and distributed systems: MapReduce, PySpark on a real standalone cluster, distributed training with torchrun."""
