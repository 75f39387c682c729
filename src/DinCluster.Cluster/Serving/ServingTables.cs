using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;
using DinCluster.Core.Routing;

namespace DinCluster.Cluster.Serving;

/// <summary>What an id that no table row holds embeds as at inference.</summary>
public enum UnseenIds
{
    /// <summary>Its deterministic initial value, as training and <c>evaluate</c> pull it (the default).</summary>
    Init,

    /// <summary>A zero vector, as the PyTorch export documents (DESIGN.md "PyTorch export").</summary>
    Zero,
}

/// <summary>
/// A read-only copy of a model's embedding weights for inference: per table an id -> row map and
/// one [rows, dim] float array, optimizer slots left behind. Built once; any number of threads
/// may read it at the same time (the PS shards' tables reuse a lookup buffer and may not).
/// </summary>
public sealed class ServingTables
{
    private readonly Dictionary<long, int>[] _rows;
    private readonly float[][] _weights;
    private readonly ulong[] _keys;
    private readonly long _seed;
    private readonly float _initScale;

    public FeatureSchema Schema { get; }
    public UnseenIds Unseen { get; }

    private ServingTables(FeatureSchema schema, Dictionary<long, int>[] rows, float[][] weights, long seed, float initScale, UnseenIds unseen)
    {
        Schema = schema;
        _rows = rows;
        _weights = weights;
        _keys = schema.Tables.Select(t => StableHash.OfName(t.Name)).ToArray();
        _seed = seed;
        _initScale = initScale;
        Unseen = unseen;
    }

    /// <summary>Copies every stored row of every table of <paramref name="schema"/>, one shard at a time.</summary>
    public static ServingTables From(ShardedEmbeddings tables, FeatureSchema schema, EmbeddingSettings settings, UnseenIds unseen)
    {
        var rows = new Dictionary<long, int>[schema.Tables.Count];
        var weights = new float[schema.Tables.Count][];
        for (var t = 0; t < rows.Length; t++)
        {
            var (name, dim) = schema.Tables[t];
            var parts = tables.Shards.Select(s => s.Pull(name, s.RowIds(name))).ToList();
            var count = parts.Sum(p => (long)p.Ids.Length);
            if (count * dim > Array.MaxLength)
                throw new NotSupportedException($"table '{name}' holds {count:N0} rows x {dim}, more than one array can hold; serve it from more than one process");
            rows[t] = new Dictionary<long, int>((int)count);
            weights[t] = new float[count * dim];
            var r = 0;
            foreach (var part in parts)
            {
                part.Values.CopyTo(weights[t], (long)r * dim);
                foreach (var id in part.Ids) rows[t].Add(id, r++);
            }
        }
        return new ServingTables(schema, rows, weights, settings.Seed, settings.InitScale, unseen);
    }

    /// <summary>Rows stored for table <paramref name="table"/> (schema.Tables order).</summary>
    public int Rows(int table) => _rows[table].Count;

    /// <summary>Fills dest with the rows of <paramref name="ids"/> (ids.Length x dim); returns how many ids were unseen.</summary>
    public int Pull(int table, ReadOnlySpan<long> ids, Span<float> dest)
    {
        var dim = Schema.Tables[table].Dim;
        if (dest.Length != ids.Length * dim)
            throw new ArgumentException($"table '{Schema.Tables[table].Name}': {ids.Length} ids need {ids.Length * dim} floats, got {dest.Length}", nameof(dest));
        var unseen = 0;
        var map = _rows[table];
        var weights = _weights[table];
        for (var i = 0; i < ids.Length; i++)
        {
            var d = dest.Slice(i * dim, dim);
            if (map.TryGetValue(ids[i], out var row))
            {
                weights.AsSpan(row * dim, dim).CopyTo(d);
                continue;
            }
            unseen++;
            if (Unseen == UnseenIds.Zero) d.Clear();
            else EmbeddingInit.Fill(_keys[table], ids[i], _seed, _initScale, d);
        }
        return unseen;
    }
}
