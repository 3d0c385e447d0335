"""Comments on posts, nested through their parent."""
