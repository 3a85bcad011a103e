"""Staff and what they are told: accounts and roles (`users`, `accounts`), who may read the audit
side (`oversight`), claims that follow roles (`claims`), notifications (`notifications`) and their
delivery by webhook or e-mail (`outbox`).

May import: the root modules, store, bpmn.
"""
