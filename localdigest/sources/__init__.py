"""Where papers come from: local files and folders, arXiv."""
