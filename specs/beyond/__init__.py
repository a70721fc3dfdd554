"""Beyond the course: the study notes' claims and their mistakes, shown with numbers."""
