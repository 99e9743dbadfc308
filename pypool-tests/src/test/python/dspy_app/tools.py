"""Tools for ReAct programs, named from Java as py:dspy_app.tools:search."""


def search(query: str) -> str:
    """Looks a query up in a tiny encyclopedia."""
    return {"ada": "Ada Lovelace wrote the first program"}.get(query.lower(), f"nothing about {query}")
