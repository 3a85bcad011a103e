"""What residents use without an account: submitting and following a matter (`residents`), their
uploaded files (`attachments`) and the staff pages that show them (`casefiles`), the public board
(`publications`) and the procedures page generated from the deployed diagrams (`procedures_page`).

May import: the root modules, store, bpmn, people, work.
"""
