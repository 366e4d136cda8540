"""One AWS Lambda handler per module: `handler(event, context)`, JSON in and JSON out.

Large data moves by object key in the run's object store, never inline in an event.
"""
