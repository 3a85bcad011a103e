"""What auditors read, never write: verification of the audit chains (`verify`), a case's trace
drawn on its diagram (`trace`) with each event's data worded for people (`details`), case search
(`search`), event-log export as CSV or XES (`export`), statistics (`statistics`) and 考核 — units ranked
per level and period (`rankings`, their sums per unit in `unitfigures`, `periods`), 四单 积旗 (`flags`),
社区评议街道 results (`reviews`), read together for the page (`assessment`); every CSV is
written by `csvfile` (no cell read as a formula). The chain itself is written by
`engine.store.audit_chain`. Backups and restores (`backups`, done by `engine.store`)
count only once a copy's chains verify here.

May import: the root modules, store, bpmn, people, work.
"""
