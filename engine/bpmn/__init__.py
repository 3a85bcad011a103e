"""Diagrams: parsing them safely (`xmlsafe`), validating and building them (`diagram`), forms
(`forms`: a field, `formtypes`; what a form is, `formfields`; what is entered into it, `formvalues`;
Minyi's own field rules, `formrules`), safe expressions
(`expressions`) and their cost budget (`budget`), every place a diagram holds an expression (`sites`)
and its validation (`sitecheck`), ISO durations and due values (`durations`), the SpiffWorkflow
adapter (`spiff`, with `spiffscript`, `spiffbuild`, `spiffstate` and `spiffmigrate` beside it), the
flow graph drawn for auditors (`bpmngraph`), the Chinese working calendar (`calendar`) and the
deployed versions of each diagram (`deployments`).

May import: the root modules, store.
"""
