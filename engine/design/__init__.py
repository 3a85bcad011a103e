"""The designer workspace (流程设计): versions, drafts, validation and deployment (`workspace`),
comparing two versions (`diff`), migrating running cases to another version (`migration`) and
试运行 sandbox cases of a draft (`trial`).

May import: the root modules, store, bpmn, people, work.
"""
