"""Configuration: settings from the environment, their notations, and their reference table."""
