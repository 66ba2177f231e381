"""The web layer every feature's routes share: authentication, access rules, error rendering,
request parsing, declared schemas and the OpenAPI document assembled from them."""
