using DinCluster.Core.Optimizers;
using DinCluster.Core.Routing;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// N <see cref="EmbeddingShard"/>s in one process behind a <see cref="ShardRouter"/>, with the
/// shard's Pull/Push API: ids are split by shard and rows put back in the caller's order. Every
/// row's update depends only on that row's state, and every shard sees every push (an empty one
/// when none of its ids is in it) so table steps agree; so with the same settings the results are
/// bit-identical for any N, as long as admission (a per-shard sketch) and row caps (per shard) do
/// not come into play. The local trainer uses it; the cluster runs one shard per PS actor instead.
/// </summary>
public sealed class ShardedEmbeddings
{
    private readonly EmbeddingShard[] _shards;

    public ShardedEmbeddings(IEnumerable<(string Name, int Dim)> tables, int shardCount, EmbeddingSettings settings)
    {
        Router = new ShardRouter(shardCount);
        var list = tables.ToArray();
        _shards = new EmbeddingShard[shardCount];
        for (var s = 0; s < shardCount; s++) _shards[s] = new EmbeddingShard(list, settings, s, shardCount);
    }

    private ShardedEmbeddings(EmbeddingShard[] shards)
    {
        Router = new ShardRouter(shards.Length);
        _shards = shards;
    }

    public ShardRouter Router { get; }
    public IReadOnlyList<EmbeddingShard> Shards => _shards;

    /// <summary>As <see cref="EmbeddingShard.Pull"/>: rows of <paramref name="ids"/> in order, initial values for ids without a row.</summary>
    public void Pull(string table, ReadOnlySpan<long> ids, Span<float> dest)
    {
        if (_shards.Length == 1)
        {
            _shards[0].Pull(table, ids, dest);
            return;
        }
        var dim = _shards[0].Dim(table);
        if (dest.Length != ids.Length * dim) throw new ArgumentException($"table '{table}': pull of {ids.Length} ids needs {ids.Length * dim} floats, got {dest.Length}");
        var split = Router.Split(table, ids);
        for (var s = 0; s < _shards.Length; s++)
        {
            var rows = new float[split.Ids(s).Length * dim];
            _shards[s].Pull(table, split.Ids(s), rows);
            split.Scatter<float>(s, rows, dest, dim);
        }
    }

    /// <summary>
    /// As <see cref="EmbeddingShard.Push(string, ReadOnlySpan{long}, ReadOnlySpan{float}, long, ReadOnlySpan{int}, long)"/>;
    /// a NaN/Inf anywhere rejects the push on every shard. The result sums the shards' row counts.
    /// </summary>
    public PushResult Push(string table, ReadOnlySpan<long> ids, ReadOnlySpan<float> grads, long batchId, ReadOnlySpan<int> counts = default, long step = -1)
    {
        if (_shards.Length == 1) return _shards[0].Push(table, ids, grads, batchId, counts, step);
        var dim = _shards[0].Dim(table);
        if (grads.Length != ids.Length * dim) throw new ArgumentException($"table '{table}': push of {ids.Length} ids needs {ids.Length * dim} gradient floats, got {grads.Length}");
        if (!counts.IsEmpty && counts.Length != ids.Length) throw new ArgumentException($"table '{table}': push of {ids.Length} ids has {counts.Length} counts");
        // Checked here, not per shard: a shard without the bad row would otherwise apply its part.
        // A repeated batch id still wins over the NaN check, as on a single shard.
        if (!Finite.All(grads) && !_shards[0].Table(table).Recent.Contains(batchId))
        {
            foreach (var shard in _shards) shard.Table(table).RecordNonFinite();
            return PushResult.NonFinite;
        }
        var split = Router.Split(table, ids);
        int updated = 0, created = 0, dropped = 0, duplicates = 0;
        for (var s = 0; s < _shards.Length; s++)
        {
            var shardCounts = counts.IsEmpty ? [] : split.Gather(s, counts);
            var r = _shards[s].Push(table, split.Ids(s), split.Gather(s, grads, dim), batchId, shardCounts, step);
            if (r.Status == PushStatus.DuplicateIgnored) duplicates++;
            updated += r.RowsUpdated;
            created += r.RowsCreated;
            dropped += r.NotAdmitted;
        }
        return duplicates == _shards.Length
            ? PushResult.Duplicate
            : new PushResult(PushStatus.Applied, updated, created, dropped);
    }

    /// <summary>The stored row of <paramref name="id"/>, from the shard it routes to.</summary>
    public RowState? ReadRow(string table, long id) => _shards[Router.ShardOf(table, id)].ReadRow(table, id);

    public ShardStats[] Stats() => _shards.Select(s => s.Stats()).ToArray();

    /// <summary>Writes one snapshot per shard into <paramref name="directory"/>; returns the paths in shard order.</summary>
    public string[] WriteSnapshot(string directory)
    {
        Directory.CreateDirectory(directory);
        var paths = new string[_shards.Length];
        for (var s = 0; s < _shards.Length; s++)
        {
            paths[s] = Path.Combine(directory, $"embeddings-{s:D3}-of-{_shards.Length:D3}.snap");
            EmbeddingSnapshot.Write(_shards[s], paths[s]);
        }
        return paths;
    }

    /// <summary>Rebuilds <paramref name="shardCount"/> shards from the snapshot files of any number of old shards.</summary>
    public static ShardedEmbeddings Restore(IReadOnlyList<string> paths, int shardCount, EmbeddingSettings settings)
    {
        var shards = new EmbeddingShard[shardCount];
        for (var s = 0; s < shardCount; s++) shards[s] = EmbeddingSnapshot.Restore(paths, shardCount, s, settings);
        return new ShardedEmbeddings(shards);
    }
}
