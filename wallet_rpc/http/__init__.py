"""HTTP: the aiohttp application, its handlers, CORS and limits."""
