"""The PDF signing engine (no Django): fillable number/date fields, Decree 30 appearances,
PAdES signing in two steps (prepare in one place, finish in another), verification reports, and
parsing of untrusted files in a limited child process.

Modules: ``errors`` (PdfRejected, SigningFailed), ``fonts`` (Liberation Serif), ``images``,
``fields``, ``appearance``, ``pades``, ``verify``, ``sandbox``; ``reading`` opens files strictly.
"""
