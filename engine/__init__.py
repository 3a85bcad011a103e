"""Minyi's engine: diagrams, cases, task lists, audit — everything but the web.

This package never imports Flask. Each public function that changes state runs in
exactly one database transaction and returns an immutable result.

Its packages, each importing only those listed before it (tests/test_engine_shape.py
holds them to it, reading the "May import" line of each package's docstring):

    store    how things are kept: database, tables, plain statements, migrations, backup,
             the hash-chained audit log every change appends to
    bpmn     diagrams: loading, validating, the SpiffWorkflow adapter, forms, safe
             expressions, the working calendar, deployed versions
    people   staff accounts, roles and who may read the audit side, notifications, outbox
    work     the daily work on cases: starting, completing, the task list, deadlines,
             timers, extensions, publishing at completion, case pages
    audit    what auditors read: verification of the chains, a case's trace, search,
             export, statistics
    public   what residents use: submitting and following, attachments, the board,
             the procedures page
    design   the designer workspace: drafts, comparison, 试运行, migration of cases

At the top sit only the modules every package may use: `errors` (the error tree),
`clock` (the one source of "now" and the China time zone) and `actor` (who calls).
"""
