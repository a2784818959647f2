"""X12 005010 interchanges: the segment writer, the envelope, the 837P and the pyx12 check."""
