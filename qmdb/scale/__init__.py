"""Scale-out: the same metrics and embeddings on a Ray cluster over Parquet, results back into DuckDB.

`compute_metrics_ray(con)` and `embed_ray(con)` are `compute_metrics` and
`embed` run by Ray Data (`pip install 'qmdb[ray]'`): the work goes out as
Parquet, Ray runs the local code in `map_batches`, and the Parquet it writes is
loaded back into the project's tables, so every view works unchanged.
Both take a user manifest (`manifest=`: a Parquet or CSV file of paths or
object-store URIs, registered by `register_manifest`). `ShardedIndex` searches
several usearch files as one index.
"""

from .embeddings import embed_ray
from .manifest import register as register_manifest
from .metrics import compute_metrics_ray
from .shards import ShardedIndex, shard_from_parquet, write_shards

__all__ = ["ShardedIndex", "compute_metrics_ray", "embed_ray", "register_manifest", "shard_from_parquet",
           "write_shards"]
