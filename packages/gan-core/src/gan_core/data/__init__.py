"""Reading dataset files from disk and finding (or fetching) them."""
