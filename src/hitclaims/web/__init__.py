"""The biller's web page: server-rendered templates over the same store as the API."""
