"""Dataset loaders: canonical sources, verified bytes, fixed seeded splits."""
__all__ = []
