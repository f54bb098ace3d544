"""Prediction formats: COCO results JSON, YOLO txt with confidence, classifier probabilities.

Each module's `read(con, source, *, model, dataset, root)` returns a
`PredictionBatch`; `store.write_predictions` writes it in one transaction.
"""
