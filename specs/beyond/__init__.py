"""Beyond the course: the study notes' claims and their mistakes, shown with numbers.

The study notes (the roadmap, the deep-learning syllabus, the personal notes and the AI-wiki digests)
go further than the eight lessons: metrics, regularisation, networks, losses, trees and ensembles,
training arithmetic, bias and variance, Hyperband, distributed and federated learning, attention,
CNN shapes, autoencoders, GANs, adversarial robustness, drift and checkpointing, transfer learning and
the notes' own code snippets. Every claim below is measured on this machine. Where a note states
something that is wrong (the flags of the claim catalog's section 12), the statement as the note makes
it is kept as a known-refuted claim with its numbers, and the corrected statement is measured beside
it; the corrections table pairs them.
"""
