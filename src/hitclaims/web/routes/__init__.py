"""The billers' pages, one module per page."""
