"""Getting content from the office to the screens: signed manifests, content-addressed blobs, the store."""
