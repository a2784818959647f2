"""The REST API and the web page, served together by `hitclaims serve`."""
