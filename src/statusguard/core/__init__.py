"""The pure core: the facts of a response, the rules, and the checker, policy and fixer over them.

Charter: nothing in this package does I/O, logs, imports a framework or knows WSGI from ASGI
message shapes. Facts go in (``model.Exchange``), violations and repaired drafts come out.
"""
