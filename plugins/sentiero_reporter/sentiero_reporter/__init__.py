"""sentiero-reporter: installable now, its features land with their issue.

Registered in the `sentiero` entry-point group so that `sentiero plugins`
shows it; it implements no hook yet.
"""
