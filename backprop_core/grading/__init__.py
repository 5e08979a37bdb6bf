"""Grading hand derivations: answer sheets, marks with carried-forward credit, exercises.

The quantities a student computes are the steps `explain` lists (their names,
formulas and values come from there). What grading adds is how each quantity
follows from earlier ones, built from the network's structure in
quantities.py: with it a step is recomputed from a student's own earlier values
(error carried forward) or with a typical mistake made (the diagnoses).
"""
