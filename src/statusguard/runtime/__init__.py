"""What runs per response in a middleware: the session, remembered verdicts, reporting.

Charter: this package drives the core for one response at a time, sans-I/O; the adapters
(``wsgi.py``, ``asgi.py``) translate their protocol into its calls.
"""
