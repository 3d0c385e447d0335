"""Media: uploaded images, processed into variants in the background, kept in a storage."""
