"""Beyond the course: the study notes' claims (metrics, regularisation, networks, trees, training
arithmetic, distributed and federated learning, attention, CNNs, autoencoders, GANs, robustness, MLOps,
transfer learning) and the notes' mistakes, measured."""

__all__: list[str] = []  # the API is in the modules
