"""localdigest: summarize research papers on your own machine."""

__version__ = "0.1.0"
