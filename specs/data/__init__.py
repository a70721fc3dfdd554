"""Datasets: the real data every lesson uses, verified offline."""
