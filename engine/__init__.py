"""Minyi's engine: diagrams, cases, task lists, audit — everything but the web.

This package never imports Flask. Each public function that changes state runs in
exactly one database transaction and returns an immutable result.
"""
