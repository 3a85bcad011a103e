"""The daily work on cases: starting them and completing their steps (`cases`), loading, running
and saving workflows (`runtime`), gateway decisions (`autosteps`), the task list (`tasklist`),
deadlines and their sweep (`deadlines`), timers (`timers`), 延期申请 (`extensions`), 监督发现
(`findings`), publishing as a step completes (`publishing`), a case's page and who may see it
(`casepages`), the immutable results the web shows (`views`) and the demo data (`demo`).

May import: the root modules, store, bpmn, people.
"""
