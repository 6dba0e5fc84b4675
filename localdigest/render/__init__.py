"""Everything that talks to the terminal (rich) lives in this package."""
