"""How things are kept: the database and its sessions (`db`), the tables (`models`), plain
statements on the driver connection (`driver`), the case lock every write takes first
(`locks`), schema migrations (`migrate`, `migrations/`), backups and restores (`backup` for SQLite,
`pgdump` for PostgreSQL), a page of a list (`paging`), the limits of free text (`text`), case numbers
counted per prefix (`sequences`) and the hash-chained audit log that every change appends to in its
own transaction (`audit_chain`).

Nothing here knows about diagrams, people or cases' procedures.

May import: the root modules only.
"""
