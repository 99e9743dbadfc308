"""A user's DSPy application, as pypool's DSPy tests use one: LMs, tools and program factories."""
