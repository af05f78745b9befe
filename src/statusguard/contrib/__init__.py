"""Framework integrations: one module per framework, holding all statusguard knows of it.

The package imports nothing; ``_integration`` is the framework-free part the CLI and the pytest
plugin use to find the module of a framework in play, so that no module of a framework that is not
in use is ever imported.
"""
