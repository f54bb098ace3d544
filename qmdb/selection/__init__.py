"""Selection: which images to label, train on, or throw away.

Most of it is the views of `sql/select_*.sql` (uncertainty, duplicates,
outliers, broken images, balanced and stratified samples); this package adds
the coreset (k-center greedy over embeddings), from Python and as the SQL
function ``coreset(n, model_name, candidate_ids, selected_ids)``.
"""

from .kcenter import coreset, k_center_greedy

__all__ = ["coreset", "k_center_greedy"]
