"""The daily work on cases: starting them and completing their steps (`cases`), loading, running
and saving workflows (`runtime`) with the human-task index every task list reads (`taskindex`),
gateway decisions (`autosteps`), the task list (`tasklist`), who leads which procedures and so whose
team a step is (`leaders`), 批量认领/指派 (`bulk`), 查找事项 (`casesearch`), deadlines and their sweep
(`deadlines`), timers (`timers`), 延期申请 (`extensions`), 监督发现 (`findings`), forms as shown and
checked today — people to choose, date limits (`formpages`), who a new step goes to (`routing`),
publishing as a step completes (`publishing`), a case's page and who may see it (`casepages`), the
immutable results the web shows (`views`), the demo data (`demo`), the timer worker's sign of life
(`heartbeat`) and what operations watch: readiness and figures for metrics (`vitals`).

May import: the root modules, store, bpmn, people.
"""
