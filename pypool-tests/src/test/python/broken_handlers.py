"""A handler module that cannot be imported, for the startup-failure test."""

import pypool_module_that_does_not_exist  # noqa: F401
