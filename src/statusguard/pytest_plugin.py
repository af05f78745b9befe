"""pytest plugin (``pytest --statusguard``): placeholder module so the entry point resolves; see issue 5."""
