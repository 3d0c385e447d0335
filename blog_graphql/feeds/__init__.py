"""RSS, Atom and the sitemap: public posts as documents for feed readers and crawlers."""
